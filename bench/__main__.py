"""``python -m bench [--only W1,W3] [--quick] [--json out.json]``: run and print one table."""

import os

# One BLAS/OpenMP thread for every column (torch is told the same in peers.py): on a small,
# shared machine, threads add noise, and a column should not win by using more cores. Set
# before NumPy is imported; an explicit setting in the environment wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import platform
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from bench.peers import PEERS
from bench.report import core_size, render
from bench.runner import run
from bench.timing import DEFAULT, QUICK
from bench.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parent.parent


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated workload keys, e.g. W1,W3")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    keys = {w.key for w in WORKLOADS}
    args.keys = keys if args.only is None else set(args.only.upper().split(","))
    if args.keys - keys:
        parser.error(f"unknown workload {', '.join(sorted(args.keys - keys))}")
    return args


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "n/a"


def main(argv=None) -> None:
    args = _parse(argv)
    settings = QUICK if args.quick else DEFAULT
    start = time.perf_counter()
    rows = run([w for w in WORKLOADS if w.key in args.keys], settings)
    elapsed = time.perf_counter() - start
    versions = {d: _version(d) for d in ("numpy", *(peer.module for peer in PEERS))}
    caption = (
        "Each cell: time per call (W1: per op) and its ratio over plain f; "
        "peak memory rows: ratio over floor.\n"
        f"min of {settings.repeat} repeats, {os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s); "
        + ", ".join(f"{d} {v}" for d, v in versions.items())
        + f"; Python {platform.python_version()}; {elapsed:.0f} s"
    )
    core = core_size(ROOT)
    footer = (
        f"core size: {sum(core.values())} code lines in src/wengert/core/*.py "
        f"({len(core)} files; blank, comment and docstring lines not counted)"
    )
    render(rows, caption, footer)
    if args.json:
        report = {
            "settings": asdict(settings),
            "versions": versions,
            "python": platform.python_version(),
            "seconds": elapsed,
            "core_lines": core,
            "rows": [
                {**asdict(row), "ratios": {c: row.ratio(c) for c in row.cells}} for row in rows
            ],
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
