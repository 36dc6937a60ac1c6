"""Dual numbers as values: ``a + b ε`` with ``ε**2 == 0``, for teaching and for users who want
Ceres-``Jet``-style objects.

These are thin values over the forward-mode machinery, not a second engine: a ``Dual`` holds
a tracer of one forward trace that stays open for the life of the process (its ``ε``), and
every operation on it is the same primitive and JVP rule that ``wg.jvp`` uses. A vector of
tangents (``Dual(x, np.eye(n))``) is a batched tangent, so one pass gives all ``n`` partial
derivatives, as ``Jet<T, N>``. ``HyperDual`` nests two such traces: ``ε1``, ``ε2`` and their
product, whose coefficient is an exact second derivative.
"""

from __future__ import annotations

import numpy as np

from wengert import tree
from wengert.core.batching import BatchTrace, BatchTracer
from wengert.core.forward import JVPTrace, JVPTracer
from wengert.core.trace import Tracer

__all__ = ["Dual", "HyperDual"]

# The infinitesimals. Created at import, so any transformation a user opens later has a
# higher level: a Dual inside wg.grad is a constant of that grad, never confused with it.
_EPS = JVPTrace()
_EPS1 = _EPS
_EPS2 = JVPTrace()
_batch_traces: dict[int, BatchTrace] = {}


def _directions(n: int) -> BatchTrace:
    """The (never closed) batching trace that carries ``n`` tangent directions."""
    if n not in _batch_traces:
        _batch_traces[n] = BatchTrace(n)
    return _batch_traces[n]


def _value(x):
    return np.asarray(x, dtype=np.result_type(x, float)) if not isinstance(x, Tracer) else x


class _Infinitesimal:
    """Shared behaviour: unwrap operands to tracers, run NumPy, wrap the result."""

    __slots__ = ("_t",)
    __array_priority__ = 2000.0  # above tracers: Duals wrap them

    def _new(self, t):  # pragma: no cover - overridden
        raise NotImplementedError

    def _op(self, fn, *args):
        return self._new(fn(*[a._t if isinstance(a, _Infinitesimal) else a for a in args]))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [a._t if isinstance(a, _Infinitesimal) else a for a in inputs]
        out = getattr(ufunc, method)(*inputs, **kwargs)
        return out if out is NotImplemented else self._new(out)

    def __array_function__(self, func, types, args, kwargs):
        def unwrap(a):
            return a._t if isinstance(a, _Infinitesimal) else a

        args = tree.tree_map(unwrap, args)
        kwargs = tree.tree_map(unwrap, kwargs)
        return self._new(func(*args, **kwargs))

    def __add__(self, o):
        return self._op(lambda a, b: a + b, self, o)

    def __radd__(self, o):
        return self._op(lambda a, b: b + a, self, o)

    def __sub__(self, o):
        return self._op(lambda a, b: a - b, self, o)

    def __rsub__(self, o):
        return self._op(lambda a, b: b - a, self, o)

    def __mul__(self, o):
        return self._op(lambda a, b: a * b, self, o)

    def __rmul__(self, o):
        return self._op(lambda a, b: b * a, self, o)

    def __truediv__(self, o):
        return self._op(lambda a, b: a / b, self, o)

    def __rtruediv__(self, o):
        return self._op(lambda a, b: b / a, self, o)

    def __pow__(self, o):
        return self._op(lambda a, b: a**b, self, o)

    def __rpow__(self, o):
        return self._op(lambda a, b: b**a, self, o)

    def __matmul__(self, o):
        return self._op(lambda a, b: a @ b, self, o)

    def __neg__(self):
        return self._op(lambda a: -a, self)

    def __abs__(self):
        return self._op(abs, self)

    def __getitem__(self, idx):
        return self._op(lambda a: a[idx], self)

    def _cmp(self, o, fn):
        return fn(self.real, o.real if isinstance(o, _Infinitesimal) else o)

    def __lt__(self, o):
        return self._cmp(o, np.less)

    def __le__(self, o):
        return self._cmp(o, np.less_equal)

    def __gt__(self, o):
        return self._cmp(o, np.greater)

    def __ge__(self, o):
        return self._cmp(o, np.greater_equal)

    @property
    def shape(self) -> tuple:
        return np.shape(self.real)

    def __len__(self):
        return len(self.real)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name):
        # ndarray methods and properties (x.sum(), x.T, x.ndim...) through the traced value.
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._t, name)
        if callable(attr):
            return lambda *args, **kwargs: self._wrap_any(attr(*args, **kwargs))
        return self._wrap_any(attr)

    def _wrap_any(self, r):
        return self._new(r) if isinstance(r, Tracer) else r

    def __float__(self):
        raise TypeError(
            f"float() of a {type(self).__name__} would drop its infinitesimal part; take "
            "its .real (the value) or its derivative part explicitly."
        )

    __int__ = __complex__ = __float__

    def __format__(self, spec):
        if not spec:
            return repr(self)
        return self._format(lambda v: format(float(v), spec))


