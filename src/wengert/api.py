"""The transformations users call: grad, value_and_grad, vjp, jvp, jacfwd, jacrev, hessian,
hvp, vmap, elementwise_grad. Each is a few lines over the three traces."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from wengert import debug as _debug
from wengert import tree
from wengert.core import trace as _trace
from wengert.core.batching import BatchTrace, BatchTracer
from wengert.core.forward import JVPTracer
from wengert.core.reverse import VJPTrace, VJPTracer, backward
from wengert.core.trace import Tracer
from wengert.numpy._family import expand, unwrap_all
from wengert.numpy.products import identities as _identities
from wengert.numpy.select import stop_gradient_p
from wengert.errors import (
    ArgumentError,
    InputTypeError,
    OutputShapeError,
    TangentMismatchError,
)

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "vmap",
    "elementwise_grad",
    "stop_gradient",
]

_DOC = _trace.ERRORS_DOC


# -- helpers -------------------------------------------------------------------------------
_ndarray = np.ndarray
_SCALARS = frozenset([np.float64, np.float32, np.float16, np.longdouble, np.complex128,
                      np.complex64, np.clongdouble])  # fmt: skip


def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.result_type(x)


def _as_input(x, fname: str, k: int):
    """A differentiable input leaf: floats and complex pass, Python scalars become NumPy
    scalars, integers and booleans are refused."""
    if (type(x) is _ndarray or isinstance(x, Tracer)) and x.dtype.kind in "fc":
        return x  # the common cases, first
    if isinstance(x, (float, complex)) and not isinstance(x, bool):
        return np.float64(x) if isinstance(x, float) else np.complex128(x)
    if not isinstance(x, (Tracer, np.ndarray, np.generic)) and not np.isscalar(x):
        raise InputTypeError(
            f"{fname}: argument {k} is a {type(x).__name__}, not an array. Pass a "
            f"NumPy array (np.asarray(...)) or a float. {_DOC}"
        )
    dtype = x.dtype if isinstance(x, (np.ndarray, np.generic, Tracer)) else np.result_type(x)
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise InputTypeError(
            f"{fname}: argument {k} has dtype {dtype}, but only floating-point (or complex) "
            f"inputs can be differentiated. Pass floats: 2.0 instead of 2, or x.astype(float). "
            f"{_DOC}"
        )
    return x


def _check_complex(leaves, fname: str, what: str, holomorphic: bool) -> None:
    """JAX's dtype rules for complex differentiation: ``holomorphic=True`` needs complex
    inputs and outputs; without it, the mode that would lose half the derivative refuses."""
    for k, x in enumerate(leaves):
        is_c = np.dtype(_dtype(x)).kind == "c"
        if holomorphic and not is_c:
            raise InputTypeError(
                f"{fname}(holomorphic=True): {what} {k} has dtype {_dtype(x)}, but a holomorphic "
                f"derivative needs complex {what}s. Pass x.astype(complex). {_DOC}"
            )
        if not holomorphic and is_c:
            fix = "wg.jvp" if fname == "jacfwd" else "wg.vjp"
            raise InputTypeError(
                f"{fname}: {what} {k} is complex ({_dtype(x)}). Pass holomorphic=True if the "
                f"function is holomorphic (complex-differentiable), or use {fix} for a "
                f"non-holomorphic function of complex values. {_DOC}"
            )


def _call(fun, args):
    """``fun(*args)`` with any object arrays of tracers in its result (``np.array([t1, t2])``)
    turned into traced arrays, while the trace is still open."""
    out = fun(*args)
    hook = _trace.coerce_hook
    if hook is None or isinstance(out, Tracer):
        return out  # nothing the hook would change
    if type(out) is _ndarray and not out.dtype.hasobject:
        return out
    return tree.tree_map(hook, out)


def _argnums(args, argnums, fname):
    """(the positions of the differentiated arguments, whether argnums is a sequence)."""
    multi = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if multi else (argnums,)
    for n in nums:
        if not isinstance(n, int) or not -len(args) <= n < len(args):
            raise ArgumentError(
                f"{fname}: argnums={argnums!r} but the function was called with "
                f"{len(args)} positional arguments."
            )
    return tuple(n % len(args) for n in nums), multi


def _bound(fun, args, nums, kwargs):
    """``fun`` as a function of the arguments at ``nums`` only, the others held fixed."""
    if not kwargs and nums == tuple(range(len(args))):
        return fun  # every argument differentiated, in order: nothing to hold fixed

    def rebuilt(*dyn):
        full = list(args)
        for n, d in zip(nums, dyn):
            full[n] = d
        return fun(*full, **kwargs)

    return rebuilt


def _argnums_split(fun, args, kwargs, argnums, fname):
    """(the differentiated arguments as a tuple, ``fun`` of those only, whether argnums is a
    sequence)."""
    nums, multi = _argnums(args, argnums, fname)
    return tuple([args[n] for n in nums]), _bound(fun, args, nums, kwargs), multi


def _trace_call(trace, inputs, treedef, fun, has_aux, fname):
    """``fun`` called on the tracers ``inputs`` rebuilt as ``treedef``, with the trace closed
    after whatever happens. Returns (output, aux); aux values are unwrapped from ``trace``."""
    try:
        out = _call(fun, tree.unflatten(treedef, inputs))
    finally:
        trace.close()
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise OutputShapeError(
            f"{fname}(has_aux=True) needs the function to return a pair (output, aux), but it "
            f"returned a {type(out).__name__}. {_DOC}"
        )
    out, aux = out
    return out, tree.tree_map(lambda a: _unwrap_for(a, trace), aux)


def _unwrap_for(x, trace):
    """The value of a leaf one level below ``trace`` (itself if it is not of ``trace``)."""
    if isinstance(x, Tracer) and x._trace is trace:
        return x.primal
    return x


# -- reverse mode --------------------------------------------------------------------------
class _Recorded(NamedTuple):
    """One forward pass on a tape: what the backward pass needs."""

    trace: VJPTrace
    tape: list
    check: Callable | None  # debug_nans' cotangent check
    leaves: list
    treedef: tree.TreeDef
    out_leaves: list
    out_tree: tree.TreeDef
    aux: Any


def _vjp_trace(fun, primals: tuple, fname: str, has_aux: bool) -> _Recorded:
    """Run ``fun(*primals)`` on a new tape. Closing the trace detaches the tape from it, so
    nothing but the caller holds the tape and it is freed by reference counting, not by a
    GC cycle."""
    leaves, treedef = tree.flatten(primals)
    leaves = [_as_input(x, fname, k) for k, x in enumerate(leaves)]
    trace = _debug.vjp_trace()
    tape = trace.tape
    check = trace.checker() if isinstance(trace, _debug.CheckedVJPTrace) else None
    inputs = [trace.new_input(x) for x in leaves]
    out, aux = _trace_call(trace, inputs, treedef, fun, has_aux, fname)
    out_leaves, out_tree = tree.flatten(out)
    return _Recorded(trace, tape, check, leaves, treedef, out_leaves, out_tree, aux)


def _run_backward(rec: _Recorded, cts, free):
    seeds: dict = {}
    for o, c in zip(rec.out_leaves, cts):
        if isinstance(o, VJPTracer) and o._trace is rec.trace and c is not None:
            seeds[o.idx] = c if o.idx not in seeds else seeds[o.idx] + c
    grads = backward(rec.tape, seeds, len(rec.leaves), free, check=rec.check)
    return [_materialize(g, x) for g, x in zip(grads, rec.leaves)]


def _materialize(g, x):
    """The cotangent of input ``x`` as a full array of x's shape that the user owns (it may
    arrive as None, merely broadcastable to x, or a read-only view)."""
    tg = type(g)
    if tg is type(x):  # already right (the common case), without the general checks below
        if tg in _SCALARS:
            return g
        if tg is _ndarray:
            if g.shape == x.shape and g.dtype == x.dtype and g.flags.writeable:
                return g
        elif isinstance(g, Tracer) and g.shape == x.shape and g.dtype == x.dtype:
            return g
    if g is None:
        return np.zeros_like(x)
    s = _shape(x)
    if _shape(g) != s:
        g = expand(g, s)
    dx = _dtype(x)
    if _dtype(g) != dx and np.dtype(dx).kind in "fc":
        g = g.astype(dx)  # float32 inputs get float32 gradients, whatever they met
    if type(g) is np.ndarray and not g.flags.writeable:
        g = g.copy()
    elif isinstance(g, np.generic) and isinstance(x, np.ndarray):
        g = np.asarray(g)  # a 0-d array input gets a 0-d array gradient
    return g


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Reverse mode: ``fun(*primals)`` and a function pulling cotangents back to the inputs.

    Returns ``(out, pullback)`` (and ``aux`` with ``has_aux=True``); ``pullback(ct)`` returns a
    tuple with one cotangent per primal, ``ct^T J``. The pullback may be called many times;
    the tape is freed when it is dropped.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> y, pullback = wg.vjp(lambda x: np.sin(x) * 2, np.array([0.0, np.pi]))
    >>> pullback(np.ones(2))
    (array([ 2., -2.]),)
    """
    rec = _vjp_trace(fun, primals, "vjp", has_aux)
    out_leaves, out_tree = rec.out_leaves, rec.out_tree
    out = tree.unflatten(out_tree, [_unwrap_for(o, rec.trace) for o in out_leaves])
    out_shapes = [(_shape(o), _dtype(o)) for o in out_leaves]

    def pullback(ct):
        ct_leaves, ct_tree = tree.flatten(ct)
        if ct_tree != out_tree:
            raise TangentMismatchError(
                f"vjp pullback: the cotangent's structure {ct_tree} differs from the "
                f"output's {out_tree}. Pass one cotangent per output, shaped like it. {_DOC}"
            )
        for k, (c, (s, d)) in enumerate(zip(ct_leaves, out_shapes)):
            if _shape(c) != s:
                raise TangentMismatchError(
                    f"vjp pullback: cotangent {k} has shape {_shape(c)}, but output {k} has "
                    f"shape {s}. Each cotangent must match its output's shape. {_DOC}"
                )
            if np.dtype(_dtype(c)).kind == "c" and np.dtype(d).kind != "c":
                raise TangentMismatchError(
                    f"vjp pullback: cotangent {k} is complex ({_dtype(c)}) but output {k} is "
                    f"real ({d}); its imaginary part would be dropped. Pass a real "
                    f"cotangent. {_DOC}"
                )
        return tree.unflatten(rec.treedef, _run_backward(rec, ct_leaves, free=False))

    return (out, pullback, rec.aux) if has_aux else (out, pullback)


