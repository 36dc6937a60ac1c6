"""API semantics of the transformations, each checked against an independent reference: a
closed form, a hand-written gradient, a plain-NumPy loop, or central finite differences
(tests/_fd.py). No test compares wengert with itself.
"""

import gc
import subprocess
import sys
import threading
import weakref
from collections import namedtuple

import numpy as np
import pytest
from _fd import EXACT, FD, grad_fd, jacobian_fd

import wengert as wg

RNG_SEED = 20240601


def rng(k=0):
    return np.random.default_rng(RNG_SEED + k)


def close(actual, expected, tol=EXACT):
    np.testing.assert_allclose(actual, expected, **tol)


# -- argnums -------------------------------------------------------------------------------
def f3(x, y, z):
    return x**2 * np.sin(y) + np.exp(z) * y


X, Y, Z = 1.3, 0.7, -0.4
DF3 = {0: 2 * X * np.sin(Y), 1: X**2 * np.cos(Y) + np.exp(Z), 2: np.exp(Z) * Y}


@pytest.mark.parametrize("k", [0, 1, 2, -1])
def test_argnums_int(k):
    g = wg.grad(f3, argnums=k)(X, Y, Z)
    assert np.ndim(g) == 0
    close(g, DF3[k % 3])


def test_argnums_tuple():
    g = wg.grad(f3, argnums=(0, 2))(X, Y, Z)
    assert isinstance(g, tuple) and len(g) == 2
    close(g, [DF3[0], DF3[2]])
    g1 = wg.grad(f3, argnums=(1,))(X, Y, Z)
    assert isinstance(g1, tuple) and len(g1) == 1
    close(g1[0], DF3[1])


def test_argnums_non_differentiated_arguments_may_be_anything():
    # Integers, strings and arrays of ints in positions not differentiated are constants.
    def f(x, n, name, idx):
        assert name == "label"
        return np.sum(x[idx] ** n)

    x = np.array([1.0, 2.0, 3.0])
    close(wg.grad(f)(x, 3, "label", np.array([0, 2])), [3.0, 0.0, 27.0])


def test_argnums_jacobians():
    def f(a, b):
        return np.array([a * b, a + np.sin(b)])

    ja, jb = wg.jacfwd(f, argnums=(0, 1))(0.5, 2.0)
    close(ja, [2.0, 1.0])
    close(jb, [0.5, np.cos(2.0)])
    ja, jb = wg.jacrev(f, argnums=(0, 1))(0.5, 2.0)
    close(ja, [2.0, 1.0])
    close(jb, [0.5, np.cos(2.0)])
    close(wg.jacrev(f, argnums=1)(0.5, 2.0), [0.5, np.cos(2.0)])


def test_keyword_arguments_pass_through_undifferentiated():
    def f(x, *, scale):
        return scale * np.sum(x**2)

    x = np.array([1.0, -2.0])
    close(wg.grad(f)(x, scale=3.0), 6 * x)


# -- has_aux -------------------------------------------------------------------------------
def with_aux(x):
    y = np.sum(np.sin(x))
    return y, {"sq": x**2, "n": 7}


def vec_with_aux(x):
    return np.sin(x) * 2, np.cos(x)


XA = np.array([0.3, -1.2, 2.0])


def _check_aux(aux):
    # aux carries values, not tracers: plain ndarrays with the right numbers.
    assert type(aux["sq"]) is np.ndarray
    close(aux["sq"], XA**2)
    assert aux["n"] == 7


def test_has_aux_grad():
    g, aux = wg.grad(with_aux, has_aux=True)(XA)
    close(g, np.cos(XA))
    _check_aux(aux)


def test_has_aux_value_and_grad():
    (value, aux), g = wg.value_and_grad(with_aux, has_aux=True)(XA)
    close(value, np.sum(np.sin(XA)))
    close(g, np.cos(XA))
    _check_aux(aux)


def test_has_aux_vjp():
    y, pullback, aux = wg.vjp(vec_with_aux, XA, has_aux=True)
    close(y, 2 * np.sin(XA))
    assert type(aux) is np.ndarray
    close(aux, np.cos(XA))
    u = np.array([1.0, 2.0, -1.0])
    (g,) = pullback(u)
    close(g, 2 * np.cos(XA) * u)


def test_has_aux_jvp():
    v = np.array([1.0, 0.5, -2.0])
    y, t, aux = wg.jvp(vec_with_aux, (XA,), (v,), has_aux=True)
    close(y, 2 * np.sin(XA))
    close(t, 2 * np.cos(XA) * v)
    assert type(aux) is np.ndarray
    close(aux, np.cos(XA))


@pytest.mark.parametrize("jac", [wg.jacfwd, wg.jacrev], ids=["jacfwd", "jacrev"])
def test_has_aux_jacobians(jac):
    j, aux = jac(vec_with_aux, has_aux=True)(XA)
    close(j, np.diag(2 * np.cos(XA)))
    assert type(aux) is np.ndarray
    assert aux.shape == XA.shape
    close(aux, np.cos(XA))


