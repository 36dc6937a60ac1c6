"""The one table renderer (rich when installed, plain text otherwise) and the core-size count."""

from __future__ import annotations

import ast
import io
import textwrap
import tokenize
from pathlib import Path

from bench.runner import COLUMNS, Row

_NOTE_CHARS = 66  # a failing cell shows the start of its error; --json has all of it
_WRAP = 22  # plain text: the width cells wrap at (rich wraps by itself)


def _scaled(value: float, units) -> str:
    for scale, name in units:
        if value >= scale:
            break
    number = value / scale
    return f"{number:.3g} {name}" if number < 999.5 else f"{number:.0f} {name}"


def fmt_quantity(value: float, unit: str) -> str:
    if unit == "B":
        return _scaled(value, ((2**20, "MiB"), (2**10, "KiB"), (1, "B")))
    return _scaled(value, ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")))


def fmt_ratio(r: float) -> str:
    return f"{r:.3g}×" if r < 100 else f"{r:.0f}×"


def _note(status: str, note: str) -> str:
    text = f"{status}: {note}"
    return text if len(text) <= _NOTE_CHARS else text[: _NOTE_CHARS - 1] + "…"


def cell_text(row: Row, column: str) -> str:
    cell = row.cells[column]
    if cell.status != "ok":
        return _note(cell.status, cell.note) if cell.note else cell.status
    text = fmt_quantity(cell.value, row.unit)
    ratio = row.ratio(column)
    return text if ratio is None else f"{text}\n{fmt_ratio(ratio)}"


def table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and body as text cells (a cell may hold several lines)."""
    header = ["workload", *COLUMNS]
    body = []
    for row in rows:
        label = f"{row.key} {row.op}\n{row.label}"
        body.append([label, *(cell_text(row, c) for c in COLUMNS)])
    return header, body


def render(rows: list[Row], caption: str, footer: str) -> None:
    header, body = table(rows)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(_plain(header, body), caption, footer, sep="\n")
        return
    t = Table(*header, caption=caption, caption_justify="left", show_lines=True)
    for line in body:
        t.add_row(*line)
    console = Console()
    if not console.is_terminal:  # a log or a pipe: room for the whole table
        console.width = max(console.width, 120)
    console.print(t)
    console.print(footer)


def _plain(header: list[str], body: list[list[str]]) -> str:
    split = [[_wrap(cell) for cell in line] for line in [header, *body]]
    widths = [max(len(part) for line in split for part in line[i]) for i in range(len(header))]
    rule = "-+-".join("-" * w for w in widths)
    out = []
    for line in split:
        for k in range(max(len(cell) for cell in line)):
            parts = [cell[k] if k < len(cell) else "" for cell in line]
            out.append(" | ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip())
        out.append(rule)
    return "\n".join(out)


def _wrap(cell: str) -> list[str]:
    return [part for line in cell.split("\n") for part in textwrap.wrap(line, _WRAP) or [""]]


def code_lines(path: Path) -> int:
    """Lines of ``path`` holding code: not blank, not only a comment, not in a docstring."""
    source = path.read_text()
    lines = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type not in _NON_CODE
    }
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, _DOCUMENTED) and ast.get_docstring(node, clean=False) is not None:
            doc = node.body[0]
            lines -= set(range(doc.lineno, doc.end_lineno + 1))
    return len(lines)


_NON_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def core_size(root: Path) -> dict[str, int]:
    """Code lines per file of src/wengert/core (empty if the directory is missing)."""
    return {p.name: code_lines(p) for p in sorted((root / "src/wengert/core").glob("*.py"))}
