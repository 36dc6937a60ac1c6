"""Reverse mode over a Wengert list.

The trace appends one node per primitive to a flat tape, in execution order: the primal
trace of the seeds. Execution order is already a topological order, so the adjoint trace is
one reverse loop over the tape (iterative: a tape of a million nodes needs no recursion),
with cotangents in a list indexed by tape position. Nodes that receive no cotangent are
skipped; with ``free=True`` each node's saved values are dropped as soon as it is processed,
so memory falls during the backward pass.

A node is a plain tuple ``(prim, ans, vals, parents, which, params)`` (see ``Node``): the
operation's output, the arguments one level down, and ``parents[k]``, the tape position of
argument ``which[k]``; the other arguments are constants of this trace (raw values, or
tracers of lower levels, which is how reverse-over-anything nests). A tracer holds only its
value and its node's position, so a value nothing needs is freed with it.

``VJPTrace.process`` and the backward loop have C versions in ``_speedups.c`` (see
trace.py); the Python ones here are the reference, and what runs without the extension.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from numpy import ndarray as _ndarray
from numpy import negative as _negative
from numpy import result_type as _result_type
from numpy import subtract as _subtract

from wengert.core.primitive import Primitive
from wengert.core.trace import _NO_PARAMS, Trace, Tracer, _speedups

__all__ = ["VJPTrace", "VJPTracer", "Node", "SparseCotangent", "Negated", "negated", "backward"]


class VJPTrace(Trace):
    """``keep=True`` keeps every value on the tape (the Wengert list shows them all);
    otherwise a primitive with a ``keep`` rule drops, from large records, the values its
    VJP does not read, so memory is freed during the forward pass as in plain NumPy."""

    __slots__ = ()

    def __init__(self, keep: bool = False):
        super().__init__()
        self.tape = []
        self.keep = keep

    def process(self, prim, args, params):
        # Arities one and two are spelled out: they are nearly every call, and building
        # three lists per operation is a measurable share of the per-primitive cost.
        n = len(args)
        if n == 2:
            a, b = args
            if type(a) is VJPTracer and a._trace is self:
                va = a.primal
                if type(b) is VJPTracer and b._trace is self:
                    vb = b.primal
                    parents, which = (a.idx, b.idx), (0, 1)
                else:
                    vb = b
                    parents, which = (a.idx,), (0,)
            else:
                va, vb = a, b.primal
                parents, which = (b.idx,), (1,)
            vals = (va, vb)
            if isinstance(va, Tracer) or isinstance(vb, Tracer):
                ans = prim.bind(va, vb, **params)
            elif params:
                ans = prim.impl(va, vb, **params)
            else:  # a call without ** unpacking is measurably cheaper
                ans = prim.impl(va, vb)
        elif n == 1:
            a = args[0]
            va = a.primal
            vals = (va,)
            parents, which = (a.idx,), (0,)
            if isinstance(va, Tracer):
                ans = prim.bind(va, **params)
            elif params:
                ans = prim.impl(va, **params)
            else:
                ans = prim.impl(va)
        else:
            vals, parents, which = self._split(args)
            ans = prim.bind(*vals, **params)
        if prim.nondiff:
            return ans
        tape = self.tape
        idx = len(tape)
        v = vals[0]
        if prim.keep is not None and not self.keep and (
                type(ans) is _ndarray and ans.size >= KEEP_MIN
                or type(v) is _ndarray and v.size >= KEEP_MIN):  # fmt: skip
            tape.append((prim, *prim.keep(which, ans, vals), parents, which, params))
        else:
            tape.append((prim, ans, vals, parents, which, params))
        return VJPTracer(self, ans, idx)

    def record(self, prim, args, ans, params) -> "VJPTracer":
        """A node for an operation whose output ``ans`` was computed elsewhere (a custom
        rule's forward function): ``args`` are this trace's tracers and constants."""
        vals, parents, which = self._split(args)
        tape = self.tape
        tape.append((prim, ans, tuple(vals), tuple(parents), tuple(which), params))
        return VJPTracer(self, ans, len(tape) - 1)

    def _split(self, args):
        """(values one level down, tape positions of this trace's arguments, their places)."""
        vals, parents, which = [], [], []
        for i, a in enumerate(args):
            if type(a) is VJPTracer and a._trace is self:
                vals.append(a.primal)
                parents.append(a.idx)
                which.append(i)
            else:
                vals.append(a)
        return vals, parents, which

    def new_input(self, primal) -> "VJPTracer":
        """A tracer for an input: a record with no rule, where cotangents collect."""
        tape = self.tape
        tape.append((None, primal, (), (), (), _NO_PARAMS))
        return VJPTracer(self, primal, len(tape) - 1)


# Records whose output and first argument have fewer elements keep all their values: dropping
# them saves little memory and costs a call per operation.
KEEP_MIN = 1024

# The C binary operators write a result into a temporary operand's array (as NumPy's own
# temporary elision does) from this many bytes on, NumPy's threshold: below it, a check of
# the callers costs more than a fresh array (see _speedups.c).
ELIDE_BYTES = 256 * 1024


class Node(NamedTuple):
    """A tape record, as readers outside the backward loop see it. The tape holds plain
    tuples in this order (built without a Python call); ``Node._make(tape[i])`` names them.

    ``ans`` and ``vals`` are what the VJP receives: the output and the arguments one level
    down, where a primitive's ``keep`` rule may have put stand-ins (or None) for values its
    VJP does not read. ``parents[k]`` is the tape position of argument ``which[k]``."""

    prim: Any
    ans: Any
    vals: tuple
    parents: tuple
    which: tuple
    params: dict


class VJPTracer(Tracer):
    """A value followed by a reverse trace: its primal and the tape position of its record
    (the tape does not hold the tracer, so a value nothing needs is freed with it)."""

    __slots__ = ("primal", "idx")

    def __init__(self, trace, primal, idx):
        self._trace = trace
        self.primal = primal
        self.idx = idx

    def _become(self, new: "VJPTracer") -> None:
        # The old value keeps its record; this object now stands for the update's.
        self.primal, self.idx = new.primal, new.idx


_sparse_types: set = set()


class SparseCotangent:
    """A cotangent that is zero but for a few entries, kept unexpanded: the transpose of
    indexing, ``x[1:]``, makes one. Expanding it into zeros costs a full array per use; the
    backward pass instead adds it straight into an accumulator it owns.

    The rule layer subclasses it; ``materialize()`` returns a fresh array and
    ``add_into(acc)`` adds in place into ``acc`` and returns False where it cannot (dtype).
    """

    __slots__ = ()
    negatable = False  # whether Negated may wrap it: its combine and subtract_into know one

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        _sparse_types.add(cls)  # an exact type test on the hot path, not isinstance

    def materialize(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def add_into(self, acc) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def combine(self, other):
        """``self + other`` kept sparse, or as a fresh array (which the backward pass then
        owns and updates in place), or NotImplemented to materialize first."""
        return NotImplemented

    def subtract_into(self, acc) -> bool:
        """``acc -= self`` in place, as add_into; False where it cannot."""
        return False

    def negate(self):
        """``-self``, of a type the backward pass accumulates (sparse, or an array), for a
        class that Negated may not wrap."""
        return -self.materialize()


class Negated(SparseCotangent):
    """``-g``, kept unexpanded: the cotangent subtraction hands its second argument.

    Every VJP is linear in its cotangent, so the backward pass runs the next rule on ``g``
    and negates what that returns, again unexpanded (a rule that can fold the sign into a
    factor it multiplies by anyway, ``takes_negated``, receives it as it is). The negation
    then costs nothing where it meets another cotangent (a subtraction instead of a sum) and
    one pass where an input's gradient is materialized. ``owned``: nothing else holds ``g``,
    so it may be updated in place.
    """

    __slots__ = ("g", "owned")
    negatable = True

    def __init__(self, g, owned=False):
        self.g, self.owned = g, owned

    def materialize(self):
        g, own = self.g, self.owned
        if type(g) in _sparse_types:
            g, own = g.materialize(), True
        if own and type(g) is _ndarray and g.flags.writeable:
            return _negative(g, out=g)
        return -g

    def add_into(self, acc) -> bool:
        g = self.g
        if type(g) is _ndarray:
            if g.shape == acc.shape and _result_type(acc, g) == acc.dtype:
                _subtract(acc, g, out=acc)
                return True
            return False
        return type(g) in _sparse_types and g.subtract_into(acc)

    def combine(self, other):
        g = self.g
        if type(other) is Negated:  # -(a + b)
            h = other.g
            if type(g) is _ndarray and type(h) is _ndarray and g.shape == h.shape:
                return Negated(g + h, True)
            both = g.combine(h) if type(g) in _sparse_types else NotImplemented
            if both is NotImplemented:
                return NotImplemented
            return Negated(both, type(both) is _ndarray)
        if type(other) is _ndarray and type(g) is _ndarray and other.shape == g.shape:
            return other - g
        if type(other) in _sparse_types:
            if self.owned and type(g) is _ndarray and other.subtract_into(g):
                return self  # -(g - other): g updated in place
            return other.combine(self)
        return NotImplemented


def negated(c):
    """``-c``, unexpanded where that saves a pass: a plain array of _NEGATE_LAZILY elements
    or more (a smaller one is negated at once, cheaper than what keeping it apart costs),
    or a sparse cotangent that can be subtracted (``negatable``)."""
    if type(c) is _ndarray:
        return Negated(c) if c.size >= _NEGATE_LAZILY else -c
    if type(c) is Negated:
        return c.g
    if type(c) in _sparse_types:
        return Negated(c) if c.negatable else c.negate()
    return -c


_NEGATE_LAZILY = 2048


def _add(ct, owned, p, c):
    """Accumulate cotangent ``c`` at tape position ``p``.

    ``owned[p]`` marks an accumulator this backward pass allocated itself, which nothing
    else can see yet, so it may be updated in place. A cotangent a rule returned may be
    shared (add's VJP hands the same ``g`` to both parents), so it is never written to.
    """
    old = ct[p]
    if old is None:
        ct[p] = c
        return
    if isinstance(old, SparseCotangent):
        both = old.combine(c)
        if both is not NotImplemented:
            ct[p] = both
            owned[p] = type(both) is _ndarray
            return
        old = old.materialize()
        owned[p] = True
    if owned[p] and type(old) is _ndarray:
        if isinstance(c, SparseCotangent):
            if c.add_into(old):
                ct[p] = old
                return
            c = c.materialize()
        elif type(c) is _ndarray and c.shape == old.shape and c.dtype == old.dtype:
            old += c
            ct[p] = old
            return
    elif type(c) is Negated and type(c.g) is _ndarray and type(old) is _ndarray \
            and c.g.shape == old.shape:  # fmt: skip
        ct[p] = old - c.g
        owned[p] = True
        return
    elif isinstance(c, SparseCotangent):
        c = c.materialize()
    ct[p] = old + c
    owned[p] = True


def backward(tape: list, seeds: dict, n_inputs: int, free: bool, record=None,
             check=None) -> list:  # fmt: skip
    """Cotangents of the first ``n_inputs`` tape positions, given ``seeds`` {position: g}.

    Entries stay ``None`` for inputs that received no cotangent. With ``record`` (a list as
    long as the tape), the cotangent each record received is stored there: the adjoint
    trace. ``check(prim, position, cotangents)`` is called after each record (debug_nans).
    """
    ct = [None] * len(tape)
    owned = [False] * len(tape)
    for pos, g in seeds.items():
        _add(ct, owned, pos, g)
    start = max(seeds) if seeds else -1
    if _speedups is not None:
        if start >= n_inputs:
            _speedups.backward_loop(tape, ct, owned, start, n_inputs, free, record, check)
    else:
        _backward_loop(tape, ct, owned, start, n_inputs, free, record, check)
    if free:
        tape.clear()
    out = ct[:n_inputs]
    for k, c in enumerate(out):
        if isinstance(c, SparseCotangent):
            out[k] = c.materialize()
        if record is not None:
            record[k] = out[k]
    return out


def _backward_loop(tape, ct, owned, start, stop, free, record, check):
    """Positions ``start`` down to ``stop``: the loop of ``backward`` (``_speedups`` has the
    same in C)."""
    for i in range(start, stop - 1, -1):
        g = ct[i]
        if g is None:
            if free:
                tape[i] = None
            continue
        ct[i] = None
        prim, ans, vals, parents, which, params = tape[i]
        negate = False
        if type(g) in _sparse_types:
            if type(g) is not Negated or type(g.g) is not _ndarray or record is not None \
                    or check is not None:  # fmt: skip
                g = g.materialize()  # rules see arrays; the adjoint trace and debug_nans values
            elif not getattr(prim, "takes_negated", False):
                g, negate = g.g, True  # vjp(-g) == -vjp(g)
        if record is not None:
            record[i] = g
        if free:
            tape[i] = None  # the locals hold the record's values until the next one
        if params:
            cts = prim.vjp(g, ans, which, *vals, **params)
        elif len(vals) == 1:  # spelled out: a plain call of a Python function is inlined
            cts = prim.vjp(g, ans, which, vals[0])
        elif len(vals) == 2:
            cts = prim.vjp(g, ans, which, vals[0], vals[1])
        else:
            cts = prim.vjp(g, ans, which, *vals)
        if negate:
            cts = [None if c is None else negated(c) for c in cts]
        if check is not None:
            check(prim, i, cts)
        if len(parents) == 1:
            c = cts[0]
            if c is not None:
                p = parents[0]
                if ct[p] is None:
                    ct[p] = c
                else:
                    _add(ct, owned, p, c)
        else:
            for p, c in zip(parents, cts):
                if c is not None:
                    if ct[p] is None:
                        ct[p] = c
                    else:
                        _add(ct, owned, p, c)


# With the C extension (see trace.py), process and the backward loop are its versions; the
# Python process stays the reference and the C version's path for unusual calls.
_py_process = VJPTrace.process
if _speedups is not None:
    VJPTrace.process = _speedups.init(VJPTrace, VJPTracer, Tracer, Primitive, _ndarray,
                                      _py_process, _add, _sparse_types, globals())  # fmt: skip
