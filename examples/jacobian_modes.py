"""Jacobians by forward and by reverse mode, and what each costs.

For ``f: Rⁿ → Rᵐ`` the Jacobian ``J`` is ``m x n``. Forward mode computes one column
``J e_j`` per pass (a JVP per input direction: ``n`` passes); reverse mode one row
``e_iᵀ J`` per backward pass (a VJP per output direction: ``m`` passes, after one recorded
forward pass). So a *wide* function (``m << n``, e.g. a loss of many parameters) wants
reverse mode, and a *tall* one (``m >> n``, e.g. a curve from a few parameters) wants forward.

The example builds each Jacobian both ways, first pass by pass (``wg.jvp`` per column,
``wg.vjp``'s pullback per row, counting the passes), then with ``wg.jacfwd`` and
``wg.jacrev``, which push all their directions through one vectorised pass (the arithmetic
still grows with ``n`` or ``m``; the Python overhead does not). ``wg.jacobian`` (mode
``"auto"``) picks the cheaper mode; we watch which kind of traced value reaches ``f`` to see
its choice. Every result is compared with the closed form; timings are printed, not judged.

Run: ``python examples/jacobian_modes.py``
"""

import time

import numpy as np

import wengert as wg

N_WIDE, M_TALL = 200, 200
_rng = np.random.default_rng(0)
A_WIDE = _rng.standard_normal(N_WIDE)
A_TALL = _rng.standard_normal((M_TALL, 3))


def wide(x):
    """R^200 → R^3: three scalar summaries of a long vector."""
    return np.stack([np.sum(x**2), np.sum(np.sin(x)), x @ A_WIDE])


def wide_jacobian(x):
    return np.stack([2 * x, np.cos(x), A_WIDE])


def tall(x):
    """R^3 → R^200: a long signal from three parameters."""
    return np.sin(A_TALL @ x)


def tall_jacobian(x):
    return np.cos(A_TALL @ x)[:, None] * A_TALL


def jacobian_by_jvps(f, x):
    """Column by column: one forward pass per input direction e_j. Returns (J, passes)."""
    columns = [wg.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)]
    return np.stack(columns, axis=-1), len(columns)


def jacobian_by_vjps(f, x):
    """Row by row: one recorded forward pass, then one backward pass per output e_i."""
    y, pullback = wg.vjp(f, x)
    rows = [pullback(e)[0] for e in np.eye(y.size)]
    return np.stack(rows), len(rows)


def mode_chosen_by_auto(f, x):
    """The kinds of traced value that reach ``f`` inside ``wg.jacobian(f)(x)``: a JVPTracer
    carries tangents (forward mode), a VJPTracer records for a backward sweep (reverse)."""
    seen = []

    def spy(x):
        seen.append(type(x).__name__)
        return f(x)

    wg.jacobian(spy)(x)
    return ("fwd" if "JVP" in seen[-1] else "rev"), seen


def best_time(fn, *args, repeat=3):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def run_case(name, f, closed_form, x):
    y = f(x)
    n, m = x.size, y.size
    print(f"\n{name}: f: R^{n} → R^{m}")
    print(f"  forward mode needs n = {n} JVP passes, reverse mode m = {m} VJP passes")

    J_jvps, jvp_passes = jacobian_by_jvps(f, x)
    J_vjps, vjp_passes = jacobian_by_vjps(f, x)
    jacobians = {
        "jvp loop": J_jvps,
        "vjp loop": J_vjps,
        "jacfwd": wg.jacfwd(f)(x),
        "jacrev": wg.jacrev(f)(x),
        "jacobian auto": wg.jacobian(f, mode="auto")(x),
    }
    runners = {
        "jvp loop": lambda x: jacobian_by_jvps(f, x),
        "vjp loop": lambda x: jacobian_by_vjps(f, x),
        "jacfwd": wg.jacfwd(f),
        "jacrev": wg.jacrev(f),
        "jacobian auto": wg.jacobian(f, mode="auto"),
    }
    times = {k: best_time(run, x) for k, run in runners.items()}
    chosen, seen = mode_chosen_by_auto(f, x)

    reference = closed_form(x)
    work = {
        "jvp loop": f"{jvp_passes} forward passes",
        "vjp loop": f"1 recording + {vjp_passes} backward",
        "jacfwd": f"{n} directions, 1 batched pass",
        "jacrev": f"{m} directions, 1 batched pass",
        "jacobian auto": "the cheaper of the two",
    }
    for k, J in jacobians.items():
        err = np.abs(J - reference).max()
        print(f"  {k:13s}  {work[k]:30s} {1e3 * times[k]:7.2f} ms   max |J - exact| = {err:.1e}")
    print(f"  wg.jacobian(mode='auto') chose {chosen} (traced values seen by f: {seen})")

    return {
        "n": n,
        "m": m,
        "x": x,
        "jvp_passes": jvp_passes,
        "vjp_passes": vjp_passes,
        "jacobians": jacobians,
        "times": times,
        "auto_mode": chosen,
    }


def main() -> dict:
    x_wide = np.linspace(-1.0, 1.0, N_WIDE)
    x_tall = np.array([0.3, -0.7, 1.1])
    return {
        "wide": run_case("Wide (m << n)", wide, wide_jacobian, x_wide),
        "tall": run_case("Tall (m >> n)", tall, tall_jacobian, x_tall),
    }


if __name__ == "__main__":
    main()
