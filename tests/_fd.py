"""Central finite differences, independent of wengert: the reference the API tests trust.

Only plain NumPy on plain float64 arrays; nothing here imports wengert.
"""

from __future__ import annotations

import numpy as np

# Tolerances, in one place. Exact derivatives against closed forms agree to rounding; central
# differences with a step ~1e-6 carry an O(h**2) truncation and an O(eps/h) rounding error.
EXACT = {"rtol": 1e-8, "atol": 1e-10}
FD = {"rtol": 1e-5, "atol": 1e-6}


def jacobian_fd(f, x, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by central differences, shaped ``f(x).shape + x.shape``.

    The step for each coordinate is ``eps * max(1, |x_i|)``.
    """
    x = np.array(x, dtype=np.float64)
    y0 = np.asarray(f(x.copy()), dtype=np.float64)
    jac = np.empty(y0.shape + (x.size,))
    flat = x.reshape(-1)
    for i in range(x.size):
        h = eps * max(1.0, abs(flat[i]))
        xp, xm = flat.copy(), flat.copy()
        xp[i] += h
        xm[i] -= h
        fp = np.asarray(f(xp.reshape(x.shape)), dtype=np.float64)
        fm = np.asarray(f(xm.reshape(x.shape)), dtype=np.float64)
        jac[..., i] = (fp - fm) / (2 * h)
    return jac.reshape(y0.shape + x.shape)


def grad_fd(f, x, eps: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar ``f`` at ``x`` by central differences."""
    return jacobian_fd(f, x, eps)
