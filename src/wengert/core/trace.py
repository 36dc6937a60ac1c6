"""Traces, tracers and the protocols through which NumPy hands traced values to wengert.

A transformation (``jvp``, ``vjp``, ``vmap``) opens a *trace*; each value it follows is a
*tracer* belonging to that trace. Every trace gets a level from one process-wide counter, so a
trace opened inside another always has the higher level. ``Primitive.bind`` looks only at its
arguments to find the tracer of highest level and lets that tracer's trace process the
operation. No ambient "current trace" is consulted (autograd's design, not JAX's
dynamic-trace stack): two threads differentiating at once can never see each other's traces,
and a tracer from an outer transformation is a constant to an inner one, which is what rules
out perturbation confusion.

When a transformation returns, its trace is *closed*: its class is swapped for
``ClosedTrace``, whose ``process`` raises. A tracer that escaped (stored in a global, returned
inside an unrelated structure) fails loudly the next time it is used, at no cost to the hot
path.
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
import threading

from sys import _getframe
from types import FunctionType as _FunctionType

import numpy as _np
from numpy import ndarray as _ndarray

from wengert.errors import (
    BatchedControlFlowError,
    EscapedTracerError,
    NoRuleError,
    TracerConversionError,
    WriteError,
)

__all__ = ["Trace", "Tracer", "ClosedTrace", "new_level", "ufunc_rules", "function_rules"]

_levels = itertools.count(1)

# Filled by the rule layer: ufunc -> Primitive for ufunc calls, (ufunc, method) -> handler for
# reduce / accumulate / at (and "__call__" for a ufunc composed of other operations), and
# NumPy function -> handler for __array_function__.
ufunc_rules: dict = {}
ufunc_method_rules: dict = {}
function_rules: dict = {}

# The C versions of the hot paths (``_speedups.c``), built by the install where a C compiler
# is found; WENGERT_PURE_PYTHON=1 runs the Python ones, which are the reference (the test
# suite runs both).
_speedups = None
if not os.environ.get("WENGERT_PURE_PYTHON"):
    try:
        from wengert.core import _speedups
    except ImportError:  # built without a compiler
        pass

ERRORS_DOC = "See docs/errors.md."
_NO_PARAMS: dict = {}
NO_RULE_HELP = (
    "has no differentiation rule in wengert. Wrap the computation in @wg.custom_vjp with "
    "its derivative, apply it to wg.stop_gradient(x) if its derivative is not needed, or "
    "open an issue naming the function. " + ERRORS_DOC
)

# Set by the rule layer: turns an object ndarray holding tracers (what np.array([t1, t2])
# builds, see Tracer.__array__) into one traced array.
coerce_hook = None
# Set by the rule layer: out_hook(x, new) writes ``new`` into traced ``x`` (ufunc's out=).
out_hook = None


# Operands that are never traced nor need coercing: a ufunc of one of them and a tracer goes
# straight to the tracer's trace.
_PLAIN_SCALARS = frozenset([float, int, complex, bool, _np.float64, _np.float32, _np.float16,
                            _np.complex128, _np.complex64, _np.int64, _np.int32, _np.bool_])  # fmt: skip


def _has_sequences(args) -> bool:
    for a in args:
        if type(a) is list or type(a) is tuple:
            return True
    return False


def _coerce_all(args):
    hook = coerce_hook
    return tuple([hook(e) for e in a] if type(a) is list and _has_objects(a) else hook(a)
                 for a in args)  # fmt: skip


def _has_objects(args) -> bool:
    """Whether a hook must see ``args``: object arrays holding tracers, or Python lists and
    tuples used as operands."""
    for a in args:
        if type(a) is _ndarray and a.dtype.hasobject:
            return True
        if type(a) is list:
            for e in a:
                if type(e) is _ndarray and e.dtype.hasobject:
                    return True
    return False


def new_level() -> int:
    return next(_levels)


# The levels of the traces open in this thread: an in-place write may only replace a tracer
# of the innermost one (see ``rebind``).
_local = threading.local()


def _open_levels() -> set:
    levels = getattr(_local, "levels", None)
    if levels is None:
        levels = _local.levels = set()
    return levels


class Trace:
    """One open transformation. Subclasses implement ``process(prim, args, params)``.

    All slots live here so a trace can change class to ``ClosedTrace`` when it closes.
    """

    __slots__ = ("level", "tape", "size", "keep", "sites", "joint", "__weakref__")

    def __init__(self):
        self.level = new_level()
        self.tape = None
        self.size = None
        self.keep = True
        self.sites = None  # call sites, recorded only by the checked traces of debug_nans
        # Forward mode only: whether a primitive's joint_jvp may compute a value with its
        # tangent, rounding the value differently from the plain call. Only where no value
        # is returned (hvp's): jvp's must be the plain call's, bit for bit.
        self.joint = False
        _open_levels().add(self.level)

    def close(self) -> None:
        # Drop the tape: its nodes point at this trace, and the trace pointing back at them
        # would make a reference cycle that only the cyclic GC frees.
        self.tape = None
        self.__class__ = ClosedTrace
        _open_levels().discard(self.level)

    def process(self, prim, args, params):  # pragma: no cover - overridden
        raise NotImplementedError


class ClosedTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        raise EscapedTracerError(
            f"A traced value was used in {prim.name} after the transformation that created it "
            "had returned (an escaped tracer: saved in a global, a closure or an attribute "
            "during a grad/jvp/vmap call). Return it from the function instead, or wrap it in "
            f"wg.stop_gradient if you want its value only. {ERRORS_DOC}"
        )


_LIBRARY_DIRS = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # the wengert package
    os.path.dirname(os.path.abspath(_np.__file__)),
)


def user_site(skip: int = 2) -> str:
    """File:line of the first frame outside wengert and NumPy: the user's call."""
    f = sys._getframe(skip)
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_LIBRARY_DIRS) and not name.startswith("<frozen") and not _in_scipy(f):
            return f"{name}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def _scipy_alternative() -> str:
    """When the conversion happens inside a SciPy function that wengert.scipy provides
    differentiably (scipy.linalg.expm, scipy.stats.norm.logpdf...), the sentence naming it."""
    frames, f = [], sys._getframe(2)
    while f is not None:
        if _in_scipy(f):
            frames.append(f)
        f = f.f_back
    for f in reversed(frames):  # outermost first: the function the user called
        # (name, module) of the frame's function, and of the functions a decorator's wrapper
        # (SciPy's batching) holds.
        found = [(f.f_code.co_name, f.f_globals["__name__"])] + [
            (v.__name__, v.__module__ or "") for v in f.f_locals.values()
            if type(v) is _FunctionType]  # fmt: skip
        dist = getattr(f.f_locals.get("self"), "name", None)  # scipy.stats' norm.logpdf
        for name, module in found:
            parts = module.split(".")
            if name.startswith("_") or len(parts) < 2 or parts[0] != "scipy":
                continue
            sub = parts[1].lstrip("_")
            try:
                mod = importlib.import_module(f"wengert.scipy.{sub}")
            except ImportError:
                continue
            if isinstance(dist, str) and hasattr(getattr(mod, dist, None), name):
                return f"Use wengert.scipy.{sub}.{dist}.{name}, which differentiates it. "
            if hasattr(mod, name):
                return f"Use wengert.scipy.{sub}.{name}, which differentiates it. "
    return ""


