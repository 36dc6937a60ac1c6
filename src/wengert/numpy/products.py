"""Products: matmul (its own primitive, to keep BLAS) and einsum (everything else: dot,
inner, outer, vdot, tensordot, and NumPy 2's ``np.linalg`` array-API names and the gufuncs
``vecdot``, ``matvec``, ``vecmat``). Both are bilinear: the JVP sums the op applied with one
tangent at a time, the VJP contracts the cotangent with the other operand. Norms and the
compositions of products (``matrix_power``, ``multi_dot``, ``lstsq``) are in ``linalg.py``."""

from __future__ import annotations

import string
import weakref

import numpy as np

from wengert.core.trace import ERRORS_DOC, ufunc_method_rules
from wengert.errors import NoRuleError
from wengert.numpy._family import (
    declare,
    defun,
    ndim_of,
    normal_cases,
    operand,
    shape_of,
    specify,
    sum_to,
    unwrap_all,
)
from wengert.numpy.elementwise import no_ufunc_kwargs


# -- matmul --------------------------------------------------------------------------------
def _matmul_vjp(g, ans, which, x, y):
    nx, ny = ndim_of(x), ndim_of(y)
    if nx <= 2 and ny <= 2:
        # No stacking: the transposes directly, with vectors handled by outer products.
        out = []
        for k in which:
            if k == 0:
                if ny == 1:
                    c = g * y if nx == 1 else g[:, None] * y
                else:
                    c = np.matmul(g, np.swapaxes(y, 0, 1)) if nx == 2 else np.matmul(y, g)
            else:
                if nx == 1:
                    c = g * x if ny == 1 else x[:, None] * g
                else:
                    c = np.matmul(g, x) if ny == 1 else np.matmul(np.swapaxes(x, 0, 1), g)
            out.append(c)
        return out
    # Stacked matrices: promote vectors to matrices as matmul does, take the matrix rule,
    # sum over broadcast stacking axes, then undo the promotion.
    xv, yv = nx == 1, ny == 1
    x2 = np.reshape(x, (1, -1)) if xv else x
    y2 = np.reshape(y, (-1, 1)) if yv else y
    g2 = np.expand_dims(g, -1) if yv else g
    g2 = np.expand_dims(g2, -2) if xv else g2
    out = []
    for k in which:
        if k == 0:
            c = np.matmul(g2, np.swapaxes(y2, -1, -2))
            out.append(np.reshape(sum_to(c, shape_of(x2)), shape_of(x)))
        else:
            c = np.matmul(np.swapaxes(x2, -1, -2), g2)
            out.append(np.reshape(sum_to(c, shape_of(y2)), shape_of(y)))
    return out


def _matmul_jvp(ts, ans, x, y):
    tx, ty = ts
    out = None if tx is None else np.matmul(tx, y)
    if ty is not None:
        t = np.matmul(x, ty)
        out = t if out is None else out + t
    return out


def _matmul_joint(ts, x, y):
    # A constant matrix times a traced vector (either side): the vector and its tangent
    # stacked as two rows go through one GEMM, which reads the matrix once instead of twice
    # (twice as fast from about 100 x 100). The rows come out contiguous.
    tx, ty = ts
    if tx is None:
        mat, vec, t, k = x, y, ty, 1
    elif ty is None:
        mat, vec, t, k = y, x, tx, 0
    else:
        return None
    arr = np.ndarray
    if (type(mat) is not arr or type(vec) is not arr or type(t) is not arr or mat.ndim != 2
            or vec.ndim != 1 or mat.size < 4096 or t.dtype != vec.dtype or t.shape != vec.shape
            or mat.shape[k] != vec.shape[0]):  # fmt: skip
        return None
    pair = np.empty((2,) + vec.shape, dtype=vec.dtype)
    pair[0] = vec
    pair[1] = t
    out = np.matmul(pair, mat.T if k else mat)
    return out[0], out[1]


# The identity matrices that jacfwd pushes as its batch of basis directions (api._basis),
# by id: a constant matrix times that batch is the matrix itself, transposed or not, not a
# GEMM of it with the identity (half of a Hessian's work where the input meets a matrix first).
identities: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _times_identity(v, m) -> bool:
    """Whether ``v`` is a jacfwd identity and ``m`` a plain matrix of its dtype (so that their
    product is ``m`` itself, of the product's dtype)."""
    return type(v) is np.ndarray and identities.get(id(v)) is v and type(m) is np.ndarray \
        and m.dtype == v.dtype  # fmt: skip


