"""docs/sharp-bits.md, line by line: wengert's convention at every kink, pole and overflow
that the page's table lists, as exact values. The last column of each table row names the
test here that checks it; ``test_every_table_row_is_tested`` keeps the two in step.

The JAX and PyTorch columns of the table are cited, not run: no test needs either library.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.special

import wengert as wg
from wengert.errors import TracerConversionError

DOC = Path(__file__).resolve().parents[1] / "docs" / "sharp-bits.md"


def grad_at(f, *args, argnums=0):
    """``grad`` with NumPy's floating-point warnings silenced: several lines of the table are
    about ``inf`` and ``nan``, and NumPy warns when it makes them."""
    with np.errstate(all="ignore"):
        return wg.grad(f, argnums=argnums)(*args)


def tangent_at(f, x, t):
    with np.errstate(all="ignore"):
        return wg.jvp(f, (x,), (t,))[1]


# -- the recipes of the page, used by the rows below --------------------------------------
def logsumexp(x, axis=-1):
    # The max shift keeps exp from overflowing; stop_gradient keeps its (cancelling)
    # derivative out of the result, as JAX's logsumexp does.
    m = wg.stop_gradient(np.max(x, axis=axis, keepdims=True))
    return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m


def log_softmax(x, axis=-1):
    # Shift first, as jax.nn.log_softmax does: x - logsumexp(x) would round the large
    # intermediate logsumexp(x) before subtracting.
    shifted = x - wg.stop_gradient(np.max(x, axis=axis, keepdims=True))
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def sigmoid(x):
    # 1 / (1 + exp(-x)) with nothing that overflows: the rule of logaddexp is exp(x - ans),
    # so the derivative comes out as s * (1 - s) with neither factor computed by cancellation.
    return np.exp(-np.logaddexp(0.0, -x))


def softmax(x):
    """The closed form, in plain NumPy, shifted by the maximum."""
    z = np.exp(x - np.max(x))
    return z / np.sum(z)


def safe_sqrt(x):
    pos = x > 0
    return np.where(pos, np.sqrt(np.where(pos, x, 1.0)), 0.0)


@wg.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x * x))


@safe_norm.defjvp
def _safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    nz = n > 0
    return n, np.where(nz, np.sum(x * t) / np.where(nz, n, 1.0), 0.0)


# -- relu ----------------------------------------------------------------------------------
def test_relu_as_maximum_at_zero_is_one_half():
    # np.maximum(x, 0) at x == 0 is a maximum tie: the derivative is split.
    assert grad_at(lambda x: np.maximum(x, 0.0), 0.0) == 0.5
    assert tangent_at(lambda x: np.maximum(x, 0.0), 0.0, 1.0) == 0.5


def test_relu_as_where_at_zero_is_zero():
    # The spellings that give jax.nn.relu's and torch.relu's 0 at 0.
    assert grad_at(lambda x: np.where(x > 0, x, 0.0), 0.0) == 0.0
    assert grad_at(lambda x: x * (x > 0), 0.0) == 0.0
    assert tangent_at(lambda x: np.where(x > 0, x, 0.0), 0.0, 1.0) == 0.0
    # ...and away from 0 every spelling agrees.
    for f in (lambda x: np.maximum(x, 0.0), lambda x: np.where(x > 0, x, 0.0)):
        assert grad_at(f, 2.0) == 1.0
        assert grad_at(f, -2.0) == 0.0


# -- maximum / minimum ---------------------------------------------------------------------
@pytest.mark.parametrize("f", [np.maximum, np.minimum])
def test_maximum_minimum_ties_split_one_half_each(f):
    assert grad_at(f, 1.0, 1.0, argnums=(0, 1)) == (0.5, 0.5)
    assert tangent_at(lambda x: f(x, 1.0), 1.0, 1.0) == 0.5
    # So max(x, x) == x keeps derivative 1.
    assert grad_at(lambda x: np.maximum(x, x), 3.0) == 1.0
    # Away from a tie the winner takes all.
    assert grad_at(np.maximum, 2.0, 1.0, argnums=(0, 1)) == (1.0, 0.0)
    assert grad_at(np.minimum, 2.0, 1.0, argnums=(0, 1)) == (0.0, 1.0)


@pytest.mark.parametrize("f", [np.fmax, np.fmin])
def test_fmax_fmin_ties_split_one_half_each(f):
    assert grad_at(f, 1.0, 1.0, argnums=(0, 1)) == (0.5, 0.5)
    assert tangent_at(lambda x: f(x, 1.0), 1.0, 1.0) == 0.5
    assert grad_at(lambda x: f(x, x), 3.0) == 1.0
    # Away from ties, fmax is maximum; against NaN it returns (and differentiates) the number.
    assert grad_at(np.fmax, 2.0, 1.0, argnums=(0, 1)) == (1.0, 0.0)
    assert grad_at(np.fmax, 2.0, np.nan, argnums=(0, 1)) == (1.0, 0.0)


def test_max_reduction_ties_share_equally():
    x = np.array([1.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(grad_at(np.max, x), [0.0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_array_equal(grad_at(np.min, -x), [0.0, 1 / 3, 1 / 3, 1 / 3])
    assert tangent_at(np.max, x, np.array([0.0, 3.0, 0.0, 0.0])) == 1.0


# -- clip ----------------------------------------------------------------------------------
def test_clip_at_its_bounds_passes_the_derivative_to_x():
    def clip(x, lo, hi):
        return np.clip(x, lo, hi)

    # On the closed interval lo <= x <= hi the derivative goes to x, bounds included.
    assert grad_at(clip, -1.0, -1.0, 1.0, argnums=(0, 1, 2)) == (1.0, 0.0, 0.0)
    assert grad_at(clip, 1.0, -1.0, 1.0, argnums=(0, 1, 2)) == (1.0, 0.0, 0.0)
    assert tangent_at(lambda x: np.clip(x, -1.0, 1.0), 1.0, 1.0) == 1.0
    # Strictly outside, it goes to the bound that is returned.
    assert grad_at(clip, -2.0, -1.0, 1.0, argnums=(0, 1, 2)) == (0.0, 1.0, 0.0)
    assert grad_at(clip, 2.0, -1.0, 1.0, argnums=(0, 1, 2)) == (0.0, 0.0, 1.0)
    # The method spelling and one-sided clips follow the same rule.
    assert grad_at(lambda x: x.clip(-1.0, 1.0), 1.0) == 1.0
    assert grad_at(lambda x: np.clip(x, 0.0, None), 0.0) == 1.0


# -- abs, sqrt -----------------------------------------------------------------------------
def test_abs_at_zero_is_zero():
    assert grad_at(np.abs, 0.0) == 0.0
    assert grad_at(np.abs, -0.0) == 0.0
    assert tangent_at(np.abs, 0.0, 1.0) == 0.0
    assert grad_at(np.abs, -2.0) == -1.0


def test_sqrt_at_zero_is_inf():
    assert grad_at(np.sqrt, 0.0) == np.inf
    assert tangent_at(np.sqrt, 0.0, 1.0) == np.inf


# -- power ---------------------------------------------------------------------------------
def pow_xy(x, y):
    return x**y


def test_power_in_y_at_zero_base_is_zero():
    # 0**y is flat in y for y > 0 (and 0**0 == 1 is NumPy's value): not log(0) * 0 = nan.
    for y in (0.0, 0.5, 1.0, 2.0):
        assert grad_at(pow_xy, 0.0, y, argnums=1) == 0.0
    assert grad_at(lambda y: 0.0**y, 2.0) == 0.0
    assert tangent_at(lambda y: 0.0**y, 2.0, 1.0) == 0.0


def test_power_in_y_at_zero_base_negative_exponent_is_nan():
    # A pole: 0**y is inf for y < 0. JAX also gives nan; PyTorch defines -inf.
    assert np.isnan(grad_at(pow_xy, 0.0, -1.0, argnums=1))


def test_power_in_x_at_zero_base():
    assert grad_at(pow_xy, 0.0, 2.0, argnums=0) == 0.0
    assert grad_at(pow_xy, 0.0, 1.0, argnums=0) == 1.0
    assert grad_at(pow_xy, 0.0, 0.5, argnums=0) == np.inf  # y * 0**(y - 1)


def test_power_in_x_at_zero_base_zero_exponent_is_zero():
    assert grad_at(pow_xy, 0.0, 0.0, argnums=0) == 0.0
    assert grad_at(lambda x: x**0, 0.0) == 0.0


# -- softplus, sigmoid, logsumexp, log_softmax ----------------------------------------------
def test_softplus_logaddexp_is_stable():
    def softplus(x):
        return np.logaddexp(0.0, x)

    assert wg.value_and_grad(softplus)(1000.0) == (1000.0, 1.0)
    assert grad_at(softplus, -1000.0) == 0.0
    assert grad_at(softplus, 0.0) == 0.5
    assert tangent_at(softplus, 1000.0, 1.0) == 1.0
    assert grad_at(softplus, np.float32(100.0)) == np.float32(1.0)
    # Against the closed form d/dx log(1 + e^x) = 1 / (1 + e^-x) where that is finite.
    for x in (-30.0, -1.0, 0.3, 30.0):
        assert grad_at(softplus, x) == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-15)


def test_sigmoid_expit_is_stable_in_both_tails():
    # expit's rule is ans * expit(-x): 0 at +-1000, 0.25 at 0, full precision in the tails.
    assert grad_at(scipy.special.expit, 1000.0) == 0.0
    assert grad_at(scipy.special.expit, -1000.0) == 0.0
    assert grad_at(scipy.special.expit, 0.0) == 0.25
    for x in (-700.0, -30.0, 2.0, 30.0, 700.0):
        e = np.exp(-abs(x))
        assert grad_at(scipy.special.expit, x) == pytest.approx(e / (1 + e) ** 2, rel=1e-14)


def test_sigmoid_logaddexp_spelling_is_stable():
    assert grad_at(sigmoid, 1000.0) == 0.0
    assert grad_at(sigmoid, -1000.0) == 0.0
    assert grad_at(sigmoid, 0.0) == 0.25
    assert tangent_at(sigmoid, 1000.0, 1.0) == 0.0
    # Against the closed form e / (1 + e)**2, e = exp(-|x|), to full precision in both tails
    # (0.5 * (tanh(x / 2) + 1) would lose it there, and reach 0 at |x| = 700).
    for x in (-700.0, -30.0, -2.0, 0.7, 30.0, 700.0):
        e = np.exp(-abs(x))
        assert grad_at(sigmoid, x) == pytest.approx(e / (1 + e) ** 2, rel=1e-14)
        assert sigmoid(x) == pytest.approx(scipy.special.expit(x), rel=1e-14)


def test_logsumexp_scipy_is_refused_and_wengert_scipy_is_stable():
    # SciPy's logsumexp coerces its input with np.asarray: the clear error, not a wrong
    # number; wengert.scipy.special.logsumexp is the differentiable one.
    with pytest.raises(TracerConversionError, match="asarray"):
        wg.grad(scipy.special.logsumexp)(np.array([1.0, 2.0]))
    from wengert.scipy import special as wss

    np.testing.assert_array_equal(grad_at(wss.logsumexp, np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_logsumexp_recipe_is_stable():
    x = np.array([1000.0, 1000.0])
    value, g = wg.value_and_grad(lambda x: logsumexp(x)[0])(x)
    assert value == 1000.0 + np.log(2.0)
    np.testing.assert_array_equal(g, [0.5, 0.5])
    assert tangent_at(lambda x: logsumexp(x)[0], x, np.array([1.0, 0.0])) == 0.5
    # The gradient is the softmax.
    x = np.array([1000.0, 999.0, -1000.0])
    np.testing.assert_allclose(grad_at(lambda x: logsumexp(x)[0], x), softmax(x), rtol=1e-14)


def test_log_softmax_scipy_is_refused_and_wengert_scipy_is_exact():
    with pytest.raises(TracerConversionError, match="asarray"):
        wg.grad(lambda x: scipy.special.log_softmax(x)[0])(np.array([1.0, 2.0]))
    from wengert.scipy import special as wss

    x = np.array([1000.0, 1000.0, 0.0])
    np.testing.assert_allclose(wg.jacrev(wss.log_softmax)(x), np.eye(3) - softmax(x)[None, :],
                               rtol=0, atol=1e-15)  # fmt: skip


def test_log_softmax_recipe_is_stable():
    # The Jacobian of log_softmax is I - 1 softmax^T, finite however large the inputs.
    x = np.array([1000.0, 1000.0, 0.0])
    expected = np.eye(3) - softmax(x)[None, :]  # softmax(x) == [0.5, 0.5, 0.0]
    np.testing.assert_allclose(wg.jacrev(log_softmax)(x), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(wg.jacfwd(log_softmax)(x), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(log_softmax(x), scipy.special.log_softmax(x), rtol=1e-15)
    x = np.array([3.0, -1.0, 1000.0, 2.5])
    np.testing.assert_allclose(
        wg.jacrev(log_softmax)(x), np.eye(4) - softmax(x)[None, :], rtol=1e-14, atol=1e-300
    )


# -- norm ----------------------------------------------------------------------------------
def test_norm_at_zero_is_the_zero_subgradient():
    np.testing.assert_array_equal(grad_at(np.linalg.norm, np.zeros(3)), [0.0, 0.0, 0.0])
    assert tangent_at(np.linalg.norm, np.zeros(3), np.ones(3)) == 0.0
    np.testing.assert_array_equal(grad_at(lambda x: np.linalg.norm(x) ** 2, np.zeros(3)),
                                  [0.0, 0.0, 0.0])  # fmt: skip
    np.testing.assert_allclose(grad_at(np.linalg.norm, np.array([3.0, 4.0])), [0.6, 0.8])


def test_norm_written_out_is_nan_at_zero_and_the_recipe_is_zero():
    # sqrt(sum(x*x)) at 0: sqrt's inf meets d(x*x)/dx == 0 in a product, inf * 0 = nan.
    # JAX's jnp.linalg.norm is this expression and gives nan too.
    g = grad_at(lambda x: np.sqrt(np.sum(x * x)), np.zeros(3))
    assert np.isnan(g).all()
    # The custom_jvp recipe gives PyTorch's zero subgradient, and the exact gradient
    # (and Hessian) elsewhere.
    np.testing.assert_array_equal(grad_at(safe_norm, np.zeros(3)), [0.0, 0.0, 0.0])
    assert tangent_at(safe_norm, np.zeros(3), np.ones(3)) == 0.0
    np.testing.assert_allclose(grad_at(safe_norm, np.array([3.0, 4.0])), [0.6, 0.8])
    x = np.array([3.0, 4.0])
    n = 5.0
    hess = (np.eye(2) - np.outer(x, x) / n**2) / n
    np.testing.assert_allclose(wg.hessian(safe_norm)(x), hess, rtol=1e-14)


# -- sort ----------------------------------------------------------------------------------
def test_sort_ties_follow_the_stable_order():
    # The first of two tied values in the sorted output is the first in the input.
    x = np.array([1.0, 1.0, 2.0])
    np.testing.assert_array_equal(grad_at(lambda v: np.sort(v)[0], x), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_at(lambda v: np.sort(v)[1], x), [0.0, 1.0, 0.0])


# -- the where trap ------------------------------------------------------------------------
def test_where_trap_gives_the_chosen_branch_derivative():
    # The branch not taken (sqrt at 0, derivative inf) receives an exact-zero cotangent,
    # which contributes exactly zero: JAX, autograd and PyTorch give nan here.
    def f(x):
        return np.where(x < 1, x, np.sqrt(x))

    assert grad_at(f, 0.0) == 1.0
    assert tangent_at(f, 0.0, 1.0) == 1.0
    np.testing.assert_array_equal(
        grad_at(lambda x: np.sum(f(x)), np.array([0.0, 4.0])), [1.0, 0.25]
    )


def test_safe_sqrt_recipe():
    # The double where: the portable form, which also keeps nan out of the forward pass.
    assert grad_at(safe_sqrt, 0.0) == 0.0
    assert grad_at(safe_sqrt, 4.0) == 0.25
    assert grad_at(safe_sqrt, -1.0) == 0.0


# -- the page and this file agree -----------------------------------------------------------
def _table_rows():
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## The table", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    return rows[2:]  # skip the header and the |---| line


def test_every_table_row_is_tested():
    rows = _table_rows()
    assert len(rows) >= 14
    here = globals()
    for row in rows:
        names = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert names, f"docs/sharp-bits.md row names no test: {row}"
        for name in names:
            assert callable(here.get(name)), f"{name} (named in docs/sharp-bits.md) is missing"
