"""The seeds' sigmoid, ``σ(x) = 1 / (1 + e^{-x})`` at 2, differentiated three ways.

The seed evaluates it on Eigen's ``AutoDiffScalar`` and checks the result with a calculator:
``σ(2) = 0.8808`` and ``σ'(2) = σ(2)(1 - σ(2)) = 0.10499``. wengert gets the same numbers by

- reverse mode: ``wg.value_and_grad`` records the evaluation and sweeps it backwards;
- forward mode: ``wg.jvp`` pushes the tangent 1 through with the value;
- a dual number: ``sigmoid(wg.Dual(2, 1))``, the object Eigen's ``AutoDiffScalar`` is.

The function is written once, for plain floats; none of the three needs it changed. Finally
``wg.vmap(wg.grad(sigmoid))`` gives the derivative at many points without a Python loop.

Run: ``python examples/sigmoid.py``
"""

import numpy as np

import wengert as wg


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def main() -> dict:
    x = 2.0

    rev_value, rev_slope = wg.value_and_grad(sigmoid)(x)
    fwd_value, fwd_slope = wg.jvp(sigmoid, (x,), (1.0,))
    dual = sigmoid(wg.Dual(x, 1.0))

    print(f"σ(x) = 1 / (1 + exp(-x)) at x = {x:g}:")
    print(f"  reverse mode (wg.value_and_grad): σ = {rev_value:.4f}, σ' = {rev_slope:.5f}")
    print(f"  forward mode (wg.jvp):            σ = {fwd_value:.4f}, σ' = {fwd_slope:.5f}")
    print(f"  dual number (wg.Dual(2, 1)):      {dual!r}")
    s = sigmoid(x)
    print(f"  by hand, σ(1 - σ):                σ' = {s * (1 - s):.5f}")

    grid = np.linspace(-3.0, 3.0, 7)
    slopes = wg.vmap(wg.grad(sigmoid))(grid)
    print("\nσ' on a grid (wg.vmap(wg.grad(sigmoid))):")
    for xi, si in zip(grid, slopes, strict=True):
        print(f"  x = {xi:5.1f}   σ'(x) = {si:.6f}")

    return {
        "reverse": (float(rev_value), float(rev_slope)),
        "forward": (float(fwd_value), float(fwd_slope)),
        "dual": (float(dual.real), float(dual.eps)),
        "grid": grid,
        "grid_slopes": np.asarray(slopes),
    }


if __name__ == "__main__":
    main()
