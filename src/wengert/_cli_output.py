"""Output of the ``wengert`` command: tables (rich when installed, aligned plain text
otherwise), numbers at a chosen precision, and JSON for scripts."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Sequence

import numpy as np

from wengert.errors import WengertError


class UsageError(WengertError, ValueError):
    """A command line the ``wengert`` command cannot act on (a bad ``--at``, a missing
    value, a function that cannot be imported)."""


class Table:
    """A titled table of strings; the first column is left-aligned, the rest right-aligned
    (they hold numbers)."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]], title: str = ""):
        self.header, self.rows, self.title = list(header), [list(r) for r in rows], title

    def __str__(self) -> str:
        widths = [
            max(len(r[c]) for r in [self.header] + self.rows) for c in range(len(self.header))
        ]

        def line(cells):
            return "  ".join(
                c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        out = [self.title] if self.title else []
        out += [line(self.header), "  ".join("-" * w for w in widths)]
        return "\n".join(out + [line(r) for r in self.rows])

    def __rich__(self):
        from rich.table import Table as RichTable
        from rich.text import Text

        table = RichTable(title=Text(self.title) if self.title else None, title_justify="left")
        for k, h in enumerate(self.header):
            table.add_column(Text(h), justify="left" if k == 0 else "right")
        for r in self.rows:
            table.add_row(*[Text(c) for c in r])
        return table


def fmt(x, digits: int = 6) -> str:
    """A number with ``digits`` significant digits (``11.6521``), arrays as ``[a, b]``."""
    a = np.asarray(x)
    if a.ndim:
        return "[" + ", ".join(fmt(v, digits) for v in a.ravel()) + "]"
    v = a.item()
    if isinstance(v, complex):
        return f"{v:.{digits}g}"
    return f"{float(v):.{digits}g}"


def jsonable(x: Any) -> Any:
    """``x`` with NumPy values as Python numbers and lists. JSON has no inf or nan: they are
    written as the strings "inf", "-inf" and "nan"."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.ndarray, np.generic)):
        return jsonable(x.tolist())  # a scalar for 0-d arrays and NumPy scalars
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def emit(blocks: Sequence[Any], *, plain: bool) -> None:
    """Print blocks (strings, :class:`Table` s, objects with ``__rich__``) to stdout, through
    rich unless ``plain`` or rich is not installed."""
    console = None if plain else _console()
    for block in blocks:
        if console is None:
            print(block if isinstance(block, str) else str(block))
        elif isinstance(block, str):
            console.print(block, markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(block)


def emit_json(data: dict) -> None:
    """Print ``data`` as indented JSON."""
    print(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def _console():
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(highlight=False)


def error(message: str, detail: str = "") -> int:
    """Print ``wengert: error: message`` (and an indented detail, such as a caret display) to
    stderr; return the exit status 2."""
    print(f"wengert: error: {message}", file=sys.stderr)
    if detail:
        print(detail, file=sys.stderr)
    return 2
