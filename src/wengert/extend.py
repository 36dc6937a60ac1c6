"""Extending wengert: the same path its own NumPy rules take.

A *primitive* is one operation with an implementation and its rules (see
``wengert.core.primitive`` for the rule signatures). The family helpers declare whole
families from a derivative alone; ``defun`` routes a NumPy function to a handler, so the
function works on traced values through NumPy's own ``__array_function__`` protocol.

- ``primitive(name, impl, jvp=, vjp=, batch=)``: a new operation of your own; call it with
  ``p.bind(*args, **params)``. Without ``batch`` it is batched by a loop (correct, slower).
- ``unary(ufunc, df)``, ``binary(ufunc, dx, dy)``: rules for an elementwise NumPy ufunc (or
  a SciPy one: ``scipy.special`` functions are ufuncs) from its derivative(s).
- ``defun(np_function, handler)``: a NumPy function (not a ufunc) built from primitives.
- ``register_pytree``: containers of your own as arguments and results (``wg.tree.register``).

Every primitive registered this way is picked up by ``wengert.testing.check_grads`` and by
the project's registry-driven property test when it declares a ``spec``.

Examples
--------
>>> import numpy as np, wengert as wg
>>> from wengert import extend
>>> softplus_p = extend.primitive(
...     "softplus_example",
...     lambda x: np.logaddexp(0.0, x),
...     jvp=lambda ts, ans, x: ts[0] / (1 + np.exp(-x)),
...     vjp=lambda g, ans, which, x: (g / (1 + np.exp(-x)),),
... )
>>> float(wg.grad(softplus_p.bind)(0.0))
0.5
>>> wg.vmap(wg.grad(softplus_p.bind))(np.zeros(2))
array([0.5, 0.5])
"""

from __future__ import annotations

from typing import Callable

from wengert.core.primitive import Primitive
from wengert.numpy._family import (
    batch_elementwise,
    batch_unary,
    binary,
    declare,
    defun,
    linear,
    nondiff,
    unary,
)
from wengert.tree import register as register_pytree

__all__ = [
    "Primitive",
    "primitive",
    "unary",
    "binary",
    "linear",
    "nondiff",
    "defun",
    "batch_elementwise",
    "batch_unary",
    "register_pytree",
]


def primitive(name: str, impl: Callable, *, jvp=None, vjp=None, batch=None, nondiff=False,
              elementwise=False, spec=None) -> Primitive:  # fmt: skip
    """Declare and register a new primitive operation.

    ``impl(*args, **params)`` computes it on plain arrays; ``jvp(tangents, ans, *args,
    **params)`` and ``vjp(g, ans, which, *args, **params)`` are its rules, written with
    ordinary NumPy calls so that they differentiate again; ``batch`` is a factory
    ``batch(prim) -> rule(args, batched, size, **params)`` (default: a loop over the batch).
    ``elementwise=True`` lets its VJP receive a cotangent that is only broadcastable to the
    output. The name must be new.
    """
    return declare(name, impl, jvp=jvp, vjp=vjp, batch=batch, nondiff=nondiff, spec=spec,
                   elementwise=elementwise)  # fmt: skip
