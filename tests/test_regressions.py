"""Named regression tests for bugs found in review, each against a closed form."""

import numpy as np
import pytest

import wengert as wg

ONES2 = np.ones(2)
COL = np.ones((3, 1))


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda a: np.sum(a + COL), [3.0, 3.0]),  # each a_i appears in three outputs
        (lambda a: np.mean(COL - a), [-0.5, -0.5]),
        (lambda a: np.sum(np.where(True, a, COL)), [3.0, 3.0]),
        (lambda a: np.sum(np.clip(a, -COL, COL + 1)), [3.0, 3.0]),
    ],
)
def test_broadcast_inputs_count_every_copy(f, expected):
    np.testing.assert_allclose(wg.grad(f)(ONES2), expected)
    np.testing.assert_allclose(wg.jacrev(f)(ONES2), expected)


def test_scalar_broadcast_against_vector_counts_every_copy():
    assert wg.grad(lambda s: np.sum(s + np.ones(4)))(1.0) == 4.0


def test_list_operands_are_arrays():
    x = np.array([1.0, 2.0])
    value, tangent = wg.jvp(lambda a: np.dot(a, [1.0, 2.0]), (x,), (np.ones(2),))
    assert (value, tangent) == (5.0, 3.0)
    np.testing.assert_allclose(wg.grad(lambda a: np.dot(a, [1.0, 2.0]) ** 2)(x), [10.0, 20.0])
    np.testing.assert_allclose(wg.grad(lambda a: np.sum(a @ [1.0, 2.0]))(x), [1.0, 2.0])
    np.testing.assert_allclose(
        wg.grad(lambda a: np.sum(np.concatenate([a, [3.0]]) ** 2))(x), 2 * x
    )
    assert wg.vmap(lambda a: np.dot(a, [1.0, 2.0]))(np.ones((3, 2))).shape == (3,)


def test_batched_integer_index():
    xs = np.arange(15.0).reshape(3, 5)
    idx = np.array([0, 4, 2])
    np.testing.assert_array_equal(wg.vmap(lambda a, i: a[i])(xs, idx), xs[np.arange(3), idx])
    grads = wg.vmap(lambda i: wg.grad(lambda a: np.sum(a[i] ** 2))(xs[0]))(idx)
    expected = np.zeros((3, 5))
    expected[np.arange(3), idx] = 2 * xs[0][idx]
    np.testing.assert_allclose(grads, expected)


def test_clip_with_crossed_bounds_follows_numpy():
    # np.clip computes minimum(maximum(x, lo), hi): with lo > hi the result is hi.
    x, lo, hi = np.array([0.0]), np.array([1.0]), np.array([0.5])
    assert wg.grad(lambda b: np.sum(np.clip(x, b, hi)))(lo)[0] == 0.0
    assert wg.grad(lambda b: np.sum(np.clip(x, lo, b)))(hi)[0] == 1.0


def test_einsum_broadcasts_size_one_axes():
    A = np.arange(12.0).reshape(3, 4)
    g = wg.grad(lambda b: np.sum(np.einsum("ij,ij->ij", A, b)))(np.ones((1, 4)))
    np.testing.assert_allclose(g, A.sum(0, keepdims=True))


@pytest.mark.parametrize("f", [np.log2, np.log10, np.exp2, np.max, lambda v: np.einsum("i,i->i", v, v)])
def test_float32_stays_float32(f):
    x = np.float32([1.0, 2.0, 3.0])
    assert wg.grad(lambda v: np.sum(f(v)))(x).dtype == np.float32
    assert wg.hessian(lambda v: np.sum(v * 2))(x).dtype == np.float32
