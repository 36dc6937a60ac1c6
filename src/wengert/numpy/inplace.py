"""In-place writes on traced arrays: ``x[idx] = y``, ``x[idx] += y``, ``x += y``,
``np.add.at(x, idx, y)``, ``np.add(a, b, out=x)``, ``x.fill(v)``, ``x.sort()``.

Each write is recorded as a functional update (the primitive ``setitem`` returns a new array,
as JAX's ``x.at[idx].set(y)``), and the tracer ``x`` is then made to stand for the new value
(``core.trace.rebind``), so every reference to ``x`` sees the write, as in NumPy, while the
operations that read the old value keep it. Loops that fill a state array differentiate:

    s = np.zeros_like(x)          # traced: x is
    for i in range(1, n):
        s[i] = s[i - 1] * x[i] + 1

Conventions and limits:

- Repeated integer indices in ``x[idx] = y``: the last write wins, as NumPy does; the
  overwritten entries of ``y`` get a zero derivative. ``x[idx] += y`` reads then writes, so a
  repeated index adds once (NumPy's behaviour); ``np.add.at`` accumulates every repeat.
- A view made by basic indexing (``row = x[i]``, ``x[1:3]``) writes through to the array it
  was taken from, so ``x[i][j] = v`` and ``row = x[i]; row[j] = v`` update ``x``. Other views
  (reshape, transpose, ravel...) refuse writes with a WriteError. A view taken *before* a
  write into its base keeps the old values (NumPy's would see the write).
- ``np.zeros_like``, ``np.ones_like``, ``np.full_like`` and ``np.empty_like`` of a traced
  array are traced (with a zero derivative), so they accept traced writes; a traced value
  written into a plain ndarray raises the error that says to start from them.
- Under ``vmap``, index arrays must not be batched, except a boolean mask of the array's
  full shape with a scalar value (``x[x < 0] = 0``), which becomes ``np.where``.
"""

from __future__ import annotations

import numpy as np

from wengert.core import trace as _trace
from wengert.core.trace import ERRORS_DOC, Tracer, rebind, ufunc_method_rules
from wengert.errors import WriteError
from wengert.numpy._family import fit, linear, ndim_of, operand, shape_of
from wengert.numpy._residuals import shapes_only
from wengert.numpy.indexing import (
    _advanced_moved_front,
    _batched,
    _is_basic,
    _zeros_spec,
    getitem,
    norm_index,
    untake_p,
)


def _indexed_shape(shape, idx):
    """The shape of ``x[idx]`` for an array of ``shape``, without touching its data."""
    return np.broadcast_to(np.int8(0), shape)[idx].shape


def _survivors(shape, idx):
    """Which entries of ``y`` in ``x[idx] = y`` land in the result (repeated integer indices:
    only the last write survives in NumPy), or None when all do. Asks NumPy itself, so it is
    exact whatever order NumPy writes in."""
    if _is_basic(idx) or all(getattr(i, "dtype", None) == bool for i in idx):
        return None
    board = np.full(shape, -1, dtype=np.intp)
    sub = _indexed_shape(shape, idx)
    ids = np.arange(int(np.prod(sub))).reshape(sub)
    board[idx] = ids
    kept = board[idx] == ids
    return None if kept.all() else kept


def _set_impl(x, y, *, idx):
    out = np.copy(x)
    out[idx] = y
    return out


def _set_vjp(g, ans, which, x, y, *, idx):
    out = []
    for k in which:
        if k == 0:  # the entries written over get nothing
            out.append(setitem_p.bind(g, 0.0, idx=idx))
        else:
            gy = getitem(g, idx)
            kept = _survivors(shape_of(x), idx)
            if kept is not None:
                gy = gy * kept
            out.append(fit(gy, y, gy))
    return out


def _set_batch(prim):
    def batch(args, batched, size, *, idx):
        x, y = args
        if not batched[0]:
            x = np.broadcast_to(x, (size,) + shape_of(x))
        if batched[1]:
            sub = _indexed_shape(shape_of(x)[1:], idx)
            ys = shape_of(y)[1:]
            y = np.reshape(y, (size,) + (1,) * (len(sub) - len(ys)) + ys)
            moved, k = _advanced_moved_front(idx)
            if moved:
                y = np.moveaxis(y, 0, k)
        return prim.bind(x, y, idx=(slice(None),) + idx)

    return batch


def _set_cases(rng):
    x = rng.standard_normal((4, 3))
    return [
        ((x, rng.standard_normal((2, 3))), dict(idx=(slice(1, 3),))),
        ((x, rng.standard_normal(3)), dict(idx=(np.array([0, 2, 0]),))),  # repeated: last wins
        ((x, rng.standard_normal(())), dict(idx=(rng.random((4, 3)) > 0.5,))),
        ((x, rng.standard_normal(2)), dict(idx=(np.array([1, 3]), 1))),
        ((x, rng.standard_normal((4, 2))), dict(idx=(slice(None), np.array([2, 0])))),
    ]


