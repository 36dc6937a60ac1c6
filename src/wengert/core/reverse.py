"""Reverse mode over a Wengert list.

The trace appends one record per primitive to a flat tape, in execution order: the primal
trace of the seeds. Execution order is already a topological order, so the adjoint trace is
one reverse loop over the tape (iterative: a tape of a million records needs no recursion),
with cotangents in a list indexed by tape position. Records that receive no cotangent are
skipped; with ``free=True`` each record's saved values are dropped as soon as it is processed,
so memory falls during the backward pass.

A record is ``(prim, parents, which, args, ans, params)``: ``parents[k]`` is the tape position
of argument ``which[k]``; the other arguments are constants of this trace (raw values, or
tracers of lower levels, which is how reverse-over-anything nests).
"""

from __future__ import annotations

from wengert.core.trace import Trace, Tracer

__all__ = ["VJPTrace", "VJPTracer", "backward"]


class VJPTrace(Trace):
    __slots__ = ()

    def __init__(self):
        super().__init__()
        self.tape = []

    def process(self, prim, args, params):
        vals = []
        parents = []
        which = []
        i = 0
        for a in args:
            if type(a) is VJPTracer and a._trace is self:
                vals.append(a.primal)
                parents.append(a.idx)
                which.append(i)
            else:
                vals.append(a)
            i += 1
        ans = prim.bind(*vals, **params)
        if prim.nondiff:
            return ans
        tape = self.tape
        tape.append((prim, parents, which, vals, ans, params))
        return VJPTracer(self, ans, len(tape) - 1)

    def new_input(self, primal) -> "VJPTracer":
        """A tracer for an input: a tape record with no rule, where cotangents collect."""
        tape = self.tape
        tape.append(None)
        return VJPTracer(self, primal, len(tape) - 1)


class VJPTracer(Tracer):
    __slots__ = ("primal", "idx")

    def __init__(self, trace, primal, idx):
        self._trace = trace
        self.primal = primal
        self.idx = idx


def backward(tape: list, seeds: dict, n_inputs: int, free: bool) -> list:
    """Cotangents of the first ``n_inputs`` tape positions, given ``seeds`` {position: g}.

    Entries stay ``None`` for inputs that received no cotangent.
    """
    ct = [None] * len(tape)
    for pos, g in seeds.items():
        ct[pos] = g if ct[pos] is None else ct[pos] + g
    start = max(seeds) if seeds else -1
    for i in range(start, n_inputs - 1, -1):
        g = ct[i]
        rec = tape[i]
        if free:
            tape[i] = None
        if g is None:
            continue
        ct[i] = None
        prim, parents, which, args, ans, params = rec
        cts = prim.vjp(g, ans, which, *args, **params)
        for p, c in zip(parents, cts):
            if c is not None:
                old = ct[p]
                ct[p] = c if old is None else old + c
    if free:
        tape.clear()
    return ct[:n_inputs]


def is_tracer_of(x, trace) -> bool:
    return isinstance(x, Tracer) and x._trace is trace
