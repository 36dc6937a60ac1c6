"""``wengert check MODULE:FUNCTION``: a user's function against finite differences at random
inputs, through :func:`wengert.testing.check_grads` and a per-argument comparison of the
gradient of ``sum(f)`` with central differences."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path

import numpy as np

import wengert as wg
from wengert import tree
from wengert._cli_output import Table, UsageError, fmt
from wengert.testing import check_grads

# Central differences are checked on at most this many entries of each argument (drawn at
# random beyond it): each entry costs two evaluations of the function.
MAX_FD_ENTRIES = 200


def load_target(spec: str):
    """The callable named by ``pkg.mod:func``, ``pkg.mod:Class.method`` or ``file.py:func``."""
    module_name, colon, attr = spec.rpartition(":")
    if not colon or not module_name or not attr:
        raise UsageError(f"expected MODULE:FUNCTION, as in mypkg.mod:func, got {spec!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise FileNotFoundError(f"no file {module_name}")
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
        else:
            # As `python -m` does: modules in the current directory are importable.
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except Exception as err:  # the user's module may raise anything while importing
        raise UsageError(f"could not import {module_name}: {type(err).__name__}: {err}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{spec} is a {type(obj).__name__}, not a function")
    return obj


def parse_shape(text: str) -> tuple[int, ...]:
    """``"10"`` -> ``(10,)``, ``"3,4"`` or ``"3x4"`` -> ``(3, 4)``, ``"()"`` -> ``()``."""
    body = text.strip().strip("()[]").replace("x", ",")
    if body in ("", "scalar"):
        return ()
    try:
        shape = tuple(int(p) for p in body.split(",") if p.strip())
    except ValueError:
        shape = (-1,)
    if any(n < 1 for n in shape):
        raise UsageError(f"--shape expects positive sizes such as 10, 3,4 or (), got {text!r}")
    return shape


def _parameters(fun, n_shapes: int) -> list[str]:
    """The names of the positional arguments to draw: as many as ``fun`` requires, or one
    per ``--shape`` when several are given."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return [f"arg{k}" for k in range(max(n_shapes, 1))]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in positional if p.default is p.empty]
    if n_shapes <= 1:
        if not required:
            raise UsageError(f"{fun.__name__} takes no required positional argument to check")
        return required
    if n_shapes < len(required) or (
        n_shapes > len(positional) and not any(p.kind == p.VAR_POSITIONAL for p in params)
    ):
        raise UsageError(
            f"{n_shapes} --shape values given, but {fun.__name__} takes "
            f"{len(required)} positional argument(s) ({', '.join(required)})"
        )
    names = [p.name for p in positional]
    return (names + [f"arg{k}" for k in range(len(names), n_shapes)])[:n_shapes]


def _total(fun):
    """``x -> sum of every output entry``: a real scalar whose gradient mixes all outputs."""

    def total(*xs):
        leaves = tree.flatten(fun(*xs))[0]
        out = np.sum(np.real(leaves[0]))
        for leaf in leaves[1:]:
            out = out + np.sum(np.real(leaf))
        return out

    return total


def _fd_errors(total, args, k, ad, rng):
    """Worst ``|ad - fd| / max(1, |fd|)`` over (a sample of) the entries of argument ``k``."""
    x = args[k]
    flat = x.reshape(-1)
    idx = np.arange(flat.size)
    if flat.size > MAX_FD_ENTRIES:
        idx = np.sort(rng.choice(flat.size, MAX_FD_ENTRIES, replace=False))
    worst, ad_flat = 0.0, np.reshape(ad, -1)
    for i in idx:
        # The step balancing truncation (h**2) and rounding (eps/h): eps**(1/3) ~ 6e-6.
        h = 6e-6 * max(1.0, abs(flat[i]))
        plus, minus = flat.copy(), flat.copy()
        plus[i] += h
        minus[i] -= h
        fp = total(*args[:k], plus.reshape(x.shape), *args[k + 1 :])
        fm = total(*args[:k], minus.reshape(x.shape), *args[k + 1 :])
        fd = (float(fp) - float(fm)) / (2 * h)
        err = abs(float(ad_flat[i]) - fd) / max(1.0, abs(fd))
        worst = err if not err <= worst else worst  # nan wins: it must fail
    return worst, idx.size


