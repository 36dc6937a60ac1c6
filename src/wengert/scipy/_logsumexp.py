"""``logsumexp``, ``softmax`` and ``log_softmax`` in traceable NumPy.

SciPy's versions start with ``np.asarray`` (through its array-API layer), which refuses a
traced value; these have SciPy's signatures and values and are built from wengert's
primitives, so they differentiate in every mode and to any order. They shift by the maximum
under ``stop_gradient``, as ``jax.nn.logsumexp`` does: the shift keeps ``exp`` from
overflowing, the value does not depend on it, and a shift with no derivative also skips the
``max`` rule and its ties. The derivative is then ``softmax`` exactly, finite at any input
(``[1000, 1000]`` gives ``[0.5, 0.5]``).

Calling SciPy's own ``scipy.special.logsumexp`` on a traced value raises
TracerConversionError at SciPy's ``np.asarray`` call: that error path is wengert's core,
which knows nothing of SciPy, so it cannot name these functions there.
"""

from __future__ import annotations

import numpy as np

from wengert.numpy._family import operand, shape_of
from wengert.numpy.select import stop_gradient_p

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _floating(x):
    """``x`` as an array of a floating or complex type (SciPy promotes integers)."""
    x = operand(x)
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return np.asarray(x, dtype=float)  # a Python scalar
    return x.astype(np.float64) if dtype.kind in "biu" else x


def _shift(x, axis, finite):
    """The maximum (of the real part) over ``axis``, kept, without derivative; with
    ``finite``, 0 where it is infinite or NaN (x - inf would be NaN)."""
    m = np.max(np.real(stop_gradient_p.bind(x)), axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0.0) if finite else m


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))``, computed stably: ``scipy.special.logsumexp`` for
    traced values, with its signature and values.

    Parameters
    ----------
    a : array_like
        Input (real or complex).
    axis : None or int or tuple of ints, optional
        Axes to sum over (all by default).
    b : array_like, optional
        Weights, broadcast against ``a``; an entry with weight 0 adds nothing, even where
        ``a`` is infinite. Differentiable too.
    keepdims : bool, optional
        Keep the reduced axes with length one.
    return_sign : bool, optional
        Also return the sign of the sum (then the first result is ``log|sum|``); without
        it, a negative sum gives NaN, as in SciPy.

    Returns
    -------
    res : ndarray
        The result; its derivative in ``a`` is ``b * exp(a - res)``.
    sgn : ndarray
        With ``return_sign``: the sign of the sum (no derivative flows through it).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> from wengert.scipy.special import logsumexp
    >>> wg.grad(logsumexp)(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    a = _floating(a)
    if b is not None:
        b = operand(b)
        a = np.where(b == 0, -np.inf, a)  # also broadcasts a to the shape of both
    if len(shape_of(a)) == 0:
        a = np.reshape(a, (1,))  # as SciPy: a scalar counts as one element along axis 0
    m = _shift(a, axis, finite=True)
    terms = np.exp(a - m) if b is None else b * np.exp(a - m)
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as SciPy
        s = np.sum(terms, axis=axis, keepdims=keepdims)
        m = np.reshape(m, shape_of(s))
        if not return_sign:
            return np.log(s) + m
        # The sign of a complex sum is s / |s|, what np.sign gives.
        return np.log(np.abs(s)) + m, np.sign(s)


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x), axis)``: ``scipy.special.softmax`` for traced values.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> from wengert.scipy.special import softmax
    >>> wg.jacrev(softmax)(np.zeros(2))  # diag(s) - s s^T
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    x = _floating(x)
    e = np.exp(x - _shift(x, axis, finite=False))  # as SciPy: no special case for inf
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    """``x - logsumexp(x, axis)``: ``scipy.special.log_softmax`` for traced values.

    The shift is subtracted before the logarithm is (not ``x - logsumexp(x)``, which would
    round the large intermediate first), as SciPy and ``jax.nn.log_softmax`` do.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> from wengert.scipy.special import log_softmax
    >>> log_softmax(np.array([1000.0, 1.0]))
    array([   0., -999.])
    """
    x = _floating(x)
    shifted = x - _shift(x, axis, finite=True)
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
