"""Paths that only typical or larger inputs take, which the generic tests' small cases miss:
forward mode through a large matrix product, hvp's constant seed. Each is checked against a
closed form.
"""

import numpy as np
import pytest
from _fd import EXACT

import wengert as wg
from wengert.numpy._residuals import BIG


def rng(k=0):
    return np.random.default_rng(20260101 + k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jvp_of_a_large_matrix_times_a_vector_on_either_side(dtype):
    tol = EXACT if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}
    a = rng(0).standard_normal((120, 80)).astype(dtype)
    x, t = rng(1).standard_normal(80).astype(dtype), rng(2).standard_normal(80).astype(dtype)
    y, u = rng(3).standard_normal(120).astype(dtype), rng(4).standard_normal(120).astype(dtype)
    out, tan = wg.jvp(lambda v: a @ v, (x,), (t,))
    np.testing.assert_array_equal(out, a @ x)  # the primal output is the plain call's, bit for bit
    np.testing.assert_allclose(tan, a @ t, **tol)
    assert out.dtype == tan.dtype == dtype
    out, tan = wg.jvp(lambda v: v @ a, (y,), (u,))
    np.testing.assert_allclose(out, y @ a, **tol)
    np.testing.assert_allclose(tan, u @ a, **tol)
    out[0] = 1.0  # the caller's own array
    with pytest.raises(ValueError, match="mismatch"):
        wg.jvp(lambda v: a @ v, (y,), (u,))  # NumPy's own error for mismatched shapes


def test_hvp_of_logistic_loss_matches_closed_form():
    r = rng(5)
    a, w, v = r.standard_normal((300, 60)) / 8, r.standard_normal(60), r.standard_normal(60)
    s = np.where(r.random(300) < 0.5, 1.0, -1.0)

    def loss(w):
        return np.mean(np.logaddexp(0.0, -s * (a @ w))) + 0.5e-3 * np.sum(w * w)

    p = 0.5 * (1.0 + np.tanh(0.5 * (a @ w)))  # sigmoid
    hessian = (a.T * (p * (1 - p) / len(a))) @ a + 1e-3 * np.eye(60)
    np.testing.assert_allclose(wg.hvp(loss, w, v), hessian @ v, **EXACT)


def test_hvp_of_a_linear_function_is_a_writeable_zero():
    h = wg.hvp(lambda x: np.sum(3.0 * x), np.ones(3), np.ones(3))
    np.testing.assert_array_equal(h, np.zeros(3))
    h[0] = 1.0


def test_gradient_under_jvp_keeps_grads_type():
    # grad's seed is a constant whatever traces the output: jvp of grad gives the same value
    # (type included) as grad alone, and a zero tangent for a linear function.
    assert wg.jvp(wg.grad(lambda x: x), (2.0,), (1.0,))[0] == wg.grad(lambda x: x)(2.0) == 1.0
    assert type(wg.jvp(wg.grad(lambda x: x), (2.0,), (1.0,))[0]) is np.float64


# -- large arrays: a scalar cotangent folded into a constant factor, sparse cotangents of
# slices written without a pass of zeros under them (sizes from BIG on take these paths) ----

N = 4 * BIG


@pytest.mark.parametrize("y", [2, 3, 0.5, -1, 1])
@pytest.mark.parametrize("n", [3, N])
def test_power_of_a_constant_exponent_under_a_sum(y, n):
    # sum hands its scalar cotangent to power, which multiplies it by y before the array.
    x = rng(6).uniform(0.5, 2.0, n)
    x0 = x.copy()
    g = wg.grad(lambda x: 0.75 * np.sum(x**y))(x)
    np.testing.assert_allclose(g, 0.75 * y * x0 ** (y - 1), rtol=1e-14)
    np.testing.assert_array_equal(x, x0)  # the caller's array (x**1 * (g * 2) reads it)


@pytest.mark.parametrize("y", [2, 3])
def test_power_of_a_constant_exponent_of_a_view_or_a_read_only_array(y):
    x = rng(7).uniform(0.5, 2.0, N)
    x.setflags(write=False)
    x0 = x.copy()
    g = wg.grad(lambda x: np.sum(x[:-1] ** y) + np.sum(x**y))(x)
    want = y * x0 ** (y - 1)
    want[:-1] *= 2
    np.testing.assert_allclose(g, want, rtol=1e-14)
    np.testing.assert_array_equal(x, x0)
    assert g.flags.writeable


def test_power_of_a_constant_exponent_keeps_float32():
    x = rng(8).uniform(0.5, 2.0, N).astype(np.float32)
    g = wg.grad(lambda x: np.sum(x**2))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)


def test_a_zero_scalar_cotangent_at_a_pole_of_power_is_zero():
    # (0 * 0.5) * 0**-0.5 is nan; a zero cotangent still contributes zero.
    x = np.tile([0.0, 1.0], N // 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = wg.grad(lambda x: 0.0 * np.sum(x**0.5))(x)
    np.testing.assert_array_equal(g, np.zeros(N))


def _garbage():
    # Freed arrays full of nan, so that a fresh np.empty likely holds nan: an entry of a
    # cotangent that is not written shows.
    for _ in range(4):
        np.full(N, np.nan)


BASIC = [
    np.s_[1:],
    np.s_[:-1],
    np.s_[::-1],
    np.s_[-5:2:-1],
    np.s_[::3],
    np.s_[7],
    np.s_[5:3],
    np.s_[..., 2:-2],
    np.s_[None, 3:],
    np.s_[2:-1, 1:],
    np.s_[:, -3],
    np.s_[1:5, ..., ::2],
]


@pytest.mark.parametrize("shape", [(N,), (64, N // 64)])
@pytest.mark.parametrize("idx", BASIC, ids=str)
def test_gradient_of_a_slice_is_zero_outside_it(shape, idx):
    x = rng(9).standard_normal(shape)
    try:
        w = rng(10).standard_normal(np.shape(x[idx]))
    except IndexError:
        pytest.skip("not an index of this shape")
    want = np.zeros(shape)
    want[idx] += w
    _garbage()
    np.testing.assert_array_equal(wg.grad(lambda x: np.sum(w * x[idx]))(x), want)
    # The same entries twice, then other ones: the first two are summed into a fresh array.
    v, u = rng(11).standard_normal(np.shape(w)), rng(12).standard_normal(np.shape(x[1:]))
    want[idx] += v
    want[1:] += u
    _garbage()
    g = wg.grad(lambda x: np.sum(w * x[idx]) + np.sum(x[idx] * v) + np.sum(u * x[1:]))(x)
    np.testing.assert_allclose(g, want, rtol=1e-14, atol=1e-14)


def test_cotangents_of_the_same_slice_are_summed_without_touching_them():
    x = rng(13).standard_normal(N)
    u, v, w = (rng(k).standard_normal(N - 1) for k in (14, 15, 16))
    u0, v0, w0 = u.copy(), v.copy(), w.copy()
    _, pullback = wg.vjp(lambda x: (x[1:], x[1:], x[:-1]), x)
    _garbage()
    (g,) = pullback((u, v, w))
    want = np.zeros(N)
    want[1:] += u + v
    want[:-1] += w
    np.testing.assert_allclose(g, want, rtol=1e-14, atol=1e-14)
    for a, a0 in ((u, u0), (v, v0), (w, w0)):
        np.testing.assert_array_equal(a, a0)
    g[0] = 1.0  # the caller's own array
    assert pullback((u, v, w))[0][0] == want[0]