# -- pytrees -------------------------------------------------------------------------------
Point = namedtuple("Point", ["a", "b"])


class Pair:
    """A user class registered as a pytree node."""

    def __init__(self, left, right):
        self.left = left
        self.right = right


wg.tree.register(Pair, lambda p: ((p.left, p.right), "pair-aux"), lambda aux, c: Pair(*c))


def _params():
    r = rng(1)
    return {
        "w": r.standard_normal(3),
        "seq": [r.standard_normal(2), (0.3, None)],
        "pt": Point(r.standard_normal(2), 0.7),
        "pair": Pair(r.standard_normal((2, 2)), r.standard_normal(3)),
    }


def tree_loss(p):
    s, _none = p["seq"][1]
    return (
        np.sum(np.sin(p["w"]))
        + np.sum(p["seq"][0] ** 2)
        + s**3
        + np.sum(p["pt"].a * p["pt"].b)
        + np.sum(np.exp(p["pair"].left))
        + np.sum(p["pair"].right) ** 2
    )


def test_pytree_inputs_grad():
    p = _params()
    g = wg.grad(tree_loss)(p)
    assert type(g) is dict and sorted(g) == ["pair", "pt", "seq", "w"]
    assert type(g["seq"]) is list and type(g["seq"][1]) is tuple
    assert g["seq"][1][1] is None
    assert type(g["pt"]) is Point
    assert type(g["pair"]) is Pair
    close(g["w"], np.cos(p["w"]))
    close(g["seq"][0], 2 * p["seq"][0])
    close(g["seq"][1][0], 3 * 0.3**2)
    close(g["pt"].a, np.full(2, 0.7))
    close(g["pt"].b, np.sum(p["pt"].a))
    close(g["pair"].left, np.exp(p["pair"].left))
    close(g["pair"].right, np.full(3, 2 * np.sum(p["pair"].right)))


def test_pytree_inputs_jvp():
    p = _params()
    t = {
        "w": np.ones(3),
        "seq": [np.array([1.0, -1.0]), (2.0, None)],
        "pt": Point(np.array([0.5, 0.5]), -1.0),
        "pair": Pair(np.eye(2), np.array([1.0, 0.0, 0.0])),
    }
    y, dy = wg.jvp(tree_loss, (p,), (t,))
    close(y, tree_loss(p))
    expected = (
        np.sum(np.cos(p["w"]))
        + 2 * np.sum(p["seq"][0] * t["seq"][0])
        + 3 * 0.3**2 * 2.0
        + np.sum(t["pt"].a * p["pt"].b)
        + np.sum(p["pt"].a) * t["pt"].b
        + np.trace(np.exp(p["pair"].left))
        + 2 * np.sum(p["pair"].right)
    )
    close(dy, expected)


def tree_out(x):
    return {"s": np.sum(x**2), "v": (np.sin(x), None), "pt": Point(2 * x, np.exp(x[0]))}


XT = np.array([0.4, -0.9, 1.5])


def test_pytree_outputs_jvp():
    v = np.array([1.0, 2.0, -0.5])
    y, t = wg.jvp(tree_out, (XT,), (v,))
    assert sorted(y) == ["pt", "s", "v"] and y["v"][1] is None and t["v"][1] is None
    assert type(t["pt"]) is Point
    close(y["s"], np.sum(XT**2))
    close(t["s"], 2 * XT @ v)
    close(t["v"][0], np.cos(XT) * v)
    close(t["pt"].a, 2 * v)
    close(t["pt"].b, np.exp(XT[0]) * v[0])


def test_pytree_outputs_vjp():
    _, pullback = wg.vjp(tree_out, XT)
    ct = {"s": 2.0, "v": (np.array([1.0, 0.0, -1.0]), None), "pt": Point(np.ones(3), 3.0)}
    (g,) = pullback(ct)
    e0 = np.array([1.0, 0.0, 0.0])
    close(g, 2 * XT * 2.0 + np.cos(XT) * ct["v"][0] + 2 * np.ones(3) + np.exp(XT[0]) * 3.0 * e0)


@pytest.mark.parametrize("jac", [wg.jacfwd, wg.jacrev], ids=["jacfwd", "jacrev"])
def test_pytree_outputs_jacobians(jac):
    j = jac(tree_out)(XT)
    assert type(j["pt"]) is Point and j["v"][1] is None
    close(j["s"], 2 * XT)
    close(j["v"][0], np.diag(np.cos(XT)))
    close(j["pt"].a, 2 * np.eye(3))
    close(j["pt"].b, [np.exp(XT[0]), 0.0, 0.0])


