"""What the reverse tape keeps of an elementwise operation, and temporaries reused in place.

Plain NumPy frees each intermediate array as soon as the expression that made it is done; a
tape that kept every value would hold them all until the backward pass (Rosenbrock on 10**6
points holds seven arrays where NumPy holds two, and pays for the fresh memory). An
elementwise rule built from its partial derivatives knows which values those read: the
tape keeps them, and for the others only a ``Like`` (shape and dtype, what ``fit`` needs).

Which values a partial reads is found from its code (any load of the parameter counts), so a
new rule needs no declaration, and a rule whose code cannot be read keeps everything.
"""

from __future__ import annotations

import dis
import inspect
from sys import getrefcount
from types import FunctionType

import numpy as np

ndarray = np.ndarray

# Arrays from this size on are written in place where a rule may (``scaled``): below it, a new
# array costs NumPy less than the call that would avoid it.
BIG = 2048


class Like:
    """What a VJP may read of a value it does not need: its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, x):
        self.shape = x.shape
        self.dtype = x.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"Like(shape={self.shape}, dtype={self.dtype})"


def reads(fn, roles) -> frozenset:
    """The roles among ``roles`` (what ``fn``'s positional parameters stand for, in order:
    ``("x", "ans")``) whose parameter ``fn``'s code loads, its nested functions included.
    All of them when the code cannot tell: not a plain Python function, a wrapper
    (``functools.wraps``), or ``*args``/``**kwargs``."""
    if not callable(fn):
        return frozenset()  # a constant partial (1, -1) reads nothing
    code = getattr(fn, "__code__", None)
    if not isinstance(fn, FunctionType) or hasattr(fn, "__wrapped__") or code is None \
            or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) \
            or code.co_argcount < len(roles):  # fmt: skip
        return frozenset(roles)
    role_of = dict(zip(code.co_varnames, roles))  # the first parameters, by position
    found: set = set()
    codes = [code]
    while codes:
        c = codes.pop()
        for ins in dis.get_instructions(c):
            if ins.opname.startswith("STORE"):
                continue
            arg = ins.argval
            for a in arg if isinstance(arg, tuple) else (arg,):
                if isinstance(a, str) and a in role_of:
                    found.add(role_of[a])
        codes += [k for k in c.co_consts if hasattr(k, "co_code")]
    return frozenset(found)


def _slim(v, keep: bool):
    return v if keep or type(v) is not ndarray else Like(v)


def shapes_only(which, ans, vals):
    """The keep rule of an op whose VJP reads only the shapes and dtypes of its arguments and
    output (sum; setitem, whose versions an in-place loop would otherwise all keep)."""
    return _slim(ans, False), tuple(_slim(v, False) for v in vals)


def unary_keep(df):
    """The keep rule of ``vjp = g * df(x, ans)``: None for what ``df`` does not read."""
    used = reads(df, ("x", "ans"))
    if used == {"x", "ans"}:
        return None
    kx, ka = "x" in used, "ans" in used

    def keep(which, ans, vals):
        return (ans if ka else None), (vals if kx else (None,))

    return keep


def binary_keep(terms):
    """The keep rule of a binary op whose VJP for argument ``k`` reads what ``terms[k]`` reads:
    a pair (partial ``d(x, y, ans)`` or a constant, pole predicate ``pole(x, y)`` or a
    constant). For each set of differentiated arguments, x, y and the output are kept whole
    or as a ``Like``."""
    uses = [reads(d, ("x", "y", "ans")) | reads(getattr(d, "split", None), ("x", "y", "ans"))
            | reads(pole, ("x", "y")) for d, pole in terms]  # fmt: skip
    masks = {}
    for which in ((0,), (1,), (0, 1)):
        used = frozenset().union(*(uses[k] for k in which))
        masks[which] = ("x" in used, "y" in used, "ans" in used)
    if all(m == (True, True, True) for m in masks.values()):
        return None

    def keep(which, ans, vals):
        kx, ky, ka = masks[which]
        x, y = vals
        return _slim(ans, ka), (_slim(x, kx), _slim(y, ky))

    return keep


def _count(d):
    return getrefcount(d)


def _never(d) -> bool:
    return False


# donated(v): whether v, the differentiated argument's value of the record whose rule is
# running, dies with that rule (_speedups.c, donation). Only the split product of a binary
# partial rule asks (_family.py), where the count of references its frames hold was learnt.
# The C backward pass knows; the Python one donates nothing.
donated = _never


def learn_donation() -> None:
    """Learn the reference count at which ``scaled`` sees a value that dies with its rule
    (_speedups.c, donation) on one record known to be such, power's in ``(x * 1.0) ** 2``,
    and let ``scaled`` write into such values from then on."""
    global donated
    from wengert.core import reverse
    from wengert.core.trace import _speedups

    if _speedups is None:
        return
    saved = reverse.KEEP_MIN
    reverse.KEEP_MIN = 0
    trace = reverse.VJPTrace()
    tape = trace.tape
    try:
        x = trace.new_input(np.full(2 * BIG, 1.5))
        total = np.sum((x * 1.0) ** 2)
    finally:
        trace.close()
        reverse.KEEP_MIN = saved
    _speedups.donation_learn(True)
    donated = _speedups.donated
    try:
        reverse.backward(tape, {total.idx: 1.0}, 1, True)
    finally:
        # the tuple, the rule's argument, its local and the call's: a count far from that
        # means frames hold more than the code shows (a debugger): donate nothing then
        if not 3 <= _speedups.donation_learn(False) <= 5:
            donated = _never


def _held_once():
    d = np.empty(1)
    return _count(d)


# The count of an array that only the caller's local variable holds, seen from the call it is
# passed to (measured: interpreters differ in what the count includes).
_TEMPORARY = _held_once()


def scaled(g, d, dead=False):
    """``g * d``, written into ``d`` when ``d`` is a temporary that only the caller's local
    variable holds, or ``dead``: a value that dies with the rule, this product its last use
    (see ``donated``); the caller tests ``type(d) is ndarray and d.size >= BIG`` first, which
    keeps scalars and small arrays off this call. One allocation of a large array saved."""
    # A view (of the caller's input, say) or a read-only array is not the partial's own.
    if dead or getrefcount(d) == _TEMPORARY and d.base is None and d.flags.writeable:
        tg = type(g)
        if (tg is ndarray and g.shape == d.shape or isinstance(g, np.generic)) \
                and g.dtype == d.dtype:  # fmt: skip
            return np.multiply(d, g, out=d)
    return g * d
