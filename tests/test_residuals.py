"""What the reverse tape keeps: elementwise records drop the values their VJP does not read
(so large intermediates are freed during the forward pass, as in plain NumPy), and the VJPs
of those records still give exact cotangents."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.core import reverse
from wengert.core.primitive import registry
from wengert.core.reverse import VJPTrace

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
