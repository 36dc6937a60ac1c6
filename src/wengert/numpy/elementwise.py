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
- Ufuncs of several outputs return NumPy's tuples, the piecewise-constant part plain:
  ``divmod`` (the quotient plain, the remainder as ``remainder``), ``modf`` (the integral
  part plain, the fractional part with derivative 1, at integers too, as ``torch.frac``),
  ``frexp`` (the exponent ``e`` plain, the mantissa with derivative ``2**-e``).
  ``ldexp(x, i)`` has derivative ``2**i`` in ``x``; ``i`` is an integer.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from wengert.core.reverse import negated
from wengert.core.trace import ERRORS_DOC, _speedups, ufunc_method_rules
from wengert.errors import NoRuleError
from wengert.numpy._family import (
    above_one,
    away_from_int,
    batch_elementwise,
    batch_unary,
    binary,
    boolean,
    declare,
    defun,
    fit,
    linear,
    nondiff,
    nonzero,
    operand,
    positive,
    real,
    specify,
    unary,
    unit_open,
)

# Python floats, not np.float64: NumPy promotes float32 values with a weak Python float to
# float32, but with a strong np.float64 to float64.
LN2 = math.log(2.0)
LN10 = math.log(10.0)

# -- unary: unary(f, df) with df(x, ans) = f'(x) --------------------------------------------
negative_p = unary(np.negative, lambda x, ans: -1.0, impl=operator.neg)
# -g unexpanded (reverse.Negated), as subtraction's; a negated g comes back as g itself.
negative_p.vjp = lambda g, ans, which, x: (negated(g),)
negative_p.takes_negated = True
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
unary(np.fabs, lambda x, ans: np.sign(x), domain=nonzero)  # at 0: 0, as absolute
unary(np.deg2rad, lambda x, ans: np.pi / 180)
unary(np.rad2deg, lambda x, ans: 180 / np.pi)
unary(np.radians, lambda x, ans: np.pi / 180)
unary(np.degrees, lambda x, ans: 180 / np.pi)
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


def _pow_dx_split(x, y, ans):
    # _pow_dx as f * v for a number f (see _family._partial_rules): with a constant exponent,
    # g * y * x**(y - 1) is computed as (g * y) * x**(y - 1), one pass over the array less.
    if type(y) in (int, float) and y != 0:
        return y, (x if y == 2 else x ** (y - 1))
    return None


_pow_dx.split = _pow_dx_split


def _pow_dy(x, y, ans):
    # At x == 0 the derivative in y is 0 (0**y is flat for y > 0), not log(0) * 0 = nan.
    return ans * np.log(np.where(x == 0, 1.0, x))


def _tie_split(x, y, ans, win):
    # 1 where this argument wins, 1/2 at ties (the derivative is split), 0 where it loses.
    return np.where(x == y, 0.5, win(x, y))


binary(np.add, 1, 1, impl=operator.add)
binary(np.subtract, 1, -1, impl=operator.sub)
def _multiply_jvp(ts, ans, x, y):
    # tx y + ty x, the terms of binary()'s rule in its order, without its calls per term.
    tx, ty = ts
    if tx is None:
        return ty * x
    if ty is None:
        return tx * y
    if x is y and tx is ty:
        t = tx * y
        return t + t
    return tx * y + ty * x


binary(np.multiply, lambda x, y, ans: y, lambda x, y, ans: x, impl=operator.mul, symmetric=True,
       jvp=_multiply_jvp if _speedups is None else _speedups.multiply_jvp)  # fmt: skip
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


def _exp_of_difference(exp, log_base):
    """The primitive ``exp(a - b)`` (``exp`` the ufunc np.exp or np.exp2) for the partials of
    logaddexp and logaddexp2, ``exp(x - ans)``: one traced operation on dual numbers (hvp's
    backward pass), not a subtraction and an exponential. There ``a <= b`` (``x <= ans``), so
    the value is at most 1 and needs no overflow check (``annihilate``)."""
    name = f"{exp.__name__}_of_difference"

    def jvp(ts, ans, a, b):
        ta, tb = ts
        d = ans if log_base == 1 else ans * log_base
        if tb is None:
            return ta * d
        return (ta - tb) * d if ta is not None else -tb * d

    def vjp(g, ans, which, a, b):
        c = g * (ans if log_base == 1 else ans * log_base)
        return tuple(fit(c, a, ans) if k == 0 else negated(fit(c, b, ans)) for k in which)

    return declare(name, lambda a, b: exp(a - b), jvp=jvp, vjp=vjp,
                   batch=batch_elementwise, elementwise=True,
                   spec={"kind": "elementwise", "domain": (unit_open, unit_open)})  # fmt: skip


