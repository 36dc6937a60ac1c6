"""Dual numbers by hand and by wengert: forward mode is arithmetic on ``a + bε`` with ``ε² = 0``.

The seeds work three examples on paper: ``3x + 2`` at 4 and at 5, and ``5x² + 4x + 1`` at 2.
Each input is seeded with tangent 1 (``x + 1ε``), constants carry tangent 0, and the
coefficient of ``ε`` in the result is the derivative. ``wg.Dual`` does the same arithmetic on
real values, so the printed results read exactly as the hand calculations.

Then: NumPy functions on duals (``sin(a + bε) = sin a + b cos(a) ε``); a vector of tangents
(Ceres' ``Jet<T, N>``, Eigen's ``AutoDiffScalar<VectorXd>``) that gives every partial
derivative of ``ln(x1) + x1*x2 - sin(x2)`` in one pass; and a hyper-dual number
(``ε1² = ε2² = 0``, ``ε1ε2 ≠ 0``) whose ``ε1ε2`` coefficient is an exact second derivative.

Run: ``python examples/dual_numbers.py``
"""

import numpy as np

import wengert as wg


def linear(x):
    return 3 * x + 2


def quadratic(x):
    return 5 * x**2 + 4 * x + 1


def baydin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def main() -> dict:
    print("The seeds' hand calculations (seed x + 1ε, read the derivative off ε):")
    at4 = linear(wg.Dual(4.0, 1.0))
    at5 = linear(wg.Dual(5.0, 1.0))
    quad = quadratic(wg.Dual(2.0, 1.0))
    print(f"  3x + 2        at x = 4:  {at4!r}")
    print(f"  3x + 2        at x = 5:  {at5!r}")
    print(f"  5x² + 4x + 1  at x = 2:  {quad!r}")

    # Each step of the seed's quadratic, as the seed writes it.
    x = wg.Dual(2.0, 1.0)
    print("\n  The quadratic step by step:")
    print(f"    x * x           = {x * x!r}")
    print(f"    5 * (x * x)     = {5 * (x * x)!r}")
    print(f"    4 * x           = {4 * x!r}")
    print(f"    5x² + 4x        = {5 * (x * x) + 4 * x!r}")
    print(f"    5x² + 4x + 1    = {5 * (x * x) + 4 * x + 1!r}")

    print("\nNumPy functions on duals: f(a + ε) = f(a) + f'(a) ε")
    sin_d = np.sin(wg.Dual(0.5, 1.0))
    exp_d = np.exp(wg.Dual(1.0, 1.0))
    chain = np.exp(np.sin(wg.Dual(0.5, 1.0)))  # d/dx e^{sin x} = cos(x) e^{sin x}
    print(f"  sin(0.5 + ε)      = {sin_d!r}   (cos 0.5 = {np.cos(0.5):.10g})")
    print(f"  exp(1 + ε)        = {exp_d!r}   (e = {np.e:.10g})")
    print(f"  exp(sin(0.5 + ε)) = {chain!r}")

    print("\nVector tangents (Ceres Jet): one pass, every partial derivative")
    x = wg.Dual(np.array([2.0, 5.0]), np.eye(2))  # x1 + [1, 0]ε, x2 + [0, 1]ε
    y = baydin(x[0], x[1])
    print("  f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5)")
    print(f"  f = {float(y.real):.3f}, gradient = {np.round(y.eps, 3)}")

    print("\nHyper-dual numbers: f(x + ε1 + ε2) = f + f'ε1 + f'ε2 + f''ε1ε2, exactly")
    h = wg.HyperDual(2.0, 1.0, 1.0, 0.0)
    cube = h**3  # 8, 12, 12, 12
    wave = np.sin(h) * np.exp(h)  # (e^x sin x)'' = 2 e^x cos x
    print(f"  (2 + ε1 + ε2)³        = {cube!r}")
    print(f"  e^x sin x at x = 2    = {wave!r}")
    print(f"  closed form f''(2)    = {2 * np.exp(2.0) * np.cos(2.0):.10g}")

    return {
        "linear_at_4": (float(at4.real), float(at4.eps)),
        "linear_at_5": (float(at5.real), float(at5.eps)),
        "quadratic_at_2": (float(quad.real), float(quad.eps)),
        "reprs": (repr(at4), repr(at5), repr(quad)),
        "sin_at_0.5": (float(sin_d.real), float(sin_d.eps)),
        "exp_at_1": (float(exp_d.real), float(exp_d.eps)),
        "exp_sin_at_0.5": (float(chain.real), float(chain.eps)),
        "baydin_value": float(y.real),
        "baydin_gradient": np.asarray(y.eps),
        "cube_at_2": tuple(float(p) for p in (cube.real, cube.e1, cube.e2, cube.e12)),
        "exp_sin_second_derivative_at_2": float(wave.e12),
    }


if __name__ == "__main__":
    main()
