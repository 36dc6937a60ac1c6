"""The workload table: one row per (problem, transformation) the suite times."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import problems as p


@dataclass(frozen=True)
class Workload:
    """One table row. ``per`` divides every time (W1 reports per operation); ``memory`` adds a
    row of peak memory for the same calls; ``skip`` maps a peer to why its cell is left out."""

    key: str
    op: str  # value_and_grad | grad | jacfwd | jacrev | hessian | hvp
    problem: p.Problem
    per: int = 1
    memory: bool = False
    skip: dict = field(default_factory=dict)

    @property
    def floor(self):
        return self.problem.floors[self.op]


WORKLOADS = (
    Workload("W1", "value_and_grad", p.CHAIN, per=p.CHAIN_OPS),
    Workload("W2", "value_and_grad", p.SMALL_MLP),
    Workload("W3", "value_and_grad", p.ROSENBROCK),
    Workload("W4", "value_and_grad", p.LARGE_MLP),
    Workload("W5", "jacfwd", p.TANH_LAYER),
    Workload("W5", "jacrev", p.TANH_LAYER),
    Workload("W6", "hessian", p.LOGISTIC),
    Workload("W6", "hvp", p.LOGISTIC),
    # jax.jit of 5000 unrolled steps compiles for about a minute, and eager jax takes ~9 s a call.
    Workload("W7", "grad", p.RECURRENCE, memory=True, skip={"jax": "jit: ~60 s compile"}),
    Workload("W7C", "grad", p.RECURRENCE_CHECKPOINTED, memory=True,
             skip={peer: "wengert's checkpoint" for peer in ("autograd", "torch", "jax")}),
)
