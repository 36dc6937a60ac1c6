"""The ``wengert`` command: derivatives of expressions and of your own functions from a
terminal.

    wengert grad "ln(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 [--trace]
    wengert jacobian "[x*y, sin(x)*y]" --at x=1 y=2 [--mode fwd|rev|auto]
    wengert hessian "x**2*y" --at x=1 y=2
    wengert check mypkg.mod:func --shape 10 [--shape 3,4] [--seed 0] [--order 2]
    wengert plot "sin(x)*exp(-x**2)" --range -3 3 -o f.png

Expressions are parsed safely (:mod:`wengert.expr`), never ``eval``-ed. Every command prints
readable tables (rich when installed, plain text otherwise) or, with ``--json``, JSON. Errors
print one line to stderr (with a caret under a bad token) and exit with status 2; ``check``
exits with 1 when a derivative is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

import numpy as np

import wengert as wg
from wengert._cli_output import Table, UsageError, emit, emit_json, error, fmt
from wengert.errors import WengertError
from wengert.expr import CONSTANTS, FUNCTIONS, Expression, ExpressionError, parse, parse_value

__all__ = ["main", "UsageError"]


# -- binding variables ----------------------------------------------------------------------
def parse_at(items: Sequence[str]) -> dict[str, float]:
    """``["x1=2", "x2=pi/4"]`` as ``{"x1": 2.0, "x2": 0.785...}``; values may be constant
    expressions."""
    values: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not text.strip():
            raise UsageError(f"--at expects NAME=VALUE items, as in x1=2, got {item!r}")
        if name in values:
            raise UsageError(f"--at gives {name} twice")
        try:
            values[name] = parse_value(text)
        except ExpressionError as err:
            raise ExpressionError(
                f"bad value for {name} in --at: {err.message}",
                err.source,
                err.lineno,
                err.col,
                err.end_col,
            ) from None
    return values


def bind(expr: Expression, values: dict[str, float], free: bool = False) -> list[str]:
    """The parameter order: the ``--at`` names in their order, after them (``free``) the
    expression's variables left without a value. Without ``free`` every variable needs one."""
    for name in values:
        if name not in expr.names:
            uses = ", ".join(expr.variables) or "no variables"
            raise UsageError(f"unknown variable {name!r} in --at: the expression uses {uses}")
    missing = [v for v in expr.variables if v not in values]
    if missing and not free:
        name = missing[0]
        raise expr.error_at(name, f"no value for {name}: add {name}=... to --at")
    return missing + list(values) if free else list(values)


def _setup(args) -> tuple[Expression, list[str], np.ndarray]:
    expr = parse(args.expression)
    values = parse_at(args.at)
    order = bind(expr, values)
    if not order:
        raise UsageError(f"{expr.source!r} has no variables to differentiate")
    return expr, order, np.array([values[n] for n in order], dtype=float)


def _scalar_only(expr: Expression, command: str) -> None:
    if expr.outputs is not None:
        raise UsageError(
            f"{command} needs a scalar expression, but this one has "
            f"{len(expr.outputs)} outputs; use `wengert jacobian` for vectors"
        )


def _head(expr: Expression, order: list[str], x: np.ndarray, d: int) -> str:
    at = ", ".join(f"{n} = {fmt(v, d)}" for n, v in zip(order, x))
    return f"f({', '.join(order)}) = {expr.source}   at {at}"


def _data(expr: Expression, order: list[str], x: np.ndarray, **results) -> dict:
    return {"expression": expr.source, "variables": order, "at": dict(zip(order, x)), **results}


def _gradient_table(order: list[str], x: np.ndarray, grads, d: int) -> Table:
    rows = [[n, fmt(v, d), fmt(g, d)] for n, v, g in zip(order, x, grads)]
    return Table(["variable", "value", "∂f/∂variable"], rows, title="gradient")


def _on_vector(fn, n: int):
    """``fn`` of n scalars as a function of one vector, for the Jacobian and Hessian."""
    return lambda v: fn(*[v[k] for k in range(n)])