@pytest.mark.parametrize("jac", [wg.jacfwd, wg.jacrev], ids=["jacfwd", "jacrev"])
def test_pytree_inputs_jacobians(jac):
    def f(d):
        return d["a"] * np.sin(d["b"])

    a, b = np.array([1.0, 2.0]), np.array([0.3, -0.2])
    j = jac(f)({"a": a, "b": b})
    close(j["a"], np.diag(np.sin(b)))
    close(j["b"], np.diag(a * np.cos(b)))


def test_pytree_vmap():
    r = rng(2)
    a, b = r.standard_normal((4, 3)), r.standard_normal(3)
    out = wg.vmap(
        lambda d: {"p": d["a"] * d["b"], "s": np.sum(d["a"])}, in_axes=({"a": 0, "b": None},)
    )({"a": a, "b": b})
    close(out["p"], a * b)
    close(out["s"], a.sum(axis=1))


# -- closures and Python control flow ------------------------------------------------------
def test_closure_over_constants():
    r = rng(3)
    w = r.standard_normal((4, 3))
    x = r.standard_normal(3)
    g = wg.grad(lambda x: np.sum(np.tanh(w @ x)))(x)
    close(g, w.T @ (1 - np.tanh(w @ x) ** 2))


def test_closure_built_inside_the_function():
    def make(a):
        return lambda x: a * np.sin(x)

    close(wg.grad(lambda a: make(a)(0.5))(2.0), np.sin(0.5))
    close(wg.grad(lambda x: make(2.0)(x))(0.5), 2 * np.cos(0.5))


@pytest.mark.parametrize("x", [1.5, -1.5])
def test_if_on_traced_value(x):
    def f(x):
        if x > 0:
            return x**2
        return -(x**3)

    expected = 2 * x if x > 0 else -3 * x**2
    close(wg.grad(f)(x), expected)
    close(wg.jvp(f, (x,), (1.0,))[1], expected)


def test_while_on_traced_value():
    def f(x):
        y = x
        while y < 100:
            y = y * x
        return y

    # At x = 3: 3, 9, 27, 81, 243 = x**5.
    close(wg.grad(f)(3.0), 5 * 3.0**4)
    close(wg.jvp(f, (3.0,), (1.0,))[1], 5 * 3.0**4)


def test_newton_iteration_converges_to_the_derivative():
    def sqrt_newton(a):
        y = a
        while abs(y * y - a) > 1e-14 * a:
            y = 0.5 * (y + a / y)
        return y

    close(wg.grad(sqrt_newton)(7.0), 0.5 / np.sqrt(7.0))


def test_recursion():
    def power(x, n):
        return 1.0 if n == 0 else x * power(x, n - 1)

    close(wg.grad(power)(1.3, 6), 6 * 1.3**5)
    close(wg.grad(wg.grad(power))(1.3, 6), 30 * 1.3**4)


def test_loop_over_python_range_with_array_state():
    def f(x):
        h = x
        for k in range(4):
            h = np.tanh(h) * (k + 1)
        return np.sum(h)

    x = np.array([0.1, -0.3, 0.2])
    close(wg.grad(f)(x), grad_fd(f, x), FD)


# -- higher order, perturbation confusion --------------------------------------------------
def test_triple_grad():
    close(wg.grad(wg.grad(wg.grad(np.sin)))(0.7), -np.cos(0.7))
    close(wg.grad(wg.grad(wg.grad(lambda x: x**4)))(1.5), 24 * 1.5)
    f = lambda x: x * np.exp(x)
    close(wg.grad(wg.grad(f))(0.3), (0.3 + 2) * np.exp(0.3))


def test_perturbation_confusion_reverse():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; a confused implementation gives 2.
    assert wg.grad(lambda x: x * wg.grad(lambda y: x + y)(1.0))(2.0) == 1.0


def test_perturbation_confusion_forward():
    inner = lambda x: wg.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    assert wg.jvp(lambda x: x * inner(x), (2.0,), (1.0,))[1] == 1.0


def test_perturbation_confusion_mixed_modes():
    # d/dx [x * d/dy (x * y)] = d/dx [x**2] = 2x.
    f = lambda x: x * wg.grad(lambda y: x * y)(2.0)
    assert wg.jvp(f, (3.0,), (1.0,))[1] == 6.0
    g = lambda x: x * wg.jvp(lambda y: x * y, (2.0,), (1.0,))[1]
    assert wg.grad(g)(3.0) == 6.0


def coupled(x):
    # f(x) = sum(sin x) * sum(x**2); Hessian in closed form below.
    return np.sum(np.sin(x)) * np.sum(x**2)


def coupled_grad(x):
    return np.cos(x) * np.sum(x**2) + 2 * x * np.sum(np.sin(x))


def coupled_hessian(x):
    s, q = np.sum(np.sin(x)), np.sum(x**2)
    return np.diag(-np.sin(x) * q + 2 * s) + 2 * np.outer(np.cos(x), x) + 2 * np.outer(x, np.cos(x))


