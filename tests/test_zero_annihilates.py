"""A tangent or cotangent that is exactly zero contributes exactly zero, even through a
local derivative that is infinite (a pole) or overflows: 0 * inf never becomes nan."""

import numpy as np
import pytest

import wengert as wg
from wengert.core.primitive import registry

POLES = {"sqrt": 0.0, "cbrt": 0.0, "log": 0.0, "log2": 0.0, "log10": 0.0, "log1p": -1.0,
         "reciprocal": 0.0, "arcsin": 1.0, "arccos": 1.0, "arctanh": 1.0, "arccosh": 1.0,
         "exp": 1000.0, "expm1": 1000.0, "exp2": 2000.0, "sinh": 1000.0,
         "cosh": 1000.0}  # fmt: skip


@pytest.mark.parametrize("name", sorted(POLES))
def test_zero_cotangent_through_a_pole_is_zero(name):
    prim = registry[name]
    x = np.float64(POLES[name])
    with np.errstate(all="ignore"):
        # The op's output is multiplied by zero: its cotangent is an exact zero.
        g = wg.grad(lambda v: 0.0 * prim.bind(v) + v)(x)
        _, t = wg.jvp(lambda v: prim.bind(v * 0.0 + x), (x,), (1.0,))
    assert g == 1.0  # only the "+ v" path counts
    assert t == 0.0  # the input's tangent is zero (v * 0), so the output's is zero


def test_where_trap():
    f = lambda x: np.where(x < 1, x, np.sqrt(x))  # noqa: E731
    with np.errstate(all="ignore"):
        assert wg.grad(f)(0.0) == 1.0
        assert wg.jvp(f, (0.0,), (1.0,))[1] == 1.0
        np.testing.assert_array_equal(wg.grad(lambda v: np.sum(f(v)))(np.array([0.0, 4.0])),
                                      [1.0, 0.25])  # fmt: skip


def test_power_at_zero_base():
    assert wg.grad(lambda y: 0.0**y)(2.0) == 0.0
    assert wg.jvp(lambda y: 0.0**y, (2.0,), (1.0,))[1] == 0.0
    with np.errstate(all="ignore"):
        # d/dx x**0.5 at 0 is inf, but a zero cotangent still contributes zero.
        assert wg.grad(lambda x: 0.0 * x**0.5 + x)(0.0) == 1.0


def test_divide_by_zero_with_zero_cotangent():
    with np.errstate(all="ignore"):
        assert wg.grad(lambda y: 0.0 * (1.0 / y) + y)(0.0) == 1.0


def test_nonzero_cotangent_through_a_pole_stays_infinite():
    # Annihilation is for exact zeros only: a real infinite derivative is reported as such.
    with np.errstate(all="ignore"):
        assert wg.grad(np.sqrt)(0.0) == np.inf
