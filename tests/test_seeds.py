"""The worked examples of the seed documents (shared/seeds/), with their printed numbers.

Each derivative is checked twice: against the number the seed prints (to the digits it
prints), and against the closed form to rounding.
"""

import numpy as np
import pytest
from _fd import EXACT

import wengert as wg


# -- 3x + 2 at 4: f = 14, f' = 3 (dual numbers, seed 002) ---------------------------------
def linear(x):
    return 3 * x + 2


def test_linear_jvp():
    y, t = wg.jvp(linear, (4.0,), (1.0,))
    assert y == 14.0
    assert t == 3.0


def test_linear_grad():
    assert wg.grad(linear)(4.0) == 3.0
    assert wg.value_and_grad(linear)(4.0) == (14.0, 3.0)


# -- 5x^2 + 4x + 1 at 2: f = 29, f' = 24 (seed 002) ---------------------------------------
def quadratic(x):
    return 5 * x**2 + 4 * x + 1


def test_quadratic_jvp():
    y, t = wg.jvp(quadratic, (2.0,), (1.0,))
    assert y == 29.0
    assert t == 24.0


def test_quadratic_grad():
    value, g = wg.value_and_grad(quadratic)(2.0)
    assert value == 29.0
    assert g == 24.0


# -- ln(x1) + x1 x2 - sin(x2) at (2, 5): 11.652, gradient (5.5, 1.716) (Baydin et al.) -----
def baydin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def baydin_vec(x):
    return np.log(x[0]) + x[0] * x[1] - np.sin(x[1])


X1, X2 = 2.0, 5.0
BAYDIN_VALUE = np.log(X1) + X1 * X2 - np.sin(X2)
BAYDIN_GRAD = np.array([1 / X1 + X2, X1 - np.cos(X2)])


def test_baydin_closed_form_matches_the_seed():
    # Guards the reference itself: the closed form reproduces the printed digits.
    assert round(BAYDIN_VALUE, 3) == 11.652
    assert np.round(BAYDIN_GRAD, 3).tolist() == [5.5, 1.716]


def test_baydin_reverse_argnums():
    value, (g1, g2) = wg.value_and_grad(baydin, argnums=(0, 1))(X1, X2)
    assert round(float(value), 3) == 11.652
    assert (round(float(g1), 3), round(float(g2), 3)) == (5.5, 1.716)
    np.testing.assert_allclose(value, BAYDIN_VALUE, **EXACT)
    np.testing.assert_allclose([g1, g2], BAYDIN_GRAD, **EXACT)


def test_baydin_forward_unit_tangents():
    # One forward sweep per input, seeding x1' = 1 then x2' = 1 (the seed's tables).
    y1, d1 = wg.jvp(baydin, (X1, X2), (1.0, 0.0))
    y2, d2 = wg.jvp(baydin, (X1, X2), (0.0, 1.0))
    np.testing.assert_allclose([y1, y2], [BAYDIN_VALUE] * 2, **EXACT)
    np.testing.assert_allclose([d1, d2], BAYDIN_GRAD, **EXACT)
    assert (round(float(d1), 3), round(float(d2), 3)) == (5.5, 1.716)


@pytest.mark.parametrize("jac", [wg.jacfwd, wg.jacrev], ids=["jacfwd", "jacrev"])
def test_baydin_vector_jacobian(jac):
    j = jac(baydin_vec)(np.array([X1, X2]))
    assert j.shape == (2,)
    np.testing.assert_allclose(j, BAYDIN_GRAD, **EXACT)


def test_baydin_vector_grad():
    np.testing.assert_allclose(wg.grad(baydin_vec)(np.array([X1, X2])), BAYDIN_GRAD, **EXACT)


# -- sigmoid at 2: 0.8808 and 0.10499 (seed 003) ------------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_sigmoid_both_modes():
    s = 1 / (1 + np.exp(-2.0))
    value, g = wg.value_and_grad(sigmoid)(2.0)
    y, t = wg.jvp(sigmoid, (2.0,), (1.0,))
    for v, d in [(value, g), (y, t)]:
        assert round(float(v), 4) == 0.8808
        assert round(float(d), 5) == 0.10499
        np.testing.assert_allclose(v, s, **EXACT)
        np.testing.assert_allclose(d, s * (1 - s), **EXACT)


# -- Rosenbrock (seed 000): gradient and tridiagonal Hessian in closed form ---------------
def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    n = len(x)
    h = np.zeros((n, n))
    diag = np.zeros(n)
    diag[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diag[1:] += 200
    h[np.arange(n), np.arange(n)] = diag
    off = -400 * x[:-1]
    h[np.arange(n - 1), np.arange(1, n)] = off
    h[np.arange(1, n), np.arange(n - 1)] = off
    return h


def rosenbrock_points():
    rng = np.random.default_rng(0)
    return [np.ones(5), np.zeros(4)] + [rng.uniform(-2, 2, n) for n in (2, 3, 6, 10)]


POINTS = rosenbrock_points()


def test_rosenbrock_closed_forms_are_right():
    # The references are hand-written: check them at a known point. At the minimum (1, ..., 1)
    # the gradient vanishes; in 2-D the Hessian there is [[802, -400], [-400, 200]].
    assert np.all(rosenbrock_grad(np.ones(4)) == 0)
    np.testing.assert_array_equal(rosenbrock_hessian(np.ones(2)), [[802, -400], [-400, 200]])


@pytest.mark.parametrize("x", POINTS, ids=lambda x: f"n{len(x)}")
def test_rosenbrock_gradient(x):
    np.testing.assert_allclose(wg.grad(rosenbrock)(x), rosenbrock_grad(x), **EXACT)
    value, g = wg.value_and_grad(rosenbrock)(x)
    np.testing.assert_allclose(value, rosenbrock(x), **EXACT)
    np.testing.assert_allclose(g, rosenbrock_grad(x), **EXACT)


@pytest.mark.parametrize(
    "hess",
    [wg.hessian, lambda f: wg.jacfwd(wg.grad(f)), lambda f: wg.jacrev(wg.grad(f))],
    ids=["hessian", "jacfwd(grad)", "jacrev(grad)"],
)
@pytest.mark.parametrize("x", POINTS, ids=lambda x: f"n{len(x)}")
def test_rosenbrock_hessian(hess, x):
    h = hess(rosenbrock)(x)
    assert h.shape == (len(x), len(x))
    np.testing.assert_allclose(h, rosenbrock_hessian(x), **EXACT)


@pytest.mark.parametrize("x", POINTS, ids=lambda x: f"n{len(x)}")
def test_rosenbrock_hvp(x):
    rng = np.random.default_rng(len(x))
    v = rng.standard_normal(len(x))
    np.testing.assert_allclose(wg.hvp(rosenbrock, x, v), rosenbrock_hessian(x) @ v, **EXACT)
