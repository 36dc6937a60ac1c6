"""The Wengert list against the seed documents' tables (Baydin et al.'s example)."""

import numpy as np
import pytest

import wengert as wg


def seeds_f(x1, x2):
    # Written in the order of the seeds' primal trace: v1 = ln x1, v2 = x1 x2, v3 = sin x2.
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    return v1 + v2 - v3


@pytest.fixture
def wl():
    return wg.wengert_list(seeds_f)(2.0, 5.0)


def test_primal_trace_matches_the_seeds(wl):
    values = [round(float(r.value), 3) for r in wl.rows]
    assert values == [2.0, 5.0, 0.693, 10.0, -0.959, 10.693, 11.652]
    assert [r.name for r in wl.rows] == ["v-1", "v0", "v1", "v2", "v3", "v4", "v5"]
    assert [r.op for r in wl.rows] == [
        "x1", "x2", "log(v-1)", "v-1 * v0", "sin(v0)", "v1 + v2", "v4 - v3",
    ]  # fmt: skip


def test_tangent_trace_wrt_x1_matches_the_seeds(wl):
    # v̇_{-1} = 1, v̇_0 = 0; v̇1 = 1/x1, v̇2 = x2, v̇3 = 0, v̇4 = v̇5 = 5.5
    tangents = [float(r.tangent) for r in wl.forward((1.0, 0.0)).rows]
    np.testing.assert_allclose(tangents, [1, 0, 0.5, 5, 0, 5.5, 5.5])


def test_adjoint_trace_matches_the_seeds(wl):
    adjoints = [float(r.adjoint) for r in wl.reverse().rows]
    # x̄1 = 1/x1 + x2, x̄2 = x1 - cos(x2); v̄3 = -1 from the subtraction.
    np.testing.assert_allclose(adjoints, [0.5 + 5.0, 2.0 - np.cos(5.0), 1, 1, -1, 1, 1])
    assert round(adjoints[0], 3) == 5.5 and round(adjoints[1], 3) == 1.716


def test_renderings_hold_the_rows(wl):
    wl.forward((1.0, 0.0)).reverse()
    text = str(wl)
    for token in ["log(v-1)", "11.652", "5.5", "1.716", "tangent", "adjoint"]:
        assert token in text
    md = wl.to_markdown()
    assert md.count("\n") == len(wl) + 1 and "| v5 |" in md
    assert "<table>" in wl._repr_html_() and "11.652" in wl._repr_html_()
    dot = wl.to_dot()
    assert dot.startswith("digraph") and dot.count("->") == 8  # one edge per argument use


def test_rich_table_renders(wl):
    rich = pytest.importorskip("rich")
    from rich.console import Console

    console = Console(record=True, width=100)
    console.print(wl.reverse())
    assert "1.716" in console.export_text()
    assert rich


def test_large_traces_are_summarised():
    def chain(x):
        for _ in range(100_000):
            x = x * 1.0
        return x

    wl = wg.wengert_list(chain)(1.0)
    assert len(wl) == 100_001
    text = str(wl)
    assert "rows omitted" in text and text.count("\n") < 40


def test_constants_keep_their_precision():
    wl = wg.wengert_list(lambda x: x * 1.0001)(1.0)
    assert wl.rows[-1].op == "v0 * 1.0001"