# -- commands -------------------------------------------------------------------------------
def cmd_grad(args) -> int:
    """Value and gradient (reverse mode); with ``--trace`` the three traces of the seeds."""
    expr, order, x = _setup(args)
    _scalar_only(expr, "grad")
    fn, d = expr.function(order), args.digits
    value, grads = wg.value_and_grad(fn, argnums=tuple(range(len(order))))(*x)
    data = _data(expr, order, x, value=value, gradient=dict(zip(order, grads)))
    blocks = [
        _head(expr, order, x, d),
        f"value  {fmt(value, d)}",
        _gradient_table(order, x, grads, d),
    ]
    if args.trace:
        wrt = args.wrt or order[0]
        if wrt not in order:
            raise UsageError(f"--wrt {wrt!r} is not a variable; choose one of {', '.join(order)}")
        # One argument per variable, so the list's inputs are x1, x2 as in the seeds' tables.
        wl = wg.wengert_list(fn)(*x).forward(tuple(float(n == wrt) for n in order)).reverse()
        blocks.append(
            "Wengert list: primal trace v; tangent trace v̇ (forward mode, direction "
            f"d{wrt} = 1, the others 0); adjoint trace v̄ (reverse mode, f̄ = 1)"
        )
        blocks.append(wl)
        data["trace"] = {"wrt": wrt, "rows": [r._asdict() for r in wl.rows]}
    return _finish(args, data, blocks)


def cmd_jacobian(args) -> int:
    """The Jacobian in the chosen mode, with the pass count of each mode."""
    expr, order, x = _setup(args)
    fn, d = expr.function(order), args.digits
    value = np.asarray(fn(*x))
    jac = wg.jacobian(_on_vector(fn, len(order)), mode=args.mode)(x)
    jac = np.reshape(jac, (value.size, len(order)))
    # Forward mode needs one JVP per input, reverse one VJP per output (wengert batches each
    # set with vmap). auto follows wg.jacobian's rule: forward when the inputs are fewer.
    passes = {"fwd": len(order), "rev": value.size}
    auto = "fwd" if passes["fwd"] < passes["rev"] else "rev"
    used = auto if args.mode == "auto" else args.mode
    words = {"fwd": "forward", "rev": "reverse"}
    labels = expr.outputs or [expr.source]
    rows = [[lab] + [fmt(j, d) for j in row] for lab, row in zip(labels, jac)]
    blocks = [
        _head(expr, order, x, d),
        f"value  {fmt(value, d)}",
        Table(["output"] + [f"∂/∂{n}" for n in order], rows, title="Jacobian"),
        f"passes: forward mode {passes['fwd']} (one JVP per input), reverse mode "
        f"{passes['rev']} (one VJP per output); auto picks {words[auto]} mode; "
        f"computed in {words[used]} mode",
    ]
    data = _data(expr, order, x, outputs=labels, value=value, jacobian=jac, mode=used,
                 passes=passes, auto=auto)  # fmt: skip
    return _finish(args, data, blocks)


def cmd_hessian(args) -> int:
    """The Hessian (forward over reverse), with the value and gradient."""
    expr, order, x = _setup(args)
    _scalar_only(expr, "hessian")
    vec, d = _on_vector(expr.function(order), len(order)), args.digits
    value, grads = wg.value_and_grad(vec)(x)
    hess = wg.hessian(vec)(x)
    rows = [[n] + [fmt(h, d) for h in row] for n, row in zip(order, hess)]
    blocks = [
        _head(expr, order, x, d),
        f"value  {fmt(value, d)}",
        _gradient_table(order, x, grads, d),
        Table(["variable"] + order, rows, title="Hessian ∂²f/∂row∂column"),
    ]
    data = _data(expr, order, x, value=value, gradient=dict(zip(order, grads)), hessian=hess)
    return _finish(args, data, blocks)


def cmd_check(args) -> int:
    """Check a user's Python function against finite differences; 1 if a check fails."""
    from wengert._cli_check import run_check

    data, blocks = run_check(args)
    _finish(args, data, blocks)
    return 0 if data["passed"] else 1


def cmd_plot(args) -> int:
    """Plot f with f' and f'' (one variable) or contours with the gradient field (two)."""
    from wengert._cli_plot import run_plot

    data, blocks = run_plot(args)
    return _finish(args, data, blocks)


def _finish(args, data: dict, blocks: list) -> int:
    if args.json:
        emit_json(data)
    else:
        emit(blocks, plain=args.plain)
    return 0


# -- the parser -----------------------------------------------------------------------------
_EPILOG = (
    "expressions: numbers, variables, + - * / ** (not ^), parentheses, [a, b] for a vector, "
    f"constants {', '.join(CONSTANTS)}, and the functions {', '.join(FUNCTIONS)}. Quote the "
    "expression, and put it right after the command when it starts with '-'."
)