XC = np.array([0.5, -1.1, 2.3, 0.2])


def test_coupled_references():
    close(coupled_grad(XC), grad_fd(coupled, XC), FD)
    close(coupled_hessian(XC), jacobian_fd(coupled_grad, XC), FD)


def test_jvp_of_grad():
    v = np.array([1.0, -2.0, 0.5, 3.0])
    y, t = wg.jvp(wg.grad(coupled), (XC,), (v,))
    close(y, coupled_grad(XC))
    close(t, coupled_hessian(XC) @ v)


@pytest.mark.parametrize(
    "hess",
    [
        wg.hessian,
        lambda f: wg.jacfwd(wg.jacrev(f)),
        lambda f: wg.jacrev(wg.jacfwd(f)),
        lambda f: wg.jacfwd(wg.jacfwd(f)),
        lambda f: wg.jacrev(wg.jacrev(f)),
    ],
    ids=["hessian", "fwd-rev", "rev-fwd", "fwd-fwd", "rev-rev"],
)
def test_hessians(hess):
    close(hess(coupled)(XC), coupled_hessian(XC))


def test_hvp():
    v = np.array([0.3, 0.0, -1.0, 2.0])
    close(wg.hvp(coupled, XC, v), coupled_hessian(XC) @ v)


# -- vmap ----------------------------------------------------------------------------------
def test_vmap_in_axes_int():
    m = rng(4).standard_normal((5, 3))
    close(wg.vmap(lambda r: r @ r)(m), [r @ r for r in m])
    close(
        wg.vmap(lambda c: np.sin(c) * c[0], in_axes=1)(m), np.stack([np.sin(c) * c[0] for c in m.T])
    )


def test_vmap_in_axes_tuple_with_none():
    r = rng(5)
    xs, w = r.standard_normal((6, 3)), r.standard_normal((3, 2))
    out = wg.vmap(lambda x, w: np.tanh(x @ w), in_axes=(0, None))(xs, w)
    close(out, np.tanh(xs @ w))
    ws = r.standard_normal((3, 4, 2))
    x = r.standard_normal(3)
    out = wg.vmap(lambda x, w: x @ w, in_axes=(None, 1))(x, ws)
    close(out, np.stack([x @ ws[:, k, :] for k in range(4)]))


def test_vmap_out_axes():
    m = rng(6).standard_normal((4, 3))
    out = wg.vmap(lambda r: np.outer(r, np.arange(2.0)), out_axes=1)(m)
    assert out.shape == (3, 4, 2)
    close(out, np.stack([np.outer(r, np.arange(2.0)) for r in m], axis=1))
    a, b = wg.vmap(lambda r: (2 * r, np.sum(r)), out_axes=(1, 0))(m)
    close(a, 2 * m.T)
    close(b, m.sum(axis=1))


def test_vmap_unbatched_output_is_broadcast():
    m = rng(7).standard_normal((4, 3))
    close(wg.vmap(lambda r: np.ones(2))(m), np.ones((4, 2)))


def loss(w, x, y):
    return (np.tanh(x @ w) - y) ** 2


def loss_grad(w, x, y):
    t = np.tanh(x @ w)
    return 2 * (t - y) * (1 - t**2) * x


def test_per_example_gradients():
    r = rng(8)
    w, xs, ys = r.standard_normal(3), r.standard_normal((10, 3)), r.standard_normal(10)
    g = wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)
    assert g.shape == (10, 3)
    close(g, np.stack([loss_grad(w, x, y) for x, y in zip(xs, ys)]))


def test_grad_of_vmap():
    r = rng(9)
    w, xs, ys = r.standard_normal(3), r.standard_normal((10, 3)), r.standard_normal(10)
    total = lambda w: np.sum(wg.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys))
    close(wg.grad(total)(w), sum(loss_grad(w, x, y) for x, y in zip(xs, ys)))


def test_nested_vmap():
    a = rng(14).standard_normal((2, 3, 4))
    out = wg.vmap(wg.vmap(lambda r: np.sin(r) * r[0]))(a)
    close(out, np.sin(a) * a[..., :1])


def test_per_example_hessians():
    xs = rng(15).standard_normal((4, 3))
    hs = wg.vmap(wg.hessian(lambda v: np.sum(v**3) * v[0]))(xs)
    expected = []
    for v in xs:
        h = np.diag(6 * v * v[0])
        h[0, :] += 3 * v**2
        h[:, 0] += 3 * v**2
        expected.append(h)
    close(hs, np.stack(expected))


def test_vmap_of_jvp_batches_tangents():
    x = np.array([0.3, -0.5, 1.2])
    close(wg.vmap(lambda t: wg.jvp(np.sin, (x,), (t,))[1])(np.eye(3)), np.diag(np.cos(x)))


