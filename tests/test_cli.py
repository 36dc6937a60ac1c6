"""The ``wengert`` command, run through its real entry points in a subprocess, against the seed
documents' numbers and closed forms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import wengert as wg

SEEDS = "ln(x1) + x1*x2 - sin(x2)"
SEEDS_VALUE = np.log(2.0) + 10.0 - np.sin(5.0)
SEEDS_GRAD = [0.5 + 5.0, 2.0 - np.cos(5.0)]  # (1/x1 + x2, x1 - cos x2) at (2, 5)


def cli(*args, hide=(), pythonpath=None, cwd=None, entry=None):
    """Run ``python -m wengert.cli ARGS`` (or ``entry``); ``hide`` makes modules unimportable,
    as if they were not installed."""
    if hide:
        code = (f"import sys; sys.modules.update(dict.fromkeys({list(hide)!r})); "
                "from wengert.cli import main; sys.exit(main(sys.argv[1:]))")  # fmt: skip
        cmd = [sys.executable, "-c", code]
    else:
        cmd = entry or [sys.executable, "-m", "wengert.cli"]
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="200")
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)  # fmt: skip


def ok_json(*args, **kw) -> dict:
    proc = cli(*args, "--json", **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def table_row(text: str, first: str, after: str = "") -> list[str]:
    """The cells of the plain-text table row starting with ``first`` (below ``after``)."""
    for line in text[text.index(after) :].splitlines():
        if line.split()[:1] == [first]:
            return line.split()
    raise AssertionError(f"no row {first!r} in:\n{text}")


# -- grad -----------------------------------------------------------------------------------
def test_grad_seeds_example():
    data = ok_json("grad", SEEDS, "--at", "x1=2", "x2=5")
    assert data["variables"] == ["x1", "x2"] and data["at"] == {"x1": 2.0, "x2": 5.0}
    assert round(data["value"], 3) == 11.652
    assert [round(g, 3) for g in data["gradient"].values()] == [5.5, 1.716]
    np.testing.assert_allclose(data["value"], SEEDS_VALUE, rtol=1e-14)
    np.testing.assert_allclose(list(data["gradient"].values()), SEEDS_GRAD, rtol=1e-14)


def test_grad_plain_table():
    proc = cli("grad", SEEDS, "--at", "x1=2", "x2=5", "--plain")
    assert proc.returncode == 0, proc.stderr
    assert table_row(proc.stdout, "value") == ["value", "11.6521"]
    assert table_row(proc.stdout, "x1") == ["x1", "2", "5.5"]
    assert table_row(proc.stdout, "x2") == ["x2", "5", "1.71634"]
    assert "┃" not in proc.stdout


def test_grad_rich_table_and_digits():
    pytest.importorskip("rich")
    proc = cli("grad", SEEDS, "--at", "x1=2", "x2=5", "--digits", "4")
    assert proc.returncode == 0, proc.stderr
    assert "┃ variable ┃" in proc.stdout.replace("  ", " ")
    assert "│ x2 " in proc.stdout and "1.716 │" in proc.stdout and "1.71634" not in proc.stdout


def test_grad_without_rich_prints_plain_tables():
    proc = cli("grad", SEEDS, "--at", "x1=2", "x2=5", hide=["rich"])
    assert proc.returncode == 0, proc.stderr
    assert table_row(proc.stdout, "x2") == ["x2", "5", "1.71634"]
    assert not any(c in proc.stdout for c in "┃│━")


def test_at_order_sets_the_parameter_order_and_values_may_be_expressions():
    data = ok_json("grad", "x*sin(y)", "--at", "y=pi/2", "x=3")
    assert data["variables"] == ["y", "x"]
    np.testing.assert_allclose(list(data["gradient"].values()), [0.0, 1.0], atol=1e-15)
    assert data["value"] == 3.0


def test_an_expression_may_start_with_a_minus():
    # argparse alone would take "-x**2" for an unknown option.
    data = ok_json("grad", "-x**2", "--at", "x=3")
    assert data["value"] == -9.0 and data["gradient"] == {"x": -6.0}


@pytest.mark.skipif(not hasattr(wg, "wengert_list"), reason="wg.wengert_list not landed yet")
def test_grad_trace_reproduces_the_seeds_tables():
    data = ok_json("grad", SEEDS, "--at", "x1=2", "x2=5", "--trace")
    rows = data["trace"]["rows"]
    assert [r["name"] for r in rows] == ["v-1", "v0", "v1", "v2", "v3", "v4", "v5"]
    # Evaluated left to right: ln, product, their sum, then sin and the difference.
    assert [round(r["value"], 3) for r in rows] == [2, 5, 0.693, 10, 10.693, -0.959, 11.652]
    assert rows[2]["op"] == "log(v-1)"
    assert data["trace"]["wrt"] == "x1" and rows[-1]["tangent"] == 5.5
    assert [r["tangent"] for r in rows[:2]] == [1.0, 0.0]
    np.testing.assert_allclose([r["adjoint"] for r in rows[:2]], SEEDS_GRAD, rtol=1e-14)

    other = ok_json("grad", SEEDS, "--at", "x1=2", "x2=5", "--trace", "--wrt", "x2")
    np.testing.assert_allclose(other["trace"]["rows"][-1]["tangent"], SEEDS_GRAD[1])

    text = cli("grad", SEEDS, "--at", "x1=2", "x2=5", "--trace", "--plain").stdout
    assert "tangent" in text and "adjoint" in text
    assert table_row(text, "v1")[:5] == ["v1", "log(v-1)", "0.693", "0.5", "1"]


# -- jacobian and hessian -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_jacobian_in_each_mode(mode):
    data = ok_json("jacobian", "[x*y, sin(x)*y]", "--at", "x=1", "y=2", "--mode", mode)
    np.testing.assert_allclose(data["jacobian"], [[2, 1], [2 * np.cos(1), np.sin(1)]], 1e-14)
    np.testing.assert_allclose(data["value"], [2, 2 * np.sin(1)], rtol=1e-14)
    assert data["outputs"] == ["x*y", "sin(x)*y"]
    assert data["passes"] == {"fwd": 2, "rev": 2} and data["auto"] == "rev"
    assert data["mode"] == ("rev" if mode == "auto" else mode)


def test_jacobian_pass_counts_pick_the_cheaper_mode():
    tall = ok_json("jacobian", "[t, t**2, sin(t)]", "--at", "t=0.5")
    assert tall["passes"] == {"fwd": 1, "rev": 3} and tall["auto"] == tall["mode"] == "fwd"
    np.testing.assert_allclose(tall["jacobian"], [[1], [1], [np.cos(0.5)]], rtol=1e-14)
    wide = ok_json("jacobian", "a*b*c", "--at", "a=1", "b=2", "c=3")
    assert wide["passes"] == {"fwd": 3, "rev": 1} and wide["auto"] == "rev"
    assert wide["jacobian"] == [[6.0, 3.0, 2.0]]
    text = cli("jacobian", "[t, t**2, sin(t)]", "--at", "t=0.5", "--plain").stdout
    assert "forward mode 1 (one JVP per input), reverse mode 3 (one VJP per output)" in text
    assert "auto picks forward mode" in text
    assert table_row(text, "sin(t)") == ["sin(t)", f"{np.cos(0.5):.6g}"]


def test_hessian():
    data = ok_json("hessian", "x**2*y", "--at", "x=1", "y=2")
    assert data["hessian"] == [[4.0, 2.0], [2.0, 0.0]]
    assert data["gradient"] == {"x": 4.0, "y": 1.0} and data["value"] == 2.0
    text = cli("hessian", "x**2*y", "--at", "x=1", "y=2", "--plain").stdout
    assert table_row(text, "x", after="gradient") == ["x", "1", "4"]
    assert table_row(text, "x", after="Hessian") == ["x", "4", "2"]
    assert table_row(text, "y", after="Hessian") == ["y", "2", "0"]


def test_hessian_of_the_seeds_function():
    data = ok_json("hessian", SEEDS, "--at", "x1=2", "x2=5")
    want = [[-1 / 4, 1], [1, np.sin(5.0)]]  # d2/dx1^2 ln x1 = -1/x1^2; d2/dx2^2 -sin = sin
    np.testing.assert_allclose(data["hessian"], want, rtol=1e-14)


# -- entry points ---------------------------------------------------------------------------
def test_installed_console_script():
    script = Path(sys.executable).parent / ("wengert.exe" if os.name == "nt" else "wengert")
    if not script.exists():
        pytest.skip("the wengert console script is not installed next to this Python")
    data = ok_json("grad", SEEDS, "--at", "x1=2", "x2=5", entry=[str(script)])
    np.testing.assert_allclose(list(data["gradient"].values()), SEEDS_GRAD, rtol=1e-14)


def test_python_dash_m_wengert():
    data = ok_json("hessian", "x**2*y", "--at", "x=1", "y=2",
                   entry=[sys.executable, "-m", "wengert"])  # fmt: skip
    assert data["hessian"] == [[4.0, 2.0], [2.0, 0.0]]


# -- errors: one line, a caret where there is a token, exit status 2 ------------------------
@pytest.mark.parametrize(
    "args, message, caret",
    [
        (["grad", "x^2", "--at", "x=1"], "operator '^' is not supported", ["  x^2", "   ^"]),
        (["grad", "ln(x1) +* x2", "--at", "x1=1", "x2=2"], "invalid syntax",
         ["  ln(x1) +* x2", "          ^"]),
        (["grad", "x + y", "--at", "x=1"], "no value for y: add y=... to --at",
         ["  x + y", "      ^"]),
        (["grad", "x + y", "--at", "x=1", "y=2", "z=3"], "unknown variable 'z' in --at", None),
        (["grad", "x", "--at", "x"], "--at expects NAME=VALUE", None),
        (["grad", "x", "--at", "x=2*q"], "bad value for x in --at", ["  2*q", "    ^"]),
        (["grad", "x", "--at", "x=1", "x=2"], "gives x twice", None),
        (["grad", "[x, x]", "--at", "x=1"], "grad needs a scalar expression", None),
        (["hessian", "sinh(x", "--at", "x=1"], "never closed", ["  sinh(x", "      ^"]),
        (["jacobian", "exp(2)"], "has no variables to differentiate", None),
        (["grad", "x.real", "--at", "x=1"], "attribute access", ["  x.real", "  ^^^^^^"]),
        (["grad", "x", "--at", "x=1", "--trace", "--wrt", "y"], "--wrt 'y' is not a variable",
         None),
        (["check", "no_such_module_here:f"], "could not import no_such_module_here", None),
        (["check", "json"], "expected MODULE:FUNCTION", None),
        (["check", "json:nope"], "json has no attribute 'nope'", None),
        (["plot", "x*y*z"], "plot draws one or two variables, but 3 are free", None),
    ],
)  # fmt: skip
def test_errors(args, message, caret):
    proc = cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("wengert: error: ") and message in lines[0], proc.stderr
    assert lines[1:] == (caret or [])
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_argparse_errors_exit_2():
    proc = cli("grad", "x", "--at", "x=1", "--digits", "0")
    assert proc.returncode == 2 and "--digits" in proc.stderr and "Traceback" not in proc.stderr
    assert cli("frobnicate").returncode == 2


# -- check ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    root = tmp_path_factory.mktemp("userpkg")
    (root / "cli_check_target.py").write_text(textwrap.dedent("""
        import numpy as np
        import wengert as wg

        def smooth(x):
            return np.sum(np.sin(x) * x ** 2)

        def bilinear(a, b):
            return np.tanh(a @ b)

        def detached(x):
            # x * x with one factor hidden from AD: wengert sees x, finite differences 2x.
            return np.sum(x * wg.stop_gradient(x))

        def second_order_wrong(x):
            # x**2 / 2 with the right first derivative (x, from the live factor), but the
            # stopped factor makes the second derivative 0 instead of 1.
            return np.sum(x * wg.stop_gradient(x) - wg.stop_gradient(x * x / 2))
    """))  # fmt: skip
    return root


def test_check_passes_on_a_correct_function(user_module):
    data = ok_json("check", "cli_check_target:smooth", "--shape", "10", pythonpath=user_module)
    assert data["passed"] and data["check_grads"] == {"passed": True, "error": None}
    (arg,) = data["arguments"]
    assert arg["argument"] == "x" and arg["shape"] == [10] and arg["entries_checked"] == 10
    assert arg["max_rel_error"] < 1e-8 and arg["passed"]


def test_check_one_shape_per_argument(user_module):
    proc = cli("check", "cli_check_target:bilinear", "--shape", "3,4", "--shape", "4",
               "--plain", pythonpath=user_module)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert table_row(proc.stdout, "a")[:3] == ["a", "(3,", "4)"]
    assert table_row(proc.stdout, "b")[-1] == "ok" and proc.stdout.rstrip().endswith("PASSED")


def test_check_fails_where_ad_disagrees_with_finite_differences(user_module):
    proc = cli("check", "cli_check_target:detached", "--shape", "10", "--json",
               pythonpath=user_module)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert not data["passed"] and not data["check_grads"]["passed"]
    assert "GradientCheckError" in data["check_grads"]["error"]
    assert data["arguments"][0]["max_rel_error"] > 0.1 and not data["arguments"][0]["passed"]
    text = cli("check", "cli_check_target:detached", "--shape", "10", "--plain",
               pythonpath=user_module).stdout  # fmt: skip
    assert table_row(text, "x")[-1] == "FAIL" and text.rstrip().endswith("FAILED")


def test_check_order_2_catches_a_wrong_second_derivative(user_module):
    args = ["check", "cli_check_target:second_order_wrong", "--shape", "5"]
    first = cli(*args, "--order", "1", "--json", pythonpath=user_module)
    assert first.returncode == 0, first.stdout
    second = cli(*args, "--order", "2", "--json", pythonpath=user_module)
    assert second.returncode == 1
    data = json.loads(second.stdout)
    assert data["arguments"][0]["passed"] and not data["check_grads"]["passed"]


def test_check_loads_a_file_path(user_module):
    data = ok_json("check", f"{user_module / 'cli_check_target.py'}:smooth", "--shape", "()")
    assert data["passed"] and data["arguments"][0]["shape"] == []


# -- plot -----------------------------------------------------------------------------------
def test_plot_one_variable_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "f.png"
    data = ok_json("plot", "sin(x)*exp(-x**2)", "--range", "-3", "3", "-o", str(out))
    assert data["kind"] == "curves" and data["range"] == [-3.0, 3.0] and data["variables"] == ["x"]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_two_variables_writes_a_contour_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "g.png"
    proc = cli("plot", "x**2 + a*y**2", "--at", "a=3", "--points", "40", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "contours of f(x, y) with its gradient field" in proc.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_without_matplotlib_says_how_to_install(tmp_path):
    proc = cli("plot", "sin(x)", "-o", str(tmp_path / "f.png"), hide=["matplotlib"])
    assert proc.returncode == 2 and "pip install 'wengert[plot]'" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "f.png").exists()