def _digits(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 17:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 17, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wengert`` command."""
    parser = argparse.ArgumentParser(
        prog="wengert",
        description="Automatic differentiation from the command line.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"wengert {wg.__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument("--plain", action="store_true", help="plain-text tables, even with rich")
    common.add_argument("--digits", type=_digits, default=6, help="significant digits (default 6)")
    at = argparse.ArgumentParser(add_help=False)
    at.add_argument("expression", help='for example "ln(x1) + x1*x2 - sin(x2)"')
    at.add_argument(
        "--at",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="the point, in parameter order: x1=2 x2=5 (values may be pi/4)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "grad", parents=[at, common], help="value and gradient (reverse mode)", epilog=_EPILOG
    )
    p.add_argument(
        "--trace",
        action="store_true",
        help="print the primal, tangent and adjoint traces (the Wengert list)",
    )
    p.add_argument("--wrt", help="the variable whose tangent seeds the tangent trace")
    p.set_defaults(run=cmd_grad)

    p = sub.add_parser(
        "jacobian",
        parents=[at, common],
        epilog=_EPILOG,
        help="Jacobian of a vector expression [a, b], with pass counts",
    )
    p.add_argument(
        "--mode",
        choices=["auto", "fwd", "rev"],
        default="auto",
        help="forward mode (one pass per input), reverse (one per output), or auto",
    )
    p.set_defaults(run=cmd_jacobian)

    p = sub.add_parser(
        "hessian", parents=[at, common], epilog=_EPILOG, help="Hessian (forward over reverse)"
    )
    p.set_defaults(run=cmd_hessian)

    p = sub.add_parser(
        "check",
        parents=[common],
        help="check a Python function's derivatives against finite differences",
    )
    p.add_argument("target", help="MODULE:FUNCTION (mypkg.mod:func) or path/to/file.py:func")
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="SHAPE",
        help="shape of the random inputs: 10, 3,4 or () for a scalar; once for "
        "every argument, or once per argument",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--order",
        type=int,
        default=2,
        choices=[1, 2, 3],
        help="highest derivative order check_grads checks (default 2)",
    )
    p.add_argument(
        "--range",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        help="draw inputs uniformly from [LO, HI] (default: standard normal)",
    )
    p.add_argument(
        "--tol",
        type=float,
        default=1e-5,
        help="largest accepted error |ad - fd| / max(1, |fd|) (default 1e-5)",
    )
    p.set_defaults(run=cmd_check)

    p = sub.add_parser(
        "plot",
        parents=[at, common],
        epilog=_EPILOG,
        help="plot f with f' and f'' (one variable) or its gradient field (two)",
    )
    p.add_argument(
        "--range",
        nargs=2,
        default=["-3", "3"],
        metavar=("LO", "HI"),
        help="the interval of the (first) variable (default -3 3)",
    )
    p.add_argument(
        "--yrange",
        nargs=2,
        metavar=("LO", "HI"),
        help="the interval of the second variable (default: --range)",
    )
    p.add_argument(
        "--points",
        type=int,
        default=None,
        help="samples per axis (default 400 for one variable, 100 for two)",
    )
    p.add_argument("-o", "--output", default="wengert-plot.png", help="the image file to write")
    p.set_defaults(run=cmd_plot)
    return parser


def _protect_expression(argv: Sequence[str]) -> list[str]:
    """argparse takes an expression like "-x**2" for an unknown option; with a leading space
    it is a positional argument (parse() strips the space)."""
    argv = list(argv)
    if len(argv) > 1 and argv[0] in ("grad", "jacobian", "hessian", "plot"):
        token = argv[1]
        if token.startswith("-") and not token.startswith(("--", "-h", "-o")):
            argv[1] = " " + token
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``wengert`` command with ``argv`` (default ``sys.argv[1:]``); return the exit
    status: 0 on success, 1 when ``check`` finds a wrong derivative, 2 on an error."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show ∂ gets \u2202 rather than a UnicodeEncodeError.
        if (getattr(stream, "encoding", None) or "utf-8").lower() not in ("utf-8", "utf8"):
            stream.reconfigure(errors="backslashreplace")
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(_protect_expression(argv))
    try:
        with np.errstate(all="ignore"):  # inf and nan are shown as values, not warnings
            return args.run(args)
    except ExpressionError as err:
        return error(err.message, err.display())
    except WengertError as err:  # wengert's messages may wrap: one line on the terminal
        return error(" ".join(str(err).split()))
    except Exception as err:  # never a traceback, unless asked for
        if os.environ.get("WENGERT_DEBUG"):
            raise
        return error(f"{type(err).__name__}: {err} (set WENGERT_DEBUG=1 for the traceback)")


if __name__ == "__main__":
    sys.exit(main())