def _in_scipy(frame) -> bool:
    return frame.f_globals.get("__name__", "").startswith("scipy.")


def _conversion_error(what: str, t: "Tracer") -> TracerConversionError:
    return TracerConversionError(
        f"{what} of a traced value (shape {t.shape}, {type(t).__name__}) at {user_site(3)}: "
        f"this would drop its derivative. {_scipy_alternative()}Keep the computation in NumPy calls on the traced "
        "value: to fill an array, start from np.zeros_like(x) of a traced x (traced arrays "
        "accept x[idx] = y) or build it with np.stack, np.concatenate or np.where; a library "
        "that calls np.asarray on its input cannot be differentiated through; use "
        f"wg.stop_gradient(x) if you want a constant. {ERRORS_DOC}"
    )


# Every Tracer subclass: ``type(x) in tracer_types`` is the hot paths' test, as a negative
# isinstance(x, Tracer) costs an attribute lookup (of x.__class__) on top of the MRO walk.
tracer_types: set = set()


class Tracer:
    """A value followed by one trace. Subclasses add their fields and ``primal``.

    ``primal`` is the value one level down (itself possibly a tracer of a lower trace). The
    rule layer attaches Python operators and ndarray methods to this class.
    """

    # ``_base``: unset for most tracers; ``(array, index)`` for a view made by basic indexing
    # (a write into it is written through to ``array``); False for other views (reshape,
    # transpose...), which refuse writes. See ``rebind``.
    __slots__ = ("_trace", "_base")
    __array_priority__ = 1000.0

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        tracer_types.add(cls)

    # -- the two NumPy protocols (NEP 13, NEP 18) -------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__":
            prim = ufunc_rules.get(ufunc)
            if prim is not None:
                if len(inputs) == 1 and not kwargs:  # inputs[0] is self: no search needed
                    return self._trace.process(prim, inputs, _NO_PARAMS)
                if len(inputs) == 2 and not kwargs:
                    # With a plain operand, self's trace is the top one: no search either.
                    other = inputs[1] if inputs[0] is self else inputs[0]
                    to = type(other)
                    if to in _PLAIN_SCALARS or (to is _ndarray and not other.dtype.hasobject):
                        return self._trace.process(prim, inputs, _NO_PARAMS)
                if _has_objects(inputs) or _has_sequences(inputs):
                    inputs = _coerce_all(inputs)
                if kwargs:
                    return _ufunc_with_kwargs(prim, ufunc, inputs, kwargs)
                return prim.bind(*inputs)
        # A method (reduce, accumulate, at), or a call that a handler composes from other
        # operations (ufuncs with several outputs, such as np.modf; gufuncs such as np.matvec).
        if _has_objects(inputs):
            inputs = _coerce_all(inputs)
        handler = ufunc_method_rules.get((ufunc, method))
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if handler is not None:
            out = kwargs.pop("out", None)
            if out is None:
                return handler(*inputs, **kwargs)
            return _write_out(out, handler(*inputs, **kwargs), name)
        raise NoRuleError(f"{name} {NO_RULE_HELP}")

    def __array_function__(self, func, types, args, kwargs):
        handler = function_rules.get(func)
        if handler is None:
            mod = getattr(func, "__module__", "numpy") or "numpy"
            mod = mod.replace("numpy._core", "numpy").replace("numpy.core", "numpy")
            raise NoRuleError(f"{mod}.{func.__name__} {NO_RULE_HELP}")
        if _has_objects(args):
            args = _coerce_all(args)
        out = kwargs.get("out")
        if out is None:
            return handler(*args, **kwargs)
        # out=: computed as a new value, then written in (each handler need not know out=)
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        return _write_out(out, handler(*args, **kwargs), f"np.{func.__name__}")

    # -- coercions that would lose the derivative ---------------------------------------------
    def __array__(self, dtype=None, copy=None):
        # A 0-d tracer becomes a 0-d *object* array holding itself, so that
        # np.array([t1, t2]) builds an object array of tracers, which wengert turns back into
        # one traced array as soon as it meets a traced operation or leaves the function.
        # Anything else would silently drop the derivative: refuse.
        if self.shape == () and (dtype is None or dtype == object) and not _in_scipy(_getframe(1)):
            out = _np.empty((), dtype=object)
            out[()] = self
            return out
        raise _conversion_error("np.asarray (or assignment into a plain ndarray)", self)

    def __float__(self):
        raise _conversion_error("float()", self)

    def __int__(self):
        raise _conversion_error("int()", self)

    def __complex__(self):
        raise _conversion_error("complex()", self)

    def __index__(self):
        raise _conversion_error("use as an index", self)

    def item(self, *args):
        raise _conversion_error(".item()", self)

    def tolist(self):
        raise _conversion_error(".tolist()", self)

    def __bool__(self):
        return bool(self.primal)


    def __hash__(self):
        return id(self)

    # -- shape and type come from the primal value -------------------------------------------
    @property
    def shape(self) -> tuple:
        return _shape(self.primal)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def dtype(self):
        return _dtype(self.primal)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced value (like len() of a 0-d array)")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return f"{type(self).__name__}({self.primal!r})"


