"""``wengert plot``: an expression of one variable with its first and second derivatives, or
of two variables as filled contours with the gradient field. Needs matplotlib (the ``plot``
extra); draws off-screen with the Agg backend."""

from __future__ import annotations

import numpy as np

import wengert as wg
from wengert._cli_output import UsageError, fmt
from wengert.cli import bind, parse_at
from wengert.expr import parse, parse_value

QUIVER_GRID = 20  # arrows per axis: a readable field, whatever the contour resolution


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "plot needs matplotlib, an optional extra: "
            "pip install 'wengert[plot]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")  # files only: no display needed, none opened
    import matplotlib.pyplot as plt

    return plt


def _interval(pair, flag: str) -> tuple[float, float]:
    lo, hi = (parse_value(str(v)) for v in pair)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise UsageError(f"{flag} needs finite LO < HI, got {fmt(lo)} {fmt(hi)}")
    return lo, hi


def run_plot(args) -> tuple[dict, list]:
    """Draw the plot for the parsed ``wengert plot`` arguments: (JSON data, output blocks)."""
    expr = parse(args.expression)
    if expr.outputs is not None:
        raise UsageError("plot draws a scalar expression; plot each entry of the list alone")
    values = parse_at(args.at)
    order = bind(expr, values, free=True)
    free = order[: len(order) - len(values)]
    fixed = [values[n] for n in values]
    if not free:
        raise UsageError("nothing to plot: every variable has a value in --at")
    if len(free) > 2:
        raise UsageError(
            f"plot draws one or two variables, but {len(free)} are free "
            f"({', '.join(free)}); fix the others with --at, as in "
            f"--at {free[-1]}=1"
        )
    fn = expr.function(order)
    xr = _interval(args.range, "--range")
    yr = _interval(args.yrange, "--yrange") if args.yrange else xr
    data = {
        "expression": expr.source,
        "variables": free,
        "fixed": values,
        "range": list(xr),
        "output": args.output,
    }
    n = args.points or (400 if len(free) == 1 else 100)
    if n < 2:
        raise UsageError(f"--points must be at least 2, got {n}")
    plt = _pyplot()  # after the checks: an error costs no matplotlib import
    if len(free) == 1:
        _curves(plt, expr.source, free[0], lambda x: fn(x, *fixed), xr, n, args.output)
        data.update(kind="curves", points=n)
        done = f"wrote {args.output}: f, f′ and f″ of {free[0]} on [{fmt(xr[0])}, {fmt(xr[1])}]"
    else:
        _contours(plt, expr.source, free, lambda x, y: fn(x, y, *fixed), xr, yr, n, args.output)
        data.update(kind="contour", yrange=list(yr), points=n)
        done = (
            f"wrote {args.output}: contours of f({', '.join(free)}) with its gradient field "
            f"on [{fmt(xr[0])}, {fmt(xr[1])}] × [{fmt(yr[0])}, {fmt(yr[1])}]"
        )
    return data, [done]


def _curves(plt, source, name, g, xr, n, path):
    xs = np.linspace(*xr, n)
    # vmap over the samples: one traced evaluation per curve, not one per point.
    f0 = wg.vmap(g)(xs)
    f1 = wg.vmap(wg.grad(g))(xs)
    f2 = wg.vmap(wg.grad(wg.grad(g)))(xs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.axhline(0.0, color="0.85", linewidth=0.8)
    ax.plot(xs, f0, label=f"f({name}) = {source}")
    ax.plot(xs, f1, "--", label=f"f′({name})")
    ax.plot(xs, f2, ":", label=f"f″({name})")
    ax.set_xlabel(name)
    ax.legend()
    ax.set_title("f and its derivatives (wengert, forward and reverse mode)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _contours(plt, source, names, g, xr, yr, n, path):
    def grid(m):
        return np.meshgrid(np.linspace(*xr, m), np.linspace(*yr, m))

    xx, yy = grid(n)
    zz = np.reshape(wg.vmap(g)(xx.ravel(), yy.ravel()), xx.shape)
    qx, qy = grid(QUIVER_GRID)
    gx, gy = wg.vmap(wg.grad(g, argnums=(0, 1)))(qx.ravel(), qy.ravel())
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    filled = ax.contourf(xx, yy, np.ma.masked_invalid(zz), levels=30, cmap="viridis")
    fig.colorbar(filled, ax=ax, label=f"f({', '.join(names)})")
    ax.quiver(qx, qy, np.reshape(gx, qx.shape), np.reshape(gy, qy.shape), color="white", alpha=0.8)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"f = {source}; arrows: ∇f")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