def _matmul_batch(prim):
    def batch(args, batched, size):
        x, y = args
        bx, by = batched
        nx, ny = ndim_of(x) - bx, ndim_of(y) - by
        # One GEMM, not a loop of GEMVs: a batch of vectors against a shared matrix.
        if bx and not by and nx == 1 and ny == 2:
            if _times_identity(x, y):
                return y.copy()  # a copy: the Jacobian is the caller's, not a view of y
            return prim.bind(x, y)
        if by and not bx and ny == 1 and nx == 2:
            if _times_identity(y, x):
                return np.swapaxes(x, -1, -2).copy()  # a new array, C-ordered
            return prim.bind(y, np.swapaxes(x, -1, -2))
        if nx == 1:
            x = np.expand_dims(x, -2)
        if ny == 1:
            y = np.expand_dims(y, -1)
        lead = max(ndim_of(x) - bx, ndim_of(y) - by) - 2
        if bx:
            s = shape_of(x)
            x = np.reshape(x, s[:1] + (1,) * (lead - (len(s) - 3)) + s[1:])
        if by:
            s = shape_of(y)
            y = np.reshape(y, s[:1] + (1,) * (lead - (len(s) - 3)) + s[1:])
        out = prim.bind(x, y)
        if ny == 1:
            out = np.squeeze(out, -1)
        if nx == 1:
            out = np.squeeze(out, -1 if ny == 1 else -2)
        return out

    return batch


def _matmul_cases(rng):
    r = rng.standard_normal
    return [
        ((r((3, 4)), r((4, 2))), {}),
        ((r((4,)), r((4, 2))), {}),
        ((r((3, 4)), r((4,))), {}),
        ((r((4,)), r((4,))), {}),
        ((r((2, 3, 4)), r((4, 2))), {}),
        ((r((2, 1, 3, 4)), r((5, 4, 2))), {}),
    ]


matmul_p = declare(
    "matmul",
    lambda x, y: x @ y,
    jvp=_matmul_jvp,
    vjp=_matmul_vjp,
    batch=_matmul_batch,
    spec={"cases": _matmul_cases},
)
matmul_p.joint_jvp = _matmul_joint
np_matmul = np.matmul  # a ufunc in NumPy 2, a function before
if isinstance(np_matmul, np.ufunc):
    from wengert.core.trace import ufunc_rules

    ufunc_rules[np_matmul] = matmul_p
else:  # pragma: no cover - NumPy 1.x
    defun(np_matmul, lambda x1, x2, **kw: matmul_p.bind(x1, x2))


# -- einsum --------------------------------------------------------------------------------
def _parse(spec: str, shapes):
    """Explicit subscripts: a list of index strings (ellipses spelled out) and the output."""
    spec = spec.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operands in '{spec}' but {len(shapes)} given")
    used = set(spec) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(ins, shapes) if "..." in t),
                default=0)  # fmt: skip
    ell = "".join(free[:n_ell])
    expanded = []
    for t, s in zip(ins, shapes):
        if "..." in t:
            k = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell[n_ell - k :])
        expanded.append(t)
    if not arrow:
        counts = {}
        for t in expanded:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


def _einsum_impl(*ops, spec):
    big = len(ops) > 2 or max(np.size(o) for o in ops) > 4096
    return np.einsum(spec, *ops, optimize=big)


def _einsum_jvp(ts, ans, *ops, spec):
    out = None
    for k, t in enumerate(ts):
        if t is not None:
            term = einsum_p.bind(*ops[:k], t, *ops[k + 1 :], spec=spec)
            out = term if out is None else out + term
    return out


def _einsum_vjp(g, ans, which, *ops, spec):
    ins, out = spec.split("->")
    ins = ins.split(",")
    res = []
    for k in which:
        target = ins[k]
        others = [ins[j] for j in range(len(ops)) if j != k]
        avail = set(out).union(*others)
        # Indices of operand k that nothing else carries were summed over: broadcast back.
        # A repeated index (a diagonal) is rebuilt by multiplying with an identity.
        uniq = "".join(dict.fromkeys(c for c in target if c in avail))
        c = einsum_p.bind(g, *[ops[j] for j in range(len(ops)) if j != k],
                          spec=",".join([out] + others) + "->" + uniq)  # fmt: skip
        c = _embed(c, uniq, target, shape_of(ops[k]), ops[k])
        res.append(sum_to(c, shape_of(ops[k])))  # size-one axes that broadcast
    return res


