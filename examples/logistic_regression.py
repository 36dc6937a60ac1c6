"""Logistic regression trained by SciPy's L-BFGS-B with gradients from wengert.

``scipy.optimize.minimize(fun, x0, jac=True)`` wants ``fun`` to return the value and the
gradient together; ``wg.value_and_grad(loss)`` is exactly that function, from a loss written in
plain NumPy. The loss is the mean negative log-likelihood of the logistic model
``P(y = 1 | x) = σ(x·w + b)``, written with ``np.logaddexp`` so it never overflows, plus a
small L2 penalty on ``w``. At the optimum the gradient vanishes; we check that with the
hand-derived gradient ``Xᵀ(σ(Xw + b) - y) / n + λw`` and report the training accuracy.

The seeds call this function's Wengert list "Wengert List for Logistic Regression": the
same few lines of NumPy, one operation per line, differentiated for us.

Needs SciPy (``pip install -e ".[scipy]"``). Run: ``python examples/logistic_regression.py``
"""

import numpy as np
from scipy.optimize import minimize

import wengert as wg

L2 = 1e-3


def make_data(n=300, seed=0):
    """Two Gaussian features; labels drawn from a known logistic model (not separable)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    true_w, true_b = np.array([3.0, -4.0]), 0.5
    p = 1 / (1 + np.exp(-(X @ true_w + true_b)))
    y = (rng.uniform(size=n) < p).astype(float)
    return X, y, np.append(true_w, true_b)


def loss(theta, X, y):
    """Mean negative log-likelihood + (L2 / 2) |w|², with theta = (w, b)."""
    w, b = theta[:-1], theta[-1]
    z = X @ w + b
    # -log σ(z) = log(1 + e^{-z}), -log(1 - σ(z)) = log(1 + e^{z}): both are logaddexp(0, ·).
    nll = np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))
    return nll + 0.5 * L2 * np.sum(w**2)


def predict(theta, X):
    return (X @ theta[:-1] + theta[-1] > 0).astype(float)


def main() -> dict:
    X, y, true_theta = make_data()
    fun = wg.value_and_grad(loss)  # theta -> (loss, gradient), what jac=True expects

    result = minimize(
        fun,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 1e-14},
    )
    theta = result.x
    value, gradient = fun(theta, X, y)
    accuracy = float(np.mean(predict(theta, X) == y))

    print(f"{len(y)} points, 2 features, labels drawn from the logistic model with")
    print(f"  w = {true_theta[:2]}, b = {true_theta[2]}")
    print(f"L-BFGS-B: {result.message} after {result.nit} iterations, {result.nfev} evaluations")
    print(f"  fitted w = {theta[:2].round(4)}, b = {theta[2]:.4f}")
    print(f"  loss at the optimum = {value:.6f}")
    print(f"  |gradient| at the optimum = {np.linalg.norm(gradient):.2e}")
    print(f"  training accuracy = {accuracy:.3f}")
    true_accuracy = np.mean(predict(true_theta, X) == y)
    print(f"  accuracy of the true model on the same data = {true_accuracy:.3f}")

    return {
        "X": X,
        "y": y,
        "theta": theta,
        "loss": float(value),
        "gradient": np.asarray(gradient),
        "accuracy": accuracy,
        "success": bool(result.success),
        "nfev": int(result.nfev),
    }


if __name__ == "__main__":
    main()
