"""What the reverse tape keeps: elementwise records drop the values their VJP does not read
(so large intermediates are freed during the forward pass, as in plain NumPy), and the VJPs
of those records still give exact cotangents."""

from __future__ import annotations

import functools
import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.core import reverse
from wengert.core.primitive import registry
from wengert.core.reverse import VJPTrace
from wengert.numpy._residuals import BIG, Like, binary_keep, scaled, unary_keep

try:  # the scipy.special rules register when SciPy's module is imported: cover them too
    import scipy.special  # noqa: F401
except ImportError:  # pragma: no cover - scipy is in the test extra
    pass

KEEPERS = sorted(n for n, p in registry.items() if p.keep is not None)


def _cases(prim, rng):
    if "cases" in prim.spec:
        return prim.spec["cases"](rng)
    return [(tuple(d(rng, (3, 4)) for d in prim.spec["domain"]), {})]


@pytest.mark.parametrize("name", KEEPERS)
def test_pruned_records_give_the_forward_mode_cotangent(name, monkeypatch):
    # Every record pruned (KEEP_MIN 0), each argument differentiated alone and all together:
    # <u, J v> from forward mode must equal <J^T u, v> from the pruned reverse records.
    monkeypatch.setattr(reverse, "KEEP_MIN", 0)
    prim = registry[name]
    rng = np.random.default_rng(len(name))
    for args, params in _cases(prim, rng):
        diff = [k for k, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
        subsets = [(k,) for k in diff] + ([tuple(diff)] if len(diff) > 1 else [])
        for which in subsets:
            def f(*xs):
                full = list(args)
                for k, x in zip(which, xs):
                    full[k] = x
                return prim.bind(*full, **params)

            primals = tuple(args[k] for k in which)
            vs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
            out, jv = wg.jvp(f, primals, vs)
            u = rng.standard_normal(np.shape(out))
            _, pullback = wg.vjp(f, *primals)
            cts = pullback(u)
            rhs = sum(np.sum(c * v) for c, v in zip(cts, vs))
            np.testing.assert_allclose(rhs, np.sum(u * jv), rtol=1e-10, atol=1e-12)


def _intermediate_alive(keep, n):
    """Whether ``x * 2.0`` is still held after ``(x * 2.0) + 1.0`` has used it."""
    trace = VJPTrace(keep=keep)
    try:
        x = trace.new_input(np.linspace(0.0, 1.0, n))
        doubled = x * 2.0
        ref = weakref.ref(doubled.primal)
        out = np.sin(doubled + 1.0)
        del doubled
        return ref() is not None, out
    finally:
        trace.close()


def test_large_intermediates_nothing_needs_are_freed():
    # multiply by a constant and add read neither value: nothing holds x * 2 once it is used.
    n = reverse.KEEP_MIN
    assert _intermediate_alive(keep=False, n=n)[0] is False
    # The Wengert list keeps every value (it shows them), and small records keep theirs.
    assert _intermediate_alive(keep=True, n=n)[0] is True
    assert _intermediate_alive(keep=False, n=n - 1)[0] is True


def test_power_of_a_constant_exponent_keeps_only_its_base():
    # Its partial in x (split into y times x**(y - 1) for a scalar cotangent) reads x and y.
    trace = VJPTrace()
    try:
        x = trace.new_input(np.linspace(0.0, 1.0, reverse.KEEP_MIN))
        squared = x**2
        ref = weakref.ref(squared.primal)
        out = squared * 3.0
        del squared
        assert ref() is None and out is not None
    finally:
        trace.close()


def test_rosenbrock_gradient_with_pruned_records():
    # The seeds' Rosenbrock at a size where every record is pruned, against its closed form.
    n = 4 * reverse.KEEP_MIN
    x = np.random.default_rng(1).uniform(-1.5, 1.5, n)

    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    g = np.zeros(n)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    value, grad = wg.value_and_grad(f)(x)
    np.testing.assert_allclose(value, f(x), rtol=1e-13)
    np.testing.assert_allclose(grad, g, rtol=1e-12, atol=1e-9)


def test_in_place_product_leaves_shared_values_alone():
    # exp's derivative is its output, which the tape and the caller hold: it must not be
    # overwritten by the cotangent product. The value returned by the function stays intact.
    x = np.linspace(0.0, 1.0, 2 * reverse.KEEP_MIN)

    def f(x):
        e = np.exp(x)
        return np.sum(e * 3.0), e

    (value, aux), g = wg.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(aux, np.exp(x))
    np.testing.assert_allclose(g, 3.0 * np.exp(x), rtol=1e-14)


# -- the analysis of what a partial reads, on partials users write (wengert.extend) ----------


def _logged(f):
    @functools.wraps(f)
    def wrapper(*args):
        return f(*args)

    return wrapper


@pytest.mark.parametrize(
    "df, kept",
    [
        (lambda x, ans: 2 * x, ("x",)),
        (lambda x, ans: ans, ("ans",)),
        (lambda z, out: 1 - 2 * z * out, ("x", "ans")),  # other parameter names
        (lambda z, out: np.cos(z), ("x",)),
        (lambda x, ans: (lambda: x)(), ("x",)),  # read in a nested function
        (_logged(lambda x, ans: ans), ("x", "ans")),  # a wrapper: cannot tell
        (lambda *args: args[0], ("x", "ans")),
        (np.cos, ("x", "ans")),  # not Python code
    ],
)
def test_unary_records_keep_what_the_partial_reads(df, kept):
    x, ans = np.ones(3), np.zeros(3)
    rule = unary_keep(df)
    got_ans, (got_x,) = (ans, (x,)) if rule is None else rule((0,), ans, (x,))
    assert (got_x is x) == ("x" in kept) and (got_ans is ans) == ("ans" in kept)


def test_binary_records_keep_what_the_partials_read():
    x, y, ans = np.ones(3), np.full(3, 2.0), np.zeros(3)
    # d/da = b (named a, b, out), d/db constant; the pole predicate of a reads a.
    rule = binary_keep([(lambda a, b, out: b, lambda a, b: np.any(a == 0)), (1.0, False)])
    kept_ans, (kx, ky) = rule((0,), ans, (x, y))
    assert kx is x and ky is y and isinstance(kept_ans, Like)
    kept_ans, (kx, ky) = rule((1,), ans, (x, y))
    assert isinstance(kx, Like) and isinstance(ky, Like) and kx.shape == (3,)


def test_in_place_product_only_into_arrays_the_partial_owns():
    n = BIG
    g = np.full(n, 3.0)
    x = np.linspace(0.0, 1.0, n)
    x0 = x.copy()

    def view_of_x():
        d = x[...]  # a view: writing it would change the caller's x
        return scaled(g, d)

    def read_only():
        d = np.broadcast_to(np.float64(2.0), (n,))
        return scaled(g, d)

    def fresh():
        d = 2.0 * x
        return scaled(g, d)

    np.testing.assert_array_equal(view_of_x(), 3.0 * x0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(read_only(), np.full(n, 6.0))
    np.testing.assert_array_equal(fresh(), 6.0 * x0)


def test_forward_tracer_shape_and_dtype_are_read_only():
    def f(x):
        y = x * 2
        y.shape = (2, 3)
        return y

    with pytest.raises(AttributeError):
        wg.jvp(f, (np.ones(6),), (np.ones(6),))


def test_a_write_loop_keeps_one_version_of_a_large_array():
    # Each x[i] = ... copies the array; the tape keeps no version that its VJP does not read,
    # so n writes into n entries hold O(n) numbers, not n**2 (2000**2 floats: 32 MB).
    import tracemalloc

    n = 2000
    x = np.linspace(0.0, 1.0, n)

    def f(x):
        out = np.zeros_like(x)
        for i in range(n):
            out[i] = x[i] ** 2
        return np.sum(out * x)

    tracemalloc.start()
    try:
        g = wg.grad(f)(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-14)
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"