def _embed(c, have, target, shape, like):
    """``c`` with indices ``have`` expanded to the indices ``target`` of an operand: indices
    it lacks are broadcast (times ones), repeated ones are put on a diagonal (times an
    identity)."""
    if have == target:
        return c
    sizes = dict(zip(target, shape))
    raw = unwrap_all(like)
    spec_in = [have]
    mats = []
    for ch in dict.fromkeys(target):
        count = target.count(ch)
        if ch in have and count == 1:
            continue
        n = sizes[ch]
        if count == 1:
            mats.append(np.ones_like(raw, shape=(n,)))
        else:
            eye = np.zeros_like(raw, shape=(n,) * count)
            eye[(np.arange(n),) * count] = 1
            mats.append(eye)
        spec_in.append(ch * count)
    return _einsum_repeat(c, mats, spec_in, target)


def _einsum_repeat(c, mats, spec_in, target):
    # Give the k-th occurrence of each repeated index its own letter in the output, and use
    # the same letters in the identity tensors, so the result has operand k's full shape.
    used = set("".join(spec_in)) | set(target)
    fresh = iter(ch for ch in string.ascii_letters if ch not in used)
    out_letters = []
    seen = {}
    rename = {}
    for ch in target:
        n = seen.get(ch, 0)
        seen[ch] = n + 1
        if n == 0:
            out_letters.append(ch)
            rename.setdefault(ch, [ch])
        else:
            new = next(fresh)
            out_letters.append(new)
            rename[ch].append(new)
    specs = [spec_in[0]]
    for s in spec_in[1:]:
        ch = s[0]
        specs.append("".join(rename[ch][: len(s)]))
    return einsum_p.bind(c, *mats, spec=",".join(specs) + "->" + "".join(out_letters))


def _einsum_batch(prim):
    def batch(args, batched, size, *, spec):
        ins, out = spec.split("->")
        ins = ins.split(",")
        used = set(spec)
        b = next(c for c in string.ascii_letters if c not in used)
        ins = [b + t if bt else t for t, bt in zip(ins, batched)]
        return prim.bind(*args, spec=",".join(ins) + "->" + b + out)

    return batch


def _einsum_cases(rng):
    r = rng.standard_normal
    return [
        ((r((3, 4)), r((4, 2))), dict(spec="ij,jk->ik")),
        ((r((3, 3)),), dict(spec="ii->")),
        ((r((3, 3)),), dict(spec="ii->i")),
        ((r((2, 3)), r((3,)), r((4,))), dict(spec="ij,j,k->ik")),
        ((r((2, 3)),), dict(spec="ij->")),
    ]


einsum_p = declare(
    "einsum", _einsum_impl, jvp=_einsum_jvp, vjp=_einsum_vjp, batch=_einsum_batch,
    spec={"cases": _einsum_cases},
)  # fmt: skip


def einsum(subscripts, *operands, out=None, optimize=None, **kw):
    if not isinstance(subscripts, str):
        raise NoRuleError(
            "np.einsum in sublist form has no rule in wengert; write the subscripts as a "
            f"string, e.g. np.einsum('ij,jk->ik', a, b). {ERRORS_DOC}"
        )
    operands = [operand(o) for o in operands]
    ins, outs = _parse(subscripts, [shape_of(o) for o in operands])
    return einsum_p.bind(*operands, spec=",".join(ins) + "->" + outs)


def _letters(n, start=0):
    return string.ascii_letters[start : start + n]


def _tensordot(a, b, axes=2):
    a, b = operand(a), operand(b)
    na, nb = ndim_of(a), ndim_of(b)
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(na - axes, na))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        ax_a = [i % na for i in ax_a]
        ax_b = [i % nb for i in ax_b]
    la = list(_letters(na))
    lb = list(_letters(nb, na))
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in ax_a] + [c for k, c in enumerate(lb) if k not in ax_b]
    return einsum_p.bind(a, b, spec="".join(la) + "," + "".join(lb) + "->" + "".join(out))