def rebind(x: Tracer, new) -> Tracer:
    """Make tracer ``x`` stand for ``new``, an update of it computed functionally by the same
    trace: how ``x[idx] = y``, ``x += y`` and ``np.add.at`` are recorded. Every reference to
    ``x`` sees the new value, as with NumPy's in-place writes; the old value stays on the
    trace for the operations that used it."""
    if new._trace is not x._trace:
        raise WriteError(
            f"A value traced by an inner transformation was written into an array of shape "
            f"{x.shape} traced by an outer one (a closure over the outer array). Create the "
            f"array inside the inner function (np.zeros_like of its argument), or pass it in "
            f"as an argument. {ERRORS_DOC}"
        )
    level = x._trace.level
    if any(lv > level for lv in _open_levels()):
        raise WriteError(
            f"An in-place write, from inside an inner transformation (or a checkpoint or "
            f"custom rule's body), into an array of shape {x.shape} that an outer one traces: "
            f"the inner one may hold its old value. Build the array from the inner function's "
            f"own arguments (np.zeros_like of one of them), or without writes (np.where, "
            f"np.stack, np.concatenate). {ERRORS_DOC}"
        )
    x._become(new)
    return x


def _shape(x) -> tuple:
    s = getattr(x, "shape", None)
    if s is None:
        return _np.shape(x)
    return tuple(s)