def _value_and_grads(fun, dyn: tuple, has_aux: bool, holomorphic: bool):
    """(value, gradient leaves, recording) of a real scalar ``fun(*dyn)``: value_and_grad's
    work after its arguments are bound, and hvp's."""
    if holomorphic:
        _check_complex(tree.flatten(dyn)[0], "grad", "input", True)
    rec = _vjp_trace(fun, dyn, "grad", has_aux)
    out_leaves, out_tree = rec.out_leaves, rec.out_tree
    if len(out_leaves) != 1 or out_tree.kind is not None:
        raise OutputShapeError(
            f"grad requires a scalar output, but f returned a {type(tree.unflatten(out_tree, out_leaves)).__name__}. "
            f"Return one scalar, or use wg.jacrev / wg.vjp for several outputs. {_DOC}"
        )
    (out,) = out_leaves
    value = _unwrap_for(out, rec.trace)  # shaped and typed as out, one call cheaper
    if _shape(value) != ():
        raise OutputShapeError(
            f"grad requires a scalar output, but f returned shape {_shape(out)}. Reduce it "
            f"(e.g. np.sum), or use wg.jacrev / wg.vjp for non-scalar outputs. {_DOC}"
        )
    if holomorphic:
        _check_complex([out], "grad", "output", True)
    elif np.dtype(_dtype(value)).kind == "c":
        raise OutputShapeError(
            "grad requires a real output, but f returned a complex value. Take np.real "
            "or np.abs of it, pass holomorphic=True if f is holomorphic, or use wg.vjp. "
            f"{_DOC}"
        )
    # The seed: one, of the output's type. It is a constant, so forward-mode tracers
    # around the output are dropped (hvp would otherwise push a zero tangent through the
    # whole backward pass); batching is kept, as the seed's shape depends on it. A NumPy
    # scalar is made directly: np.ones_like of one costs microseconds.
    raw = value
    while isinstance(raw, JVPTracer):
        raw = raw.primal
    seed = raw.dtype.type(1) if isinstance(raw, np.generic) else np.ones_like(raw)
    return value, _run_backward(rec, [seed], free=True), rec


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False,
                   holomorphic: bool = False) -> Callable:  # fmt: skip
    """A function returning ``(fun(*args), gradient)`` for a real scalar ``fun`` (see
    ``grad`` for complex arguments and ``holomorphic``).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.value_and_grad(lambda x: 5 * x**2 + 4 * x + 1)(2.0)
    (np.float64(29.0), np.float64(24.0))
    """

    def value_and_grad_fun(*args, **kwargs):
        dyn, bound, multi = _argnums_split(fun, args, kwargs, argnums, "grad")
        value, grads, rec = _value_and_grads(bound, dyn, has_aux, holomorphic)
        g = tree.unflatten(rec.treedef, grads)
        g = g if multi else g[0]
        return ((value, rec.aux), g) if has_aux else (value, g)

    return value_and_grad_fun


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The gradient of a real scalar function, by reverse mode.

    ``argnums`` picks the argument (or a tuple of them, giving a tuple of gradients); any
    argument may be a pytree of arrays. With ``has_aux=True`` ``fun`` returns
    ``(value, aux)`` and the gradient function returns ``(gradient, aux)``.

    Complex arguments follow JAX and autograd: for a real ``L(x + iy)`` the gradient is
    ``dL/dx - i dL/dy`` (PyTorch returns its conjugate), so a descent step is
    ``z = z - lr * np.conj(g)``. With ``holomorphic=True`` a complex-valued ``fun`` of complex
    arguments is allowed and the result is its complex derivative ``f'(z)``.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> f = lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2)
    >>> [round(float(g), 3) for g in wg.grad(f, argnums=(0, 1))(2.0, 5.0)]
    [5.5, 1.716]
    >>> complex(wg.grad(np.imag)(1 + 2j)), complex(wg.grad(np.sin, holomorphic=True)(0j))
    (-1j, (1+0j))
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    def grad_fun(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_fun


def elementwise_grad(fun: Callable, argnums=0) -> Callable:
    """The sum over outputs of their gradients: for elementwise ``fun``, each output's
    derivative in its own input (autograd's ``elementwise_grad``).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.elementwise_grad(np.tanh)(np.zeros(3))
    array([1., 1., 1.])
    """

    def egrad(*args, **kwargs):
        dyn, bound, multi = _argnums_split(fun, args, kwargs, argnums, "elementwise_grad")
        out, pullback = vjp(bound, *dyn)
        g = pullback(tree.tree_map(np.ones_like, out))
        return g if multi else g[0]

    return egrad


# -- forward mode --------------------------------------------------------------------------
def _check_tangent(p, t, k, fname):
    tp = type(p)
    if type(t) is tp and (tp in _SCALARS or (tp is _ndarray and t.dtype == p.dtype
                                             and t.shape == p.shape and p.shape)):
        return t  # already of the primal's type, shape and (floating) dtype
    if type(t) is float and tp in _SCALARS:
        return tp(t)  # np.asarray(t, dtype=p.dtype)[()], below, made directly
    if _shape(t) != _shape(p):
        raise TangentMismatchError(
            f"{fname}: tangent {k} has shape {_shape(t)} and dtype {_dtype(t)}, but primal {k} "
            f"has shape {_shape(p)} and dtype {_dtype(p)}. Each tangent must match its "
            f"primal's shape and dtype. {_DOC}"
        )
    pk, tk = np.dtype(_dtype(p)).kind, np.dtype(_dtype(t)).kind
    if tk not in "fciub" or (tk == "c" and pk != "c"):
        raise TangentMismatchError(
            f"{fname}: tangent {k} has dtype {_dtype(t)}, but primal {k} has dtype "
            f"{_dtype(p)}. Each tangent must match its primal's shape and dtype. {_DOC}"
        )
    if isinstance(t, Tracer):
        return t
    return np.asarray(t, dtype=_dtype(p)) if _shape(p) else np.asarray(t, dtype=_dtype(p))[()]


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: ``(fun(*primals), J @ tangents)`` in one pass with dual numbers.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.jvp(lambda x: 3 * x + 2, (4.0,), (1.0,))
    (np.float64(14.0), np.float64(3.0))
    """
    trace, inputs, p_tree = _dual_inputs(primals, tangents, "jvp")
    out, aux = _trace_call(trace, inputs, p_tree, fun, has_aux, "jvp")
    out_leaves, out_tree = tree.flatten(out)
    primals_out = [o.primal if type(o) is JVPTracer and o._trace is trace else o
                   for o in out_leaves]  # fmt: skip
    res = (tree.unflatten(out_tree, primals_out),
           tree.unflatten(out_tree, [_tangent_out(o, trace) for o in out_leaves]))  # fmt: skip
    return res + (aux,) if has_aux else res


def _dual_inputs(primals, tangents, fname):
    """(a new forward trace, its tracers for the leaves of ``primals`` with ``tangents``,
    the primals' structure), with both checked as jvp documents."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise InputTypeError(
            f"{fname}(fun, primals, tangents) takes primals and tangents as tuples, one entry "
            f"per argument of fun: wg.{fname}(f, (x,), (v,)). {_DOC}"
        )
    if len(primals) == 1 and len(tangents) == 1:  # one array and its direction, checked at once
        p, t = primals[0], tangents[0]
        if (type(p) is _ndarray and type(t) is _ndarray and p.dtype.kind in "fc"
                and t.dtype == p.dtype and t.shape == p.shape and p.shape):  # fmt: skip
            trace = _debug.jvp_trace()
            return trace, [JVPTracer(trace, p, t)], tree._flat_def(tuple, 1)
    p_leaves, p_tree = tree.flatten(tuple(primals))
    t_leaves, t_tree = tree.flatten(tuple(tangents))
    if p_tree is not t_tree and p_tree != t_tree:
        raise TangentMismatchError(
            f"{fname}: primals have structure {p_tree} but tangents {t_tree}; give one tangent "
            f"per primal, shaped like it. {_DOC}"
        )
    p_leaves = [_as_input(p, fname, k) for k, p in enumerate(p_leaves)]
    t_leaves = [_check_tangent(p, t, k, fname) for k, (p, t) in enumerate(zip(p_leaves, t_leaves))]
    trace = _debug.jvp_trace()  # opened once the checks passed: a refused call leaves none open
    return trace, [JVPTracer(trace, p, t) for p, t in zip(p_leaves, t_leaves)], p_tree


def _tangent_out(o, trace):
    """The tangent of output leaf ``o`` of ``trace``, of the output's dtype (as JAX); a zero
    array where ``o`` does not depend on the inputs."""
    if type(o) is JVPTracer and o._trace is trace:
        p, t = o.primal, o.tangent
        tt = type(t)
        if tt is type(p) and (tt in _SCALARS or (tt is _ndarray and t.dtype == p.dtype)):
            return t  # already of the output's dtype
        if not isinstance(t, Tracer) and _dtype(t) != _dtype(p):
            return np.asarray(t, dtype=_dtype(p))[()]
        return t
    dt = _dtype(o)
    return np.zeros_like(o, dtype=dt if dt.kind in "fc" else float)


def hvp(fun: Callable, x, v):
    """The Hessian-vector product ``H(x) @ v`` of a scalar ``fun``, forward over reverse:
    the cost of a few gradients, never the Hessian. ``x`` and ``v`` may be pytrees of the
    same structure.

    It equals ``jvp(grad(fun), (x,), (v,))[1]`` to rounding, not always bit for bit: as no
    value is returned, a matrix product with a constant matrix computes the value and its
    tangent in one GEMM, which rounds differently from two matrix-vector products.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.hvp(lambda x: np.sum(x**3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    # jvp(grad(fun), (x,), (v,))[1], without the two wrappers' plumbing: the gradient
    # computed on dual numbers, of which the tangents are H @ v.
    trace, duals, x_tree = _dual_inputs((x,), (v,), "hvp")
    trace.joint = True  # no value of this trace is returned: joint rules may round them
    try:
        _, grads, rec = _value_and_grads(fun, tree.unflatten(x_tree, duals), False, False)
    finally:
        trace.close()
    return tree.unflatten(rec.treedef, [_tangent_out(g, trace) for g in grads])[0]


# -- batching ------------------------------------------------------------------------------
def _broadcast_axes(axes, args, name):
    """Per-leaf axes from an ``in_axes`` prefix tree: an int or None applies to a whole
    subtree (None is an axis here, not an empty container), as in JAX."""
    if isinstance(axes, list) and isinstance(args, tuple):
        axes = tuple(axes)
    if axes is None or isinstance(axes, int):
        return [axes] * len(tree.flatten(args)[0])
    a_children = tree._children(axes)
    x_children = tree._children(args)
    if a_children is None or x_children is None or a_children[0] is not x_children[0] \
            or len(a_children[2]) != len(x_children[2]) or a_children[1] != x_children[1]:  # fmt: skip
        raise ArgumentError(
            f"vmap: {name}={axes!r} does not match the arguments: give an int, None, or a "
            f"structure matching them (a tuple with one entry per positional argument). {_DOC}"
        )
    out = []
    for a, x in zip(a_children[2], x_children[2]):
        out += _broadcast_axes(a, x, name)
    return out


def vmap(fun: Callable, in_axes=0, out_axes=0) -> Callable:
    """Vectorise ``fun`` over an axis of its arguments, with no Python loop.

    ``in_axes`` is an int, None (not batched), or a tuple with one entry per positional
    argument; ``out_axes`` is an int or a tuple per output leaf.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.vmap(lambda row: row @ row)(np.arange(6.0).reshape(3, 2))
    array([ 1., 13., 41.])
    """

    def batched(*args, **kwargs):
        # Keyword arguments are batched along their axis 0, as in JAX.
        leaves, treedef = tree.flatten((args, kwargs))
        axes = _broadcast_axes(in_axes, args, "in_axes")
        axes += [0] * (len(leaves) - len(axes))
        sizes = {_shape(x)[ax] for x, ax in zip(leaves, axes) if ax is not None}
        if len(sizes) != 1:
            raise ArgumentError(
                "vmap needs at least one batched argument and one batch size, got sizes "
                f"{sorted(sizes)} for in_axes={in_axes!r}. {_DOC}"
            )
        (size,) = sizes
        trace = BatchTrace(size)
        try:
            wrapped = [
                x if ax is None else BatchTracer(trace, np.moveaxis(x, ax, 0) if ax else x)
                for x, ax in zip(leaves, axes)
            ]
            a, kw = tree.unflatten(treedef, wrapped)
            out = _call(lambda *a: fun(*a, **kw), a)
        finally:
            trace.close()
        out_leaves, out_tree = tree.flatten(out)
        oaxes = _broadcast_axes(out_axes, out, "out_axes")
        res = []
        for k, (o, ax) in enumerate(zip(out_leaves, oaxes)):
            batched_out = isinstance(o, BatchTracer) and o._trace is trace
            if ax is None:
                if batched_out:
                    raise ArgumentError(
                        f"vmap: out_axes is None for output {k}, but it depends on the "
                        f"batched inputs. Give it an axis, or return an unbatched value. {_DOC}"
                    )
                res.append(o)
                continue
            v = o.value if batched_out else np.broadcast_to(o, (size,) + _shape(o))
            res.append(v if ax == 0 else np.moveaxis(v, 0, ax))
        return tree.unflatten(out_tree, res)

    return batched


# -- Jacobians -----------------------------------------------------------------------------
def _basis(leaves):
    """One batched basis direction per scalar of ``leaves``: each leaf's block of the
    identity, shaped (N, *leaf.shape)."""
    sizes = [int(np.prod(_shape(x), dtype=int)) for x in leaves]
    n = sum(sizes)
    raw = unwrap_all(leaves[0])
    dtype = np.result_type(*[_dtype(x) for x in leaves])
    eye = np.eye(n, dtype=dtype, like=raw) if isinstance(raw, np.ndarray) else np.eye(n, dtype=dtype)
    if len(leaves) == 1 and len(_shape(leaves[0])) == 1 and type(eye) is np.ndarray:
        _identities[id(eye)] = eye  # one vector input: its basis is the identity itself
        return [eye], sizes
    blocks, off = [], 0
    for x, s in zip(leaves, sizes):
        blocks.append(np.reshape(eye[:, off : off + s], (n,) + _shape(x)))
        off += s
    return blocks, sizes


def _forget(basis):
    """The identity of a basis is known to matmul (see _basis) only while it is pushed."""
    for b in basis:
        if _identities.get(id(b)) is b:
            del _identities[id(b)]


def _split_fwd(j, in_leaves, sizes, in_tree):
    """A jacfwd block ``j`` of one output, shaped (N, *out), split per input leaf into
    (*out, *in) blocks."""
    out_shape = _shape(j)[1:]
    parts, off = [], 0
    for x, s in zip(in_leaves, sizes):
        blk = np.moveaxis(np.reshape(j[off : off + s], (s,) + out_shape), 0, -1)
        parts.append(np.reshape(blk, out_shape + _shape(x)))
        off += s
    return tree.unflatten(in_tree, parts)


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The Jacobian by forward mode: one batched JVP pushes all input directions at once
    (cheap when inputs are fewer than outputs). Shape: ``out.shape + in.shape``.

    Inputs must be real unless ``holomorphic=True`` (then inputs and outputs are complex and
    the result is the complex Jacobian), as in JAX: one real direction per entry cannot
    give the derivative of a non-holomorphic function of complex inputs (use ``wg.jvp``).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.jacfwd(lambda x: x**2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    def jac(*args, **kwargs):
        dyn, bound, multi = _argnums_split(fun, args, kwargs, argnums, "jacfwd")
        in_leaves, in_tree = tree.flatten(dyn if multi else dyn[0])
        in_leaves = [_as_input(x, "jacfwd", k) for k, x in enumerate(in_leaves)]
        _check_complex(in_leaves, "jacfwd", "input", holomorphic)
        basis, sizes = _basis(in_leaves)

        def push(*tangent_leaves):
            prim = tree.unflatten(in_tree, in_leaves)
            tan = tree.unflatten(in_tree, list(tangent_leaves))
            primals = prim if multi else (prim,)
            tangents = tan if multi else (tan,)
            res = jvp(bound, tuple(primals), tuple(tangents),
                      has_aux=has_aux)  # fmt: skip
            return (res[1], res[2]) if has_aux else res[1]

        try:
            outs = vmap(push)(*basis)
        finally:
            _forget(basis)
        aux = None
        if has_aux:
            outs, aux = outs
            aux = tree.tree_map(lambda a: a[0], aux)
        o_leaves, o_tree = tree.flatten(outs)
        if holomorphic:
            _check_complex(o_leaves, "jacfwd", "output", True)
        jacs = [_split_fwd(j, in_leaves, sizes, in_tree) for j in o_leaves]
        res = tree.unflatten(o_tree, jacs)
        return (res, aux) if has_aux else res

    return jac


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False) -> Callable:
    """The Jacobian by reverse mode: one forward pass, then one batched backward pass for
    all output directions (cheap when outputs are fewer than inputs).

    Outputs must be real unless ``holomorphic=True`` (then inputs and outputs are complex and
    the result is the complex Jacobian), as in JAX; complex inputs of real outputs give
    ``grad``'s convention.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.jacrev(lambda x: np.array([x[0] * x[1], np.sin(x[0])]))(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """

    def jac(*args, **kwargs):
        dyn, bound, multi = _argnums_split(fun, args, kwargs, argnums, "jacrev")
        if holomorphic:
            _check_complex(tree.flatten(dyn)[0], "jacrev", "input", True)
        res = vjp(bound, *dyn, has_aux=has_aux)
        _check_complex(tree.flatten(res[0])[0], "jacrev", "output", holomorphic)
        result = _pull_jacobian(res[0], res[1], dyn, multi)
        return (result, res[2]) if has_aux else result

    return jac


def _pull_jacobian(out, pullback, dyn, multi):
    """The Jacobian from one recorded forward pass: all output directions pulled back in
    one batched backward pass."""
    in_leaves, in_tree = tree.flatten(dyn if multi else dyn[0])
    o_leaves, o_tree = tree.flatten(out)
    basis, sizes = _basis(o_leaves)

    def pull(*ct_leaves):
        g = pullback(tree.unflatten(o_tree, list(ct_leaves)))
        return g if multi else g[0]

    if sum(sizes) == 1:  # a scalar output: one plain backward pass, no batching
        grads = tree.tree_map(lambda g: np.expand_dims(g, 0), pull(*[b[0] for b in basis]))
    else:
        try:
            grads = vmap(pull)(*basis)  # pytree like the inputs, leaves (M, *in.shape)
        finally:
            _forget(basis)
    g_leaves = tree.flatten(grads)[0]
    jacs, off = [], 0
    for o, s in zip(o_leaves, sizes):
        parts = [np.reshape(g[off : off + s], _shape(o) + _shape(x))
                 for g, x in zip(g_leaves, in_leaves)]  # fmt: skip
        jacs.append(tree.unflatten(in_tree, parts))
        off += s
    return tree.unflatten(o_tree, jacs)


def jacobian(fun: Callable, argnums=0, mode: str = "auto", holomorphic: bool = False) -> Callable:
    """The Jacobian, choosing the cheaper mode: forward when the inputs have fewer scalars
    than the outputs, reverse otherwise (``mode="fwd"``/``"rev"`` to force one);
    ``holomorphic`` as in ``jacfwd``.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.jacobian(np.sin)(np.zeros(2))
    array([[1., 0.],
           [0., 1.]])
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ArgumentError(f"jacobian: mode must be 'auto', 'fwd' or 'rev', got {mode!r}. {_DOC}")

    def jac(*args, **kwargs):
        if mode == "fwd":
            return jacfwd(fun, argnums, holomorphic=holomorphic)(*args, **kwargs)
        if mode == "rev":
            return jacrev(fun, argnums, holomorphic=holomorphic)(*args, **kwargs)
        # Record one reverse-mode pass: it tells the output size, and if reverse mode is the
        # cheaper one (fewer outputs than inputs) it is reused, not recomputed.
        dyn, bound, multi = _argnums_split(fun, args, kwargs, argnums, "jacobian")
        out, pullback = vjp(bound, *dyn)
        n_in = sum(int(np.prod(_shape(x))) for x in tree.flatten(dyn)[0])
        n_out = sum(int(np.prod(_shape(o))) for o in tree.flatten(out)[0])
        if n_in < n_out:
            return jacfwd(fun, argnums, holomorphic=holomorphic)(*args, **kwargs)
        if holomorphic:
            _check_complex(tree.flatten(dyn)[0], "jacrev", "input", True)
        _check_complex(tree.flatten(out)[0], "jacrev", "output", holomorphic)
        return _pull_jacobian(out, pullback, dyn, multi)

    return jac


def hessian(fun: Callable, argnums=0, holomorphic: bool = False) -> Callable:
    """The Hessian of a scalar function: forward over reverse (``jacfwd(jacrev(f))``).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    return jacfwd(jacrev(fun, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)


# -- stop_gradient -------------------------------------------------------------------------
def stop_gradient(x):
    """``x`` as a constant: its value passes, no derivative flows through it (in every
    mode, at every order). Works on pytrees.

    Examples
    --------
    >>> import wengert as wg
    >>> wg.grad(lambda x: x * wg.stop_gradient(x))(3.0)
    np.float64(3.0)
    """
    return tree.tree_map(stop_gradient_p.bind, x)
