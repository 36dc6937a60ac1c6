"""The main demonstration (`make demo`): ordinary NumPy code differentiated in both modes,
nested, and vectorised, with the seed documents' numbers."""

import numpy as np

import wengert as wg


def f(x1, x2):
    # The seeds' example (Baydin et al. 2018), in the order of their primal trace.
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    return v1 + v2 - v3


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def main():
    print("wengert", wg.__version__, "- automatic differentiation of plain NumPy code\n")

    print("Dual numbers a + bε with ε² = 0, the seeds' hand calculations:")
    x = wg.Dual(4.0, 1.0)
    print(f"  x = {x!r}:  3x + 2 = {3 * x + 2!r}")
    y = wg.Dual(2.0, 1.0)
    print(f"  y = {y!r}:  5y² + 4y + 1 = {5 * y**2 + 4 * y + 1!r}")
    print(f"  hyper-dual, exact second derivative: x³ at 2 = {wg.HyperDual(2.0, 1.0, 1.0) ** 3!r}")

    print("\nf(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5):")
    value, (g1, g2) = wg.value_and_grad(f, argnums=(0, 1))(2.0, 5.0)
    print(f"  reverse mode: f = {value:.3f}, gradient = ({g1:.3f}, {g2:.3f})")
    _, d1 = wg.jvp(f, (2.0, 5.0), (1.0, 0.0))
    _, d2 = wg.jvp(f, (2.0, 5.0), (0.0, 1.0))
    print(f"  forward mode: ∂f/∂x1 = {d1:.3f}, ∂f/∂x2 = {d2:.3f} (one pass per input)")
    print("\nIts Wengert list: primal trace, tangent trace (∂/∂x1), adjoint trace:")
    print(wg.wengert_list(f)(2.0, 5.0).forward((1.0, 0.0)).reverse())

    y, dy = wg.value_and_grad(sigmoid)(2.0)
    print(f"\nsigmoid at 2: {y:.4f}, derivative {dy:.5f}")

    x = np.array([-1.2, 1.0, 0.5])
    print(f"\nRosenbrock at {x}:")
    print("  gradient:", wg.grad(rosenbrock)(x))
    print("  Hessian (forward over reverse):\n", wg.hessian(rosenbrock)(x))
    print("  Hessian-vector product with [1, 0, 0]:", wg.hvp(rosenbrock, x, np.eye(3)[0]))

    def g(v):
        return np.array([v[0] * v[1], np.sin(v[0]) * v[1], np.exp(v[1])])

    v = np.array([1.0, 2.0])
    print("\nJacobian of [x*y, sin(x)*y, exp(y)] at (1, 2), forward and reverse mode agree:")
    print(wg.jacfwd(g)(v))
    print("  max |jacfwd - jacrev| =", np.abs(wg.jacfwd(g)(v) - wg.jacrev(g)(v)).max())

    print("\nA custom gradient for the seeds' unstable 1/exp(x) at x = 100 (float32):")

    @wg.custom_vjp
    def inv_exp(x):
        return 1 / np.exp(x)

    def inv_exp_fwd(x):
        y = np.exp(-x)
        return y, y

    inv_exp.defvjp(inv_exp_fwd, lambda y, g: (-g * y,))
    x = np.float32(100.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        naive = wg.grad(lambda x: 1 / np.exp(x))(x)
    print(f"  automatic: {naive} (exp overflowed: elsewhere 0 * inf = nan)   "
          f"custom rule: {wg.grad(inv_exp)(x):.4g}   exact: {-np.exp(-100.0):.4g}")  # fmt: skip

    rng = np.random.default_rng(0)
    w, xs, ys = rng.standard_normal(3), rng.standard_normal((4, 3)), rng.standard_normal(4)

    def loss(w, x, y):
        return (np.tanh(x @ w) - y) ** 2

    per_example = wg.vmap(wg.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)
    print("\nPer-example gradients with vmap(grad(loss)), shape", per_example.shape)
    print(per_example)


if __name__ == "__main__":
    main()
