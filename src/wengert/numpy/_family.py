"""Shared rules for families of operations, so each op is declared in one line.

Every rule is written in plain NumPy calls on values that may themselves be tracers of an
outer transformation, which is what makes every derivative differentiable again. No rule
calls ``np.asarray`` or builds an array from a shape alone: it uses ``np.zeros_like`` and
``np.broadcast_to`` so the input's array type (NumPy now; CuPy, Dask later) is kept.
"""

from __future__ import annotations

import numpy as np

from wengert.core import trace as _trace
from wengert.core.primitive import Primitive
from wengert.core.reverse import Negated, negated
from wengert.core.trace import Tracer, _speedups, function_rules, tracer_types, ufunc_rules
from wengert.numpy import _residuals
from wengert.numpy._residuals import BIG, binary_keep, scaled, unary_keep

ndarray = np.ndarray

# -- domains: where the generic property test draws each argument from -------------------


def real(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def unit_open(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def boolean(rng, shape):
    return rng.random(shape) > 0.5


def away_from_int(rng, shape):
    # For piecewise-smooth ops (mod, clip edges): keep finite differences off the kinks.
    return rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)


# -- small helpers used by rules --------------------------------------------------------


def shape_of(x) -> tuple:
    s = getattr(x, "shape", None)
    if s is None:
        return () if isinstance(x, (int, float, complex)) else np.shape(x)  # lists, tuples
    return tuple(s)


def ndim_of(x) -> int:
    return len(shape_of(x))


def is_complex(x) -> bool:
    d = getattr(x, "dtype", None)
    return (d.kind == "c") if d is not None else isinstance(x, complex)


def sum_to(g, shape: tuple, full: tuple | None = None):
    """Sum ``g`` over the axes that broadcasting added or stretched, down to ``shape``.

    A cotangent may be *smaller* than its value, merely broadcastable to it: the VJP of
    ``sum`` hands back its scalar cotangent without expanding it, so elementwise rules never
    spend a pass on a broadcast copy. ``full`` is then the shape ``g`` stands for (the
    output's): an axis that the input lacks and ``g`` only implies counts its length as a
    factor instead of a sum.
    """
    gshape = shape_of(g)
    if gshape == shape and (full is None or full == shape):
        return g
    full = gshape if full is None else full
    nd = len(full)
    gpad = (1,) * (nd - len(gshape)) + gshape
    xpad = (1,) * (nd - len(shape)) + shape
    axes, factor = [], 1
    for i in range(nd):
        if xpad[i] == 1 and full[i] != 1:
            if gpad[i] == 1:
                factor *= full[i]
            else:
                axes.append(i - (nd - len(gshape)))
    if axes:
        g = np.sum(g, axis=tuple(axes), keepdims=True)
    if factor != 1:
        g = g * factor
    extra = len(shape_of(g)) - len(shape)
    if extra > 0:  # leading axes the input lacks, now all of length one
        g = np.reshape(g, shape_of(g)[extra:])
    return g


def exact_cotangent(vjp):
    """A VJP rule that needs its cotangent at the output's full shape (reshapes, products,
    indexing), given one that may only be broadcastable to it."""

    def vjp_exact(g, ans, which, *args, **params):
        s = shape_of(ans)
        if shape_of(g) != s:
            g = expand(g, s)
        return vjp(g, ans, which, *args, **params)

    return vjp_exact


def expand(g, shape):
    """``g`` broadcast to ``shape`` as a real array, not a view with zero strides: BLAS and
    other kernels take slow paths on those (``np.matmul`` of a broadcast vector is ten times
    slower than of a contiguous one). A traced ``g`` is broadcast as usual."""
    if isinstance(g, Tracer):
        return np.broadcast_to(g, shape)
    out = np.empty_like(g, shape=shape)
    out[...] = g
    return out


_SCALARS = frozenset([np.float64, np.float32, np.complex128, np.complex64, np.float16])
_SCALAR_CTS = _SCALARS | {float}  # cotangents a partial's split may fold its factor into
_float64 = np.float64


def fit(c, x, ans=None):
    """The cotangent ``c`` of an op's output ``ans`` made to match input ``x``: its shape
    (undoing broadcasting, see sum_to) and its realness (the cotangent of a real input is
    real, as in JAX). ``ans`` may be omitted where the output has x's shape."""
    dx = getattr(x, "dtype", None)
    if dx is not None and getattr(c, "dtype", None) is dx:
        # Already x's dtype (so real where x is) and, where also of x's and the output's
        # shape, nothing to do: a plain cotangent of a traced value, say (hvp's backward).
        s = c.shape
        if s == x.shape and (ans is None or s == ans.shape):
            return c
    c = sum_to(c, shape_of(x), None if ans is None else shape_of(ans))
    if is_complex(c) and not is_complex(x):
        c = np.real(c)
    if dx is not None and getattr(c, "dtype", dx) != dx and dx.kind in "fc":
        c = c.astype(dx)  # float32 parameters get float32 cotangents
    return c


# The elementwise VJPs below (unary, binary) have C versions in core/_speedups.c, where the
# extension is built, for their common cases: a product with a Python partial, a fit that
# is a no-op. The Python rules stay the reference and the C versions' path for the others.
_UNARY, _PARTIAL, _BINARY = 0, 1, 2
if _speedups is not None:
    _speedups.init_family(scaled, fit, _SCALARS, _SCALAR_CTS, globals())


def operand(x):
    """A Python list or tuple given as an array operand, made an array (traced if it holds
    traced values)."""
    if type(x) is list or type(x) is tuple:
        return _trace.coerce_hook(x)
    return x


def annihilate(c, t):
    """``c = t * d`` for a local derivative ``d`` that can be infinite (a pole, an overflow),
    with exact zeros wherever ``t`` is exactly zero: a zero tangent or cotangent contributes
    zero, never ``0 * inf = nan``. Costs one finiteness check where ``c`` is finite."""
    if isinstance(c, float):  # NumPy float64 scalars too: inf - inf and nan - nan are nan
        if c - c == 0:
            return c
    elif bool(np.isfinite(unwrap_all(c)).all()):
        return c
    return np.where(t == 0, np.zeros_like(c), c)


def unwrap_all(x):
    """The raw array under every level of tracing (for shapes and array type only)."""
    while isinstance(x, Tracer):
        x = x.primal
    return x


def zeros_of(x):
    """Zeros shaped and typed like ``x`` (which may be a tracer), of x's array type."""
    raw = unwrap_all(x)
    return np.zeros_like(raw, shape=shape_of(x), dtype=getattr(x, "dtype", None))


def expand_batched(args, batched):
    """Align ranks for a broadcasting op: give every batched value (batch axis first) the
    same number of non-batch axes, so NumPy's right-aligned broadcasting never pairs the
    batch axis with a data axis of an unbatched argument."""
    ranks = [len(shape_of(a)) - b for a, b in zip(args, batched)]
    nd = max(ranks)
    if all(r == nd for r, b in zip(ranks, batched) if b):
        return args  # the common case: batched values already have the highest rank
    out = []
    for a, b, r in zip(args, batched, ranks):
        if b and r < nd:
            s = shape_of(a)
            a = np.reshape(a, s[:1] + (1,) * (nd - r) + s[1:])
        out.append(a)
    return out


def batch_elementwise(prim):
    """Broadcasting ops batch by broadcasting."""

    def batch(args, batched, size, **params):
        return prim.bind(*expand_batched(args, batched), **params)

    return batch


def batch_loop(prim):
    """Fallback for ops with no batching rule: one call per batch member, then stack."""

    def batch(args, batched, size, **params):
        outs = [
            prim.bind(*[a[i] if b else a for a, b in zip(args, batched)], **params)
            for i in range(size)
        ]
        return np.stack(outs)

    return batch


def declare(name, impl, *, jvp=None, vjp=None, batch=None, nondiff=False, spec=None,
            elementwise=False):  # fmt: skip
    """Create and register a primitive; batching defaults to the loop fallback. Only
    ``elementwise`` rules accept a cotangent merely broadcastable to the output."""
    if vjp is not None and not elementwise:
        vjp = exact_cotangent(vjp)
    prim = Primitive(name, impl, jvp=jvp, vjp=vjp, nondiff=nondiff, spec=spec)
    prim.batch = batch(prim) if batch is not None else batch_loop(prim)
    return prim.register()


# -- elementwise families ------------------------------------------------------------------


# _TRACED_RIGHT: a plain cotangent times a traced partial (the VJPs of hvp's backward pass)
# is computed by the tracer's own operator, ``d.__rmul__(g)``: the same product in the same
# order as ``g * d``, without NumPy's dispatch of a plain left operand to the tracer, which
# costs as much as the rest of the traced operation.


def unary(ufunc, df, *, domain=real, impl=None, name=None, jvp=None, vjp=None, pole=False):
    """An elementwise op of one argument from its derivative ``df(x, ans)`` (or, for an op
    that is not holomorphic on complex inputs, explicit ``jvp`` and ``vjp`` rules).
    ``pole=True``: ``df`` can be infinite (or overflow), so zero (co)tangents annihilate."""

    keep = unary_keep(df) if jvp is None else None  # explicit rules keep everything
    if jvp is None and pole:

        def jvp(ts, ans, x):
            t = ts[0]
            return annihilate(t * df(x, ans), t)

        def vjp(g, ans, which, x):
            d = df(x, ans)
            return (annihilate(scaled(g, d) if type(d) is ndarray and d.size >= BIG else g * d, g),)

    elif jvp is None:

        def jvp(ts, ans, x):
            return ts[0] * df(x, ans)

        def vjp(g, ans, which, x):
            d = df(x, ans)
            return (scaled(g, d) if type(d) is ndarray and d.size >= BIG else g * d,)

        if _speedups is not None:  # the same in C (see the end of this module)
            vjp = _speedups.ElementwiseVJP(_UNARY, vjp, df)

    return _elementwise(ufunc, name, impl, jvp, vjp, batch_unary, (domain,), keep)


def _elementwise(ufunc, name, impl, jvp, vjp, batch, domain, keep=None):
    prim = declare(name or ufunc.__name__, impl or ufunc, jvp=jvp, vjp=vjp, batch=batch,
                   spec={"kind": "elementwise", "domain": domain}, elementwise=True)  # fmt: skip
    prim.keep = keep
    ufunc_rules[ufunc] = prim
    return prim


def batch_unary(prim):
    """Ops of one argument that act on each element (or each batch member) alike batch by
    applying themselves to the batched value."""

    def batch(args, batched, size, **params):
        return prim.bind(args[0], **params)

    return batch


def _fitter(k):
    """``fit`` for argument ``k`` of a binary op, with its fast path inlined: a cotangent of
    the argument's own type, shape and dtype (nearly always) needs nothing. Tracers take it
    too (a VJP run on forward-mode values: hvp's backward pass)."""

    def fit_k(c, x, y, ans):
        a = y if k else x
        tc = type(c)
        if tc is type(a) and tc is type(ans) and (
                tc is ndarray and c.shape == a.shape == ans.shape and c.dtype is a.dtype
                or tc in _SCALARS or tc in tracer_types and c.shape == a.shape == ans.shape
                and c.dtype is a.dtype):  # fmt: skip
            return c
        return fit(c, a, ans)

    return fit_k


def _partial_rules(d, k, pole):
    """(jvp term, vjp) of argument ``k`` of a binary op, from its partial derivative ``d``:
    a callable ``d(x, y, ans)`` or a constant such as 1 or -1 (add, subtract), for which no
    multiplication is spent. ``pole``: ``d`` can be infinite, so zeros annihilate.

    ``d.split(x, y, ans)``, where a partial has one, returns ``(f, v)`` with ``d == f * v``
    for a number ``f`` (or None where it has no such form): a scalar cotangent (the VJP of
    ``sum`` hands one back) is then multiplied by ``f``, and the array ``v`` is passed over
    once, not twice (``2 * x`` and then ``g * (2 * x)``)."""
    fit_k = _fitter(k)
    split = getattr(d, "split", None) if callable(d) else None
    # ``pole`` may be a predicate pole(x, y): whether d can be infinite at these values.
    may_be_infinite = pole if callable(pole) else (lambda x, y: True)

    def negated_vjp(h, x, y, ans):
        # The cotangent -h (a reverse.Negated): where d splits as f * v, the product
        # h * (-f * v), the sign folded into the factor at no cost; else -(vjp(h)), unexpanded.
        fv = split(x, y, ans) if split is not None and type(h) is ndarray else None
        if fv is None:
            return negated(vjp(h, x, y, ans))
        (f, c), fv = fv, None
        c = -f * c  # a new array: scaled may write into it
        c = scaled(h, c) if type(c) is ndarray and c.size >= BIG else h * c
        return fit_k(annihilate(c, h) if pole and may_be_infinite(x, y) else c, x, y, ans)

    if callable(d):

        def jvp_term(t, x, y, ans):
            c = t * d(x, y, ans)
            return annihilate(c, t) if pole and may_be_infinite(x, y) else c

        def vjp(g, x, y, ans):
            if type(g) is Negated:
                return negated_vjp(g.g, x, y, ans)
            inf = pole and may_be_infinite(x, y)  # before x may be written into, below
            fv = split(x, y, ans) if split is not None and type(g) in _SCALAR_CTS else None
            if fv is None:
                c = d(x, y, ans)
                tc = type(c)
                if tc is ndarray:
                    c = scaled(g, c) if c.size >= BIG else g * c
                elif tc is float or tc is _float64 or tc not in tracer_types:
                    c = g * c
                else:  # a plain cotangent times a traced partial: see _TRACED_RIGHT
                    c = c.__rmul__(g)
            else:
                # c, now its only holder, is new (scaled may write into it) or the argument's
                # own value, which may be dead (donated: the product is its last use)
                (f, c), fv = fv, None
                gf = g * f
                if type(c) is ndarray and c.size >= BIG:
                    c = scaled(gf, c, _residuals.donated(c))
                else:
                    c = gf * c
            return fit_k(annihilate(c, g) if inf else c, x, y, ans)

    else:
        one = d == 1
        # A constant partial keeps the tangent's shape, which may be smaller than the
        # output's (x + y with y broadcast): broadcast it. A callable partial involves the
        # other argument or the output, so its product broadcasts to the output's shape.
        def jvp_term(t, x, y, ans):
            t = t if d == 1 else (-t if d == -1 else t * d)
            tt = type(t)
            if tt is type(ans) and (tt in _SCALARS or (tt is ndarray and t.shape == ans.shape)):
                return t
            s = shape_of(t)
            return t if s == shape_of(ans) else np.broadcast_to(t, shape_of(ans))

        def vjp(g, x, y, ans):
            if type(g) is Negated:  # -(-g) is g
                return negated(vjp(g.g, x, y, ans))
            if one:
                return fit_k(g, x, y, ans)
            if d == -1:  # subtraction's: unexpanded, see reverse.Negated
                return negated(fit_k(g, x, y, ans))
            return fit_k(g * d, x, y, ans)

    if _speedups is not None and not pole and (callable(d) or d in (1, -1)):
        vjp = _speedups.ElementwiseVJP(_PARTIAL, vjp, d if callable(d) else None, k,
                                       1 if callable(d) else d, split is not None)  # fmt: skip
    return jvp_term, vjp


def binary(ufunc, dx, dy, *, domain=(real, real), impl=None, name=None, pole=False,
           symmetric=False, jvp=None):  # fmt: skip
    """An elementwise op of two broadcasting arguments from its partials.

    ``dx(x, y, ans)`` and ``dy(x, y, ans)`` are the partial derivatives; either may instead be
    a constant such as ``1`` or ``-1`` (add, subtract), which skips a multiplication.
    ``pole``: a partial can be infinite, so zero (co)tangents annihilate; a pair gives it per
    argument, each True or a predicate ``pole(x, y)``. ``symmetric``: ``dy(x, y) == dx(y, x)``,
    so where both arguments are one value (``x * x``) the two terms of the JVP, and the two
    cotangents, are one product computed once. ``jvp`` replaces the JVP rule built from the
    partials (multiply's, spelled out, is a hot path of forward mode).
    """
    px, py = pole if isinstance(pole, tuple) else (pole, pole)
    (jx, vx), (jy, vy) = _partial_rules(dx, 0, px), _partial_rules(dy, 1, py)
    # add and subtract: with both tangents arrays, tx + ty or tx - ty in one operation
    # (broadcasting gives the output's shape), not a negation, two broadcasts and a sum.
    both = None
    if not callable(dx) and not callable(dy) and dx == 1 and dy in (1, -1):
        both = np.add if dy == 1 else np.subtract

    def from_partials(ts, ans, x, y):
        tx, ty = ts
        if tx is None:
            return jy(ty, x, y, ans)
        if ty is None:
            return jx(tx, x, y, ans)
        if both is not None and type(tx) is ndarray and type(ty) is ndarray:
            return both(tx, ty)
        if symmetric and x is y and tx is ty:
            t = jx(tx, x, y, ans)
            return t + t
        return jx(tx, x, y, ans) + jy(ty, x, y, ans)

    def vjp(g, ans, which, x, y):
        if len(which) == 2:
            return vx(g, x, y, ans), vy(g, x, y, ans)
        return ((vy if which[0] else vx)(g, x, y, ans),)

    def symmetric_vjp(g, ans, which, x, y):
        if len(which) == 2:
            if x is y:
                c = vx(g, x, y, ans)
                return c, c  # shared: the backward pass never writes into a rule's result
            return vx(g, x, y, ans), vy(g, x, y, ans)
        return ((vy if which[0] else vx)(g, x, y, ans),)

    if symmetric:
        vjp = symmetric_vjp
    if _speedups is not None:
        vjp = _speedups.ElementwiseVJP(_BINARY, vjp, vx=vx, vy=vy, symmetric=symmetric)

    keep = binary_keep([(dx, px), (dy, py)])
    prim = _elementwise(ufunc, name, impl, jvp or from_partials, vjp, batch_elementwise,
                        domain, keep)  # fmt: skip
    prim.takes_negated = True  # the partials' VJPs fold or pass on a Negated cotangent
    return prim


def nondiff(*ufuncs, batch=batch_elementwise, domain=real):
    """Piecewise-constant ufuncs: zero derivative, no tape record; they return plain
    arrays (comparisons return plain booleans, so ``if``/``while`` on traced values work)."""
    for uf in ufuncs:
        spec = {"kind": "nondiff", "domain": (domain,) * uf.nin}
        prim = declare(uf.__name__, uf, nondiff=True, batch=batch, spec=spec)
        ufunc_rules[uf] = prim


def linear(name, impl, transpose, *, batch=None, spec=None, ufunc=None, elementwise=False):
    """An op linear in each argument: its JVP is the op applied to the tangents (zeros where
    an argument is constant); ``transpose(g, ans, which, *args, **params)`` is its VJP."""

    def jvp(ts, ans, *args, **params):
        if len(ts) == 1:
            t = ts[0]
            if type(t) in tracer_types:
                return prim.bind(t, **params)
            return prim.impl(t, **params)  # what bind does with no tracer, one call sooner
        ts = [zeros_of(a) if t is None else t for t, a in zip(ts, args)]
        return prim.bind(*ts, **params)

    prim = declare(name, impl, jvp=jvp, vjp=transpose, batch=batch, spec=spec,
                   elementwise=elementwise)  # fmt: skip
    if ufunc is not None:
        ufunc_rules[ufunc] = prim
    return prim


def defun(np_func, handler, *, cases=None, nondiff_args=()):
    """Route a NumPy function (through ``__array_function__``) to ``handler``.

    ``cases(rng)`` returns example ``(args, kwargs)`` pairs on which the generic function test
    (tests/test_functions.py) checks the function, as composed from primitives, against
    finite differences to second order and its batching against a loop. Positional
    arguments that are floating arrays (or lists of them) are differentiated, except the
    positions in ``nondiff_args``.
    """
    function_rules[np_func] = handler
    if cases is not None:
        specify(np_func, cases, nondiff_args=nondiff_args)
    return handler


# Function (NumPy's, or wengert's own such as wengert.scipy.linalg.expm) -> its test
# specification; also the source of docs/coverage.md.
function_specs: dict = {}


def specify(func, cases, *, nondiff_args=()):
    """Declare example cases for a differentiable function built from primitives (see
    ``defun``), so the generic function test covers it."""
    function_specs[func] = {"cases": cases, "nondiff_args": tuple(nondiff_args)}
    return func




def normal_cases(*shapes, **kwargs):
    """Example cases (for ``defun``/``specify``) of one call: standard normal arrays of
    ``shapes`` as the positional arguments, ``kwargs`` as the keywords."""
    return lambda rng: [(tuple(rng.standard_normal(s) for s in shapes), kwargs)]
