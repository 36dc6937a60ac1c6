"""The libraries compared, each behind one small interface.

A peer names an array namespace to write ``f`` against (``xp``), converts NumPy inputs to its
arrays and back, and maps each transformation of the table to its own spelling. Only wengert is
required; a peer that is not installed is reported as n/a, and an op a peer lacks as well.
"""

from __future__ import annotations

import functools
import importlib
from types import SimpleNamespace

import numpy as np


def tree_map(fn, tree):
    """``fn`` applied to the leaves of nested tuples, lists and dicts."""
    if isinstance(tree, dict):
        return {k: tree_map(fn, tree[k]) for k in sorted(tree)}
    if isinstance(tree, (list, tuple)):
        return type(tree)(tree_map(fn, t) for t in tree)
    return fn(tree)


def leaves(tree) -> list:
    """The leaves of ``tree`` in ``tree_map`` order (dicts by sorted key)."""
    out = []
    tree_map(out.append, tree)
    return out


def _closure(f, consts):
    return lambda x: f(x, *consts)


class Peer:
    name = ""
    module = ""
    required = False  # a failed import is an error, not n/a
    tracks_memory = False  # its arrays are NumPy's, which tracemalloc sees

    @functools.cached_property
    def lib(self):
        return importlib.import_module(self.module)

    def load(self):
        """The library; raises ImportError where it is not installed."""
        return self.lib

    @property
    def xp(self):
        return np

    def asarray(self, a):
        return a

    def to_numpy(self, a):
        return np.asarray(a)

    def transforms(self) -> dict:
        """op -> (f of one argument -> function of the call arguments: x, or x and v)."""
        raise NotImplementedError

    def build(self, op, f, consts):
        """The function timed for ``op`` on ``f(x, *consts)``, or None if the peer lacks it."""
        transform = self.transforms().get(op)
        return None if transform is None else transform(_closure(f, consts))


class Wengert(Peer):
    name = module = "wengert"
    required = True
    tracks_memory = True

    def transforms(self):
        wg = self.lib
        return {
            "value_and_grad": lambda f: wg.value_and_grad(f),
            "grad": lambda f: wg.grad(f),
            "jacfwd": lambda f: wg.jacfwd(f),
            "jacrev": lambda f: wg.jacrev(f),
            "hessian": lambda f: wg.hessian(f),
            "hvp": lambda f: lambda x, v: wg.hvp(f, x, v),
        }


class Autograd(Peer):
    name = module = "autograd"
    tracks_memory = True

    @property
    def xp(self):
        return importlib.import_module("autograd.numpy")

    def transforms(self):
        ag = self.lib
        # autograd has no forward-mode Jacobian; its `jacobian` is reverse mode (jacrev).
        return {
            "value_and_grad": ag.value_and_grad,
            "grad": ag.grad,
            "jacrev": ag.jacobian,
            "hessian": ag.hessian,
            "hvp": lambda f: lambda x, v: ag.make_hvp(f)(x)[0](v),
        }


def _torch_numpy(torch):
    """The few NumPy names the problems use, spelled for torch (dim, keepdim, amax)."""

    def reduction(op):
        def reduce(a, axis=None, keepdims=False):
            return op(a) if axis is None else op(a, dim=axis, keepdim=keepdims)

        return reduce

    return SimpleNamespace(
        sin=torch.sin,
        tanh=torch.tanh,
        exp=torch.exp,
        log=torch.log,
        sum=reduction(torch.sum),
        mean=reduction(torch.mean),
        max=reduction(torch.amax),
        logaddexp=lambda a, b: torch.logaddexp(torch.as_tensor(a, dtype=b.dtype), b),
    )


class Torch(Peer):
    """Eager autograd for gradients, torch.func for Jacobians, Hessians and hvp."""

    name = module = "torch"

    @functools.cached_property
    def lib(self):
        torch = importlib.import_module("torch")
        torch.set_num_threads(1)
        return torch

    @functools.cached_property
    def xp(self):
        return _torch_numpy(self.lib)

    def asarray(self, a):
        return self.lib.from_numpy(np.array(a))

    def to_numpy(self, a):
        return a.detach().numpy() if isinstance(a, self.lib.Tensor) else np.asarray(a)

    def _eager(self, f, with_value):
        def run(x):
            params = leaves(x)
            for t in params:
                t.requires_grad_()
            value = f(x)
            grads = iter(self.lib.autograd.grad(value, params))
            grad = tree_map(lambda _: next(grads), x)
            return (value.detach(), grad) if with_value else grad

        return run

    def transforms(self):
        func = self.lib.func
        return {
            "value_and_grad": lambda f: self._eager(f, with_value=True),
            "grad": lambda f: self._eager(f, with_value=False),
            "jacfwd": func.jacfwd,
            "jacrev": func.jacrev,
            "hessian": func.hessian,
            "hvp": lambda f: lambda x, v: func.jvp(func.grad(f), (x,), (v,))[1],
        }


class Jax(Peer):
    """Compiled with jax.jit (compilation falls in the warm-up): the compiled ceiling."""

    name = module = "jax"

    @functools.cached_property
    def lib(self):
        jax = importlib.import_module("jax")
        jax.config.update("jax_enable_x64", True)  # float64, as every other column
        return jax

    @property
    def xp(self):
        return self.lib.numpy

    def asarray(self, a):
        return self.lib.numpy.asarray(a)

    def transforms(self):
        jax = self.lib
        return {
            "value_and_grad": jax.value_and_grad,
            "grad": jax.grad,
            "jacfwd": jax.jacfwd,
            "jacrev": jax.jacrev,
            "hessian": jax.hessian,
            "hvp": lambda f: lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1],
        }

    def build(self, op, f, consts):
        # The data are arguments of the compiled function, not constants baked into it.
        transform = self.transforms().get(op)
        if transform is None:
            return None
        n = 2 if op == "hvp" else 1
        jax = self.lib
        compiled = jax.jit(lambda *a: transform(_closure(f, a[n:]))(*a[:n]))
        return lambda *call: jax.block_until_ready(compiled(*call, *consts))


PEERS = (Wengert(), Autograd(), Torch(), Jax())
