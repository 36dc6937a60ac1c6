"""Forward mode: a tracer is a dual number ``primal + tangent * eps`` with ``eps**2 == 0``.

A constant has a symbolic zero tangent: it is not wrapped at all, and a rule receives
``None`` for it, so constants cost nothing. The tangent may itself be a batched value (that
is how ``jacfwd`` pushes many directions at once, as Ceres' ``Jet<T, N>``).
"""

from __future__ import annotations

from operator import attrgetter as _attrgetter

from numpy import ndarray as _ndarray

from wengert.core import primitive as _primitive  # noqa: F401  (its C set-up comes first)
from wengert.core.trace import Trace, Tracer, _dtype, _shape, _speedups, tracer_types

__all__ = ["JVPTrace", "JVPTracer"]

_new = object.__new__


class JVPTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        # Arities one and two spelled out, as in reverse.py: they are nearly every call. The
        # primal is computed by binding one level down only where a primal is itself traced;
        # otherwise the impl is called directly (without ** unpacking where there are no
        # params), which is most of this function's own cost.
        n = len(args)
        if n == 1:
            a = args[0]
            x = a.primal
            if type(x) in tracer_types:
                ans = prim.bind(x, **params)
            elif params:
                ans = prim.impl(x, **params)
            else:
                ans = prim.impl(x)
            if prim.nondiff:
                return ans
            t = prim.jvp((a.tangent,), ans, x, **params)
        elif n == 2:
            a, b = args
            if type(a) is JVPTracer and a._trace is self:
                x, tx = a.primal, a.tangent
            else:
                x, tx = a, None
            if type(b) is JVPTracer and b._trace is self:
                y, ty = b.primal, b.tangent
            else:
                y, ty = b, None
            if type(x) in tracer_types or type(y) in tracer_types:  # not isinstance: see trace.py
                ans = prim.bind(x, y, **params)
            elif self.joint and prim.joint_jvp is not None:
                both = prim.joint_jvp((tx, ty), x, y, **params)
                if both is not None:
                    return JVPTracer(self, both[0], both[1])
                ans = prim.impl(x, y, **params)
            elif params:
                ans = prim.impl(x, y, **params)
            else:
                ans = prim.impl(x, y)
            if prim.nondiff:
                return ans
            if params:
                t = prim.jvp((tx, ty), ans, x, y, **params)
            else:
                t = prim.jvp((tx, ty), ans, x, y)
        else:
            primals, tangents = [], []
            for a in args:
                if type(a) is JVPTracer and a._trace is self:
                    primals.append(a.primal)
                    tangents.append(a.tangent)
                else:
                    primals.append(a)
                    tangents.append(None)
            ans = prim.bind(*primals, **params)
            if prim.nondiff:
                return ans
            t = prim.jvp(tangents, ans, *primals, **params)
        if t is None:
            return ans
        # JVPTracer(self, ans, t), without a Python frame for __init__ (a fifth of this
        # function's own cost).
        out = _new(JVPTracer)
        out._trace, out.primal, out.tangent = self, ans, t
        if type(ans) is _ndarray:
            out._shape, out._dtype = ans.shape, ans.dtype
        else:
            out._shape, out._dtype = _shape(ans), _dtype(ans)
        return out


class JVPTracer(Tracer):
    # The primal's shape and dtype, stored: rules ask for them several times per operation,
    # and a stored value is read faster than Tracer's properties compute it. Read-only, as
    # an ndarray's dtype is (and an assignment to ``shape`` must not pass unnoticed).
    __slots__ = ("primal", "tangent", "_shape", "_dtype")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        if type(primal) is _ndarray:
            self._shape = primal.shape
            self._dtype = primal.dtype
        else:
            self._shape = _shape(primal)
            self._dtype = _dtype(primal)

    # Properties over C getters: read without a Python frame, the reads' main cost.
    shape = property(_attrgetter("_shape"), doc="The primal's shape (read-only).")
    dtype = property(_attrgetter("_dtype"), doc="The primal's dtype (read-only).")

    def _become(self, new: "JVPTracer") -> None:
        self.primal, self.tangent = new.primal, new.tangent
        self._shape, self._dtype = new._shape, new._dtype


# With the C extension (see trace.py), process is its version; the Python one stays the
# reference and the C version's path for unusual calls (three or more arguments...).
_py_process = JVPTrace.process
if _speedups is not None:
    JVPTrace.process = _speedups.init_forward(JVPTrace, JVPTracer, _py_process, _shape, _dtype)
