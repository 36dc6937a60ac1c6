"""Random composite programs (issue 5, item 6): both modes and second order against finite
differences, batched derivatives against a loop, float32 kept float32.

tests/_programs.py draws each program: up to eight nested operations from the registry's
differentiable elementwise primitives plus reductions, indexing, reshapes, joins, products,
``clip`` and ``where``, on one or two small arrays, smooth at the drawn point. A failure
prints the program and its inputs as code that runs as it stands. ``make test-slow`` runs the
same checks on many more programs.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from _programs import INSIDE, elementwise_ops, programs, scalar
from hypothesis import HealthCheck, given, note, seed, settings

import wengert as wg
from wengert.core import reverse
from wengert.numpy import _family, _residuals
from wengert.testing import check_grads

COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                      HealthCheck.data_too_large]}  # fmt: skip
FAST = settings(max_examples=400, derandomize=True, **COMMON)
SLOW = settings(max_examples=3000, derandomize=False, database=None, **COMMON)
LOOP = {"rtol": 1e-9, "atol": 1e-9}  # vmap against a loop: the same arithmetic, regrouped


def _check_derivatives(program):
    note(program.listing)
    check_grads(program.fun, program.args, order=2)


def _assert_matches_loop(batched, loop):
    for got, want in zip(batched, zip(*loop)):
        np.testing.assert_allclose(got, np.stack(want), **LOOP)


def _check_batching(program):
    note(program.listing)
    args = program.args
    g = wg.grad(scalar(program.fun), argnums=tuple(range(len(args))))
    rng = np.random.default_rng(0)
    # Three nearby points: small steps keep every program inside its ops' domains.
    points = [[a + 1e-3 * k * rng.standard_normal(np.shape(a)) for a in args] for k in range(3)]
    stacked = [np.stack(c) for c in zip(*points)]
    loop = [g(*p) for p in points]
    _assert_matches_loop(wg.vmap(g)(*stacked), loop)
    # The batch axis last; then one argument batched and the other shared.
    last = [np.stack(c, axis=-1) for c in zip(*points)]
    _assert_matches_loop(wg.vmap(g, in_axes=tuple(np.ndim(a) for a in args))(*last), loop)
    if len(args) == 2:
        shared = [g(p[0], args[1]) for p in points]
        _assert_matches_loop(wg.vmap(g, in_axes=(0, None))(stacked[0], args[1]), shared)
    # Forward mode under vmap: a directional derivative of f, and one of its gradient (a
    # Hessian-vector product), at each point.
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)

    def directional(*xs):
        return wg.jvp(program.fun, xs, tangents)[1]

    def hvp(*xs):
        return wg.jvp(g, xs, tangents)[1]

    _assert_matches_loop([wg.vmap(directional)(*stacked)], [[directional(*p)] for p in points])
    _assert_matches_loop(wg.vmap(hvp)(*stacked), [hvp(*p) for p in points])


def _check_float32(program):
    # Tracing changes no value and no dtype: float32 inputs give NumPy's own outputs, and
    # float32 gradients (the inputs' dtype) close to the float64 ones.
    note(program.listing)
    args = tuple(np.asarray(a, dtype=np.float32) for a in program.args)
    argnums = tuple(range(len(args)))
    want = program.fun(*args)
    value, grads = wg.value_and_grad(scalar(program.fun), argnums=argnums)(*args)
    assert np.result_type(value) == np.result_type(np.sum(want))
    np.testing.assert_allclose(value, np.sum(want), rtol=1e-5)
    assert [np.result_type(g) for g in grads] == [np.float32] * len(args)
    exact = wg.grad(scalar(program.fun), argnums=argnums)(*program.args)
    for g, e in zip(grads, exact):
        np.testing.assert_allclose(g, e, rtol=2e-2, atol=2e-3 * (1 + np.max(np.abs(e))))
    out, _ = wg.jvp(program.fun, args, tuple(np.ones_like(a) for a in args))
    assert np.result_type(out) == np.result_type(want)


@FAST
@given(programs())
def test_random_programs_match_finite_differences(program):
    _check_derivatives(program)


@contextlib.contextmanager
def _every_record_pruned():
    # The tape drops unread values from 1024 elements on and multiplies cotangents in place
    # from 2048 (tests/test_residuals.py): sizes these programs never reach. Force both on.
    saved = reverse.KEEP_MIN, _residuals.BIG, _family.BIG
    reverse.KEEP_MIN = _residuals.BIG = _family.BIG = 0
    try:
        yield
    finally:
        reverse.KEEP_MIN, _residuals.BIG, _family.BIG = saved


@settings(max_examples=150, derandomize=True, **COMMON)
@given(programs())
def test_random_programs_with_every_record_pruned(program):
    with _every_record_pruned():
        _check_derivatives(program)


@FAST
@given(programs())
def test_random_programs_batch_like_a_loop(program):
    _check_batching(program)


@FAST
@given(programs())
def test_random_programs_keep_float32(program):
    _check_float32(program)


@pytest.mark.slow
@seed(20250105)
@SLOW
@given(programs())
def test_many_random_programs_match_finite_differences(program):
    _check_derivatives(program)


@pytest.mark.slow
@seed(20250106)
@SLOW
@given(programs())
def test_many_random_programs_batch_like_a_loop(program):
    _check_batching(program)


@pytest.mark.slow
@seed(20250107)
@SLOW
@given(programs())
def test_many_random_programs_keep_float32(program):
    _check_float32(program)


def test_the_generator_knows_every_elementwise_domain():
    # A new op with a new domain sampler must teach the generator how to reach that domain.
    for name, domains in elementwise_ops().items():
        for d in domains:
            assert d in INSIDE or name == "clip", f"{name}: no squash into domain {d!r}"


# -- bugs the random programs found, each reduced to a few lines -----------------------------
def test_index_cotangent_lands_in_a_full_accumulator():
    # x + x under a sum over axis 0 leaves x's cotangent accumulator as a (1,)-shaped
    # stand-in for (3,) (the sum's VJP does not expand); the cotangent of x[k] must not be
    # added in place into that stand-in, where it would reach every entry (or overflow it).
    x = np.zeros(3)
    np.testing.assert_allclose(wg.grad(lambda x: x[0] + np.sum(x + x, axis=0))(x), [3, 2, 2])
    np.testing.assert_allclose(wg.grad(lambda x: x[2] + np.sum(x + x, axis=0))(x), [2, 2, 3])


def test_cumprod_derivatives_at_a_zero():
    # d cumprod(x)_k / d x_j is the product of x_0..x_k without x_j: finite at x_j == 0.
    x = np.array([2.0, 0.0, 3.0])
    expected = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 6.0, 0.0]]
    np.testing.assert_allclose(wg.jacfwd(np.cumprod)(x), expected)
    np.testing.assert_allclose(wg.jacrev(np.cumprod)(x), expected)


def test_prod_second_derivatives_at_zeros():
    # prod's first derivative is exact at zeros (products of the other entries); its second
    # derivative goes through cumprod's rules and must stay exact there too.
    expected = [[0.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    np.testing.assert_allclose(wg.hessian(np.prod)(np.array([1.0, 0.0, 2.0])), expected)
    np.testing.assert_allclose(wg.hessian(np.prod)(np.zeros(2)), [[0.0, 1.0], [1.0, 0.0]])


C64 = np.array([0.5, 1.5])


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(np.concatenate([x, C64])),
        lambda x: np.sum(np.stack([x, C64])),
        lambda x: x @ C64,
        lambda x: np.einsum("i,i->", x, C64),
        lambda x: np.sum(np.outer(x, C64)),
    ],
    ids=["concatenate", "stack", "matmul", "einsum", "outer"],
)
def test_float32_input_gets_float32_gradient_beside_float64_operands(f):
    # Elementwise ops, reductions, indexing, where and clip all give a float32 input a float32
    # cotangent when the other operand is float64; joins and products must too.
    x = np.float32([0.3, 0.7])
    assert wg.grad(f)(x).dtype == np.float32
    assert wg.jacrev(f)(x).dtype == np.float32


def test_jvp_tangent_has_the_output_dtype():
    # NumPy makes float32 + a float64 array float64; the output tangent must be float64 too,
    # as jvp requires of its input tangents and as it gives for outputs that are constants.
    x, t = np.float32([0.3, 2.0]), np.ones(2, np.float32)
    out, tangent = wg.jvp(lambda x: x + np.array([0.05, 1.0]), (x,), (t,))
    assert out.dtype == tangent.dtype == np.float64
