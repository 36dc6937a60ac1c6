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


def test_hvp_of_a_pytree_argument_matches_closed_form():
    # f(a, b) = sum(a**3) * b: H = [[diag(6 a b), 3 a**2], [3 a**2 ^T, 0]]
    a, b = np.array([1.0, -2.0]), 1.5
    va, vb = np.array([0.5, 2.0]), -1.0
    h = wg.hvp(lambda p: np.sum(p["a"] ** 3) * p["b"], {"a": a, "b": b}, {"a": va, "b": vb})
    np.testing.assert_allclose(h["a"], 6 * a * b * va + 3 * a**2 * vb, **EXACT)
    np.testing.assert_allclose(h["b"], np.sum(3 * a**2 * va), **EXACT)
    assert type(h["b"]) is np.float64


def test_hvp_refuses_a_direction_of_another_shape_and_leaves_no_trace_open():
    from wengert.core.trace import _open_levels

    before = set(_open_levels())
    with pytest.raises(wg.TangentMismatchError, match="hvp: tangent 0"):
        wg.hvp(lambda x: np.sum(x**3), np.ones(3), np.ones(2))
    assert _open_levels() == before


def test_hvp_through_a_broadcasting_product_sums_traced_cotangents_back():
    # f = sum((x[:, None] * b)**2) = sum_i x_i**2 sum_j b_ij**2: the product's cotangent (a
    # forward-mode tracer, shaped like b) must be summed back to x[:, None]'s shape.
    b = rng(6).standard_normal((3, 4))
    x, v = rng(7).standard_normal(3), rng(8).standard_normal(3)
    h = wg.hvp(lambda x: np.sum((x[:, None] * b) ** 2), x, v)
    np.testing.assert_allclose(h, 2 * np.sum(b * b, axis=1) * v, **EXACT)


@pytest.mark.parametrize("c", [np.float64(0.7), np.array([0.5, -1.5, 2.0]), np.complex128(2 - 1j)])
def test_hvp_where_a_plain_cotangent_meets_a_traced_partial(c):
    # The seed's cotangent times the traced partial x of x * x (and of c * x, below), with a
    # plain scalar, array or complex constant on the cotangent's side: f = Re(sum(c x x)),
    # H = diag(2 Re c).
    x, v = np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -2.0])
    h = wg.hvp(lambda x: np.real(np.sum(c * (x * x))), x, v)
    np.testing.assert_allclose(h, 2 * np.real(c) * v, **EXACT)
    h = wg.hvp(lambda x: np.real(np.sum((c * x) * x)), x, v)
    np.testing.assert_allclose(h, 2 * np.real(c) * v, **EXACT)


@pytest.mark.parametrize("plain", [2.5, np.float32(2.5), np.array([1.0, 2.0, 3.0])])
def test_ufunc_of_a_plain_operand_and_a_tracer_either_side(plain):
    # np.subtract(plain, t) and np.subtract(t, plain) go straight to t's trace: the operand
    # order must survive (d/dx of plain - x**2 is -2x, of x**2 - plain is 2x).
    x = np.array([1.0, -2.0, 0.5])
    g = wg.grad(lambda x: np.sum(np.subtract(plain, x**2)))(x)
    np.testing.assert_allclose(g, -2 * x, **EXACT)
    g = wg.grad(lambda x: np.sum(np.subtract(x**2, plain)))(x)
    np.testing.assert_allclose(g, 2 * x, **EXACT)
    _, t = wg.jvp(lambda x: np.divide(plain, x), (x,), (np.ones(3),))
    np.testing.assert_allclose(t, -np.asarray(plain) / x**2, **EXACT)


def test_ufunc_of_an_object_array_of_tracers_and_a_tracer():
    # An object array holding tracers is not a plain operand: it is coerced to one traced
    # array first (d/dx of sum([x0, x1] * x) = [2 x0, 2 x1]).
    g = wg.grad(lambda x: np.sum(np.multiply(np.array([x[0], x[1]]), x)))(np.array([3.0, -1.0]))
    np.testing.assert_allclose(g, [6.0, -2.0], **EXACT)
    g = wg.grad(lambda x: np.sum(x * np.array([x[0], x[1]])))(np.array([3.0, -1.0]))
    np.testing.assert_allclose(g, [6.0, -2.0], **EXACT)
    g = wg.grad(lambda x: np.sum(x - [x[1], 2.0 * x[0]]))(np.array([3.0, -1.0]))
    np.testing.assert_allclose(g, [-1.0, 0.0], **EXACT)  # sum(x) - x1 - 2 x0 = -x0


@pytest.mark.parametrize("plain", [3, 2.5, np.float32(2.5), np.int64(3), np.array([1.0, 2.0])])
def test_operators_with_a_plain_operand_either_side(plain):
    # The operators' exact-type fast path for plain numbers and arrays keeps the operand order:
    # d/dx sum(plain / x) = -plain / x**2, d/dx sum(x / plain) = 1 / plain.
    x = np.array([1.5, -0.5])
    np.testing.assert_allclose(wg.grad(lambda x: np.sum(plain / x))(x), -np.asarray(plain) / x**2,
                               **EXACT)  # fmt: skip
    np.testing.assert_allclose(wg.grad(lambda x: np.sum(x / plain))(x),
                               np.broadcast_to(1 / np.asarray(plain), x.shape), **EXACT)  # fmt: skip