# -- elementwise_grad, jacobian ------------------------------------------------------------
def test_elementwise_grad():
    x = np.linspace(-2, 2, 7)
    close(wg.elementwise_grad(np.tanh)(x), 1 - np.tanh(x) ** 2)
    close(
        wg.elementwise_grad(lambda x: x**3 * np.sin(x))(x), 3 * x**2 * np.sin(x) + x**3 * np.cos(x)
    )


def wide(x):  # R^3 -> R^2: reverse is cheaper
    return np.array([x[0] * x[1] * x[2], np.sin(x[0]) + x[2] ** 2])


def tall(x):  # R^2 -> R^3: forward is cheaper
    return np.stack([x[0] * x[1], np.exp(x[0]), x[1] ** 3])


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_modes(mode):
    x = np.array([0.5, -1.5, 2.0])
    jw = np.array([[x[1] * x[2], x[0] * x[2], x[0] * x[1]], [np.cos(x[0]), 0.0, 2 * x[2]]])
    close(wg.jacobian(wide, mode=mode)(x), jw)
    u = np.array([0.7, 1.2])
    jt = np.array([[u[1], u[0]], [np.exp(u[0]), 0.0], [0.0, 3 * u[1] ** 2]])
    close(wg.jacobian(tall, mode=mode)(u), jt)


def test_jacobian_matrix_input_output_shape():
    a = rng(10).standard_normal((2, 3))
    j = wg.jacobian(lambda m: m @ m.T)(a)
    assert j.shape == (2, 2, 2, 3)
    close(j, jacobian_fd(lambda m: m @ m.T, a), FD)


# -- vjp -----------------------------------------------------------------------------------
def test_vjp_pullback_twice():
    x = np.array([0.2, 1.0, -0.7])
    y, pullback = wg.vjp(lambda x: np.sin(x) * x[0], x)
    close(y, np.sin(x) * x[0])
    jac = np.diag(np.cos(x) * x[0])
    jac[:, 0] += np.sin(x)
    u = np.array([1.0, -2.0, 0.5])
    (g1,) = pullback(u)
    (g2,) = pullback(u)
    (g3,) = pullback(2 * u)
    close(g1, u @ jac)
    close(g2, u @ jac)
    close(g3, 2 * u @ jac)


def test_vjp_several_primals():
    _, pullback = wg.vjp(lambda a, b: a * b + np.sin(a), 0.5, 3.0)
    ga, gb = pullback(2.0)
    close([ga, gb], [2 * (3.0 + np.cos(0.5)), 2 * 0.5])


def test_outputs_independent_of_the_input_get_zeros():
    x = np.array([0.3, -0.5, 1.2])
    g = wg.grad(lambda x: 3.0)(x)
    assert g.shape == (3,)
    close(g, np.zeros(3))
    close(wg.grad(lambda x: np.sum(np.floor(x)))(x), np.zeros(3))
    _, t = wg.jvp(lambda x: np.ones(2), (x,), (x,))
    close(t, np.zeros(2))
    for jac in (wg.jacfwd, wg.jacrev):
        close(jac(lambda x: np.ones(2))(x), np.zeros((2, 3)))


def test_scalar_jacobians_have_scalar_shape():
    for jac in (wg.jacfwd, wg.jacrev, wg.hessian):
        j = jac(lambda x: x**3)(2.0)
        assert np.shape(j) == ()
    close(wg.jacfwd(lambda x: x**3)(2.0), 12.0)
    close(wg.jacrev(lambda x: x**3)(2.0), 12.0)
    close(wg.hessian(lambda x: x**3)(2.0), 12.0)
    close(wg.hessian(lambda a, b: a * b**3, argnums=1)(2.0, 3.0), 36.0)


# -- complex inputs: grad of a real loss is dL/dx - i dL/dy (DESIGN.md, as JAX/autograd) ----
ZC = 3.0 + 4.0j
COMPLEX_LOSSES = {
    # name: (L(z), dL/dx, dL/dy) at z = x + iy
    "real2+imag2": (lambda z: np.real(z) ** 2 + np.imag(z) ** 2, 2 * ZC.real, 2 * ZC.imag),
    "abs2": (lambda z: np.abs(z) ** 2, 2 * ZC.real, 2 * ZC.imag),
    "z_conj_z": (lambda z: np.real(z * np.conj(z)), 2 * ZC.real, 2 * ZC.imag),
    "abs": (lambda z: np.abs(z), ZC.real / abs(ZC), ZC.imag / abs(ZC)),
    "real_z2": (lambda z: np.real(z**2), 2 * ZC.real, -2 * ZC.imag),
    "imag": (lambda z: np.imag(z), 0.0, 1.0),
    "real_exp": (
        lambda z: np.real(np.exp(z)),
        np.exp(ZC.real) * np.cos(ZC.imag),
        -np.exp(ZC.real) * np.sin(ZC.imag),
    ),
}


