"""Runs the workloads: checks every peer's answer against the floor, then times it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.peers import PEERS, leaves, tree_map
from bench.timing import Settings, best_time, peak_bytes
from bench.workloads import Workload

PLAIN, FLOOR = "plain f", "floor"
COLUMNS = (PLAIN, FLOOR) + tuple(peer.name for peer in PEERS)


@dataclass
class Cell:
    status: str  # ok | n/a | error | wrong
    value: float | None = None  # seconds (per call, or per op) or bytes
    note: str = ""


@dataclass
class Row:
    key: str
    op: str
    label: str
    unit: str  # "s" or "B"
    base: str  # the column ratios are taken over
    cells: dict = field(default_factory=dict)

    def ratio(self, column: str) -> float | None:
        cell, base = self.cells[column], self.cells[self.base]
        if cell.status != "ok" or base.status != "ok" or not base.value:
            return None
        return cell.value / base.value


def mismatch(result, expected, to_numpy) -> str | None:
    """Why ``result`` differs from the hand-written ``expected``, or None if it matches."""
    got, want = leaves(result), leaves(expected)
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for a, b in zip(got, want):
        a, b = np.asarray(to_numpy(a)), np.asarray(b)
        if a.shape != b.shape:
            return f"shape {a.shape}, expected {b.shape}"
        # Relative to the output's own scale: W7's gradient is ~1e-16 (0.99 ** 5000).
        if not np.allclose(a, b, rtol=1e-6, atol=1e-9 * np.max(np.abs(b))):
            return f"off by {np.max(np.abs(a - b)) / np.max(np.abs(b)):.2g} of max |expected|"
    return None


def _error(exc: BaseException) -> Cell:
    return Cell("error", note=f"{type(exc).__name__}: {exc}")


def _peer_thunk(peer, w: Workload, inputs, expected):
    """A zero-argument call of ``peer`` on ``w``, checked against ``expected``; or a Cell."""
    try:
        peer.load()
    except ImportError as exc:
        return _error(exc) if peer.required else Cell("n/a")
    if peer.name in w.skip:
        return Cell("n/a", note=w.skip[peer.name])
    try:
        fn = peer.build(w.op, w.problem.build(peer.xp), tree_map(peer.asarray, inputs.consts))
        if fn is None:
            return Cell("n/a", note=f"no {w.op}")
        call = tree_map(peer.asarray, _call_args(inputs, w.op))
        wrong = mismatch(fn(*call), expected, peer.to_numpy)
    except Exception as exc:  # noqa: BLE001 - a failing peer is a table entry, not a crash
        return _error(exc)
    return Cell("wrong", note=wrong) if wrong else (lambda: fn(*call))


def _call_args(inputs, op: str) -> tuple:
    """What the transformed function is called with: x, and hvp's direction v."""
    return (inputs.x, inputs.v) if op == "hvp" else (inputs.x,)


def _measure(thunks: dict, measure, per: int) -> dict:
    cells = {}
    for column, thunk in thunks.items():
        if isinstance(thunk, Cell):
            cells[column] = thunk
            continue
        try:
            cells[column] = Cell("ok", measure(thunk) / per)
        except Exception as exc:  # noqa: BLE001
            cells[column] = _error(exc)
    return cells


def run_workload(w: Workload, settings: Settings) -> list[Row]:
    inputs = w.problem.inputs()
    f = w.problem.build(np)
    call = _call_args(inputs, w.op)
    thunks = {
        PLAIN: lambda: f(inputs.x, *inputs.consts),
        FLOOR: lambda: w.floor(*call, *inputs.consts),
    }
    expected = thunks[FLOOR]()
    for peer in PEERS:
        thunks[peer.name] = _peer_thunk(peer, w, inputs, expected)
    timed = _measure(thunks, lambda t: best_time(t, settings), w.per)
    rows = [Row(w.key, w.op, w.problem.label, "s", PLAIN, timed)]
    if w.memory:
        for peer in PEERS:
            if not (peer.tracks_memory or isinstance(thunks[peer.name], Cell)):
                thunks[peer.name] = Cell("n/a", note="not NumPy memory")
        # Every reverse mode stores one step per operation; the floor's hand-written tape is
        # the fair unit, where plain f keeps one vector.
        rows.append(
            Row(w.key, w.op, "peak memory, × floor", "B", FLOOR, _measure(thunks, peak_bytes, 1))
        )
    return rows


def run(workloads, settings: Settings) -> list[Row]:
    return [row for w in workloads for row in run_workload(w, settings)]