def _draw(shapes, rng, interval):
    if interval:
        return tuple(rng.uniform(*interval, s) for s in shapes)
    return tuple(rng.standard_normal(s) for s in shapes)


def _per_argument(fun, names, inputs, rng, tol) -> tuple[list[dict], str | None]:
    """For each argument: how many entries were compared, the worst error, pass or fail."""
    total = _total(fun)
    try:
        grads = wg.grad(total, argnums=tuple(range(len(inputs))))(*inputs)
    except Exception as err:  # the user's function may not trace: a failed check, not a crash
        fails = [{"argument": n, "shape": x.shape, "entries_checked": 0, "max_rel_error": None,
                  "passed": False} for n, x in zip(names, inputs)]  # fmt: skip
        return fails, f"{type(err).__name__}: {err}"
    entries = []
    for k, (name, x) in enumerate(zip(names, inputs)):
        worst, n = _fd_errors(total, inputs, k, grads[k], rng)
        entries.append({"argument": name, "shape": x.shape, "entries_checked": n,
                        "max_rel_error": worst, "passed": bool(worst <= tol)})  # fmt: skip
    return entries, None


def run_check(args) -> tuple[dict, list]:
    """Run the checks for the parsed ``wengert check`` arguments: (JSON data, output blocks)."""
    fun = load_target(args.target)
    names = _parameters(fun, len(args.shape))
    shapes = [parse_shape(s) for s in args.shape] or [()]
    shapes = shapes * len(names) if len(shapes) == 1 else shapes
    rng = np.random.default_rng(args.seed)
    inputs = _draw(shapes, rng, args.range)
    try:
        out = fun(*inputs)
    except Exception as err:
        raise UsageError(
            f"calling {args.target} at random inputs of shapes {shapes} raised "
            f"{type(err).__name__}: {err}"
        ) from None
    out_shapes = [np.shape(o) for o in tree.flatten(out)[0]]
    try:
        check_grads(fun, inputs, order=args.order, seed=args.seed)
        cg = {"passed": True, "error": None}
    except Exception as err:  # GradientCheckError, or a wengert error tracing fun
        cg = {"passed": False, "error": f"{type(err).__name__}: {err}"}
    per_arg, grad_error = _per_argument(fun, names, inputs, rng, args.tol)
    report = {"target": args.target, "seed": args.seed, "order": args.order, "tol": args.tol,
              "output_shapes": out_shapes, "check_grads": cg, "arguments": per_arg,
              "gradient_error": grad_error,
              "passed": cg["passed"] and all(e["passed"] for e in per_arg)}  # fmt: skip
    return report, _blocks(args, report, shapes)


def _blocks(args, report: dict, shapes) -> list:
    rows = [[e["argument"], str(e["shape"]), str(e["entries_checked"]),
             "-" if e["max_rel_error"] is None else fmt(e["max_rel_error"], 3),
             "ok" if e["passed"] else "FAIL"] for e in report["arguments"]]  # fmt: skip
    out_shapes = ", ".join(str(s) for s in report["output_shapes"])
    cg = report["check_grads"]
    blocks = [
        f"{args.target} at random inputs (seed {args.seed}) of shapes "
        f"{', '.join(str(s) for s in shapes)}; outputs of shapes {out_shapes}",
        Table(["argument", "shape", "entries", "worst error", "status"], rows,
              title="gradient of sum(f) against central differences"),
        f"error = |ad - fd| / max(1, |fd|) over the entries, tolerance {fmt(args.tol, 3)}",
    ]  # fmt: skip
    if report["gradient_error"]:
        blocks.append(f"the gradient failed: {report['gradient_error']}")
    status = "passed" if cg["passed"] else "FAILED: " + cg["error"]
    blocks.append(f"check_grads(order={args.order}), forward mode against central differences "
                  f"and reverse against forward: {status}")  # fmt: skip
    blocks.append("PASSED" if report["passed"] else "FAILED")
    return blocks