# Linear in (x, y) jointly: x with the entries at ``idx`` replaced by y.
setitem_p = linear("setitem", _set_impl, _set_vjp, batch=_set_batch, spec={"cases": _set_cases})
setitem_p.keep = shapes_only  # each version of an array written in a loop is freed once replaced


def _full_mask(x, idx):
    """The boolean mask when ``idx`` is one boolean array of x's whole shape."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    if len(parts) == 1 and getattr(parts[0], "dtype", None) == bool:
        if shape_of(parts[0]) == shape_of(x):
            return parts[0]
    return None


def _cast_like(new, x):
    """``new`` in x's dtype, as NumPy's in-place writes cast (refusing complex into real)."""
    dx, dn = x.dtype, getattr(new, "dtype", x.dtype)
    if dn == dx:
        return new
    if dn.kind == "c" and dx.kind != "c":
        raise TypeError(
            f"Cannot write complex values into the real array of shape {x.shape} ({dx}): "
            "NumPy refuses this cast too. Start from a complex array (x.astype(complex))."
        )
    return new.astype(dx)


def updated(x, idx, y):
    """``x`` with ``x[idx] = y`` applied, as a new value (what ``x[idx] = y`` records)."""
    y = operand(y)
    parts = idx if isinstance(idx, tuple) else (idx,)
    if any(_batched(i) for i in parts):
        mask = _full_mask(x, idx)
        if mask is not None and ndim_of(y) == 0:
            return _cast_like(np.where(mask, y, x), x)
        raise WriteError(
            f"x[idx] = y with index arrays batched by wg.vmap (array of shape {x.shape}) is "
            "not supported; only a boolean mask of the array's whole shape with a scalar "
            f"value is. Write np.where(mask, y, x) instead. {ERRORS_DOC}"
        )
    return setitem_p.bind(x, y, idx=norm_index(idx))


def write(x: Tracer, new) -> Tracer:
    """Make traced array ``x`` stand for ``new`` (an update of it), and write through to the
    array ``x`` is a basic-indexing view of."""
    base = getattr(x, "_base", None)
    if base is False:
        raise WriteError(
            f"A write into a traced view of shape {x.shape} made by reshape, transpose, ravel "
            "or a similar function: the write cannot reach the array it views. Write into "
            "that array with the matching index, or copy the view first (v = v.copy()). "
            f"{ERRORS_DOC}"
        )
    if not isinstance(new, Tracer) or new._trace.level < x._trace.level:
        new = np.zeros_like(x) + new  # a constant (x //= c): traced, with zero derivative
    if new.shape != x.shape:
        raise ValueError(
            f"cannot write a result of shape {new.shape} into the traced array of shape "
            f"{x.shape} (NumPy: non-broadcastable output operand)."
        )
    rebind(x, _cast_like(new, x))
    if base is not None:
        array, idx = base
        array[idx] = x
    return x


def __setitem__(self, idx, value):
    write(self, updated(self, idx, value))


def _in_place_op(op):
    def method(self, other):
        new = op(self, other)
        if len(self.shape) == 0 and not getattr(self, "_base", None):
            return new  # a traced scalar stands for a NumPy scalar: it rebinds
        return write(self, new)

    method.__name__ = f"__i{op.__name__}__"
    return method


_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
        "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
        "matmul": np.matmul}  # fmt: skip
for _name, _uf in _OPS.items():
    setattr(Tracer, f"__i{_name}__", _in_place_op(_uf))


def _at(sign):
    def handler(x, idx, y=None):
        if not isinstance(x, Tracer):
            raise _trace._conversion_error("np.add.at(ndarray, idx, traced)", y)
        nidx = norm_index(idx)
        y = np.broadcast_to(operand(y), _indexed_shape(shape_of(x), nidx))
        spread = untake_p.bind(y, idx=nidx, like=_zeros_spec(x))  # repeats accumulate
        write(x, x + spread if sign > 0 else x - spread)

    return handler


ufunc_method_rules[(np.add, "at")] = _at(1)
ufunc_method_rules[(np.subtract, "at")] = _at(-1)


_trace.out_hook = write  # np.ufunc(..., out=x) on a traced x

def _fill(self, value):
    write(self, np.full_like(self, value))


def _sort(self, axis=-1, kind=None, order=None):
    write(self, np.sort(self, axis=axis, kind=kind))


def _put(self, indices, values, mode="raise"):
    # NumPy's rules: values repeat cyclically over the indices; mode 'wrap' and 'clip' bring
    # out-of-range indices back, 'raise' refuses them.
    n = int(np.prod(self.shape))
    idx = np.ravel(np.asarray(indices))
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    values = np.ravel(operand(values))
    if len(idx) and shape_of(values)[0] != len(idx):
        values = values[np.arange(len(idx)) % shape_of(values)[0]]
    new = updated(np.ravel(self), idx, values)
    write(self, np.reshape(new, self.shape))


Tracer.__setitem__ = __setitem__
Tracer.fill, Tracer.sort, Tracer.put = _fill, _sort, _put
