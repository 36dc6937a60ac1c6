"""Indexing: ``x[idx]`` (``getitem``), ``np.take``, ``take_along_axis``, and the NumPy
functions built from them (``sort``, ``partition``, ``choose``, ``compress``, ``extract``,
``trim_zeros``; ``split``, ``hsplit``, ``vsplit``, ``dsplit`` and ``flip`` are slices).

All of these are linear: their JVP is the op itself, their VJP its transpose. Indexing's
transpose is ``untake``, which adds a cotangent into zeros at the indexed places; repeated
integer indices accumulate (``np.add.at``), so ``x[[0, 0]]`` has derivative 2 at ``x[0]``.
A first-order cotangent stays sparse (``IndexedCotangent``) until the backward pass adds it
into its accumulator. Index arrays that ``vmap`` batches go through ``index_dyn``, where
they are arguments the batching trace sees.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from wengert.core.batching import BatchTracer
from wengert.core.reverse import Negated, SparseCotangent
from wengert.core.trace import Tracer
from wengert.numpy import _residuals
from wengert.numpy._family import (
    declare,
    defun,
    linear,
    ndim_of,
    operand,
    shape_of,
    unwrap_all,
)
from wengert.numpy.shape import (
    _NONE,
    _2x3,
    _broadcast_to,
    _cases_with,
    _ravel,
    _stack,
    norm_axis_list,
    value_shaped,
)


# -- indexing ------------------------------------------------------------------------------
def _raw_index(i):
    """An index element with any traced integer arrays replaced by their values (indices
    are not differentiated)."""
    if isinstance(i, Tracer):
        return unwrap_all(i)
    if isinstance(i, list):
        return np.array([_raw_index(k) for k in i]) if i and isinstance(i[0], Tracer) else np.asarray(i)
    return i


def norm_index(idx):
    idx = idx if isinstance(idx, tuple) else (idx,)
    return tuple(_raw_index(i) for i in idx)


def _is_advanced(i):
    return isinstance(i, np.ndarray) or (isinstance(i, (bool, np.bool_)))


def _advanced_moved_front(idx):
    """Whether NumPy will put the advanced-index axes first (advanced indices, counting
    integers, that are not adjacent), and how many axes they make."""
    pos = [k for k, i in enumerate(idx) if _is_advanced(i) or isinstance(i, (int, np.integer))]
    if not any(_is_advanced(idx[k]) for k in pos):
        return False, 0
    if pos == list(range(pos[0], pos[0] + len(pos))):
        return False, 0
    shapes = [np.shape(np.nonzero(i)[0]) if getattr(i, "dtype", None) == bool else np.shape(i) for i in (idx[k] for k in pos)]
    return True, len(np.broadcast_shapes(*shapes))


def _is_basic(idx):
    return not any(_is_advanced(i) for i in idx)


def _getitem_batch(prim):
    def batch(args, batched, size, *, idx):
        out = prim.bind(args[0], idx=(slice(None),) + idx)
        moved, k = _advanced_moved_front(idx)
        return np.moveaxis(out, k, 0) if moved else out

    return batch


def _zeros_spec(x):
    return (unwrap_all(x), shape_of(x), x.dtype if hasattr(x, "dtype") else np.result_type(x))


class IndexedCotangent(SparseCotangent):
    """The cotangent of ``x`` from ``x[idx]``: ``g`` at ``idx``, zero elsewhere."""

    __slots__ = ("g", "idx", "like")
    negatable = True

    def __init__(self, g, idx, like):
        self.g, self.idx, self.like = g, idx, like

    def materialize(self):
        return _untake_impl(self.g, idx=self.idx, like=self.like)

    def combine(self, other):
        # The same entries twice (x[:-1] used twice): the sum is written once into a fresh
        # array, which the backward pass then owns, not zeros, a copy and an add. The other
        # may be negated (x[:-1] in ``1 - x[:-1]``): then the difference, as cheap.
        op = np.add
        if type(other) is Negated:
            other, op = other.g, np.subtract
        idx = self.idx
        if type(other) is not IndexedCotangent or not _is_basic(idx) \
                or not _is_basic(other.idx) or other.idx != idx:  # fmt: skip
            return NotImplemented
        raw, shape, dtype = self.like
        rest = _outside(idx, shape)
        if rest is None:
            return NotImplemented
        g, h = self.g, other.g
        out = np.empty_like(raw, shape=shape, dtype=np.result_type(dtype, g, h))
        at = out[idx]
        if type(at) is np.ndarray:
            op(g, h, out=at)
        else:  # a single entry
            out[idx] = op(g, h)
        for r in rest:
            out[r] = 0
        return out

    def add_into(self, acc) -> bool:
        return self._into(acc, np.add)

    def subtract_into(self, acc) -> bool:
        return self._into(acc, np.subtract)

    def _into(self, acc, op) -> bool:
        g = self.g
        # The accumulator may be a broadcastable stand-in, smaller than the value (a sum's
        # unexpanded cotangent): indexing into it would reach every entry it stands for.
        if acc.shape != self.like[1] or np.result_type(acc, g) != acc.dtype:
            return False
        if _is_basic(self.idx):
            at = acc[self.idx]
            if type(at) is np.ndarray:
                op(at, g, out=at)
            else:
                acc[self.idx] = op(at, g)
        else:
            op.at(acc, self.idx, g)
        return True


def _getitem_vjp(g, ans, which, x, *, idx):
    if type(g) is np.ndarray or isinstance(g, np.generic):
        # A plain cotangent (first order) stays sparse until the backward pass adds it into
        # its accumulator; a traced one (higher order) goes through untake to be recorded.
        return (IndexedCotangent(g, idx, _zeros_spec(x)),)
    return (untake_p.bind(g, idx=idx, like=_zeros_spec(x)),)


getitem_p = linear(
    "getitem",
    lambda x, *, idx: x[idx],
    _getitem_vjp,
    batch=_getitem_batch,
    spec={
        "cases": lambda rng: [
            ((rng.standard_normal((4, 5)),), dict(idx=(slice(1, None), slice(None, None, 2)))),
            ((rng.standard_normal((4, 5)),), dict(idx=(np.array([0, 2, 0]),))),
            ((rng.standard_normal((4, 5)),), dict(idx=(Ellipsis, 1))),
            ((rng.standard_normal((4, 5)),), dict(idx=(None, 2, slice(None)))),
            ((rng.standard_normal((4, 5)),), dict(idx=(np.arange(4) % 2 == 0,))),
        ]
    },
)


def _untake_impl(g, *, idx, like):
    raw, shape, dtype = like
    dtype = np.result_type(dtype, g)
    if _is_basic(idx):
        # A large array is not zeroed under g: g is written, then zeros around it.
        rest = _outside(idx, shape) if math.prod(shape) >= _residuals.BIG else None
        if rest is not None:
            out = np.empty_like(raw, shape=shape, dtype=dtype)
            out[idx] = g
            for r in rest:
                out[r] = 0
            return out
        out = np.zeros_like(raw, shape=shape, dtype=dtype)
        out[idx] = g
        return out
    out = np.zeros_like(raw, shape=shape, dtype=dtype)
    np.add.at(out, idx, g)
    return out


def _outside(idx, shape):
    """Basic indices that together reach every entry of an array of ``shape`` that the basic
    index ``idx`` does not (they may overlap), or None where a step other than 1 or -1 leaves
    gaps."""
    if any(i is Ellipsis for i in idx):
        k = next(n for n, i in enumerate(idx) if i is Ellipsis)
        used = sum(1 for i in idx if i is not None and i is not Ellipsis)
        idx = idx[:k] + (slice(None),) * (len(shape) - used) + idx[k + 1:]
    pieces, axis = [], 0
    for i in idx:
        if i is None:
            continue
        n = shape[axis]
        if type(i) is slice:
            start, stop, step = i.indices(n)
            if step == -1:
                start, stop = stop + 1, start + 1
            elif step != 1:
                return None
        else:  # an integer
            start = operator.index(i) % n
            stop = start + 1
        lead = (slice(None),) * axis
        if stop <= start:
            return [()]  # nothing selected: all of it is outside
        if start > 0:
            pieces.append(lead + (slice(0, start),))
        if stop < n:
            pieces.append(lead + (slice(stop, None),))
        axis += 1
    return pieces


def _untake_batch(prim):
    def batch(args, batched, size, *, idx, like):
        raw, shape, dtype = like
        g = args[0]
        moved, k = _advanced_moved_front(idx)
        if moved:
            g = np.moveaxis(g, 0, k)
        return prim.bind(g, idx=(slice(None),) + idx, like=(raw, (size,) + shape, dtype))

    return batch


untake_p = linear(
    "untake",
    _untake_impl,
    lambda g, ans, which, x, *, idx, like: (getitem_p.bind(g, idx=idx),),
    batch=_untake_batch,
    spec={
        "cases": lambda rng: [
            ((rng.standard_normal((3,)),), dict(idx=(np.array([0, 2, 0]),), like=(np.zeros(4), (4,), np.float64))),
            ((rng.standard_normal((2, 5)),), dict(idx=(slice(1, 3),), like=(np.zeros((4, 5)), (4, 5), np.float64))),
        ]
    },
)


def _index_dyn_impl(x, *arrays, template):
    return x[_fill(template, arrays)]


def _fill(template, arrays):
    it = iter(arrays)
    return tuple(next(it) if i is _SLOT else i for i in template)


_SLOT = object()


# Indexing with index arrays that vmap batches (each batch member picks its own entries):
# the index arrays are arguments here, so the batching trace sees them; they are never
# differentiated.
index_dyn_p = declare(
    "index_dyn",
    _index_dyn_impl,
    jvp=lambda ts, ans, x, *arrays, template: (
        None if ts[0] is None else _index_dyn_impl(ts[0], *arrays, template=template)
    ),
    vjp=lambda g, ans, which, x, *arrays, template: [
        untake_dyn_p.bind(g, *arrays, template=template, like=_zeros_spec(x)) if k == 0 else None
        for k in which
    ],
    spec={"cases": lambda rng: [((rng.standard_normal((4, 3)), np.array([2, 0, 2])),
                                 dict(template=(_SLOT,)))]},  # fmt: skip
)
untake_dyn_p = declare(
    "untake_dyn",
    lambda g, *arrays, template, like: _untake_impl(g, idx=_fill(template, arrays), like=like),
    jvp=lambda ts, ans, g, *arrays, template, like: (
        None if ts[0] is None else untake_dyn_p.bind(ts[0], *arrays, template=template, like=like)
    ),
    vjp=lambda g, ans, which, x, *arrays, template, like: [
        index_dyn_p.bind(g, *arrays, template=template) if k == 0 else None for k in which
    ],
    spec={"cases": lambda rng: [((rng.standard_normal((3, 3)), np.array([2, 0, 2])),
                                 dict(template=(_SLOT,), like=(np.zeros((4, 3)), (4, 3),
                                                               np.float64)))]},  # fmt: skip
)


def _batched(i) -> bool:
    while isinstance(i, Tracer):
        if isinstance(i, BatchTracer):
            return True
        i = i.primal
    return False


def getitem(x, idx):
    parts = idx if isinstance(idx, tuple) else (idx,)
    if any(_batched(i) for i in parts):
        arrays = [i for i in parts if isinstance(i, Tracer)]
        template = tuple(_SLOT if isinstance(i, Tracer) else _raw_index(i) for i in parts)
        return index_dyn_p.bind(x, *arrays, template=template)
    idx = norm_index(idx)
    out = getitem_p.bind(x, idx=idx)
    # NumPy gives a view (an array, not a scalar, even 0-d when the index holds an Ellipsis):
    # writes into it reach x (numpy/inplace.py).
    if isinstance(out, Tracer) and _is_basic(idx) and (out.shape or Ellipsis in idx):
        out._base = (x, idx)
    return out


# -- slicing: split and flip ------------------------------------------------------------
def _split(ary, indices_or_sections, axis=0):
    n = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if n % k:
            raise ValueError("array split does not result in an equal division")
        bounds = list(range(0, n, n // k)) + [n]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    axis = axis % ndim_of(ary)
    pre = (slice(None),) * axis
    return [getitem(ary, pre + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _flip(m, axis=None):
    nd = ndim_of(m)
    axes = range(nd) if axis is None else norm_axis_list(axis, nd)
    idx = [slice(None)] * nd
    for a in axes:
        idx[a] = slice(None, None, -1)
    return getitem(m, tuple(idx))


def _split_along(axis, least):
    def handler(ary, indices_or_sections):
        nd = ndim_of(ary)
        if nd < least:
            raise ValueError(f"this split only works on arrays of {least} or more dimensions, "
                             f"not shape {shape_of(ary)}")  # fmt: skip
        return _split(ary, indices_or_sections, axis if axis != 1 or nd > 1 else 0)

    return handler


def _compress(condition, a, axis=None, out=None):
    if axis is None:
        a, axis = _ravel(a), 0
    keep = value_shaped(condition, "compress", lambda c: np.nonzero(c)[0])  # short: False
    return _take(a, keep, axis=axis)


def _extract(condition, arr):
    return _take(_ravel(arr), value_shaped(condition, "extract", np.flatnonzero))


def _choose(a, choices, out=None, mode="raise"):
    # Each entry from the choice that ``a`` names: a gather over the stacked choices.
    cs = [operand(c) for c in choices] if isinstance(choices, (list, tuple)) else list(choices)
    a = unwrap_all(a)
    if mode == "wrap":
        a = np.mod(a, len(cs))
    elif mode == "clip":
        a = np.clip(a, 0, len(cs) - 1)
    elif np.any((a < 0) | (a >= len(cs))):
        raise ValueError("invalid entry in choice array")
    shape = np.broadcast_shapes(np.shape(a), *(shape_of(c) for c in cs))
    stacked = _stack([_broadcast_to(c, shape) for c in cs])
    return _take_along_axis(stacked, np.broadcast_to(a, shape)[None], axis=0)[0]


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    # The fully sorted array: a valid partition for every kth. NumPy leaves the order on
    # each side of kth unspecified, so the values there may be in another order than NumPy's.
    return _sort(a, axis=axis)


def _trim_zeros(filt, trim="fb", axis=None):
    # The slice NumPy takes, found on the values; the slicing is differentiated.
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    filt = operand(filt)
    nd = ndim_of(filt)
    axes = range(nd) if axis is None else norm_axis_list(axis, nd)

    def bounds(raw):
        found = np.argwhere(raw)
        if len(found) == 0:
            return [(0, 0) if k in axes else (None, None) for k in range(nd)]
        lo, hi = found.min(axis=0), found.max(axis=0) + 1
        return [(lo[k] if "f" in trim else None, hi[k] if "b" in trim else None)
                if k in axes else (None, None) for k in range(nd)]  # fmt: skip

    return getitem(filt, tuple(slice(*b) for b in value_shaped(filt, "trim_zeros", bounds)))


# -- take_along_axis (and the sorts built on it) ----------------------------------------------
def _along_index(idx, axis):
    """The full index tuple that np.take_along_axis(., idx, axis) reads: aranges for every
    other axis (broadcast), ``idx`` for ``axis``."""
    nd = np.ndim(idx)
    out = []
    for k in range(nd):
        if k == axis:
            out.append(idx)
        else:
            shape = [1] * nd
            shape[k] = np.shape(idx)[k]
            out.append(np.arange(np.shape(idx)[k]).reshape(shape))
    return tuple(out)


def _untake_along_impl(g, idx, *, axis, like):
    raw, shape, dtype = like
    out = np.zeros_like(raw, shape=shape, dtype=np.result_type(dtype, g))
    np.add.at(out, _along_index(idx, axis), g)  # repeated indices accumulate
    return out


def _along_batch(prim, like_param=False):
    def batch(args, batched, size, *, axis, **params):
        a, idx = args
        if not batched[0] and not like_param:
            a = np.broadcast_to(a, (size,) + shape_of(a))
        if not batched[1]:
            idx = np.broadcast_to(idx, (size,) + np.shape(idx))
        if like_param:
            raw, shape, dtype = params["like"]
            params = {"like": (raw, (size,) + shape, dtype)}
            if not batched[0]:
                a = np.broadcast_to(a, (size,) + shape_of(a))
        return prim.bind(a, idx, axis=axis + 1, **params)

    return batch


def _along_cases(rng):
    x = rng.standard_normal((3, 4))
    return [((x, np.argsort(x, axis=1)), dict(axis=1)), ((x, np.array([[2, 0, 1, 0]])), dict(axis=0))]


take_along_axis_p = declare(
    "take_along_axis",
    lambda a, idx, *, axis: np.take_along_axis(a, idx, axis=axis),
    jvp=lambda ts, ans, a, idx, *, axis: (
        None if ts[0] is None else take_along_axis_p.bind(ts[0], idx, axis=axis)
    ),
    vjp=lambda g, ans, which, a, idx, *, axis: [
        untake_along_p.bind(g, idx, axis=axis, like=_zeros_spec(a)) if k == 0 else None
        for k in which
    ],
    batch=_along_batch,
    spec={"cases": _along_cases, "nondiff_args": (1,)},
)
untake_along_p = declare(
    "untake_along",
    _untake_along_impl,
    jvp=lambda ts, ans, g, idx, *, axis, like: (
        None if ts[0] is None else untake_along_p.bind(ts[0], idx, axis=axis, like=like)
    ),
    vjp=lambda g, ans, which, x, idx, *, axis, like: [
        take_along_axis_p.bind(g, idx, axis=axis) if k == 0 else None for k in which
    ],
    batch=lambda prim: _along_batch(prim, like_param=True),
    spec={"cases": lambda rng: [((rng.standard_normal((3, 4)), np.array([[0, 0, 1, 3]] * 3)),
                                 dict(axis=1, like=(np.zeros((3, 4)), (3, 4), np.float64)))],
          "nondiff_args": (1,)},  # fmt: skip
)


def _take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, axis = _ravel(arr), 0
    return take_along_axis_p.bind(arr, indices, axis=axis % ndim_of(arr))


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    # Values follow the stable sort's order, so tied entries keep their derivatives in
    # input order (JAX and PyTorch route ties by their sort indices too).
    if axis is None:
        a, axis = _ravel(a), 0
    idx = np.argsort(a, axis=axis, kind="stable")
    return _take_along_axis(a, idx, axis)


def _take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        return getitem(_ravel(a), (indices,))
    return getitem(a, (slice(None),) * (axis % ndim_of(a)) + (indices,))


def _take_along_cases(rng):
    x = rng.standard_normal((3, 4))
    return [((x, np.argsort(x, axis=1)), {"axis": 1}), ((x, np.array([[2, 0, 1, 0]])), {"axis": 0})]


def _choose_cases(rng):
    r = rng.standard_normal
    # The choices as one array (see shape._sequence_cases), broadcast against the index array.
    return [((np.array([[0, 2, 1], [1, 0, 0]]), r((3, 3))), {}),
            ((np.array([0, 3, -1]), r((2, 3))), {"mode": "wrap"})]  # fmt: skip


for _fn, _h, _cases in [
    (np.split, _split, _cases_with((4, 3), ((2,), {}), (([1],), {"axis": 1}))),
    (np.flip, _flip, _cases_with(_2x3, _NONE, ((), {"axis": 1}))),
    (np.take_along_axis, _take_along_axis, _take_along_cases),
    (np.sort, _sort, _cases_with((3, 4), _NONE, ((), {"axis": 0}))),
    (np.take, _take, _cases_with((3, 4), ((np.array([2, 0, 2]),), {"axis": 1}),
                                 ((np.array([[5, 1]]),), {}))),
    (np.hsplit, _split_along(1, 1), _cases_with((2, 4), ((2,), {}))),
    (np.vsplit, _split_along(0, 2), _cases_with((4, 2), (([1, 3],), {}))),
    (np.dsplit, _split_along(2, 3), _cases_with((1, 2, 4), ((2,), {}))),
    (np.compress, _compress, lambda rng: [((np.array([True, False, True]), rng.standard_normal(
        (3, 2))), {"axis": 0}), ((np.array([False, True]), rng.standard_normal((2, 2))), {})]),
    (np.extract, _extract, lambda rng: [((np.array([[True, False], [False, True]]),
                                          rng.standard_normal((2, 2))), {})]),
    (np.choose, _choose, _choose_cases),
    (np.partition, _partition, _cases_with((2, 4), ((1,), {}), ((0,), {"axis": 0}))),
    # Perturbing a zero moves trim_zeros' cut, so finite differences cannot check it; its
    # test is in tests/test_numpy_more.py.
    (np.trim_zeros, _trim_zeros, None),
]:  # fmt: skip
    defun(_fn, _h, cases=_cases)