def test_a_value_times_or_plus_itself_at_every_order():
    # x * x and x + x with both operands one value: the two JVP terms and the two cotangents
    # are computed once (d(x*x) = 2x, d2 = 2; d(x+x) = 2), in every mode and under vmap.
    x, v = np.array([1.5, -2.0, 0.25]), np.array([1.0, 0.5, -3.0])
    np.testing.assert_allclose(wg.grad(lambda x: np.sum(x * x))(x), 2 * x, **EXACT)
    np.testing.assert_allclose(wg.grad(lambda x: np.sum(np.multiply(x, x)))(x), 2 * x, **EXACT)
    np.testing.assert_allclose(wg.grad(lambda x: np.sum((x + x) ** 3))(x), 24 * x**2, **EXACT)
    np.testing.assert_allclose(wg.jvp(lambda x: x * x, (x,), (v,))[1], 2 * x * v, **EXACT)
    np.testing.assert_allclose(wg.jvp(lambda x: x + x, (x,), (v,))[1], 2 * v, **EXACT)
    np.testing.assert_allclose(wg.hvp(lambda x: np.sum((x * x) * (x * x)), x, v),
                               12 * x**2 * v, **EXACT)  # fmt: skip
    np.testing.assert_allclose(wg.vmap(wg.grad(lambda x: x * x))(x), 2 * x, **EXACT)
    np.testing.assert_allclose(wg.hessian(lambda x: np.sum(x * x * x))(x), np.diag(6 * x), **EXACT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hvp_through_a_large_constant_matrix_on_either_side(dtype):
    # hvp's forward trace computes a constant matrix times a dual vector as one GEMM of the
    # value and tangent rows (its values are never returned); f = 0.5 |A x|^2 + sum(x A^T A x)
    # has H = A^T A + 2 A^T A = 3 A^T A, through A @ x, x @ A.T and the VJPs' g @ A, A.T @ g.
    tol = EXACT if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    a = (rng(9).standard_normal((120, 80)) / 10).astype(dtype)
    x, v = rng(10).standard_normal(80).astype(dtype), rng(11).standard_normal(80).astype(dtype)

    def f(x):
        y = a @ x
        return 0.5 * (y @ y) + np.sum(x * ((x @ a.T) @ a))

    h = wg.hvp(f, x, v)
    np.testing.assert_allclose(h, 3 * (a.T @ (a @ v)), **tol)
    assert h.dtype == dtype


def test_jvp_of_grad_keeps_the_gradient_bit_for_bit():
    # Only hvp (which returns no value) computes values jointly with tangents: jvp of grad
    # returns the gradient exactly as grad computes it.
    a = rng(12).standard_normal((120, 80))
    x, v = rng(13).standard_normal(80), rng(14).standard_normal(80)
    f = lambda x: np.sum(np.tanh(a @ x))
    g, hv = wg.jvp(wg.grad(f), (x,), (v,))
    np.testing.assert_array_equal(g, wg.grad(f)(x))
    np.testing.assert_allclose(hv, wg.hvp(f, x, v), rtol=1e-12, atol=1e-12)
    t = 1 - np.tanh(a @ x) ** 2
    np.testing.assert_allclose(hv, a.T @ (-2 * np.tanh(a @ x) * t * (a @ v)), **EXACT)


def test_jacfwd_of_a_matrix_first_skips_the_identity_product():
    # jacfwd pushes the identity as its batch of directions: a constant matrix times it is
    # the matrix (transposed in the batch layout), not a GEMM; the Jacobian is still A.
    rng = np.random.default_rng(11)
    a = rng.standard_normal((5, 3))
    x = rng.standard_normal(3)
    np.testing.assert_array_equal(wg.jacfwd(lambda x: a @ x)(x), a)
    np.testing.assert_array_equal(wg.jacfwd(lambda x: x @ a.T)(x), a)
    j = wg.jacfwd(lambda x: np.tanh(a @ x) * x[0])(x)
    want = (1 - np.tanh(a @ x) ** 2)[:, None] * a * x[0]
    want[:, 0] += np.tanh(a @ x)
    np.testing.assert_allclose(j, want, rtol=1e-13)
    # a float32 matrix with float64 directions: the product's dtype, as NumPy gives it
    j32 = wg.jacfwd(lambda x: a.astype(np.float32) @ x)(x)
    assert j32.dtype == np.float64
    np.testing.assert_allclose(j32, a.astype(np.float32), rtol=1e-7)
    # the Hessian of a logistic loss: X^T diag(p (1 - p)) X / n
    X = rng.standard_normal((7, 3))
    w = rng.standard_normal(3)
    h = wg.hessian(lambda w: np.mean(np.logaddexp(0.0, X @ w)))(w)
    p = 1 / (1 + np.exp(-(X @ w)))
    np.testing.assert_allclose(h, (X.T * (p * (1 - p))) @ X / 7, rtol=1e-12)


def test_jacobians_of_a_matrix_product_are_new_arrays():
    # The Jacobian of A @ x is A's values, never A itself: writing into one leaves the other.
    rng = np.random.default_rng(12)
    a = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    for jac in (wg.jacfwd, wg.jacrev):
        for f in (lambda x: a @ x, lambda x: x @ a.T, lambda x: np.dot(a, x)):
            j = jac(f)(x)
            assert not np.shares_memory(j, a) and j.flags.writeable
            j *= 2.0
            np.testing.assert_array_equal(jac(f)(x), a)