@pytest.mark.parametrize("name", list(COMPLEX_LOSSES))
def test_complex_grad_convention(name):
    f, dx, dy = COMPLEX_LOSSES[name]
    close(wg.grad(f)(ZC), dx - 1j * dy)


def test_complex_vjp_is_the_plain_transpose():
    # For holomorphic f, the pullback multiplies by f'(z) itself, not its conjugate.
    _, pullback = wg.vjp(lambda z: np.sin(z) * 2j, ZC)
    close(pullback(1.0 + 0.0j)[0], 2j * np.cos(ZC))


# -- dtypes --------------------------------------------------------------------------------
def f32_loss(x):
    return np.sum(np.sin(x) * x + np.exp(x) / 3 + np.sqrt(x) * 2.0) + np.mean(x**2)


def f32_loss_grad(x):
    return np.cos(x) * x + np.sin(x) + np.exp(x) / 3 + 1 / np.sqrt(x) + 2 * x / x.size


def test_float32_gradients_stay_float32():
    x = np.array([0.5, 1.0, 1.5, 2.0], dtype=np.float32)
    g = wg.grad(f32_loss)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, f32_loss_grad(x.astype(np.float64)), rtol=1e-5)
    value, _ = wg.value_and_grad(f32_loss)(x)
    assert value.dtype == np.float32


def test_float32_forward_and_jacobians_stay_float32():
    x = np.array([0.5, 1.0, 1.5], dtype=np.float32)
    f = lambda x: np.sin(x) * 2.0 + x**2
    y, t = wg.jvp(f, (x,), (np.ones(3, np.float32),))
    assert y.dtype == np.float32 and t.dtype == np.float32
    expected = np.diag(2 * np.cos(x.astype(float)) + 2 * x)
    for jac in (wg.jacfwd, wg.jacrev):
        j = jac(f)(x)
        assert j.dtype == np.float32
        np.testing.assert_allclose(j, expected, rtol=1e-5, atol=1e-6)
    _, pullback = wg.vjp(f, x)
    assert pullback(np.ones(3, np.float32))[0].dtype == np.float32


def test_float64_scalar_gradient_type():
    g = wg.grad(lambda x: x**2)(3.0)
    assert isinstance(g, (float, np.floating)) and np.ndim(g) == 0
    assert g == 6.0


# -- building arrays from traced scalars ---------------------------------------------------
def from_scalars(v):
    return np.array([v[0] * v[1], np.sin(v[0]) * v[1]])


def from_scalars_jac(v):
    return np.array([[v[1], v[0]], [np.cos(v[0]) * v[1], np.sin(v[0])]])


V2 = np.array([0.8, -1.7])


@pytest.mark.parametrize("jac", [wg.jacfwd, wg.jacrev, wg.jacobian], ids=["fwd", "rev", "auto"])
def test_np_array_of_traced_scalars_jacobian(jac):
    close(jac(from_scalars)(V2), from_scalars_jac(V2))


def test_np_array_of_traced_scalars_grad_and_jvp():
    w = np.array([2.0, -1.0])
    close(wg.grad(lambda v: w @ from_scalars(v))(V2), w @ from_scalars_jac(V2))
    t = np.array([1.0, 3.0])
    close(wg.jvp(from_scalars, (V2,), (t,))[1], from_scalars_jac(V2) @ t)


def test_np_array_mixing_traced_and_constant_entries():
    def f(v):
        return np.array([[v[0], 1.0], [2.0, v[1] ** 2]])

    j = wg.jacrev(f)(V2)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = 1.0
    expected[1, 1, 1] = 2 * V2[1]
    close(j, expected)


def test_np_array_of_traced_scalars_under_vmap_and_second_order():
    vs = np.array([[0.0, 1.0], [2.0, 3.0], [-0.4, 0.9]])
    close(wg.vmap(from_scalars)(vs), np.stack([from_scalars(v) for v in vs]))
    v0, v1 = V2
    h = np.array(
        [
            [2 * v1**2 + 2 * np.cos(2 * v0) * v1**2, 4 * v0 * v1 + 2 * np.sin(2 * v0) * v1],
            [4 * v0 * v1 + 2 * np.sin(2 * v0) * v1, 2 * v0**2 + 2 * np.sin(v0) ** 2],
        ]
    )
    close(wg.hessian(lambda v: np.sum(from_scalars(v) ** 2))(V2), h)


# -- comparisons ---------------------------------------------------------------------------
def test_comparisons_give_plain_numpy_booleans():
    seen = []

    def f(x):
        seen.append(x > 0)
        seen.append(x[0] <= x[1])
        seen.append(x == x)  # noqa: PLR0124 (a traced value against itself)
        seen.append(x[1] != 0.5)
        return np.sum(x)

    x = np.array([1.0, -2.0])
    wg.grad(f)(x)
    wg.jvp(f, (x,), (x,))
    wg.jacfwd(wg.grad(f))(x)
    assert len(seen) == 12
    for s in seen:
        assert type(s) in (np.ndarray, np.bool_), type(s)
        assert np.asarray(s).dtype == bool
    np.testing.assert_array_equal(seen[0], [True, False])
    assert seen[1] == np.False_ and seen[3] == np.True_


