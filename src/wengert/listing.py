"""The Wengert list of a function, printed as the seed documents print it.

``wg.wengert_list(f)(*args)`` records ``f`` once in reverse mode and keeps the tape: one row
per primitive, ``v_i = op(v_j, v_k)``, inputs named ``v_{-n+1} ... v_0`` as in Baydin et al.
``.forward(tangents)`` adds the tangent trace (each row's rule applied to its parents'
tangents, the dual-number column) and ``.reverse(cotangent)`` the adjoint trace (one
backward pass that keeps every node's adjoint). The same object renders as plain text,
Markdown, HTML (notebooks), a rich table, and a Graphviz graph.
"""

from __future__ import annotations

import html
import inspect
from typing import Callable, NamedTuple

import numpy as np

from wengert import tree
from wengert.api import _as_input, _call, _materialize
from wengert.core.reverse import Node, VJPTrace, VJPTracer, backward

__all__ = ["wengert_list", "WengertList", "Row"]

# Infix spelling of the arithmetic primitives; everything else prints as a call.
_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**",
          "matmul": "@", "remainder": "%"}  # fmt: skip
_SUMMARY_HEAD, _SUMMARY_TAIL = 20, 10


class Row(NamedTuple):
    """One line of the trace: ``name = op`` with its value, tangent and adjoint."""

    name: str
    op: str
    value: object
    tangent: object = None
    adjoint: object = None


def wengert_list(fun: Callable) -> Callable:
    """A function returning the Wengert list of ``fun`` at its arguments.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> def f(x1, x2):
    ...     return np.log(x1) + x1 * x2 - np.sin(x2)
    >>> wl = wg.wengert_list(f)(2.0, 5.0).forward((1.0, 0.0)).reverse()
    >>> [round(float(r.value), 3) for r in wl.rows][-1], float(wl.rows[-1].tangent)
    (11.652, 5.5)
    >>> [round(float(r.adjoint), 3) for r in wl.rows[:2]]
    [5.5, 1.716]
    """

    def build(*args) -> WengertList:
        leaves, treedef = tree.flatten(args)
        leaves = [_as_input(x, "wengert_list", k) for k, x in enumerate(leaves)]
        trace = VJPTrace(keep=True)  # every value, for the primal trace
        tape = trace.tape
        try:
            out = _call(fun, tree.unflatten(treedef, [trace.new_input(x) for x in leaves]))
        finally:
            trace.close()
        outputs = [o.idx for o in tree.flatten(out)[0]
                   if isinstance(o, VJPTracer) and o._trace is trace]  # fmt: skip
        return WengertList(tape, len(leaves), outputs, _input_names(fun, args))

    return build


def _input_names(fun, args) -> list | None:
    """The parameter names of ``fun`` when each argument is one array (x1, x2...)."""
    try:
        params = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        return None
    if len(params) >= len(args) and all(len(tree.flatten(a)[0]) == 1 for a in args):
        return params[: len(args)]
    return None


