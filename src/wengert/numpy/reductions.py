"""Reductions and scans along axes: sum, prod, max/min, cumsum/cumprod, and the ones built
from them (mean, var, std).

Conventions:
- ``max``/``min`` at ties: the cotangent is shared equally among the tied maxima (JAX's
  choice; PyTorch's ``amax`` agrees), so the gradient of ``max`` sums to one.
- ``prod`` and ``cumprod`` never divide by an entry: their derivatives are exact where
  entries are zero, at every order (``prod`` uses the products of the *other* entries,
  ``cumprod`` treats the first zero along the axis separately).
"""

from __future__ import annotations

import math

import numpy as np

from wengert.core.trace import ERRORS_DOC, ufunc_method_rules
from wengert.errors import NoRuleError
from wengert.numpy._family import (
    declare,
    defun,
    unwrap_all,
    linear,
    ndim_of,
    positive,
    real,
    shape_of,
)
from wengert.numpy._residuals import shapes_only


def norm_axis(axis, ndim):
    """``None`` or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = axis
    else:
        axes = (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def _all_axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def restore_dims(g, x, axis, keepdims):
    """``g``, the result of reducing ``x`` over ``axis``, with the reduced axes put back as
    length one, ready to broadcast against ``x``."""
    if keepdims:
        return g
    shape = list(shape_of(x))
    for a in _all_axes(axis, len(shape)):
        shape[a] = 1
    return np.reshape(g, tuple(shape))


def _shift(axis, ndim):
    """Axes of a reduction moved past the batch axis (batch axis first)."""
    return tuple(a + 1 for a in _all_axes(axis, ndim))


# -- sum -----------------------------------------------------------------------------------
def _sum_vjp(g, ans, which, x, *, axis, keepdims):
    # Not expanded to x's shape: a cotangent only broadcastable to its value is fine for
    # elementwise rules, and rules that need the full shape expand it (exact_cotangent).
    if axis is None or keepdims:
        return (g,)
    return (restore_dims(g, x, axis, keepdims),)


def _sum_batch(prim):
    def batch(args, batched, size, *, axis, keepdims):
        (x,) = args
        return prim.bind(x, axis=_shift(axis, ndim_of(x) - 1), keepdims=keepdims)

    return batch


def _sum_cases(rng):
    x = rng.standard_normal((3, 4))
    return [((x,), dict(axis=a, keepdims=k)) for a in (None, (0,), (1,), (0, 1)) for k in (0, 1)]


_add_reduce = np.add.reduce


def _sum_impl(x, *, axis, keepdims):
    # NumPy's reduction itself: ndarray.sum is a Python function around it (a microsecond
    # per call, the cost of the whole sum of a few hundred numbers).
    if type(x) is np.ndarray:
        return _add_reduce(x, axis=axis, keepdims=keepdims)
    return x.sum(axis=axis, keepdims=keepdims)


sum_p = linear(
    "sum",
    _sum_impl,
    _sum_vjp,
    batch=_sum_batch,
    spec={"cases": _sum_cases},
)
sum_p.keep = shapes_only


def _reducer(prim, name, with_initial):
    """The NumPy-signature handler of a reduction primitive."""

    def handler(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _no_where(name, where)
        axis = None if axis is None else norm_axis(axis, ndim_of(a))
        r = prim.bind(a, axis=axis, keepdims=bool(keepdims))
        if initial is not None:
            r = with_initial(r, initial)
        return r if dtype is None else r.astype(dtype)

    return handler


_sum = _reducer(sum_p, "sum", lambda r, initial: r + initial)


def _count(x, axis):
    shape = shape_of(x)
    if axis is None:
        return math.prod(shape)
    n = 1
    for a in _all_axes(norm_axis(axis, len(shape)), len(shape)):
        n *= shape[a]
    return n


# -- mean: one linear primitive (the sum over the axes divided by their count, as np.mean
# computes it for floating inputs), not a sum and a division: half the traced operations.
def _mean_impl(x, *, axis, keepdims):
    return _sum_impl(x, axis=axis, keepdims=keepdims) / _count(x, axis)


def _mean_vjp(g, ans, which, x, *, axis, keepdims):
    return _sum_vjp(g / _count(x, axis), ans, which, x, axis=axis, keepdims=keepdims)


mean_p = linear(
    "mean", _mean_impl, _mean_vjp, batch=_sum_batch, spec={"cases": _sum_cases}
)
mean_p.keep = shapes_only
_mean_handler = _reducer(mean_p, "mean", None)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    return _mean_handler(a, axis, dtype, keepdims=keepdims, where=where)


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):  # fmt: skip
    _no_where("var", where)
    if correction is not None:
        ddof = correction
    d = a - _mean(a, axis, keepdims=True)
    sq = np.real(d * np.conj(d)) if np.iscomplexobj(d) else d * d
    return _sum(sq, axis, dtype, keepdims=keepdims) / (_count(a, axis) - ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):  # fmt: skip
    return np.sqrt(_var(a, axis, dtype, out, ddof, keepdims, where, mean, correction))


def _no_where(name, where):
    # out= never reaches a handler: __array_function__, __array_ufunc__ and the methods write
    # the result into it (core.trace._write_out).
    if where is not None and where is not True:
        raise NoRuleError(
            f"np.{name}(..., where=...) has no rule in wengert. Mask the input instead: "
            f"np.{name}(np.where(mask, x, neutral)). {ERRORS_DOC}"
        )


# -- max / min -----------------------------------------------------------------------------
def _extremum(np_fn, name):
    def impl(x, *, axis, keepdims):
        return np_fn(x, axis=axis, keepdims=keepdims)

    def mask(x, ans, axis, keepdims):
        m = x == restore_dims(ans, x, axis, keepdims)
        return (m / np.sum(m, axis=axis, keepdims=True)).astype(ans.dtype)

    def jvp(ts, ans, x, *, axis, keepdims):
        return np.sum(ts[0] * mask(x, ans, axis, keepdims), axis=axis, keepdims=keepdims)

    def vjp(g, ans, which, x, *, axis, keepdims):
        return (restore_dims(g, x, axis, keepdims) * mask(x, ans, axis, keepdims),)

    prim = declare(name, impl, jvp=jvp, vjp=vjp, batch=_sum_batch, spec={"cases": _sum_cases})
    handler = _reducer(prim, name, np.maximum if name == "max" else np.minimum)

    def extremum(a, axis=None, out=None, keepdims=False, initial=None, where=None, dtype=None):
        return handler(a, axis, dtype, out, keepdims, initial, where)

    return extremum


_max = _extremum(np.max, "max")
_min = _extremum(np.min, "min")


# -- scans ---------------------------------------------------------------------------------
def _flip_cumsum(g, axis):
    # The transpose of a running sum is a running sum taken from the other end.
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _cumsum_batch(prim):
    def batch(args, batched, size, *, axis):
        return prim.bind(args[0], axis=axis + 1)

    return batch


def _scan_cases(rng):
    return [((rng.uniform(0.5, 1.5, (3, 4)),), dict(axis=a)) for a in (0, 1)]


cumsum_p = linear(
    "cumsum",
    lambda x, *, axis: np.cumsum(x, axis=axis),
    lambda g, ans, which, x, *, axis: (_flip_cumsum(g, axis),),
    batch=_cumsum_batch,
    spec={"cases": _scan_cases},
)

def _first_zero_split(x, axis):
    """cumprod(x) = cumprod(x1) * m, with x1 = x but for its first zero along ``axis`` made 1,
    and m = x at that zero from there on (1 before it). Rows with no zero: x1 = x, m = 1.
    Applied until no zero is left, it gives cumprod's rules without dividing by a zero, at
    every order (each factor is differentiable)."""
    n = shape_of(x)[axis]
    k = np.reshape(np.arange(n), (n,) + (1,) * (ndim_of(x) - axis - 1))
    zero = x == 0
    z = np.where(np.any(zero, axis=axis, keepdims=True),
                 np.argmax(zero, axis=axis, keepdims=True), n)  # fmt: skip
    x_z = np.take_along_axis(x, np.minimum(z, n - 1), axis=axis)
    x1 = np.where(k == z, 1.0, x)
    m = np.where(k >= z, x_z, 1.0)
    return x1, m, k, z


def _has_zero(x) -> bool:
    return bool(np.any(unwrap_all(x) == 0))


def _cumprod_jvp(ts, ans, x, *, axis):
    t = ts[0]
    if not _has_zero(x):
        return ans * np.cumsum(t / x, axis=axis)
    x1, m, k, z = _first_zero_split(x, axis)
    y1 = np.cumprod(x1, axis=axis)
    t1 = np.where(k == z, 0.0, t)
    t_z = np.take_along_axis(t, np.minimum(z, shape_of(x)[axis] - 1), axis=axis)
    return _cumprod_jvp((t1,), y1, x1, axis=axis) * m + y1 * np.where(k >= z, t_z, 0.0)


def _cumprod_vjp(g, ans, which, x, *, axis):
    if not _has_zero(x):
        return (_flip_cumsum(g * ans, axis) / x,)
    x1, m, k, z = _first_zero_split(x, axis)
    y1 = np.cumprod(x1, axis=axis)
    (g1,) = _cumprod_vjp(g * m, y1, (0,), x1, axis=axis)
    g_z = np.sum(np.where(k >= z, g * y1, 0.0), axis=axis, keepdims=True)
    return (np.where(k == z, g_z, g1),)


def _cumprod_cases(rng):
    x = rng.uniform(0.5, 1.5, (3, 4))
    zeros = x.copy()
    zeros[0, 1] = zeros[1, 0] = zeros[2, 1] = zeros[2, 3] = 0.0  # one, first, and two zeros
    return [((x,), dict(axis=0)), ((x,), dict(axis=1)), ((zeros,), dict(axis=1))]


cumprod_p = declare(
    "cumprod",
    lambda x, *, axis: np.cumprod(x, axis=axis),
    jvp=_cumprod_jvp,
    vjp=_cumprod_vjp,
    batch=_cumsum_batch,
    spec={"cases": _cumprod_cases},
)


def _scan(prim):
    def handler(a, axis=None, dtype=None, out=None):
        if axis is None:
            a = np.ravel(a)
            axis = 0
        r = prim.bind(a, axis=norm_axis(axis, ndim_of(a))[0])
        return r if dtype is None else r.astype(dtype)

    return handler


_cumsum = _scan(cumsum_p)
_cumprod = _scan(cumprod_p)


def _exclusive_prods(x):
    """Product of all *other* entries along the last axis (no division: exact at zeros)."""
    ones = np.ones_like(x[..., :1])
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, np.flip(x, -1)[..., :-1]], axis=-1), axis=-1)
    return left * np.flip(right, -1)


def _prod_vjp(g, ans, which, x, *, axis, keepdims):
    axes = _all_axes(axis, ndim_of(x))
    # Reduce over several axes by moving them to the end and flattening them into one.
    shape = shape_of(x)
    keep = [a for a in range(len(shape)) if a not in axes]
    xt = np.reshape(np.transpose(x, keep + list(axes)), tuple(shape[a] for a in keep) + (-1,))
    others = _exclusive_prods(xt)
    inv = np.argsort(keep + list(axes))
    others = np.transpose(
        np.reshape(others, tuple(shape[a] for a in keep) + tuple(shape[a] for a in axes)), inv
    )
    return (restore_dims(g, x, axis, keepdims) * others,)


def _prod_jvp(ts, ans, x, *, axis, keepdims):
    (g,) = _prod_vjp(np.ones_like(ans), ans, (0,), x, axis=axis, keepdims=keepdims)
    return np.sum(ts[0] * g, axis=axis, keepdims=keepdims)


def _prod_cases(rng):
    x = rng.uniform(0.5, 1.5, (3, 4))
    return [((x,), dict(axis=a, keepdims=k)) for a in (None, (0,), (1,)) for k in (0, 1)]


prod_p = declare(
    "prod",
    lambda x, *, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    jvp=_prod_jvp,
    vjp=_prod_vjp,
    batch=_sum_batch,
    spec={"cases": _prod_cases},
)


_prod = _reducer(prod_p, "prod", lambda r, initial: r * initial)


def _axis_cases(*kwargs):
    """One (2, 3) array per case, reduced with each of ``kwargs``."""
    return lambda rng: [((rng.standard_normal((2, 3)),), kw) for kw in kwargs]


_KEEP = {"axis": 1, "keepdims": True}
for _fn, _h, _cases in [
    (np.sum, _sum, _axis_cases({}, _KEEP, {"axis": 0, "initial": 1.5})),
    (np.mean, _mean, _axis_cases({}, _KEEP)),
    (np.var, _var, _axis_cases({}, {"axis": 0, "ddof": 1})),
    (np.std, _std, _axis_cases({"axis": 1}, {"correction": 1, "keepdims": True})),
    (np.prod, _prod, _axis_cases({}, {"axis": 0})),
    (np.max, _max, _axis_cases({}, _KEEP)), (np.amax, _max, _axis_cases({"axis": 0})),
    (np.min, _min, _axis_cases({}, _KEEP)), (np.amin, _min, _axis_cases({"axis": 0})),
    (np.cumsum, _cumsum, _axis_cases({}, {"axis": 1})),
    (np.cumprod, _cumprod, _axis_cases({}, {"axis": 0})),
]:  # fmt: skip
    defun(_fn, _h, cases=_cases)

__all__ = ["norm_axis", "restore_dims", "sum_p", "positive", "real"]


# -- ufunc methods: np.add.reduce(x, axis) and friends are the reductions above ------------
def _ufunc_reduce(handler):
    def reduce(a, axis=0, dtype=None, out=None, keepdims=False, **kw):
        return handler(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    return reduce


for _uf, _h in [(np.add, _sum), (np.multiply, _prod), (np.maximum, _max), (np.minimum, _min)]:
    ufunc_method_rules[(_uf, "reduce")] = _ufunc_reduce(_h)
for _uf, _h in [(np.add, _cumsum), (np.multiply, _cumprod)]:
    ufunc_method_rules[(_uf, "accumulate")] = (
        lambda h: lambda a, axis=0, dtype=None, out=None: h(a, axis=axis, dtype=dtype, out=out)
    )(_h)