def _parts(t, trace):
    """(primal, tangent) of ``t`` for ``trace``; a value not traced by it has tangent 0."""
    if isinstance(t, JVPTracer) and t._trace is trace:
        return t.primal, t.tangent
    return t, None


def _tangent_value(t, like):
    """A tangent as an array: zero where symbolic, the batch of directions unbatched."""
    if t is None:
        return np.zeros_like(np.asarray(like, dtype=float))
    return t.value if isinstance(t, BatchTracer) else t


class Dual(_Infinitesimal):
    """A dual number ``real + eps·ε`` with ``ε**2 == 0``.

    ``eps`` may hold several directions at once: give it a leading axis of length ``n``
    (``Dual(x, np.eye(n))``) and every result carries ``n`` partial derivatives.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> x = wg.Dual(4.0, 1.0)
    >>> 3 * x + 2
    14 + 3ε
    >>> np.sin(wg.Dual(0.0, 1.0))
    0 + 1ε
    >>> v = wg.Dual(np.array([1.0, 2.0]), np.eye(2))   # both partials in one pass
    >>> (v[0] * v[1]).eps
    array([2., 1.])
    """

    __slots__ = ()

    def __init__(self, real, eps=0.0):
        real = _value(real)
        eps = np.asarray(eps, dtype=np.result_type(real, eps, float))
        if eps.shape != np.shape(real):
            if eps.shape[1:] != np.shape(real):
                raise ValueError(
                    f"Dual: eps has shape {eps.shape}; it must match real's shape "
                    f"{np.shape(real)}, or add one leading axis of directions "
                    f"(n, *{np.shape(real)})."
                )
            eps = BatchTracer(_directions(eps.shape[0]), eps)
        self._t = JVPTracer(_EPS, real, eps)

    def _new(self, t):
        d = object.__new__(Dual)
        d._t = t if isinstance(t, JVPTracer) and t._trace is _EPS else JVPTracer(_EPS, t, None)
        return d

    @property
    def real(self):
        return self._t.primal

    @property
    def eps(self):
        return _tangent_value(self._t.tangent, self._t.primal)

    def __repr__(self):
        return self._format(_num)

    def _format(self, num):
        a, b = self.real, self.eps
        if np.ndim(a) == 0 and np.ndim(b) == 0:
            return f"{num(a)} {'-' if b < 0 else '+'} {num(abs(b))}ε"
        if np.ndim(a) == 0 and np.ndim(b) == 1:  # several directions: the gradient's ε
            return f"{num(a)} + [{', '.join(num(v) for v in b)}]ε"
        return f"Dual({np.asarray(a)!r}, eps={np.asarray(b)!r})"


class HyperDual(_Infinitesimal):
    """A hyper-dual number ``real + e1·ε1 + e2·ε2 + e12·ε1ε2`` (``ε1² = ε2² = 0``).

    Evaluating ``f(HyperDual(x, 1, 1, 0))`` gives ``f(x)``, ``f'(x)`` twice and the exact
    second derivative ``f''(x)`` in ``e12``: no step size, no cancellation.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> y = wg.HyperDual(2.0, 1.0, 1.0) ** 3
    >>> float(y.real), float(y.e1), float(y.e12)
    (8.0, 12.0, 12.0)
    """

    __slots__ = ()

    def __init__(self, real, e1=0.0, e2=0.0, e12=0.0):
        real, e1, e2, e12 = (_value(v) for v in (real, e1, e2, e12))
        inner_primal = JVPTracer(_EPS1, real, e1)
        inner_tangent = JVPTracer(_EPS1, e2, e12)
        self._t = JVPTracer(_EPS2, inner_primal, inner_tangent)

    def _new(self, t):
        d = object.__new__(HyperDual)
        d._t = t
        return d

    def _split(self):
        p, t = _parts(self._t, _EPS2)
        a, e1 = _parts(p, _EPS1)
        e2, e12 = _parts(t, _EPS1) if t is not None else (None, None)
        return a, e1, e2, e12

    @property
    def real(self):
        return self._split()[0]

    @property
    def e1(self):
        a, e1, _, _ = self._split()
        return _tangent_value(e1, a)

    @property
    def e2(self):
        a, _, e2, _ = self._split()
        return np.zeros_like(np.asarray(a, dtype=float)) if e2 is None else e2

    @property
    def e12(self):
        a, _, _, e12 = self._split()
        return _tangent_value(e12, a)

    def __repr__(self):
        return self._format(_num)

    def _format(self, num):
        parts = [self.real, self.e1, self.e2, self.e12]
        if all(np.ndim(p) == 0 for p in parts):
            terms = "".join(f" {'-' if p < 0 else '+'} {num(abs(p))}{unit}"
                            for p, unit in zip(parts[1:], ("ε1", "ε2", "ε1ε2")))  # fmt: skip
            return num(parts[0]) + terms
        return f"HyperDual({parts[0]!r}, e1={parts[1]!r}, e2={parts[2]!r}, e12={parts[3]!r})"


def _num(x) -> str:
    x = float(x)
    return f"{x:.10g}"