class WengertList:
    """The primal trace of one evaluation, with optional tangent and adjoint traces."""

    def __init__(self, tape, n_inputs, outputs, names):
        self._tape = [Node._make(t) for t in tape]
        self._n = n_inputs
        self._outputs = outputs  # tape positions of the traced outputs
        self._tangents: list | None = None
        self._adjoints: list | None = None
        self._labels = names

    # -- the traces --------------------------------------------------------------------
    def forward(self, tangents) -> "WengertList":
        """Add the tangent trace for input directions ``tangents`` (one per input)."""
        t_leaves = tree.flatten(tuple(tangents))[0]
        if len(t_leaves) != self._n:
            raise ValueError(f"forward needs {self._n} tangents, one per input; got "
                             f"{len(t_leaves)}.")  # fmt: skip
        dots = [np.asarray(t, dtype=float) * np.ones_like(n.ans) for t, n in
                zip(t_leaves, self._tape)]  # fmt: skip
        for node in self._tape[self._n :]:
            ts = [None] * len(node.vals)
            for k, p in zip(node.which, node.parents):
                ts[k] = dots[p]
            t = node.prim.jvp(ts, node.ans, *node.vals, **node.params)
            dots.append(np.zeros_like(node.ans, dtype=float) if t is None else t)
        self._tangents = dots
        return self

    def reverse(self, cotangent=1.0) -> "WengertList":
        """Add the adjoint trace, seeding the (last) output with ``cotangent``."""
        if not self._outputs:
            raise ValueError("the function's output does not depend on its inputs.")
        out = self._outputs[-1]
        g = np.asarray(cotangent, dtype=float) * np.ones_like(self._tape[out].ans)
        record = [None] * len(self._tape)
        backward(self._tape, {out: g}, self._n, free=False, record=record)
        self._adjoints = [0.0 if a is None else _materialize(a, n.ans)
                          for a, n in zip(record, self._tape)]  # fmt: skip
        return self

    @property
    def rows(self) -> list[Row]:
        names = self._names()
        rows = []
        for i, node in enumerate(self._tape):
            op = self._label(i) if i < self._n else self._expression(node, names)
            tangent = None if self._tangents is None else self._tangents[i]
            adjoint = None if self._adjoints is None else self._adjoints[i]
            rows.append(Row(names[i], op, node.ans, tangent, adjoint))
        return rows

    def _names(self) -> list[str]:
        # Inputs v_{1-n} .. v_0, then v_1, v_2, ... (Baydin et al.'s numbering).
        return [f"v{i - self._n + 1}" for i in range(len(self._tape))]

    def _label(self, i) -> str:
        return self._labels[i] if self._labels else f"input {i}"

    def _expression(self, node, names) -> str:
        parent = dict(zip(node.which, node.parents))
        args = [names[parent[k]] if k in parent else _fmt_const(v)
                for k, v in enumerate(node.vals)]  # fmt: skip
        name = node.prim.name
        if name in _INFIX and len(args) == 2:
            return f"{args[0]} {_INFIX[name]} {args[1]}"
        params = [f"{k}={_fmt_param(v)}" for k, v in node.params.items()]
        return f"{name}({', '.join(args + params)})"

    # -- rendering ---------------------------------------------------------------------
    def _table(self) -> tuple[list[str], list[list[str]], int]:
        header = ["", "operation", "value"]
        if self._tangents is not None:
            header.append("tangent v̇")
        if self._adjoints is not None:
            header.append("adjoint v̄")
        rows = self.rows
        omitted = 0
        if len(rows) > _SUMMARY_HEAD + _SUMMARY_TAIL + 1:
            omitted = len(rows) - _SUMMARY_HEAD - _SUMMARY_TAIL
            rows = rows[:_SUMMARY_HEAD] + rows[-_SUMMARY_TAIL:]
        body = []
        for r in rows:
            line = [r.name, r.op, _fmt(r.value)]
            if self._tangents is not None:
                line.append(_fmt(r.tangent))
            if self._adjoints is not None:
                line.append(_fmt(r.adjoint))
            body.append(line)
        return header, body, omitted

    def _counts(self) -> str:
        counts: dict = {}
        for node in self._tape[self._n :]:
            counts[node.prim.name] = counts.get(node.prim.name, 0) + 1
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:8]
        return ", ".join(f"{k} x{v}" for k, v in top)

    def __len__(self) -> int:
        return len(self._tape)

    def __str__(self) -> str:
        header, body, omitted = self._table()
        widths = [max(len(row[c]) for row in [header] + body) for c in range(len(header))]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        for k, row in enumerate(body):
            if omitted and k == _SUMMARY_HEAD:
                lines.append(f"... {omitted} rows omitted ({self._counts()}) ...")
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        return "\n".join(lines)

    __repr__ = __str__

    def to_markdown(self) -> str:
        header, body, omitted = self._table()
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for k, row in enumerate(body):
            if omitted and k == _SUMMARY_HEAD:
                lines.append(f"| ... | {omitted} rows omitted |" + " |" * (len(header) - 2))
            lines.append("| " + " | ".join(f"`{c}`" if j == 1 else c
                                           for j, c in enumerate(row)) + " |")  # fmt: skip
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header, body, omitted = self._table()
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        out = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
        for k, row in enumerate(body):
            if omitted and k == _SUMMARY_HEAD:
                out.append(f"<tr><td colspan={len(header)}>... {omitted} rows omitted</td></tr>")
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    def __rich__(self):
        from rich.table import Table

        header, body, omitted = self._table()
        table = Table(title="Wengert list")
        for h in header:
            table.add_column(h, justify="left" if h in ("", "operation") else "right")
        for k, row in enumerate(body):
            if omitted and k == _SUMMARY_HEAD:
                table.add_row("...", f"{omitted} rows omitted", *[""] * (len(header) - 2))
            table.add_row(*row)
        return table

    rich_table = __rich__

    def to_dot(self) -> str:
        """The computational graph in Graphviz DOT: one node per row, edges from arguments."""
        names = self._names()
        lines = ["digraph wengert {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
        for i, node in enumerate(self._tape):
            label = self._label(i) if i < self._n else node.prim.name
            text = f"{names[i]} = {label}\\n{_fmt(node.ans)}"
            shape = ", shape=ellipse" if i < self._n else ""
            lines.append(f'  {names[i].replace("-", "m")} [label="{text}"{shape}];')
            for p in node.parents:
                lines.append(f"  {names[p].replace('-', 'm')} -> {names[i].replace('-', 'm')};")
        lines.append("}")
        return "\n".join(lines)

    def render(self, path: str) -> str:
        """Draw the graph to ``path`` (its suffix picks the format: .svg, .png, .pdf) with
        the ``graphviz`` package and the Graphviz ``dot`` program."""
        try:
            import graphviz
        except ImportError as e:
            raise ImportError(
                "WengertList.render needs the graphviz package (pip install graphviz) and the "
                "Graphviz dot program; .to_dot() returns the graph as text without them."
            ) from e
        stem, _, fmt = path.rpartition(".")
        return graphviz.Source(self.to_dot()).render(outfile=path, format=fmt, cleanup=True)


def _fmt(v) -> str:
    """A value as the seeds print it: 0.693, 10.693, 11.652; arrays summarised."""
    if v is None:
        return ""
    a = np.asarray(v)
    if a.ndim == 0:
        x = a.item()
        if isinstance(x, complex):
            return f"{x.real:.3f}{x.imag:+.3f}j"
        if isinstance(x, float) and x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.4g}"
        return f"{x:.3f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)
    if a.size <= 4:
        return "[" + ", ".join(_fmt(e) for e in a.ravel()) + "]"
    return f"array{a.shape} mean={_fmt(a.mean())}"


def _fmt_const(v) -> str:
    """A constant operand, with the precision it was written with (1.0001, not 1)."""
    a = np.asarray(v)
    if a.ndim == 0 and a.dtype.kind in "fiu":
        return f"{a.item():.6g}"
    return _fmt(v)


def _fmt_param(v) -> str:
    if isinstance(v, tuple) and len(v) == 3 and isinstance(v[0], np.ndarray):
        return f"shape {v[1]}"  # untake's (zeros, shape, dtype)
    return repr(v) if not isinstance(v, np.ndarray) else _fmt(v)
