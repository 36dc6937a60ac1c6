"""Reductions and scans along axes: sum, prod, max/min, cumsum/cumprod, and the ones built
from them (mean, var, std).

Conventions:
- ``max``/``min`` at ties: the cotangent is shared equally among the tied maxima (JAX's
  choice; PyTorch's ``amax`` agrees), so the gradient of ``max`` sums to one.
- ``prod`` uses the product of the *other* entries (exclusive cumulative products), so its
  first derivatives are exact where some entries are zero. ``cumprod``'s rules divide by
  ``x`` and give ``nan`` (never a wrong number) where an entry is exactly zero, and so does
  the second derivative of ``prod``, which goes through ``cumprod``.
"""

from __future__ import annotations

import numpy as np

from wengert.core.trace import ERRORS_DOC, ufunc_method_rules
from wengert.errors import NoRuleError, TracerConversionError
from wengert.numpy._family import (
    declare,
    defun,
    linear,
    ndim_of,
    positive,
    real,
    shape_of,
)


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


sum_p = linear(
    "sum",
    lambda x, *, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    _sum_vjp,
    batch=_sum_batch,
    spec={"cases": _sum_cases},
)


def _reducer(prim, name, with_initial):
    """The NumPy-signature handler of a reduction primitive."""

    def handler(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _no_out(name, out, where)
        r = prim.bind(a, axis=norm_axis(axis, ndim_of(a)), keepdims=bool(keepdims))
        if initial is not None:
            r = with_initial(r, initial)
        return r if dtype is None else r.astype(dtype)

    return handler


_sum = _reducer(sum_p, "sum", lambda r, initial: r + initial)


def _count(x, axis):
    shape = shape_of(x)
    n = 1
    for a in _all_axes(norm_axis(axis, len(shape)), len(shape)):
        n *= shape[a]
    return n


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _no_out("mean", out, where)
    return _sum(a, axis, dtype, keepdims=keepdims) / _count(a, axis)


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):  # fmt: skip
    _no_out("var", out, where)
    if correction is not None:
        ddof = correction
    d = a - _mean(a, axis, keepdims=True)
    sq = np.real(d * np.conj(d)) if np.iscomplexobj(d) else d * d
    return _sum(sq, axis, dtype, keepdims=keepdims) / (_count(a, axis) - ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):  # fmt: skip
    return np.sqrt(_var(a, axis, dtype, out, ddof, keepdims, where, mean, correction))


def _no_out(name, out, where=None):
    if out is not None:
        raise TracerConversionError(
            f"np.{name}(..., out=...) would write a traced result into an array and drop its "
            f"derivative. Use the returned value instead: y = np.{name}(...). {ERRORS_DOC}"
        )
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

cumprod_p = declare(
    "cumprod",
    lambda x, *, axis: np.cumprod(x, axis=axis),
    jvp=lambda ts, ans, x, *, axis: ans * np.cumsum(ts[0] / x, axis=axis),
    vjp=lambda g, ans, which, x, *, axis: (_flip_cumsum(g * ans, axis) / x,),
    batch=_cumsum_batch,
    spec={"cases": _scan_cases},
)


def _scan(prim, name):
    def handler(a, axis=None, dtype=None, out=None):
        _no_out(name, out)
        if axis is None:
            a = np.ravel(a)
            axis = 0
        r = prim.bind(a, axis=norm_axis(axis, ndim_of(a))[0])
        return r if dtype is None else r.astype(dtype)

    return handler


_cumsum = _scan(cumsum_p, "cumsum")
_cumprod = _scan(cumprod_p, "cumprod")


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


for _fn, _h in [
    (np.sum, _sum), (np.mean, _mean), (np.var, _var), (np.std, _std), (np.prod, _prod),
    (np.max, _max), (np.amax, _max), (np.min, _min), (np.amin, _min),
    (np.cumsum, _cumsum), (np.cumprod, _cumprod),
]:  # fmt: skip
    defun(_fn, _h)

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
