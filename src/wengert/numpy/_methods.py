"""Python operators and ndarray methods of traced values, mapped to the primitives.

Operators bind their primitive directly (not through ``np.add(...)`` and NEP 13), which
saves a microsecond per operation on the hot path.
"""

from __future__ import annotations

import operator

import numpy as np

from wengert.core import reverse
from wengert.core import trace as _trace
from wengert.core.trace import (
    _NO_PARAMS,
    _PLAIN_SCALARS,
    Tracer,
    _speedups,
    function_rules,
    ufunc_rules,
)
from wengert.numpy.indexing import getitem
from wengert.numpy.select import astype

ndarray = np.ndarray


def from_objects(a):
    """An object array holding traced values (from ``np.array([t1, t2])``) as one traced
    array."""
    flat = [np.asarray(e) if not isinstance(e, Tracer) else e for e in a.ravel()]
    if not flat:
        return a.astype(float)
    return np.reshape(np.stack(flat), a.shape)


def coerce(x):
    """An operand made an array: object arrays and Python sequences holding tracers become
    one traced array, plain sequences an ndarray."""
    if type(x) is list or type(x) is tuple:
        x = np.array(x, dtype=object) if _holds_tracers(x) else np.asarray(x)
    if type(x) is ndarray and x.dtype.hasobject:
        return from_objects(x)
    return x


def _holds_tracers(seq) -> bool:
    return any(isinstance(e, Tracer) or (type(e) in (list, tuple) and _holds_tracers(e))
               for e in seq)  # fmt: skip


_COERCE = (list, tuple)


def _binop(ufunc, swap=False):
    # With a constant on the other side (the common case) the tracer's own trace is the
    # top one: go straight to it instead of searching the arguments in bind. Plain numbers
    # and arrays are recognised first, by exact type: a negative isinstance costs more.
    prim = ufunc_rules[ufunc]

    def method(self, other):
        to = type(other)
        if to in _PLAIN_SCALARS or (to is ndarray and not other.dtype.hasobject):
            return self._trace.process(prim, (other, self) if swap else (self, other), _NO_PARAMS)
        if isinstance(other, Tracer):
            args = (other, self) if swap else (self, other)
            if other._trace is self._trace:
                return self._trace.process(prim, args, _NO_PARAMS)
            return prim.bind(*args)
        if to in _COERCE or to is ndarray:  # sequences and object arrays holding tracers
            other = coerce(other)
            return prim.bind(other, self) if swap else prim.bind(self, other)
        return self._trace.process(prim, (other, self) if swap else (self, other), _NO_PARAMS)

    if _speedups is not None:  # the same in C; ``method`` for the cases it does not spell out
        # Arithmetic may write into a temporary operand's array (see _speedups.c, elision).
        elide = ufunc if ufunc in _ELIDED and prim.impl in (ufunc, _ELIDED[ufunc]) else None
        return _speedups.BinaryMethod(prim, swap, method, elide)
    return method


_ELIDED = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
           np.true_divide: operator.truediv, np.power: operator.pow}  # fmt: skip


def _unop(ufunc):
    prim = ufunc_rules[ufunc]

    def method(self):
        return self._trace.process(prim, (self,), _NO_PARAMS)

    return method


_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
}  # fmt: skip
for _name, _uf in _BINARY.items():
    setattr(Tracer, f"__{_name}__", _binop(_uf))
    setattr(Tracer, f"__r{_name}__", _binop(_uf, swap=True))


