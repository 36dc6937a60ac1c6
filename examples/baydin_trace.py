"""The Wengert list of Baydin et al. (2018), printed by wengert for a plain NumPy function.

``f(x1, x2) = ln(x1) + x1*x2 - sin(x2)`` at ``(2, 5)`` is the survey's running example (and
the seeds'). ``wg.wengert_list(f)(2, 5)`` records one evaluation: one row per primitive,
inputs named ``v-1, v0`` as in the paper. From that one record:

- the primal trace: every intermediate value ``v_i``;
- ``.forward((1, 0))``: the tangent trace ``v̇_i = ∂v_i/∂x1``, each row's derivative rule
  applied to its parents' tangents (the dual-number column); it ends in ``∂f/∂x1 = 5.5``;
- ``.reverse()``: the adjoint trace ``v̄_i = ∂f/∂v_i``, one backward sweep from ``v̄5 = 1``,
  giving both partials at once: ``x̄1 = 5.5``, ``x̄2 = 1.716``.

Forward mode needs one sweep per input; reverse mode one per output. Here (two inputs, one
output) reverse mode gets the whole gradient in one sweep.

Run: ``python examples/baydin_trace.py``
"""

import numpy as np

import wengert as wg


def f(x1, x2):
    # The survey's order: v1 = ln x1, v2 = x1 * x2, v3 = sin x2, v4 = v1 + v2, v5 = v4 - v3.
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    return v1 + v2 - v3


def main() -> dict:
    x1, x2 = 2.0, 5.0

    primal = wg.wengert_list(f)(x1, x2)
    print(f"Primal trace of f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at ({x1:g}, {x2:g}):\n")
    print(primal)

    tangent = wg.wengert_list(f)(x1, x2).forward((1.0, 0.0))
    print("\nForward mode: tangent trace with ẋ1 = 1, ẋ2 = 0 (so v̇_i = ∂v_i/∂x1):\n")
    print(tangent)

    adjoint = wg.wengert_list(f)(x1, x2).reverse()
    print("\nReverse mode: adjoint trace from v̄5 = 1 (so v̄_i = ∂f/∂v_i):\n")
    print(adjoint)

    rows = adjoint.rows
    x1_bar, x2_bar = float(rows[0].adjoint), float(rows[1].adjoint)
    df_dx1 = float(tangent.rows[-1].tangent)
    print(f"\nf = {float(rows[-1].value):.3f}")
    print(f"∂f/∂x1 = {df_dx1:.3f} (forward, one sweep per input)")
    print(f"x̄1 = {x1_bar:.3f}, x̄2 = {x2_bar:.3f} (reverse, one sweep for both)")

    return {
        "ops": [r.op for r in primal.rows],
        "values": np.array([float(r.value) for r in primal.rows]),
        "tangents_wrt_x1": np.array([float(r.tangent) for r in tangent.rows]),
        "adjoints": np.array([float(r.adjoint) for r in rows]),
        "df_dx1": df_dx1,
        "x1_bar": x1_bar,
        "x2_bar": x2_bar,
        "table": str(adjoint),
    }


if __name__ == "__main__":
    main()
