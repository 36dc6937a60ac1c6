"""np.linalg solves and decompositions under wengert: a Gaussian-process negative log marginal
likelihood (cholesky and solve) against finite differences in both modes and at second order,
closed forms for det, slogdet, inv and eigh, NumPy's named-tuple results, the vector form
of solve, batching, and the error for complex Hermitian input. Every primitive is also in the
registry-driven property test (test_primitives.py).

References are closed forms or central differences (tests/_fd.py), never wengert itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from _fd import EXACT, FD, grad_fd, jacobian_fd

import wengert as wg
from wengert.errors import NoRuleError
from wengert.testing import check_grads


def rng(k=0):
    return np.random.default_rng(20240705 + k)


def close(actual, expected, tol=EXACT):
    np.testing.assert_allclose(actual, expected, **tol)


def general(n, k=0):
    return rng(k).standard_normal((n, n)) + n * np.eye(n)


def spd(n, k=0):
    m = rng(k).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


# -- a realistic composite: the Gaussian-process negative log marginal likelihood ----------
X = np.linspace(-2.0, 2.0, 7)
Y = np.sin(2 * X) + 0.1 * rng(1).standard_normal(7)
THETA = np.array([np.log(0.8), np.log(1.3), np.log(0.1)])  # length-scale, amplitude, noise


def gp_nlml(theta, x=X, y=Y):
    ell, amp, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d = x[:, None] - x[None, :]
    k = amp**2 * np.exp(-0.5 * d**2 / ell**2) + noise**2 * np.eye(len(x))
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
    log_det = 2 * np.sum(np.log(np.einsum("ii->i", chol)))
    return 0.5 * y @ alpha + 0.5 * log_det + 0.5 * len(x) * np.log(2 * np.pi)


def gp_nlml_slogdet(theta, x=X, y=Y):
    ell, amp, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d = x[:, None] - x[None, :]
    k = amp**2 * np.exp(-0.5 * d**2 / ell**2) + noise**2 * np.eye(len(x))
    _, logdet = np.linalg.slogdet(k)
    return 0.5 * y @ np.linalg.solve(k, y) + 0.5 * logdet + 0.5 * len(x) * np.log(2 * np.pi)


def test_gp_nlml_value_is_numpys():
    close(wg.value_and_grad(gp_nlml)(THETA)[0], gp_nlml(THETA))
    close(gp_nlml(THETA), gp_nlml_slogdet(THETA))


@pytest.mark.parametrize("f", [gp_nlml, gp_nlml_slogdet], ids=["cholesky", "slogdet"])
def test_gp_nlml_gradient_both_modes(f):
    reference = grad_fd(f, THETA)
    close(wg.grad(f)(THETA), reference, FD)
    close(wg.jacfwd(f)(THETA), reference, FD)
    check_grads(f, (THETA,), order=2)


def test_gp_nlml_second_order_in_length_scale():
    def in_ell(log_ell):
        return gp_nlml(np.concatenate([log_ell[None], THETA[1:]]))

    first = wg.grad(in_ell)
    reference = grad_fd(lambda t: grad_fd(in_ell, t, eps=1e-4), THETA[:1][0], eps=1e-4)
    close(wg.grad(first)(THETA[0]), reference, {"rtol": 1e-4, "atol": 1e-5})
    close(wg.hessian(gp_nlml)(THETA), jacobian_fd(wg.grad(gp_nlml), THETA), FD)
    close(wg.hessian(gp_nlml)(THETA)[0, 0], wg.grad(first)(THETA[0]))


# -- closed forms --------------------------------------------------------------------------
def test_log_abs_det_gradient_is_inverse_transpose():
    a = general(4)[[1, 0, 2, 3]]  # a negative determinant
    expected = np.linalg.inv(a).T
    close(wg.grad(lambda m: np.linalg.slogdet(m)[1])(a), expected)
    close(wg.grad(lambda m: np.linalg.slogdet(m).logabsdet)(a), expected)
    close(wg.grad(lambda m: np.log(np.abs(np.linalg.det(m))))(a), expected)
    close(wg.grad(np.linalg.det)(a), np.linalg.det(a) * expected)
    close(wg.jacfwd(lambda m: np.linalg.slogdet(m).logabsdet)(a), expected)


def test_slogdet_sign_is_piecewise_constant():
    a = general(3)[[1, 0, 2]]
    sign, logdet = np.linalg.slogdet(a)
    close(wg.grad(lambda m: np.linalg.slogdet(m).sign * 2.0)(a), np.zeros((3, 3)))
    got = wg.vmap(np.linalg.slogdet)(np.stack([a, general(3, 1)]))
    close(got.sign, [sign, 1.0])
    close(got.logabsdet, [logdet, np.linalg.slogdet(general(3, 1))[1]])


def test_inverse_derivatives():
    a, c, t = general(3), rng(2).standard_normal((3, 3)), rng(3).standard_normal((3, 3))
    a_inv = np.linalg.inv(a)
    close(wg.grad(lambda m: np.sum(np.linalg.inv(m) * c))(a), -a_inv.T @ c @ a_inv.T)
    close(wg.jvp(np.linalg.inv, (a,), (t,))[1], -a_inv @ t @ a_inv)


@pytest.mark.parametrize("k", range(4))
def test_eigenvalue_gradients_are_outer_products_of_eigenvectors(k):
    a = spd(4)
    v = np.linalg.eigh(a).eigenvectors
    g = wg.grad(lambda m: np.linalg.eigh(m).eigenvalues[k])(a)
    vv = np.outer(v[:, k], v[:, k])
    # NumPy reads the lower triangle: the cotangent lies there, its symmetric part is vv^T.
    close((g + g.T) / 2, vv)
    close(g, np.tril(2 * vv) - np.diag(np.diag(vv)))
    close(wg.jacfwd(lambda m: np.linalg.eigh(m)[0][k])(a), g)
    close(wg.grad(lambda m: np.sum(np.linalg.eigh(m, UPLO="U")[0]))(a), np.eye(4))


def test_eigenvectors_against_finite_differences():
    a = spd(4, k=4)
    direction = rng(5).standard_normal((4, 4))
    sym = (direction + direction.T) / 2

    def f(s):  # a sign-invariant function of the eigenvectors
        w, v = np.linalg.eigh(a + s * sym)
        return np.sum(v**2 * np.arange(4.0)[:, None] * w)

    close(wg.grad(f)(0.0), grad_fd(f, 0.0), FD)
    close(wg.grad(wg.grad(f))(0.0), grad_fd(wg.grad(f), 0.0), FD)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle_as_numpy_does(upper):
    a, t = spd(3), rng(6).standard_normal((3, 3))

    def f(m):
        return np.linalg.cholesky(m, upper=upper)

    close(wg.jvp(f, (a,), (t,))[0], np.linalg.cholesky(a, upper=upper))
    expected = np.einsum("ijkl,kl->ij", jacobian_fd(f, a), t)
    close(wg.jvp(f, (a,), (t,))[1], expected, FD)
    check_grads(f, (a,), order=2)


# -- entry points: vector solve, stacks, batching ---------------------------------------
def test_solve_vector_and_stacked_forms():
    a = np.stack([general(3), general(3, 1)])
    b = rng(7).standard_normal(3)
    for args in [(a[0], b), (a, b), (a, np.stack([b, 2 * b])[..., None])]:
        close(wg.jvp(np.linalg.solve, args, args)[0], np.linalg.solve(*args))
        check_grads(np.linalg.solve, args, order=2)
    batched = wg.vmap(np.linalg.solve, in_axes=(0, None))(a, b)
    close(batched, np.stack([np.linalg.solve(m, b) for m in a]))


def test_vmap_of_grad_over_stacked_matrices():
    mats = np.stack([spd(3, k) for k in range(4)])

    def f(m):
        return np.sum(np.linalg.cholesky(m)) + np.linalg.eigh(m).eigenvalues[-1]

    close(wg.vmap(wg.grad(f))(mats), np.stack([wg.grad(f)(m) for m in mats]))
    close(wg.grad(lambda m: np.sum(np.linalg.slogdet(m)[1]))(mats),
          np.linalg.inv(mats).transpose(0, 2, 1))  # fmt: skip


def test_complex_hermitian_input_has_no_rule_yet():
    a = spd(3) + 0j
    with pytest.raises(NoRuleError, match=r"eigh of a complex .* shape \(3, 3\)"):
        wg.grad(lambda m: np.real(np.sum(np.linalg.eigh(m)[0])))(a)
    with pytest.raises(NoRuleError, match="cholesky of a complex"):
        wg.jvp(np.linalg.cholesky, (a,), (a,))