def _dtype(x):
    d = getattr(x, "dtype", None)
    if d is None:
        return _np.result_type(x)
    return d


def _write_out(out, result, name):
    """``result`` written into ``out`` (a function's or ufunc's ``out=``), which is returned."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise NoRuleError(f"{name} with several out= arrays has no rule in wengert; use "
                              f"its return values. {ERRORS_DOC}")  # fmt: skip
        out = out[0]
    if isinstance(out, Tracer):
        return out_hook(out, result)
    if isinstance(result, Tracer):  # traced into a plain ndarray: the derivative would be lost
        raise _conversion_error(f"{name}(..., out=ndarray)", result)
    out[...] = result
    return out


def _ufunc_with_kwargs(prim, ufunc, inputs, kwargs):
    out = kwargs.pop("out", None)
    if out is not None:
        return _write_out(out, _ufunc_with_kwargs(prim, ufunc, inputs, kwargs),
                          f"np.{ufunc.__name__}")  # fmt: skip
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise NoRuleError(
            f"np.{ufunc.__name__} with keyword arguments {sorted(kwargs)} has no rule in "
            f"wengert; call it without them. {ERRORS_DOC}"
        )
    ans = prim.bind(*inputs)
    return ans if dtype is None else ans.astype(dtype)


class BatchedBoolMixin:
    """Refuse truth values of batched values: each batch member could decide differently."""

    __slots__ = ()

    def __bool__(self):
        raise BatchedControlFlowError(
            "Python control flow (if/while/and/or) asked for the truth value of a value "
            "batched by wg.vmap, whose members may disagree. Use np.where(cond, a, b) for "
            f"elementwise choices, or loop in Python instead of vmap. {ERRORS_DOC}"
        )
