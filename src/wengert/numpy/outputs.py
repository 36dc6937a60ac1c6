"""Operations with several outputs (a custom rule's pytree result; later eigh, svd): the
operation's value is a tuple, and ``tuple_get`` projects one entry out of it.

A projection's cotangent is sparse: only its own entry of the tuple. ``TupleCotangent``
keeps such entries unexpanded until the multi-output operation needs them, with zeros for
the outputs that received none.
"""

from __future__ import annotations

import numpy as np

from wengert.core.reverse import SparseCotangent
from wengert.numpy._family import declare, real


class TupleCotangent(SparseCotangent):
    """Cotangents for some entries ``{k: g}`` of a tuple-valued output ``like``."""

    __slots__ = ("parts", "like")

    def __init__(self, parts, like):
        self.parts, self.like = parts, like

    def materialize(self):
        return tuple(self.parts[k] if k in self.parts else np.zeros_like(v)
                     for k, v in enumerate(self.like))  # fmt: skip

    def add_into(self, acc) -> bool:
        return False

    def negate(self):
        return TupleCotangent({k: -g for k, g in self.parts.items()}, self.like)

    def combine(self, other):
        if not isinstance(other, TupleCotangent):
            return NotImplemented
        parts = dict(self.parts)
        for k, g in other.parts.items():
            parts[k] = g if k not in parts else parts[k] + g
        return TupleCotangent(parts, self.like)


def _tuple_get_jvp(ts, ans, x, *, k):
    return None if ts[0] is None else ts[0][k]


tuple_get_p = declare(
    "tuple_get",
    lambda x, *, k: x[k],
    jvp=_tuple_get_jvp,
    vjp=lambda g, ans, which, x, *, k: (TupleCotangent({k: g}, x),),
    batch=lambda prim: lambda args, batched, size, *, k: args[0][k],
    spec={"cases": lambda rng: [((tuple(rng.standard_normal((2, 3))),), dict(k=1))],
          "internal": True, "domain": (real,)},  # fmt: skip
)


def split_outputs(value, n):
    """The ``n`` entries of a tuple-valued (possibly traced) value, each a value of its own."""
    return [tuple_get_p.bind(value, k=k) for k in range(n)]
