"""The benchmark problems, each written once.

A ``Problem`` is a builder ``build(xp)`` that returns the function ``f`` written against an
array namespace ``xp`` (NumPy, ``autograd.numpy``, ``jax.numpy`` or the torch shim in
``peers.py``), an ``Inputs`` maker (fixed seed), and per transformation the *floor*: the
derivative written by hand in plain NumPy, returning what the transformation returns
(``(value, grad)``, a Jacobian, a Hessian, ``H @ v``). Every ``f`` takes the differentiated
argument first and the data after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Inputs:
    """``f(x, *consts)`` is differentiated with respect to ``x``; ``v`` is hvp's direction."""

    x: object
    consts: tuple = ()
    v: object = None


@dataclass(frozen=True)
class Problem:
    label: str
    build: Callable  # xp -> f
    inputs: Callable[[], Inputs]
    floors: dict  # op -> the hand-written derivative, in plain NumPy


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# W1: a chain of scalar operations, to see the fixed cost of one operation.

CHAIN_UNITS = 25  # eight operations each: 200 in all
CHAIN_OPS = 8 * CHAIN_UNITS


def chain(xp):
    def f(x):
        for _ in range(CHAIN_UNITS):
            x = xp.sin(x)
            x = x * 1.01
            x = x + 0.1
            x = xp.tanh(x)
            x = xp.exp(x)
            x = x * 0.5
            x = x + 1.0
            x = xp.log(x)
        return x

    return f


def chain_floor(x):
    # Forward: keep each unit's derivative (the product of its eight op derivatives);
    # backward: multiply them from the end, the adjoint recurrence of a scalar chain.
    derivs = []
    for _ in range(CHAIN_UNITS):
        t = np.tanh(np.sin(x) * 1.01 + 0.1)
        e = np.exp(t) * 0.5 + 1.0
        derivs.append(np.cos(x) * 1.01 * (1.0 - t * t) * (e - 1.0) / e)
        x = np.log(e)
    g = 1.0
    for d in reversed(derivs):
        g = g * d
    return x, g


def chain_inputs() -> Inputs:
    return Inputs(np.float64(0.3))


CHAIN = Problem(
    f"{CHAIN_OPS}-op scalar chain, per op", chain, chain_inputs, {"value_and_grad": chain_floor}
)


# W2, W4: multilayer perceptrons with tanh hidden layers. Parameters are a pytree: a list of
# {"W", "b"} dicts, one per layer.


def squared_error(xp, z, Y):
    return xp.mean((z - Y) ** 2)


def squared_error_grad(z, Y):
    r = z - Y
    return np.mean(r * r), 2.0 * r / r.size


def cross_entropy(xp, z, Y):
    # Y is one-hot; log-sum-exp is stabilised by its row maximum (whose gradient cancels).
    m = xp.max(z, axis=1, keepdims=True)
    lse = m + xp.log(xp.sum(xp.exp(z - m), axis=1, keepdims=True))
    return xp.mean(xp.sum(Y * (lse - z), axis=1))


def cross_entropy_grad(z, Y):
    ez = np.exp(z - np.max(z, axis=1, keepdims=True))
    total = np.sum(ez, axis=1, keepdims=True)
    lse = np.log(total) + np.max(z, axis=1, keepdims=True)
    # d/dz of sum(Y * (lse - z)) is softmax(z) * sum(Y) - Y = softmax(z) - Y for one-hot rows.
    return np.mean(np.sum(Y * (lse - z), axis=1)), (ez / total - Y) / len(z)


def mlp(loss):
    def build(xp):
        def f(params, X, Y):
            h = X
            for layer in params[:-1]:
                h = xp.tanh(h @ layer["W"] + layer["b"])
            return loss(xp, h @ params[-1]["W"] + params[-1]["b"], Y)

        return f

    return build


def mlp_floor(loss_grad):
    def value_and_grad(params, X, Y):
        hs = [X]  # hs[i] is the input of layer i
        for layer in params[:-1]:
            hs.append(np.tanh(hs[-1] @ layer["W"] + layer["b"]))
        value, g = loss_grad(hs[-1] @ params[-1]["W"] + params[-1]["b"], Y)
        grads = [None] * len(params)
        for i in range(len(params) - 1, -1, -1):
            grads[i] = {"W": hs[i].T @ g, "b": np.sum(g, axis=0)}
            if i:
                g = (g @ params[i]["W"].T) * (1.0 - hs[i] * hs[i])
        return value, grads

    return value_and_grad


def _mlp_params(rng, sizes):
    return [
        {"W": rng.standard_normal((m, n)) / np.sqrt(m), "b": 0.1 * rng.standard_normal(n)}
        for m, n in itertools.pairwise(sizes)
    ]


def small_mlp_inputs() -> Inputs:
    rng = _rng(2)
    X, Y = rng.standard_normal((16, 32)), rng.standard_normal((16, 1))
    return Inputs(_mlp_params(rng, (32, 64, 1)), (X, Y))


def large_mlp_inputs() -> Inputs:
    rng = _rng(4)
    X = rng.standard_normal((256, 784))
    Y = np.eye(10)[rng.integers(10, size=256)]
    return Inputs(_mlp_params(rng, (784, 512, 512, 10)), (X, Y))