# -- ndarray methods, properties and indexing on traced values ------------------------------
def _scalarize(out):
    # A weighted sum that tells every output entry apart.
    w = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    return np.sum(w * np.sin(out))


C34 = rng(11).standard_normal((3, 4))
X23 = rng(12).uniform(0.1, 0.9, (2, 3))  # inside (0, 1): clip stays smooth
METHODS = {
    "sum": lambda x: x.sum(),
    "sum_axis": lambda x: x.sum(axis=1),
    "mean_axis0": lambda x: x.mean(axis=0),
    "prod": lambda x: x.prod(),
    "std": lambda x: x.std(),
    "var_axis": lambda x: x.var(axis=0),
    "cumsum": lambda x: x.cumsum(),
    "T": lambda x: x.T,
    "transpose": lambda x: x.transpose(1, 0),
    "reshape_args": lambda x: x.reshape(3, 2),
    "reshape_tuple": lambda x: x.reshape((3, 2)),
    "reshape_minus1": lambda x: x.reshape(-1),
    "ravel": lambda x: x.ravel(),
    "flatten": lambda x: x.flatten(),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "squeeze": lambda x: x[None].squeeze(),
    "dot": lambda x: x.dot(C34),
    "matmul": lambda x: x @ C34,
    "rmatmul": lambda x: C34.T[:2, :2] @ x,
    "clip_inside": lambda x: x.clip(0, 1),
    "clip_active": lambda x: x.clip(0.3, 0.6),
    "max": lambda x: x.max(),
    "min_axis": lambda x: x.min(axis=1),
    "copy": lambda x: x.copy(),
    "neg_abs_pow": lambda x: abs(-x) ** 3,
    "rpow": lambda x: 2.0**x,
    "rtruediv": lambda x: 1.0 / x,
    "rsub": lambda x: 1.0 - x,
    "step": lambda x: x[::2],
    "step_cols": lambda x: x[:, ::-2],
    "fancy": lambda x: x[[0, 0, 1]],
    "fancy_2d": lambda x: x[[1, 0, 1], [2, 2, 0]],
    "mask": lambda x: x[x > 0.5],
    "none_index": lambda x: x[None, :, None] * np.arange(1.0, 4.0)[:, None],
    "ellipsis": lambda x: x[..., 1],
    "ellipsis_none": lambda x: x[..., None, 0],
    "negative_index": lambda x: x[-1, -2],
    "iterate_rows": lambda x: np.stack([np.prod(r) for r in x]),
    "len": lambda x: x * len(x),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_ndarray_method_gradient(name):
    method = METHODS[name]
    f = lambda x: _scalarize(method(x))
    # The method on a plain ndarray is the reference function.
    close(wg.grad(f)(X23), grad_fd(f, X23), FD)


@pytest.mark.parametrize("name", ["sum_axis", "T", "dot", "fancy", "mask", "ellipsis_none"])
def test_ndarray_method_forward(name):
    method = METHODS[name]
    f = lambda x: _scalarize(method(x))
    v = rng(13).standard_normal(X23.shape)
    close(wg.jvp(f, (X23,), (v,))[1], np.sum(grad_fd(f, X23) * v), FD)


def test_repeated_indices_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    close(wg.grad(lambda x: np.sum(x[[0, 0, 1]]))(x), [2.0, 1.0, 0.0])
    close(wg.grad(lambda x: np.sum(x[[2, 2, 2]] * np.array([1.0, 2.0, 3.0])))(x), [0, 0, 6.0])
    close(wg.jacrev(lambda x: x[[0, 0, 1]])(x), np.eye(3)[[0, 0, 1]])
    close(wg.jacfwd(lambda x: x[[0, 0, 1]])(x), np.eye(3)[[0, 0, 1]])


def test_boolean_mask_gradient():
    x = np.array([1.0, -2.0, 3.0, -0.5])
    close(wg.grad(lambda x: np.sum(x[x > 0] ** 2))(x), [2.0, 0.0, 6.0, 0.0])


def test_astype_float32():
    x = np.array([0.3, 1.1, -0.4])
    g = wg.grad(lambda x: np.sum(np.sin(x.astype(np.float32))))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-6)


def test_properties_inside_function():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, size=x.size, dtype=x.dtype, len=len(x))
        return np.sum(x)

    wg.grad(f)(np.ones((2, 3)))
    assert seen == {"shape": (2, 3), "ndim": 2, "size": 6, "dtype": np.float64, "len": 2}
    assert type(seen["shape"]) is tuple


