"""Rosenbrock's function: gradient, Hessian and Hessian-vector products without writing any.

``f(x) = Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])²`` has its minimum at ``(1, 1, ..., 1)`` at the
bottom of a long curved valley, which is why it is the seeds' (and every optimiser's) test
function. This example writes only ``f`` in NumPy, asks wengert for

- ``wg.grad(f)``: the gradient, by one reverse sweep;
- ``wg.hessian(f)``: the Hessian, forward mode over reverse mode;
- ``wg.hvp(f, x, v)``: ``H(x) @ v`` without forming ``H``;

checks each against the hand-derived closed form, then runs Newton's method
``x ← x - H(x)⁻¹ ∇f(x)`` and watches it converge (quadratically, at the end) to all ones.

Run: ``python examples/rosenbrock.py``
"""

import numpy as np

import wengert as wg


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    """The gradient by hand: each x[i] appears in term i (as x[i]) and term i-1 (as x[i+1])."""
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    """The Hessian by hand: tridiagonal, -400 x[i] off the diagonal."""
    diag = np.zeros_like(x)
    diag[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diag[1:] += 200
    off = -400 * x[:-1]
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def newton(f, x0, tol=1e-10, max_steps=20):
    """Newton's method with wengert's gradient and Hessian; returns the iterates."""
    xs = [np.asarray(x0, dtype=float)]
    for _ in range(max_steps):
        g = wg.grad(f)(xs[-1])
        if np.linalg.norm(g) < tol:
            break
        xs.append(xs[-1] - np.linalg.solve(wg.hessian(f)(xs[-1]), g))
    return xs


def main() -> dict:
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    v = np.array([1.0, -1.0, 0.5, 0.25])
    g, H, Hv = wg.grad(rosenbrock)(x), wg.hessian(rosenbrock)(x), wg.hvp(rosenbrock, x, v)

    print(f"Rosenbrock at x = {x}: f = {rosenbrock(x):g}")
    print(f"  gradient (wg.grad):      {g}")
    print(f"  gradient (closed form):  {rosenbrock_grad(x)}")
    print(f"  Hessian (wg.hessian):\n{H}")
    print(f"  max |H - closed form| = {np.abs(H - rosenbrock_hessian(x)).max():.3g}")
    print(f"  H v (wg.hvp, no H formed): {Hv}")
    print(f"  H v (closed form):         {rosenbrock_hessian(x) @ v}")

    x0 = np.zeros(5)
    xs = newton(rosenbrock, x0)
    print(f"\nNewton's method from {x0}:")
    for k, xk in enumerate(xs):
        gnorm = np.linalg.norm(wg.grad(rosenbrock)(xk))
        coords = " ".join(f"{c:8.5f}" for c in xk)
        print(f"  step {k:2d}: f = {rosenbrock(xk):9.3e}  |∇f| = {gnorm:9.3e}  x = {coords}")

    return {
        "x": x,
        "v": v,
        "gradient": g,
        "hessian": H,
        "hvp": Hv,
        "newton_iterates": xs,
        "newton_steps": len(xs) - 1,
        "minimum": xs[-1],
    }


if __name__ == "__main__":
    main()
