"""Dual and hyper-dual numbers against the seeds' hand calculations and closed forms."""

import numpy as np
import pytest

import wengert as wg


def test_seeds_hand_calculations():
    x = wg.Dual(4.0, 1.0)
    assert repr(3 * x + 2) == "14 + 3ε"
    assert repr(3 * wg.Dual(5.0, 1.0) + 2) == "17 + 3ε"
    y = wg.Dual(2.0, 1.0)
    assert repr(5 * y**2 + 4 * y + 1) == "29 + 24ε"


def test_dual_arithmetic_follows_eps_squared_zero():
    a, b = wg.Dual(2.0, 3.0), wg.Dual(5.0, 7.0)
    # (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε; division by the quotient rule.
    prod, quot = a * b, a / b
    assert (prod.real, prod.eps) == (10.0, 3 * 5 + 2 * 7)
    np.testing.assert_allclose([quot.real, quot.eps], [2 / 5, (3 * 5 - 2 * 7) / 25])


@pytest.mark.parametrize(
    "f, df",
    [(np.sin, np.cos), (np.exp, np.exp), (np.log, lambda x: 1 / x),
     (np.tanh, lambda x: 1 - np.tanh(x) ** 2), (lambda x: 1 / (1 + np.exp(-x)),
                                                lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2)],
)  # fmt: skip
def test_ufuncs_on_duals(f, df):
    for x in (0.3, 1.7, 2.0):
        d = f(wg.Dual(x, 1.0))
        np.testing.assert_allclose([d.real, d.eps], [f(x), df(x)], rtol=1e-12)


def test_sigmoid_at_two_matches_the_seeds():
    d = 1 / (1 + np.exp(-wg.Dual(2.0, 1.0)))
    assert round(float(d.real), 4) == 0.8808 and round(float(d.eps), 5) == 0.10499


def test_vector_tangents_give_every_partial_in_one_pass():
    # The seeds' f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5): gradient (5.5, 1.716).
    x = wg.Dual(np.array([2.0, 5.0]), np.eye(2))
    y = np.log(x[0]) + x[0] * x[1] - np.sin(x[1])
    np.testing.assert_allclose(y.eps, [1 / 2 + 5, 2 - np.cos(5.0)])
    # A vector function: the whole Jacobian, one column block per direction.
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    z = np.tanh(A @ wg.Dual(np.array([0.1, -0.2]), np.eye(2)))
    t = np.tanh(A @ np.array([0.1, -0.2]))
    np.testing.assert_allclose(z.eps.T, (1 - t**2)[:, None] * A, rtol=1e-12)


def test_eps_shape_is_checked():
    with pytest.raises(ValueError, match="leading axis of directions"):
        wg.Dual(np.zeros(3), np.zeros((2, 2)))


@pytest.mark.parametrize(
    "f, d1, d2",
    [(lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
     (np.sin, np.cos, lambda x: -np.sin(x)),
     (lambda x: np.exp(x) / np.sqrt(x), lambda x: np.exp(x) * (x - 0.5) / x**1.5,
      lambda x: np.exp(x) * (x**2 - x + 0.75) / x**2.5)],
)  # fmt: skip
def test_hyperdual_second_derivatives_are_exact(f, d1, d2):
    for x in (0.5, 1.5):
        h = f(wg.HyperDual(x, 1.0, 1.0))
        np.testing.assert_allclose([h.real, h.e1, h.e2, h.e12], [f(x), d1(x), d1(x), d2(x)],
                                   rtol=1e-12, atol=1e-12)  # fmt: skip


def test_comparisons_use_the_real_part():
    assert wg.Dual(3.0, 100.0) < 4 and not wg.Dual(3.0, -1.0) > 3.5


def test_duals_have_the_array_methods():
    W = wg.Dual(np.arange(6.0).reshape(3, 2), np.ones((3, 2)))
    total = W.sum()
    assert (total.real, total.eps) == (15.0, 6.0)
    assert W.T.shape == (2, 3) and W.reshape(-1).shape == (6,) and W.ndim == 2 and len(W) == 3
    assert [row.real.tolist() for row in W] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_dual_formatting_and_conversion():
    d = 3 * wg.Dual(4.0, 1.0) + 2
    assert f"{d:.2f}" == "14.00 + 3.00ε"
    x = wg.Dual(np.array([2.0, 5.0]), np.eye(2))
    assert repr(x[0] * x[1]) == "10 + [5, 2]ε"
    with pytest.raises(TypeError, match=r"\.real"):
        float(d)
