"""The workload table: one row per (problem, transformation) the suite times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench import problems as p


@dataclass(frozen=True)
class Workload:
    """One table row. ``per`` divides every time (W1 reports per operation); ``memory`` adds a
    row of peak memory for the same calls; ``skip`` maps a peer to why its cell is left out."""

    key: str
    op: str  # value_and_grad | grad | jacfwd | jacrev | hessian | hvp
    label: str
    build: Callable  # xp -> f
    floor: Callable  # the hand-written derivative, in plain NumPy
    inputs: Callable[[], p.Inputs]
    per: int = 1
    memory: bool = False
    skip: dict = field(default_factory=dict)


_small_mlp = p.mlp(p.squared_error)
_large_mlp = p.mlp(p.cross_entropy)

WORKLOADS = (
    Workload(
        "W1",
        "value_and_grad",
        f"{p.CHAIN_OPS}-op scalar chain, per op",
        p.chain,
        p.chain_floor,
        p.chain_inputs,
        per=p.CHAIN_OPS,
    ),
    Workload(
        "W2",
        "value_and_grad",
        "MLP 32-64-1, batch 16",
        _small_mlp,
        p.mlp_floor(p.squared_error_grad),
        p.small_mlp_inputs,
    ),
    Workload(
        "W3",
        "value_and_grad",
        "Rosenbrock, n = 10**6",
        p.rosenbrock,
        p.rosenbrock_floor,
        p.rosenbrock_inputs,
    ),
    Workload(
        "W4",
        "value_and_grad",
        "MLP 784-512-512-10, batch 256",
        _large_mlp,
        p.mlp_floor(p.cross_entropy_grad),
        p.large_mlp_inputs,
    ),
    Workload(
        "W5",
        "jacfwd",
        "tanh(A @ x) * x, n = 200",
        p.tanh_layer,
        p.tanh_layer_jacobian,
        p.tanh_layer_inputs,
    ),
    Workload(
        "W5",
        "jacrev",
        "tanh(A @ x) * x, n = 200",
        p.tanh_layer,
        p.tanh_layer_jacobian,
        p.tanh_layer_inputs,
    ),
    Workload(
        "W6",
        "hessian",
        "logistic loss, 500 x 200",
        p.logistic,
        p.logistic_hessian,
        p.logistic_inputs,
    ),
    Workload(
        "W6", "hvp", "logistic loss, 500 x 200", p.logistic, p.logistic_hvp, p.logistic_inputs
    ),
    Workload(
        "W7",
        "grad",
        f"{p.STEPS} steps x += 0.01 sin(x), n = 100",
        p.recurrence,
        p.recurrence_grad,
        p.recurrence_inputs,
        memory=True,
        # jax.jit of 5000 unrolled steps compiles for about a minute; eager jax takes ~9 s a call.
        skip={"jax": "jit: ~60 s compile"},
    ),
)