_exp_diff = _exp_of_difference(np.exp, 1).bind
_exp2_diff = _exp_of_difference(np.exp2, LN2).bind
binary(np.logaddexp, lambda x, y, ans: _exp_diff(x, ans), lambda x, y, ans: _exp_diff(y, ans))
binary(np.logaddexp2, lambda x, y, ans: _exp2_diff(x, ans), lambda x, y, ans: _exp2_diff(y, ans))
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


# -- NumPy functions that are rounding or tests: plain results -----------------------------
def _fix(x, out=None):
    return np.trunc(x)


def _isposinf(x, out=None):
    return np.isinf(x) & (x > 0)


def _isneginf(x, out=None):
    return np.isinf(x) & (x < 0)


for _fn, _h in [(np.fix, _fix), (np.isposinf, _isposinf), (np.isneginf, _isneginf)]:
    _h.plain_result = True  # docs/coverage.md: derivative zero
    defun(_fn, _h)


# -- powers of two and ufuncs of several outputs, composed of the ops above ----------------
def _times_pow2(x, e):
    """``x * 2**e`` for integer ``e``, exactly: two factors, so that 2**e alone may
    overflow (``ldexp(1e-300, 1100)``, a subnormal's frexp) while the result does not."""
    half = e // 2
    return x * np.exp2(half) * np.exp2(e - half)


def _ldexp(x1, x2, **kwargs):
    # Differentiable in x1 (derivative 2**x2); x2 is an integer.
    no_ufunc_kwargs("ldexp", kwargs)
    x1 = operand(x1)
    dtype = getattr(x1, "dtype", np.dtype(float))
    out = _times_pow2(x1, operand(x2))
    return out.astype(dtype) if dtype.kind == "f" and out.dtype != dtype else out


# The exponent of frexp: piecewise constant, so a plain integer array.
frexp_exponent_p = declare(
    "frexp_exponent",
    lambda x: np.frexp(x)[1],
    nondiff=True,
    batch=batch_unary,
    spec={"kind": "nondiff", "domain": (real,)},
)


def _frexp(x, **kwargs):
    # x = m * 2**e: the mantissa m is x scaled by 2**-e (derivative 2**-e), e is plain.
    no_ufunc_kwargs("frexp", kwargs)
    e = frexp_exponent_p.bind(x)
    return _times_pow2(x, -e), e


def _modf(x, **kwargs):
    # The integral part is piecewise constant (plain); the fractional part has derivative
    # 1, also at integers (the derivative from inside the piece, as torch.frac's); at
    # +-inf it is 0 (NumPy gives 0 there).
    no_ufunc_kwargs("modf", kwargs)
    finite = np.where(np.isinf(x), np.zeros_like(x), x)  # no inf - inf
    return finite - np.trunc(finite), np.trunc(x)


def _divmod(x1, x2, **kwargs):
    no_ufunc_kwargs("divmod", kwargs)
    return np.floor_divide(x1, x2), np.remainder(x1, x2)


def no_ufunc_kwargs(name, kwargs):
    """Refuse the keyword arguments (out=, where=, dtype=...) of a ufunc call that a handler
    composes (np.modf, np.matvec): none has a rule."""
    if kwargs:
        raise NoRuleError(f"np.{name} with keyword arguments {sorted(kwargs)} has no rule in "
                          f"wengert; call it without them. {ERRORS_DOC}")  # fmt: skip


def _ldexp_cases(rng):
    return [((rng.standard_normal(3), np.array([1, -2, 3])), {}),
            ((rng.standard_normal((2, 2)).astype(np.float32), np.array([0, 40])), {})]  # fmt: skip


def _divmod_cases(rng):
    # Away from the jumps of x mod y at multiples of y.
    return [((np.array([2.3, -1.6, 4.5]), np.array([1.1, 0.7, 2.0])), {})]


for _uf, _h, _cases in [
    (np.ldexp, _ldexp, _ldexp_cases), (np.frexp, _frexp, lambda rng: [((rng.normal(0, 9, 4),), {})]),
    (np.modf, _modf, lambda rng: [((away_from_int(rng, 4),), {})]),
    (np.divmod, _divmod, _divmod_cases),
]:  # fmt: skip
    ufunc_method_rules[(_uf, "__call__")] = _h
    specify(_uf, _cases)

