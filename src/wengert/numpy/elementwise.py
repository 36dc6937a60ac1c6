"""Elementwise operations: one line each, the derivative beside the op.

Conventions at points where a derivative is undefined (each tested in tests/):
- ``absolute`` at 0: 0 (the subgradient ``sign(0)``, PyTorch's choice; JAX gives 1).
- ``sqrt`` and ``cbrt`` at 0: ``inf``, what NumPy gives for ``0.5 / sqrt(0)``.
- ``maximum``/``minimum``/``fmax``/``fmin`` at ties: the derivative is split, 1/2 to each
  argument (JAX's and PyTorch's choice for maximum/minimum; for fmax/fmin they send it all
  to one argument), so ``max(x, x)`` still has derivative 1.
- ``power(x, y)`` in ``x`` at ``y == 0``: 0, even at ``x == 0`` (PyTorch's value).
- ``power(x, y)`` in ``y`` at ``x == 0``: 0, not ``log(0) * 0 = nan``.
- ``mod``/``remainder``/``fmod``: derivative 1 in ``x`` and ``-trunc-or-floor(x / y)`` in
  ``y`` away from the jumps, where they are undefined.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from wengert.numpy._family import (
    above_one,
    away_from_int,
    batch_unary,
    binary,
    boolean,
    linear,
    nondiff,
    nonzero,
    positive,
    real,
    unary,
    unit_open,
)

# Python floats, not np.float64: NumPy promotes float32 values with a weak Python float to
# float32, but with a strong np.float64 to float64.
LN2 = math.log(2.0)
LN10 = math.log(10.0)

# -- unary: unary(f, df) with df(x, ans) = f'(x) --------------------------------------------
unary(np.negative, lambda x, ans: -1.0, impl=operator.neg)
unary(np.positive, lambda x, ans: 1.0)
unary(np.exp, lambda x, ans: ans, pole=True)
unary(np.expm1, lambda x, ans: ans + 1, pole=True)
unary(np.exp2, lambda x, ans: ans * LN2, pole=True)
unary(np.log, lambda x, ans: 1 / x, domain=positive, pole=True)
unary(np.log1p, lambda x, ans: 1 / (1 + x), domain=positive, pole=True)
unary(np.log2, lambda x, ans: 1 / (x * LN2), domain=positive, pole=True)
unary(np.log10, lambda x, ans: 1 / (x * LN10), domain=positive, pole=True)
unary(np.sqrt, lambda x, ans: 0.5 / ans, domain=positive, pole=True)  # at 0: inf
unary(np.cbrt, lambda x, ans: 1 / (3 * ans * ans), domain=nonzero, pole=True)  # at 0: inf
unary(np.square, lambda x, ans: 2 * x)
unary(np.reciprocal, lambda x, ans: -ans * ans, domain=nonzero, pole=True)
unary(np.sin, lambda x, ans: np.cos(x))
unary(np.cos, lambda x, ans: -np.sin(x))
unary(np.tan, lambda x, ans: 1 + ans * ans, domain=unit_open, pole=True)
unary(np.arcsin, lambda x, ans: 1 / np.sqrt(1 - x * x), domain=unit_open, pole=True)
unary(np.arccos, lambda x, ans: -1 / np.sqrt(1 - x * x), domain=unit_open, pole=True)
unary(np.arctan, lambda x, ans: 1 / (1 + x * x))
unary(np.sinh, lambda x, ans: np.cosh(x), pole=True)
unary(np.cosh, lambda x, ans: np.sinh(x), pole=True)
unary(np.tanh, lambda x, ans: 1 - ans * ans)
unary(np.arcsinh, lambda x, ans: 1 / np.sqrt(x * x + 1))
unary(np.arccosh, lambda x, ans: 1 / np.sqrt(x * x - 1), domain=above_one, pole=True)
unary(np.arctanh, lambda x, ans: 1 / (1 - x * x), domain=unit_open, pole=True)


def _abs_jvp(ts, ans, x):
    if np.iscomplexobj(x):
        # |z| is not holomorphic: its tangent is Re(conj(z) t) / |z|, a real number.
        return np.real(np.conj(x) * ts[0]) / ans
    return ts[0] * np.sign(x)  # at 0: 0


def _abs_vjp(g, ans, which, x):
    if np.iscomplexobj(x):
        return (g * np.conj(x) / ans,)  # the transpose of the JVP above (JAX's convention)
    return (g * np.sign(x),)


unary(np.absolute, None, jvp=_abs_jvp, vjp=_abs_vjp, domain=nonzero)
unary(np.deg2rad, lambda x, ans: np.pi / 180)
unary(np.rad2deg, lambda x, ans: 180 / np.pi)
linear(
    "conjugate",
    np.conjugate,
    lambda g, ans, which, x: (np.conj(g) if np.iscomplexobj(x) else np.real(g),),
    batch=batch_unary,
    spec={"kind": "elementwise", "domain": (real,)},
    ufunc=np.conjugate,
    elementwise=True,
)


# -- binary: binary(f, dx, dy) with partials d(x, y, ans), or constants -----------------------
def _pow_dx(x, y, ans):
    if type(y) in (int, float):
        if y == 2:
            return 2 * x  # the common square: one pass instead of x**1 then a product
        if y == 0:
            return 0 * x  # x**0 is constant: 0 even at x == 0 (not 0 * 0**-1 = nan)
        return y * x ** (y - 1)
    return y * x ** np.where(y == 0, 1, y - 1)


def _pow_dy(x, y, ans):
    # At x == 0 the derivative in y is 0 (0**y is flat for y > 0), not log(0) * 0 = nan.
    return ans * np.log(np.where(x == 0, 1.0, x))


def _tie_split(x, y, ans, win):
    # 1 where this argument wins, 1/2 at ties (the derivative is split), 0 where it loses.
    return np.where(x == y, 0.5, win(x, y))


binary(np.add, 1, 1, impl=operator.add)
binary(np.subtract, 1, -1, impl=operator.sub)
binary(np.multiply, lambda x, y, ans: y, lambda x, y, ans: x, impl=operator.mul)
binary(
    np.true_divide,
    lambda x, y, ans: 1 / y,
    lambda x, y, ans: -ans / y,
    domain=(real, nonzero),
    impl=operator.truediv,
    pole=True,
)
def _pow_pole(x, y):
    # y * x**(y - 1) is infinite only at x == 0 with y < 1; a constant y >= 1 (the common
    # square) needs no check.
    return not (isinstance(y, (int, float)) and y >= 1)


binary(np.power, _pow_dx, _pow_dy, domain=(positive, real), impl=operator.pow,
       pole=(_pow_pole, True))  # fmt: skip
binary(
    np.float_power,
    lambda x, y, ans: y * np.float_power(x, y - 1),
    lambda x, y, ans: ans * np.log(np.where(x == 0, 1.0, x)),
    domain=(positive, real),
    pole=True,
)
binary(
    np.arctan2,
    lambda x, y, ans: y / (x * x + y * y),
    lambda x, y, ans: -x / (x * x + y * y),
    domain=(nonzero, nonzero),
    pole=True,
)
binary(np.hypot, lambda x, y, ans: x / ans, lambda x, y, ans: y / ans, domain=(nonzero, nonzero),
       pole=True)  # fmt: skip
binary(np.logaddexp, lambda x, y, ans: np.exp(x - ans), lambda x, y, ans: np.exp(y - ans))
binary(
    np.logaddexp2, lambda x, y, ans: np.exp2(x - ans), lambda x, y, ans: np.exp2(y - ans)
)
binary(
    np.maximum,
    lambda x, y, ans: _tie_split(x, y, ans, np.greater),
    lambda x, y, ans: _tie_split(y, x, ans, np.greater),
)
binary(
    np.minimum,
    lambda x, y, ans: _tie_split(x, y, ans, np.less),
    lambda x, y, ans: _tie_split(y, x, ans, np.less),
)
binary(
    np.fmax,
    lambda x, y, ans: _tie_split(x, y, ans, lambda a, b: (a > b) | np.isnan(b)),
    lambda x, y, ans: _tie_split(y, x, ans, lambda a, b: (a > b) | np.isnan(b)),
)
binary(
    np.fmin,
    lambda x, y, ans: _tie_split(x, y, ans, lambda a, b: (a < b) | np.isnan(b)),
    lambda x, y, ans: _tie_split(y, x, ans, lambda a, b: (a < b) | np.isnan(b)),
)
binary(
    np.remainder,
    1,
    lambda x, y, ans: -np.floor_divide(x, y),
    domain=(away_from_int, positive),
    impl=operator.mod,
)
binary(np.fmod, 1, lambda x, y, ans: -np.trunc(x / y), domain=(away_from_int, positive))
binary(
    np.copysign,
    lambda x, y, ans: np.sign(x) * np.sign(ans),
    0.0,
    domain=(nonzero, nonzero),
)

# -- piecewise constant: no derivative, plain results ------------------------------------
nondiff(
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.heaviside,
)  # fmt: skip
nondiff(np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, domain=boolean)