def _dot(a, b, out=None):
    a, b = operand(a), operand(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul_p.bind(a, b)
    return _tensordot(a, b, axes=([-1], [0 if nb == 1 else -2]))


def _inner(a, b):
    a, b = operand(a), operand(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return a * b
    return _tensordot(a, b, axes=([-1], [-1]))


def _outer(a, b, out=None):
    a, b = operand(a), operand(b)
    return einsum_p.bind(np.ravel(a), np.ravel(b), spec="i,j->ij")


def _vdot(a, b):
    a, b = operand(a), operand(b)
    return einsum_p.bind(np.conj(np.ravel(a)), np.ravel(b), spec="i,i->")


def _einsum_function_cases(rng):
    r = rng.standard_normal
    return [(("ij,jk->ik", r((2, 3)), r((3, 2))), {}), (("ii->i", r((3, 3))), {}),
            (("i...,i->...", r((3, 2)), r(3)), {})]  # fmt: skip


def _dot_cases(rng):
    r = rng.standard_normal
    return [((r((2, 3)), r((3, 2))), {}), ((r(3), r(3)), {}), ((r((2, 2, 3)), r((3, 2))), {}),
            ((r(()), r(3)), {})]  # fmt: skip


def _cases_of(*calls):
    """Cases from ``(shapes, kwargs)`` pairs: standard normal arrays of those shapes."""
    return lambda rng: [(tuple(rng.standard_normal(s) for s in shapes), kw)
                        for shapes, kw in calls]  # fmt: skip


for _fn, _h, _cases in [
    (np.einsum, einsum, _einsum_function_cases),
    (np.tensordot, _tensordot, _cases_of((((2, 3, 4), (3, 4, 2)), {}),
                                         (((2, 3), (2, 4)), {"axes": ([0], [0])}))),
    (np.dot, _dot, _dot_cases),
    (np.inner, _inner, _cases_of((((2, 3), (4, 3)), {}), (((3,), (3,)), {}))),
    (np.outer, _outer, _cases_of((((3,), (2, 2)), {}))),
    (np.vdot, _vdot, _cases_of((((2, 2), (2, 2)), {}))),
]:  # fmt: skip
    defun(_fn, _h, cases=_cases)


# -- NumPy 2's array-API names in np.linalg: distinct functions, so each needs a route ------
def _vecdot(x1, x2, /, *, axis=-1):
    return np.sum(np.conj(operand(x1)) * operand(x2), axis=axis)


def _linalg_outer(x1, x2, /):
    x1, x2 = operand(x1), operand(x2)
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError(f"Input arrays must be one-dimensional, but they are "
                         f"x1.ndim={ndim_of(x1)} and x2.ndim={ndim_of(x2)}.")  # fmt: skip
    return _outer(x1, x2)


for _fn, _h, _cases in [
    (np.linalg.matmul, lambda x1, x2, /: np.matmul(x1, x2), normal_cases((2, 3, 4), (4, 2))),
    (np.linalg.tensordot, lambda x1, x2, /, *, axes=2: _tensordot(x1, x2, axes),
     normal_cases((2, 3, 4), (3, 4))),
    (np.linalg.outer, _linalg_outer, normal_cases((3,), (2,))),
    (np.linalg.matrix_transpose, lambda x, /: np.swapaxes(x, -1, -2), normal_cases((2, 3, 4))),
    (np.linalg.vecdot, _vecdot, normal_cases((2, 3), (3,))),
]:  # fmt: skip
    defun(_fn, _h, cases=_cases)


# -- NumPy 2's gufuncs np.vecdot, np.matvec (2.2), np.vecmat (2.2): sums of products ---------
def _vecdot_ufunc(x1, x2, /, *, axis=-1, **kwargs):
    no_ufunc_kwargs("vecdot", kwargs)
    return _vecdot(x1, x2, axis=axis)


def _matvec(x1, x2, /, **kwargs):
    # x1 (..., m, n) times x2 (..., n): no conjugate, as NumPy.
    no_ufunc_kwargs("matvec", kwargs)
    return np.sum(operand(x1) * operand(x2)[..., None, :], axis=-1)


def _vecmat(x1, x2, /, **kwargs):
    # conj(x1) (..., n) times x2 (..., n, m), as NumPy.
    no_ufunc_kwargs("vecmat", kwargs)
    return np.sum(np.conj(operand(x1))[..., :, None] * operand(x2), axis=-2)


for _name, _h, _cases in [
    ("vecdot", _vecdot_ufunc, _cases_of((((2, 3), (3,)), {}), (((3, 2), (3, 1)), {"axis": 0}))),
    ("matvec", _matvec, _cases_of((((2, 2, 3), (3,)), {}), (((2, 3), (2, 1, 3)), {}))),
    ("vecmat", _vecmat, _cases_of((((3,), (2, 3, 2)), {}))),
]:  # fmt: skip
    _uf = getattr(np, _name, None)
    if isinstance(_uf, np.ufunc):  # NumPy >= 2.0 (vecdot), 2.2 (matvec, vecmat)
        ufunc_method_rules[(_uf, "__call__")] = _h
        specify(_uf, _cases)