SMALL_MLP = Problem(
    "MLP 32-64-1, batch 16",
    mlp(squared_error),
    small_mlp_inputs,
    {"value_and_grad": mlp_floor(squared_error_grad)},
)
LARGE_MLP = Problem(
    "MLP 784-512-512-10, batch 256",
    mlp(cross_entropy),
    large_mlp_inputs,
    {"value_and_grad": mlp_floor(cross_entropy_grad)},
)


# W3: Rosenbrock, one large vector: per-op overhead should vanish behind NumPy's work.


def rosenbrock(xp):
    def f(x):
        return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    return f


def rosenbrock_floor(x):
    xm = x[:-1]
    a = x[1:] - xm * xm
    b = 1 - xm
    a200 = 200 * a
    g = np.empty_like(x)
    g[:-1] = -2 * (xm * a200 + b)
    g[-1] = 0
    g[1:] += a200
    return 0.5 * (a200 @ a) + b @ b, g


def rosenbrock_inputs() -> Inputs:
    return Inputs(_rng(3).uniform(-1.5, 1.5, 10**6))


ROSENBROCK = Problem(
    "Rosenbrock, n = 10**6", rosenbrock, rosenbrock_inputs, {"value_and_grad": rosenbrock_floor}
)


# W5: Jacobian of a vector function.


def tanh_layer(xp):
    def f(x, A):
        return xp.tanh(A @ x) * x

    return f


def tanh_layer_jacobian(x, A):
    t = np.tanh(A @ x)
    return (x * (1.0 - t * t))[:, None] * A + np.diag(t)


def tanh_layer_inputs() -> Inputs:
    rng = _rng(5)
    return Inputs(rng.standard_normal(200), (rng.standard_normal((200, 200)) / np.sqrt(200),))


TANH_LAYER = Problem(
    "tanh(A @ x) * x, n = 200",
    tanh_layer,
    tanh_layer_inputs,
    {"jacfwd": tanh_layer_jacobian, "jacrev": tanh_layer_jacobian},
)


# W6: second order, on L2-regularised logistic regression. s holds the labels as signs +-1.

L2 = 1e-3


def logistic(xp):
    def f(w, X, s):
        return xp.mean(xp.logaddexp(0.0, -s * (X @ w))) + 0.5 * L2 * xp.sum(w * w)

    return f


def _logistic_curvature(w, X):
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))  # the sigmoid, without overflow
    return p * (1.0 - p) / len(X)


def logistic_hessian(w, X, s):
    return (X.T * _logistic_curvature(w, X)) @ X + L2 * np.eye(len(w))


def logistic_hvp(w, v, X, s):
    return X.T @ (_logistic_curvature(w, X) * (X @ v)) + L2 * v


def logistic_inputs() -> Inputs:
    rng = _rng(6)
    X = rng.standard_normal((500, 200)) / np.sqrt(200)
    y = rng.random(500) < 1.0 / (1.0 + np.exp(-X @ rng.standard_normal(200)))
    return Inputs(
        0.1 * rng.standard_normal(200), (X, np.where(y, 1.0, -1.0)), rng.standard_normal(200)
    )


LOGISTIC = Problem(
    "logistic loss, 500 x 200",
    logistic,
    logistic_inputs,
    {"hessian": logistic_hessian, "hvp": logistic_hvp},
)


# W7: a long recurrence on a small vector: tape length and memory.

STEPS = 5000


def recurrence(xp):
    def f(x):
        for _ in range(STEPS):
            x = x + 0.01 * xp.sin(x)
        return xp.sum(x)

    return f


def recurrence_grad(x):
    # The reverse pass by hand: store every step's input (as any reverse mode must), then
    # multiply the diagonal step Jacobians 1 + 0.01 cos(x_k) from the last step back.
    xs = []
    for _ in range(STEPS):
        xs.append(x)
        x = x + 0.01 * np.sin(x)
    g = np.ones_like(x)
    for x in reversed(xs):
        g = g * (1.0 + 0.01 * np.cos(x))
    return g


def recurrence_inputs() -> Inputs:
    return Inputs(_rng(7).standard_normal(100))


RECURRENCE = Problem(
    f"{STEPS} steps x += 0.01 sin(x), n = 100",
    recurrence,
    recurrence_inputs,
    {"grad": recurrence_grad},
)


# W7c: the same recurrence with wg.checkpoint every 50 steps: the backward pass recomputes
# each block instead of storing its 50 steps (wengert only; the floor is the same).

BLOCK = 50


def recurrence_checkpointed(xp):
    import wengert as wg

    @wg.checkpoint
    def block(x):
        for _ in range(BLOCK):
            x = x + 0.01 * xp.sin(x)
        return x

    def f(x):
        for _ in range(STEPS // BLOCK):
            x = block(x)
        return xp.sum(x)

    return f


RECURRENCE_CHECKPOINTED = Problem(
    f"W7 with wg.checkpoint every {BLOCK} steps",
    recurrence_checkpointed,
    recurrence_inputs,
    {"grad": recurrence_grad},
)
