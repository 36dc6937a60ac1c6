"""Custom derivative rules (custom_vjp, custom_jvp) under every transformation, checked
against closed forms; the seeds' 1/exp(x) example."""

import functools

import numpy as np
import pytest

import wengert as wg


def make_inv_exp():
    @wg.custom_vjp
    def inv_exp(x):
        return 1 / np.exp(x)

    def fwd(x):
        y = np.exp(-x)
        return y, y

    inv_exp.defvjp(fwd, lambda y, g: (-g * y,))
    return inv_exp


inv_exp = make_inv_exp()


@pytest.mark.parametrize("x", [np.float64(1000.0), np.float32(100.0)])
def test_seeds_unstable_gradient_is_fixed_by_a_custom_rule(x):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        naive = wg.grad(lambda v: 1 / np.exp(v))(x)
    # exp overflows; the seeds' frameworks then compute 0 * inf = nan. wengert's zero
    # cotangent annihilates (no nan), but the value underflowed: only the rule is exact.
    assert naive == 0.0
    g = wg.grad(inv_exp)(x)
    assert g == -np.exp(-x) and g.dtype == x.dtype


def test_custom_vjp_at_moderate_x_matches_closed_form():
    xs = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(wg.vmap(wg.grad(inv_exp))(xs), -np.exp(-xs))
    np.testing.assert_allclose(wg.jacrev(inv_exp)(xs), np.diag(-np.exp(-xs)))
    np.testing.assert_allclose(wg.grad(lambda v: np.sum(wg.vmap(inv_exp)(v)))(xs), -np.exp(-xs))
    # Second order through the user's bwd rule, which is itself differentiable.
    np.testing.assert_allclose(wg.grad(wg.grad(inv_exp))(1.0), np.exp(-1.0))


def test_custom_vjp_under_forward_mode_is_refused():
    with pytest.raises(wg.NoRuleError, match="custom_jvp"):
        wg.jvp(inv_exp, (1.0,), (1.0,))


def test_custom_vjp_with_nondiff_argnums_and_pytree_outputs():
    @functools.partial(wg.custom_vjp, nondiff_argnums=(0,))
    def scaled_pair(k, x):
        return {"a": k * np.sin(x), "b": x**2}

    def fwd(k, x):
        return scaled_pair(k, x), x

    def bwd(k, x, g):
        return (g["a"] * k * np.cos(x) + g["b"] * 2 * x,)

    scaled_pair.defvjp(fwd, bwd)
    x = np.array([0.3, 1.2])
    g = wg.grad(lambda v: np.sum(scaled_pair(3.0, v)["a"]) + np.sum(scaled_pair(3.0, v)["b"]))(x)
    np.testing.assert_allclose(g, 3.0 * np.cos(x) + 2 * x)
    # Only one output used: the other gets a zero cotangent.
    g = wg.grad(lambda v: np.sum(scaled_pair(3.0, v)["b"]))(x)
    np.testing.assert_allclose(g, 2 * x)


def test_custom_vjp_errors():
    @wg.custom_vjp
    def f(x):
        return x * 2

    with pytest.raises(wg.NoRuleError, match="defvjp"):
        wg.grad(f)(1.0)
    f.defvjp(lambda x: (x * 2, None), lambda res, g: g * 2)
    with pytest.raises(wg.OutputShapeError, match="tuple"):
        wg.grad(f)(1.0)


@wg.custom_jvp
def softplus(x):
    return np.log1p(np.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return np.logaddexp(0.0, x), t / (1 + np.exp(-x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_custom_jvp_in_every_mode():
    xs = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(wg.jvp(softplus, (xs,), (np.ones(3),))[1], sigmoid(xs))
    np.testing.assert_allclose(wg.vmap(wg.grad(softplus))(xs), sigmoid(xs))
    np.testing.assert_allclose(wg.jacfwd(softplus)(xs), np.diag(sigmoid(xs)))
    np.testing.assert_allclose(wg.jacrev(softplus)(xs), np.diag(sigmoid(xs)))
    s = sigmoid(xs)
    np.testing.assert_allclose(wg.hessian(lambda v: np.sum(softplus(v)))(xs), np.diag(s * (1 - s)))


def test_custom_jvp_is_used_where_the_plain_rule_overflows():
    with np.errstate(over="ignore"):
        assert wg.grad(softplus)(1000.0) == 1.0
        assert wg.jvp(softplus, (1000.0,), (1.0,)) == (1000.0, 1.0)


def _recurrence_gradient_by_hand(x, steps):
    # d/dx of sum(x_n) for x_{k+1} = x_k + 0.01 sin(x_k): the product of 1 + 0.01 cos(x_k).
    g = np.ones_like(x)
    for _ in range(steps):
        g = g * (1 + 0.01 * np.cos(x))
        x = x + 0.01 * np.sin(x)
    return g


@wg.checkpoint
def _block(x):
    for _ in range(10):
        x = x + 0.01 * np.sin(x)
    return x


def _checkpointed(x):
    for _ in range(5):
        x = _block(x)
    return np.sum(x)


def test_checkpoint_gives_the_exact_gradient_in_every_mode():
    x = np.linspace(-1.0, 2.0, 4)
    expected = _recurrence_gradient_by_hand(x, 50)
    np.testing.assert_allclose(wg.grad(_checkpointed)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(wg.jvp(_checkpointed, (x,), (np.ones(4),))[1], expected.sum())
    np.testing.assert_allclose(wg.vmap(wg.grad(_checkpointed))(np.stack([x, x])), [expected] * 2)
    # Second order: the recomputed backward pass is itself differentiated.
    h = wg.hessian(_checkpointed)(x)
    eps = 1e-5
    fd = [(wg.grad(_checkpointed)(x + eps * e) - wg.grad(_checkpointed)(x - eps * e)) / (2 * eps)
          for e in np.eye(4)]  # fmt: skip
    np.testing.assert_allclose(h, np.array(fd), rtol=1e-6, atol=1e-9)


def test_checkpoint_stores_only_block_inputs():
    import tracemalloc

    x = np.random.default_rng(0).standard_normal(10_000)

    def plain(x):
        for _ in range(200):
            x = x + 0.01 * np.sin(x)
        return np.sum(x)

    def checkpointed(x):  # the same 200 steps: 20 stored block inputs + one block's tape
        for _ in range(20):
            x = _block(x)
        return np.sum(x)

    def peak(f):
        tracemalloc.start()
        wg.grad(f)(x)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    assert peak(plain) > 5 * peak(checkpointed)
