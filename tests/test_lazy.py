"""Two savings of array passes in reverse mode, and that they never change a derivative:

- lazy negation: subtraction hands its second argument ``-g`` unexpanded (``Negated``);
  the next rule folds the sign into a factor, or is run on ``g`` with its results negated,
  and the negation ends as a subtraction where cotangents meet;
- temporary elision (C extension only): an arithmetic operator writes its result into a
  temporary operand's array when the tape does not keep that array.

Both apply to large arrays only; the tests lower the thresholds so that small ones take the
same paths, and check derivatives against closed forms and forward mode.
"""

from __future__ import annotations

import functools
import itertools
import operator
import tracemalloc
import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.core import reverse
from wengert.core.primitive import registry
from wengert.core.reverse import Negated
from wengert.core.trace import _speedups
from wengert.errors import WengertError


@pytest.fixture
def lazy(monkeypatch):
    """Every negation unexpanded and every eligible temporary elided, whatever its size
    (records pruned at every size, as elision needs)."""
    monkeypatch.setattr(reverse, "_NEGATE_LAZILY", 0)
    monkeypatch.setattr(reverse, "ELIDE_BYTES", 0)
    monkeypatch.setattr(reverse, "KEEP_MIN", 0)


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- closed forms ----------------------------------------------------------------------------


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


C = np.linspace(-1.0, 1.0, 12)
A = _rng(5).standard_normal((12, 12))
M = _rng(6).standard_normal((3, 12))