# -- no global patching: plain calls stay plain -----------------------------------------------
def test_importing_wengert_changes_nothing_in_numpy():
    code = """
import numpy as np
before = {k: id(v) for k, v in vars(np).items()}
ndarray_before = {k: id(v) for k, v in vars(np.ndarray).items()}
sin = np.sin
import wengert
after = {k: id(v) for k, v in vars(np).items()}
after_mod = dict(vars(np))
ndarray_after = {k: id(v) for k, v in vars(np.ndarray).items()}
changed = sorted(k for k in before if before[k] != after.get(k))
# NumPy loads submodules (np.fft, np.linalg) lazily on first use: that is loading, not
# patching, so an added name is fine when it is one of NumPy's own submodules.
added = sorted(k for k in set(after) - set(before) - {"wengert"}
               if not getattr(after_mod.get(k), "__name__", "").startswith("numpy."))
assert not changed, changed
assert not added, added
assert ndarray_before == ndarray_after
assert np.sin is sin
assert type(np.sin(np.ones(2))) is np.ndarray
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_plain_calls_return_plain_numpy():
    def f(x):
        return np.sum(np.sin(x) * x), np.sin(x)[::2], np.array([x[0], x[1]])

    x = np.array([0.1, 0.2, 0.3])
    wg.grad(lambda x: f(x)[0])(x)  # a transformation first: nothing may linger after it
    s, v, a = f(x)
    assert type(s) is np.float64
    assert type(v) is np.ndarray and type(a) is np.ndarray
    assert a.dtype == np.float64
    assert type(np.sin(np.ones(2))) is np.ndarray


# -- threads, exceptions, long tapes, memory ----------------------------------------------
def test_threads_differentiate_concurrently():
    f1 = lambda x: np.sum(np.sin(x) * x)
    f2 = lambda x: np.sum(np.exp(x) * x**2)
    x = np.linspace(-1, 1, 5)
    g1 = np.cos(x) * x + np.sin(x)
    g2 = np.exp(x) * (x**2 + 2 * x)
    h1 = np.diag(-np.sin(x) * x + 2 * np.cos(x))
    errors = []
    start = threading.Barrier(3)

    def work(fun, expected, hess):
        try:
            start.wait()
            for _ in range(150):
                np.testing.assert_allclose(wg.grad(fun)(x), expected, **EXACT)
            if hess is not None:
                for _ in range(20):
                    np.testing.assert_allclose(wg.hessian(fun)(x), hess, **EXACT)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [
        threading.Thread(target=work, args=(f1, g1, h1)),
        threading.Thread(target=work, args=(f2, g2, None)),
        threading.Thread(target=work, args=(f1, g1, None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_exception_inside_function_leaves_things_working():
    class Boom(Exception):
        pass

    def f(x):
        y = np.sin(x)
        if y > 0:
            raise Boom("inside f")
        return y

    with pytest.raises(Boom):
        wg.grad(f)(1.0)
    with pytest.raises(Boom):
        wg.jvp(f, (1.0,), (1.0,))
    with pytest.raises(Boom):
        wg.grad(wg.grad(f))(1.0)

    def g(x):
        np.sin(x)
        raise Boom("inside a vmapped f")

    with pytest.raises(Boom):
        wg.vmap(g)(np.ones((2, 2)))
    close(wg.grad(f)(-1.0), np.cos(-1.0))
    close(wg.grad(lambda x: x * wg.grad(lambda y: x + y)(1.0))(2.0), 1.0)
    close(wg.hessian(coupled)(XC), coupled_hessian(XC))


def _chain(n):
    def f(x):
        y = x
        for _ in range(n - 1):
            y = y + x
        return y

    return f


def test_long_tape_1e5():
    assert wg.grad(_chain(10**5))(1.0) == 1e5


@pytest.mark.slow
def test_long_tape_1e6():
    assert wg.grad(_chain(10**6))(1.0) == 1e6


def test_tape_is_freed_after_grad():
    refs = []

    def f(x):
        y = np.sin(x)
        refs.append(weakref.ref(y.primal))  # the intermediate the tape keeps for backward
        refs.append(weakref.ref(y._trace))
        return np.sum(y**2)

    x = np.linspace(0, 1, 1000)
    g = wg.grad(f)(x)
    close(g, 2 * np.sin(x) * np.cos(x))
    gc.collect()
    assert refs[0]() is None, "grad kept the tape's intermediate values alive"
    assert refs[1]() is None, "grad kept its trace alive"


def test_vjp_tape_lives_with_the_pullback():
    refs = []

    def f(x):
        y = np.exp(x)
        refs.append(weakref.ref(y.primal))
        return y * 2

    x = np.linspace(0, 1, 100)
    _, pullback = wg.vjp(f, x)
    gc.collect()
    assert refs[0]() is not None
    close(pullback(np.ones(100))[0], 2 * np.exp(x))
    del pullback
    gc.collect()
    assert refs[0]() is None, "the tape outlived its pullback"