def _learn_operator_chains():
    # The C operators elide a temporary only when called the way a plain binary operator
    # calls them (_speedups.c, from_eval_stack): one traced expression per operator, each
    # way round, shows them that way here, elision thresholds lowered for the while.
    saved = reverse.ELIDE_BYTES, reverse.KEEP_MIN
    reverse.ELIDE_BYTES, reverse.KEEP_MIN = 0, 0
    trace = reverse.VJPTrace()
    _speedups.elision_learn(True)
    try:
        x = trace.new_input(np.full(2, 1.5))
        _ = (x * 1.0) + 2.0, 2.0 + (x * 1.0), (x * 1.0) - 2.0, 2.0 - (x * 1.0)
        _ = (x * 1.0) * 2.0, 2.0 * (x * 1.0), (x * 1.0) / 2.0, 2.0 / (x * 1.0)
        _ = (x * 1.0) ** 2.0, 2.0 ** (x * 1.0)
        _ = (x * 1.0) + (x * 2.0), (x * 1.0) - (x * 2.0), (x * 1.0) * (x * 2.0)
        _ = (x * 1.0) / (x * 2.0), (x * 1.0) ** (x * 2.0)
    finally:
        _speedups.elision_learn(False)
        trace.close()
        reverse.ELIDE_BYTES, reverse.KEEP_MIN = saved


if _speedups is not None:
    _learn_operator_chains()

for _name, _uf in {"lt": np.less, "le": np.less_equal, "gt": np.greater,
                   "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal}.items():  # fmt: skip
    setattr(Tracer, f"__{_name}__", _binop(_uf))

for _name, _uf in {"neg": np.negative, "pos": np.positive, "abs": np.absolute,
                   "invert": np.invert}.items():  # fmt: skip
    setattr(Tracer, f"__{_name}__", _unop(_uf))

# Object arrays of tracers call a method named after the ufunc on each element
# (np.sin(obj) calls obj[i].sin()); give them one for every elementwise op with a rule.
for _uf, _prim in list(ufunc_rules.items()):
    if _uf.nin == 1 and not hasattr(Tracer, _uf.__name__):
        setattr(Tracer, _uf.__name__, _unop(_uf))


def __getitem__(self, idx):
    return getitem(self, idx)


def _in_place(name):
    # An explicit method, not a class __getattr__: that would slow every attribute access of
    # every tracer (CPython cannot specialise lookups on a class with __getattr__).
    def method(self, *args, **kwargs):
        raise _trace.NoRuleError(
            f"ndarray.{name} works in place, which wengert cannot record on a traced array. "
            f"Use the function that returns a new array (np.{name}(x)) if it has a rule, or "
            f"wg.stop_gradient(x). {_trace.ERRORS_DOC}"
        )

    method.__name__ = name
    return method


for _name in ("partition", "resize", "itemset", "setfield", "byteswap"):
    setattr(Tracer, _name, _in_place(_name))


def _method(np_fn, shape_args=False):
    handler = function_rules[np_fn]
    if shape_args:

        def method(self, *shape, **kw):
            if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
                shape = shape[0]
            return handler(self, shape if shape else None, **kw)
    else:

        def method(self, *args, **kw):
            out = kw.pop("out", None)
            if out is None:
                return handler(self, *args, **kw)
            return _trace._write_out(out, handler(self, *args, **kw), f"ndarray.{np_fn.__name__}")

    method.__name__ = np_fn.__name__
    return method


for _name, _fn in {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "std": np.std, "var": np.var, "cumsum": np.cumsum, "cumprod": np.cumprod,
    "ravel": np.ravel, "squeeze": np.squeeze, "swapaxes": np.swapaxes, "dot": np.dot,
    "clip": np.clip, "copy": np.copy, "argmax": np.argmax, "argmin": np.argmin,
    "argsort": np.argsort, "nonzero": np.nonzero, "round": np.round, "all": np.all,
    "any": np.any,
}.items():  # fmt: skip
    setattr(Tracer, _name, _method(_fn))

Tracer.reshape = _method(np.reshape, shape_args=True)
Tracer.transpose = _method(np.transpose, shape_args=True)
Tracer.flatten = Tracer.ravel
Tracer.conj = Tracer.conjugate = _unop(np.conjugate)
Tracer.astype = astype
Tracer.__getitem__ = __getitem__
Tracer.T = property(lambda self: function_rules[np.transpose](self))
Tracer.mT = property(lambda self: function_rules[np.swapaxes](self, -1, -2))
Tracer.real = property(lambda self: function_rules[np.real](self))
Tracer.imag = property(lambda self: function_rules[np.imag](self))
_trace.coerce_hook = coerce
