"""Primitives: one NumPy-level operation each, with the rules of every transformation.

The rule signatures (``args`` are raw values at this level, possibly tracers of lower levels;
``params`` are keyword-only, hashable-ish settings such as ``axis``):

``impl(*args, **params)``
    calls NumPy (or the array's own library) on the values.
``jvp(tangents, ans, *args, **params)``
    the output tangent; ``tangents`` is aligned with ``args`` and holds ``None`` for a
    symbolic zero (a constant). Returns ``None`` for a zero output tangent.
``vjp(g, ans, which, *args, **params)``
    the input cotangents: a sequence aligned with ``which``, the positions of the arguments
    that need one (constants are never asked for). An entry may be ``None`` (zero).
``batch(args, batched, size, **params)``
    the output with the batch axis first; ``batched[i]`` says whether ``args[i]`` carries the
    batch axis (always at position 0) or is shared by every batch member.
``joint_jvp(tangents, *args, **params)`` (optional)
    ``(output, tangent)`` computed together where that shares work (matmul: one GEMM for
    both, reading the matrix once), or ``None`` where it does not apply. Forward mode calls it
    only on a trace whose values are never returned (``trace.joint``), as it may round the
    output differently from ``impl``. ``args`` are raw values here, never tracers.
``nondiff``
    the output is piecewise constant (comparisons, ``floor``, ``argmax``): forward and reverse
    traces pass straight through, only batching sees it.
``keep(which, ans, vals)``
    optional: ``(ans, vals)`` as the reverse tape should keep them, with stand-ins for the
    values the VJP does not read (for arguments ``which``), so that large intermediate
    arrays are freed as soon as the user's code drops them. Without it, all are kept.
``takes_negated``
    the VJP accepts a ``reverse.Negated`` cotangent (``-g`` unexpanded, which subtraction
    hands back) and folds the sign into its own arithmetic; otherwise the backward pass
    calls it on ``g`` and negates what it returns, unexpanded too.
"""

from __future__ import annotations

from numpy import ndarray as _ndarray

from wengert.core.trace import _NO_PARAMS, Trace, Tracer, _speedups, ufunc_rules

__all__ = ["Primitive", "registry", "top_trace"]

registry: dict[str, "Primitive"] = {}


class Primitive:
    """An operation and its rules. See the module docstring for the rule signatures.

    ``spec`` holds what the generic property test needs (the op's domain and example
    arguments); the core never reads it.
    """

    __slots__ = ("name", "impl", "jvp", "joint_jvp", "vjp", "batch", "nondiff", "keep", "spec",
                 "takes_negated", "__weakref__")  # fmt: skip

    def __init__(self, name, impl, *, jvp=None, vjp=None, batch=None, nondiff=False, keep=None,
                 spec=None, joint_jvp=None):  # fmt: skip
        self.name = name
        self.impl = impl
        self.jvp = jvp
        self.joint_jvp = joint_jvp
        self.vjp = vjp
        self.batch = batch
        self.nondiff = nondiff
        self.keep = keep
        self.spec = spec
        self.takes_negated = False

    def register(self) -> "Primitive":
        if self.name in registry:
            raise ValueError(f"a primitive named {self.name!r} is already registered")
        registry[self.name] = self
        return self

    def bind(self, *args, **params):
        # The hot path of every traced operation: find the argument of the highest trace
        # level and let its trace process the operation; with none, just compute.
        top = None
        level = 0
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if t.level > level:
                    top = t
                    level = t.level
        if top is None:
            return self.impl(*args, **params)
        return top.process(self, args, params)

    def __repr__(self):
        return f"Primitive({self.name})"


def top_trace(values):
    """The trace of highest level among ``values`` (None if none is traced): the one that
    processes an operation on them (what ``bind`` does inline)."""
    top = None
    level = 0
    for a in values:
        if isinstance(a, Tracer) and a._trace.level > level:
            top = a._trace
            level = top.level
    return top


# NumPy's ufunc protocol and bind in C where the extension is built (see trace.py); it
# needs the Primitive class, hence here. The Python versions stay the reference, and for the
# ufunc protocol the C version's path for every call but a plain ufunc call with a rule.
_py_array_ufunc = Tracer.__array_ufunc__
if _speedups is not None:
    Tracer.__array_ufunc__, Primitive.bind = _speedups.init_tracer(
        Tracer, Trace, Primitive, _ndarray, ufunc_rules, _NO_PARAMS, _py_array_ufunc)
