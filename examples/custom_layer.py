"""The seeds' TensorFlow custom layer, redone in plain NumPy and differentiated by wengert.

The seed builds a Keras layer that is ``Dense`` without a bias: ``Y = activation(X @ W)``
with ``activation = sin``, applies it to a fixed 3x3 input, takes
``loss = reduce_sum(Y**2)`` and asks ``tf.GradientTape`` for ``∂loss/∂W``. Here the layer is
an ordinary NumPy function of a dict of parameters (a pytree), and ``wg.grad`` returns a dict
of the same shape. By the chain rule, with ``Z = X @ W``:

    ∂loss/∂W = Xᵀ @ (2 sin(Z) cos(Z)),      ∂loss/∂X = (2 sin(Z) cos(Z)) @ Wᵀ

The seed's C++ version (Eigen's ``AutoDiffScalar``) instead seeds each of W's six entries with
a unit tangent vector and reads all six partials off one forward pass; ``wg.Dual(W, basis)``
does the same.

Run: ``python examples/custom_layer.py``
"""

import numpy as np

import wengert as wg

# The seed's input, and a kernel for 3 inputs and 2 outputs drawn as Keras' default
# (Glorot uniform) initializer would, with a fixed seed.
INPUTS = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])
NUM_OUTPUTS = 2


def init_params(input_dim: int, num_outputs: int, seed: int = 0) -> dict:
    limit = np.sqrt(6 / (input_dim + num_outputs))
    kernel = np.random.default_rng(seed).uniform(-limit, limit, (input_dim, num_outputs))
    return {"kernel": kernel}


def custom_layer(params, inputs, activation=np.sin):
    """The seed's ``CustomLayer.call``: ``activation(inputs @ kernel)``, no bias."""
    return activation(inputs @ params["kernel"])


def loss(params, inputs):
    return np.sum(custom_layer(params, inputs) ** 2)


def main() -> dict:
    params = init_params(INPUTS.shape[1], NUM_OUTPUTS)
    W = params["kernel"]

    value, grads = wg.value_and_grad(loss)(params, INPUTS)
    print("trainable variable (kernel):\n", W)
    print(f"\nloss = sum(sin(X @ W)**2) = {value:.6f}")
    print("\ngradient wrt the kernel (wg.grad, reverse mode):\n", grads["kernel"])

    Z = INPUTS @ W
    closed_form = INPUTS.T @ (2 * np.sin(Z) * np.cos(Z))
    print("\nclosed form Xᵀ (2 sin Z cos Z):\n", closed_form)
    print(f"max difference: {np.abs(grads['kernel'] - closed_form).max():.3g}")

    # Eigen's way: one unit tangent per kernel entry, all six partials in one forward pass.
    basis = np.eye(W.size).reshape((W.size,) + W.shape)
    dual_loss = loss({"kernel": wg.Dual(W, basis)}, INPUTS)
    forward = np.reshape(dual_loss.eps, W.shape)
    print("\ngradient wrt the kernel (wg.Dual with 6 tangent directions, forward mode):\n", forward)

    # The seed's last section: derivatives with respect to the input as well.
    g_kernel, g_inputs = wg.grad(lambda W, X: loss({"kernel": W}, X), argnums=(0, 1))(W, INPUTS)
    print("\ngradient wrt the inputs:\n", g_inputs)

    return {
        "inputs": INPUTS,
        "kernel": W,
        "loss": float(value),
        "grad_kernel": grads["kernel"],
        "grad_kernel_forward": forward,
        "grad_kernel_argnums": g_kernel,
        "grad_inputs": g_inputs,
    }


if __name__ == "__main__":
    main()