# (function, its gradient): each sends a negated cotangent down a different path
CASES = {
    "rosenbrock": (rosenbrock, rosenbrock_grad),
    "negation at the input": (lambda x: np.sum(C - x), lambda x: -np.ones_like(x)),
    "double negation": (lambda x: np.sum((C - (1.0 - x)) ** 2), lambda x: 2 * (C - 1 + x)),
    "into a unary rule": (lambda x: np.sum(np.sin(C - x)), lambda x: -np.cos(C - x)),
    "into a product": (lambda x: np.sum((C - x) * x), lambda x: C - 2 * x),
    "into x * x": (lambda x: np.sum((C - x) * (C - x)), lambda x: -2 * (C - x)),
    "into matmul": (lambda x: np.sum((A @ (C - x)) ** 2), lambda x: -2 * A.T @ (A @ (C - x))),
    "broadcast": (lambda x: np.sum((M - x) ** 3), lambda x: -3 * np.sum((M - x) ** 2, axis=0)),
    "two negated uses": (lambda x: np.sum((1 - x) ** 2 + (2 - x) ** 3),
                         lambda x: -2 * (1 - x) - 3 * (2 - x) ** 2),
    "negated plus plain": (lambda x: np.sum((1 - x) ** 2 + x ** 3), lambda x: -2 * (1 - x) + 3 * x**2),
    "plain plus negated": (lambda x: np.sum(x ** 3 + (1 - x) ** 2), lambda x: 3 * x**2 - 2 * (1 - x)),
    "slices": (lambda x: np.sum((1 - x[:-1]) ** 2 - x[1:] * 3 + (2 - x[:-1]) * x[1:]),
               lambda x: np.concatenate([-2 * (1 - x[:-1]) - x[1:], [0.0]])
               + np.concatenate([[0.0], -3 + (2 - x[:-1])])),
    "fancy index": (lambda x: np.sum((1 - x[[0, 2, 2, 5]]) ** 2),
                    lambda x: np.bincount([0, 2, 2, 5], -2 * (1 - x[[0, 2, 2, 5]]), len(x))),
    "mixed index": (lambda x: np.sum((1 - x[[1, 3]]) ** 2) + np.sum((2 - x[1:4]) ** 2),
                    lambda x: np.bincount([1, 3], -2 * (1 - x[[1, 3]]), len(x))
                    + np.concatenate([[0.0], -2 * (2 - x[1:4]), np.zeros(len(x) - 4)])),
    "negative": (lambda x: np.sum(-(C - x) ** 2), lambda x: 2 * (C - x)),
    "through a reduction": (lambda x: np.sum(np.cumsum(C - x) ** 2),
                            lambda x: -2 * np.cumsum(np.cumsum(C - x)[::-1])[::-1]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("small", [False, True])
def test_gradients_with_lazy_negation_and_elision(name, small, lazy, monkeypatch):
    if small:  # the default thresholds: nothing of these sizes is lazy
        monkeypatch.setattr(reverse, "_NEGATE_LAZILY", 10**9)
        monkeypatch.setattr(reverse, "ELIDE_BYTES", 10**12)
    f, grad = CASES[name]
    x = _rng(1).uniform(-1.2, 1.2, 12)
    value, g = wg.value_and_grad(f)(x)
    np.testing.assert_allclose(value, f(x), rtol=1e-13)
    np.testing.assert_allclose(g, grad(x), rtol=1e-11, atol=1e-12)
    assert type(g) is np.ndarray and g.flags.writeable


def test_rosenbrock_at_the_default_thresholds():
    # 10**5 points: records pruned, negations unexpanded and temporaries elided as in W3.
    x = _rng(2).uniform(-1.5, 1.5, 10**5)
    value, g = wg.value_and_grad(rosenbrock)(x)
    np.testing.assert_allclose(value, rosenbrock(x), rtol=1e-13)
    np.testing.assert_allclose(g, rosenbrock_grad(x), rtol=1e-11, atol=1e-9)


def test_a_pullback_called_twice_gives_the_same_cotangent(lazy):
    # free=False: the tape is kept, and nothing the first call combined in place may leak.
    x = _rng(3).uniform(-1.0, 1.0, 12)
    _, pullback = wg.vjp(lambda x: (1 - x[:-1]) ** 2 + (2 - x[:-1]) * 3 - x[1:], x)
    u = _rng(4).standard_normal(11)
    first = pullback(u)[0].copy()
    second = pullback(u)[0]
    want = np.zeros(12)
    want[:-1] = -2 * (1 - x[:-1]) * u - 3 * u
    want[1:] -= u
    np.testing.assert_allclose(first, want, rtol=1e-12)
    np.testing.assert_array_equal(second, first)


def test_shared_cotangents_are_not_written_into(lazy):
    # add's VJP hands one array to both arguments; both then go through subtractions.
    x = _rng(5).uniform(-1.0, 1.0, 12)
    u = _rng(6).standard_normal(12)
    _, pullback = wg.vjp(lambda x: (1 - x) + (2 - x * 3) + (x - 4), x)
    np.testing.assert_allclose(pullback(u)[0], (-1 - 3 + 1) * u, rtol=1e-12)
    assert np.all(np.isfinite(u))


@pytest.mark.parametrize("name", sorted(n for n, p in registry.items()
                                        if p.vjp is not None and not p.nondiff))  # fmt: skip
def test_every_rule_given_a_negated_cotangent(name, lazy):
    # c - op(args): the op's VJP receives -u unexpanded (or u, with its results negated).
    # <J^T (-u), v> must equal -<u, J v>, J v from forward mode.
    prim = registry[name]
    if prim.spec is None or not ("cases" in prim.spec or "domain" in prim.spec):
        pytest.skip("no example arguments")
    rng = np.random.default_rng(len(name))
    if "cases" in prim.spec:
        cases = prim.spec["cases"](rng)
    else:
        args = tuple(d(rng, (3, 4)) for d in prim.spec["domain"])
        cases = [(args, dict(prim.spec.get("params", {})))]
    checked = 0
    for args, params in cases:
        skip = prim.spec.get("nondiff_args", ())
        diff = [k for k, a in enumerate(args) if k not in skip
                and isinstance(a, (np.ndarray, float)) and np.asarray(a).dtype.kind in "fc"]  # fmt: skip

        def op(*xs, args=args, params=params, diff=diff):
            full = list(args)
            for k, x in zip(diff, xs):
                full[k] = x
            return prim.bind(*full, **params)

        primals = tuple(args[k] for k in diff)
        vs = tuple(rng.standard_normal(np.shape(p)).astype(np.asarray(p).dtype) for p in primals)
        try:  # an argument without a derivative (an order), an output of several arrays
            out, jv = wg.jvp(op, primals, vs)
        except WengertError:  # those cases are covered by the primitives test
            continue
        if not diff or not isinstance(out, (np.ndarray, np.generic)) or out.dtype.kind not in "fc":
            continue
        u = rng.standard_normal(np.shape(out)).astype(out.dtype)
        _, pullback = wg.vjp(lambda *xs: 0.0 - op(*xs), *primals)
        cts = pullback(u)
        lhs = sum(np.sum(np.real(np.conj(c) * v)) for c, v in zip(cts, vs))
        tol = 1e-5 if np.float32 in {np.asarray(a).dtype.type for a in (out, *primals)} else 1e-9
        np.testing.assert_allclose(lhs, -np.sum(np.real(np.conj(u) * jv)), rtol=tol, atol=tol)
        checked += 1
    if not checked:
        pytest.skip("no case with float arguments and one float array output")


def test_negated_cotangents_stay_out_of_the_adjoint_trace(lazy):
    # The Wengert list shows each adjoint as a value, and debug_nans checks values.
    x = np.array([0.5, 1.5, 2.5])
    listing = wg.wengert_list(lambda x: np.sum((1 - x) ** 2))(x)
    assert "Negated" not in str(listing)
    with wg.debug_nans():
        g = wg.grad(lambda x: np.sum((1 - x) ** 2))(x)
    np.testing.assert_allclose(g, -2 * (1 - x))


def test_second_order_through_subtractions(lazy):
    # Traced cotangents are never Negated; the Hessian of a sum of squared differences.
    x = _rng(7).uniform(-1.0, 1.0, 6)
    h = wg.hessian(lambda x: np.sum((1 - x[:-1]) ** 2 * (2 - x[1:])))(x)
    hv = wg.hvp(lambda x: np.sum((1 - x[:-1]) ** 2 * (2 - x[1:])), x, np.ones(6))
    n = len(x)
    want = np.zeros((n, n))
    for i in range(n - 1):
        want[i, i] += 2 * (2 - x[i + 1])
        want[i, i + 1] += 2 * (1 - x[i])
        want[i + 1, i] += 2 * (1 - x[i])
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hv, want @ np.ones(n), rtol=1e-12, atol=1e-12)


def test_per_example_gradients_with_lazy_cotangents(lazy):
    x = _rng(8).uniform(-1.0, 1.0, (5, 4))
    g = wg.vmap(wg.grad(lambda r: np.sum((1 - r) ** 2)))(x)
    np.testing.assert_allclose(g, -2 * (1 - x), rtol=1e-12)


# -- the class itself --------------------------------------------------------------------------


def test_negated_combinations():
    a, b = np.arange(4.0), np.arange(4.0) * 10
    both = Negated(a).combine(Negated(b))
    assert type(both) is Negated
    np.testing.assert_array_equal(both.materialize(), -(a + b))
    np.testing.assert_array_equal(Negated(a).combine(b), b - a)
    acc = np.ones(4)
    assert Negated(a).add_into(acc)
    np.testing.assert_array_equal(acc, 1 - a)
    # a shared array is never negated in place; an owned one may be
    shared = a.copy()
    np.testing.assert_array_equal(Negated(shared).materialize(), -a)
    np.testing.assert_array_equal(shared, a)
    assert reverse.negated(Negated(a)) is a
    assert reverse.negated(np.float64(2.0)) == -2.0


# -- temporary elision -------------------------------------------------------------------------

needs_c = pytest.mark.skipif(_speedups is None, reason="temporary elision is the C operators'")


def _peak(f, x):
    tracemalloc.start()
    try:
        wg.value_and_grad(f)(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@needs_c
def test_temporaries_are_elided(monkeypatch):
    # ((x * 2) + 1) * 3: plain NumPy writes the sum and the product into x * 2's array; so do
    # the traced operators, one array alive where two were.
    x = _rng(9).standard_normal(10**5)

    def f(x):
        return np.sum(((x * 2.0) + 1.0) * 3.0)

    monkeypatch.setattr(reverse, "ELIDE_BYTES", 10**12)
    without = _peak(f, x)
    monkeypatch.setattr(reverse, "ELIDE_BYTES", 0)
    with_elision = _peak(f, x)
    assert with_elision <= without - 0.9 * x.nbytes
    np.testing.assert_allclose(wg.grad(f)(x), np.full_like(x, 6.0))


def _uses(x):
    """Intermediates held by names, containers, and builtins that own their operands."""
    a = x * 2.0
    b = a + 1.0  # a is a name: never written into
    held = [x * 3.0, x * 4.0]
    total = sum([x * 1.0, x * 2.0, x * 3.0])  # sum's running total is its own
    red = functools.reduce(operator.add, [x * 1.0, x * 2.0])
    acc = list(itertools.accumulate([x * 1.0, x * 2.0, x * 3.0]))
    y = (x * 2.0 + 1.0) / 3.0 - x  # temporaries all the way
    z = 2.0 ** (x * 0.5) * (1.0 - x * 0.25)  # reflected operators
    return (np.sum(a * b) + np.sum(held[0] * held[1]) + np.sum(total) + np.sum(red)
            + sum(np.sum(t) for t in acc) + np.sum(y * y) + np.sum(z) + np.sum(a))  # fmt: skip


def _uses_value_and_grad(x):
    a, b = 2 * x, 2 * x + 1
    y = (2 * x + 1) / 3 - x
    z = 2.0 ** (0.5 * x) * (1 - 0.25 * x)
    value = (np.sum(a * b) + np.sum(12 * x * x) + np.sum(6 * x) + np.sum(3 * x)
             + np.sum(x + 3 * x + 6 * x) + np.sum(y * y) + np.sum(z) + np.sum(a))  # fmt: skip
    dz = np.log(2.0) * 0.5 * 2.0 ** (0.5 * x) * (1 - 0.25 * x) - 0.25 * 2.0 ** (0.5 * x)
    grad = 2 * b + 2 * a + 24 * x + 6 + 3 + 10 + 2 * y * (2 / 3 - 1) + dz + 2
    return value, grad


@pytest.mark.parametrize("n", [7, 10**5])
def test_elision_leaves_held_values_alone(n, monkeypatch):
    monkeypatch.setattr(reverse, "ELIDE_BYTES", 0 if n < 100 else reverse.ELIDE_BYTES)
    x = _rng(10).uniform(-1.0, 1.0, n)
    value, g = wg.value_and_grad(_uses)(x)
    want_value, want_grad = _uses_value_and_grad(x)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(g, want_grad, rtol=1e-11, atol=1e-11)


def test_elision_keeps_dtypes_and_shapes(lazy):
    # Only float64 and complex128 arrays are written into, by an operand that keeps their
    # shape and dtype: these results are the ones plain NumPy gives.
    x32 = np.linspace(0.1, 1.0, 8, dtype=np.float32)
    g32 = wg.grad(lambda x: np.sum((x * 2.0 + np.float64(1.0)) * x))(x32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 4 * x32 + 1, rtol=1e-6)
    x = np.linspace(0.1, 1.0, 4)
    m = np.arange(12.0).reshape(3, 4)
    value, g = wg.value_and_grad(lambda x: np.sum((x * 2.0 + m) ** 2))(x)  # broadcast larger
    np.testing.assert_allclose(value, np.sum((2 * x + m) ** 2))
    np.testing.assert_allclose(g, 4 * np.sum(2 * x + m, axis=0))
    z = np.linspace(0.1, 1.0, 4) + 1j
    out, pullback = wg.vjp(lambda z: (z * 2.0 + 1.0) * 1j, z)
    np.testing.assert_allclose(out, (2 * z + 1) * 1j)
    np.testing.assert_allclose(pullback(np.ones(4, complex))[0], 2j * np.ones(4))  # JAX: the transpose, not its conjugate


def test_elision_with_auxiliary_outputs(lazy):
    # A returned intermediate is held by the caller: the rest of f must not write into it.
    x = np.linspace(0.1, 1.0, 6)

    def f(x):
        kept = x * 2.0
        return np.sum(kept * 3.0 + 1.0), kept

    (value, kept), g = wg.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_allclose(kept, 2 * x)
    np.testing.assert_allclose(value, np.sum(6 * x + 1))
    np.testing.assert_allclose(g, np.full(6, 6.0))


# -- regressions found in review -------------------------------------------------------------


def test_a_negated_sparse_cotangent_reaches_rules_as_an_array():
    # x[1:] of an intermediate, then a subtraction: -(the slice's cotangent) arrives at exp's
    # record, which must receive an array (default thresholds: 10**4 points).
    x = np.linspace(-1.0, 1.0, 10**4)
    g = wg.grad(lambda x: np.sum((2 - np.exp(x)[1:]) ** 2))(x)
    want = np.zeros_like(x)
    want[1:] = -2 * (2 - np.exp(x[1:])) * np.exp(x[1:])
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_custom_rules_in_a_subtraction(lazy):
    # A custom rule's output is a tuple entry: its negated cotangent is a tuple's.
    @wg.custom_vjp
    def mysin(x):
        return np.sin(x)

    mysin.defvjp(lambda x: (np.sin(x), x), lambda x, g: (g * np.cos(x),))
    x = np.linspace(0.1, 1.0, 6)
    for h in (mysin, wg.checkpoint(np.sin)):
        g = wg.grad(lambda x, h=h: np.sum((2.0 - h(x)) ** 2))(x)
        np.testing.assert_allclose(g, -2 * (2 - np.sin(x)) * np.cos(x), rtol=1e-12)


def test_a_list_lending_its_element_keeps_it(lazy):
    # list.sort calls its key with an element the list alone holds (a borrowed reference of
    # count one): the key's subtraction must not write into that element's array.
    def f(x):
        c = x * 0.0 + 1.0
        items = [x * 2.0]
        items.sort(key=c.__rsub__)
        return np.sum(items[0] ** 2)

    x = np.linspace(0.0, 1.0, 50)
    value, g = wg.value_and_grad(f)(x)
    np.testing.assert_allclose(value, np.sum(4 * x**2), rtol=1e-13)
    np.testing.assert_allclose(g, 8 * x, rtol=1e-13)


class _Scale:
    pass


def test_operators_reached_through_kept_references_do_not_elide(lazy):
    # The frame below runs a binary operator, but our operator is called by functools.partial,
    # map, a bound method or methodcaller, which keep the operand: it must not be written into.
    x = np.linspace(0.5, 1.5, 6)

    def partial_map(x):
        acc = []
        acc += map(functools.partial(operator.mul, x * 2.0), [3.0, 5.0])
        return np.sum(acc[0] ** 2) + np.sum(acc[1] ** 2)

    def bound_dunder(x):
        _Scale.__rmul__ = staticmethod((x * 2.0).__mul__)
        s = _Scale()
        return np.sum((3.0 * s) ** 2) + np.sum((5.0 * s) ** 2)

    def methodcaller_dunder(x):
        _Scale.__add__ = operator.methodcaller("__add__", x * 2.0)
        s = _Scale()
        return np.sum((s + x) ** 2) + np.sum((s + x) ** 2)

    for f, k in ((partial_map, 136), (bound_dunder, 136), (methodcaller_dunder, 18)):
        value, g = wg.value_and_grad(f)(x)
        np.testing.assert_allclose(value, np.sum(k * x**2), rtol=1e-13)
        np.testing.assert_allclose(g, 2 * k * x, rtol=1e-13)


def test_a_tuple_output_with_a_negated_entry():
    # One entry of a custom rule's pair in 1 - a, the other elsewhere: both cotangents reach
    # the rule, one of them negated (default thresholds: 4096 points).
    n = 4096
    w = np.linspace(1.0, 2.0, n)
    x = np.linspace(0.1, 1.0, n)

    @wg.custom_vjp
    def two(x):
        return np.sin(x), np.cos(x)

    two.defvjp(lambda x: ((np.sin(x), np.cos(x)), x),
               lambda x, cts: (cts[0] * np.cos(x) - cts[1] * np.sin(x),))  # fmt: skip

    def f(x):
        a, b = two(x)
        return np.sum(w * (1.0 - a)) + np.sum(w * (3.0 * b))

    np.testing.assert_allclose(wg.grad(f)(x), -w * np.cos(x) - 3 * w * np.sin(x), rtol=1e-12)


def test_bind_of_a_primitive_subclass_defining_impl():
    from wengert.core.primitive import Primitive

    class Shifted(Primitive):
        def impl(self, x):
            return x + 1

    p = Shifted.__new__(Shifted)
    p.name = "shifted"
    assert p.bind(1.0) == 2.0


# -- donation: a product written into a value that dies with its rule --------------------------


@needs_c
def test_a_dead_value_receives_the_product():
    # sum(t ** 2): power's rule multiplies t by 2 g as its last use of t, a value nothing
    # else holds once f has returned: the gradient is written into t's own array.
    # (Its address is compared: a weak reference would keep it from being donated. Without
    # donation the product is allocated while t's array is alive, at another address.)
    x = np.linspace(-1.0, 1.0, 4 * reverse.KEEP_MIN)
    where = []

    def f(x):
        t = x + 0.0
        where.append(t.primal.__array_interface__["data"][0])
        return np.sum(t**2)

    g = wg.grad(f)(x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-15)
    assert g.__array_interface__["data"][0] == where[0]


def test_values_still_held_are_not_donated():
    # The value returned as aux, saved by two records, or kept for a second pullback, keeps
    # its values after the gradient has been computed.
    x = np.linspace(-1.0, 1.0, 4 * reverse.KEEP_MIN)

    def held(x):
        t = x + 0.5
        return np.sum(t**2), t

    (_, t), g = wg.value_and_grad(held, has_aux=True)(x)
    np.testing.assert_array_equal(t, x + 0.5)
    np.testing.assert_allclose(g, 2 * (x + 0.5), rtol=1e-15)

    def two_records(x):
        t = x + 0.5
        return np.sum(t**2) + np.sum(t**3)

    g = wg.grad(two_records)(x)
    np.testing.assert_allclose(g, 2 * (x + 0.5) + 3 * (x + 0.5) ** 2, rtol=1e-14)

    _, pullback = wg.vjp(lambda x: np.sum((x + 0.5) ** 2), x)
    first = pullback(1.0)[0].copy()
    np.testing.assert_array_equal(pullback(1.0)[0], first)
    np.testing.assert_allclose(first, 2 * (x + 0.5), rtol=1e-15)


def test_constants_multiplied_by_are_never_donated():
    # x * c asks one cotangent of a record that also holds c: c is the caller's (a global, an
    # attribute, an aux output, a value two records share), never the rule's to write into.
    n = 4 * reverse.KEEP_MIN
    x = np.linspace(0.1, 1.0, n)
    c = np.exp(np.linspace(0.0, 0.7, n))
    held = c.copy()

    class Model:
        w = c

    def shared(x):
        w = np.exp(np.linspace(0.0, 0.7, n))
        return np.sum(np.sin(x * w)) + np.sum(np.cos(x * w))

    def stopped(x):
        s = wg.stop_gradient(x * 2.0)
        return np.sum(np.sin(x * s)) + np.sum(np.cos(x * s))

    for _ in range(2):  # a second call sees the same constants
        np.testing.assert_allclose(wg.grad(lambda x: np.sum(np.sin(x * c)))(x),
                                   np.cos(x * c) * c, rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(wg.grad(lambda x: np.sum(np.sin(c * x)))(x),
                                   np.cos(x * c) * c, rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(wg.grad(lambda x: np.sum(np.sin(x * Model.w)))(x),
                                   np.cos(x * c) * c, rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(wg.grad(shared)(x), np.cos(x * c) * c - np.sin(x * c) * c,
                                   rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(wg.grad(stopped)(x),
                                   np.cos(2 * x * x) * 2 * x - np.sin(2 * x * x) * 2 * x,
                                   rtol=1e-12)  # fmt: skip
        (_, aux), g = wg.value_and_grad(lambda x: (np.sum(np.sin(x * c)), c), has_aux=True)(x)
        np.testing.assert_array_equal(aux, held)
        np.testing.assert_allclose(g, np.cos(x * c) * c, rtol=1e-12)
        np.testing.assert_array_equal(c, held)


def test_a_weakly_referenced_value_is_not_donated():
    # A cache holding a weak reference would see the product where the value was.
    x = np.linspace(-1.0, 1.0, 4 * reverse.KEEP_MIN)
    cache = weakref.WeakValueDictionary()

    def f(x):
        t = x + 1.0
        cache["t"] = t.primal
        return np.sum(t**2)

    g = wg.grad(f)(x)
    np.testing.assert_allclose(g, 2 * (x + 1.0), rtol=1e-15)
    assert cache.get("t") is not g
