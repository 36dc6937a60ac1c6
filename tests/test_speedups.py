"""The C hot paths of reverse mode (``core/_speedups.c``) and their pure-Python reference.

The whole suite runs on whichever the install built (C wherever a compiler is found); this
module also runs the reverse-mode tests once more with WENGERT_PURE_PYTHON=1, so that both
implementations are checked against the same finite differences and closed forms.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wengert as wg
from wengert.core import reverse

TESTS = Path(__file__).parent
REVERSE_TESTS = [
    "test_seeds.py", "test_api.py", "test_random_programs.py", "test_residuals.py",
    "test_inplace.py", "test_listing.py", "test_debug_nans.py", "test_custom.py",
    "test_regressions.py",
]  # fmt: skip


def test_ci_builds_and_uses_the_c_extension():
    # A build that silently fell back to Python would pass every other test, only slower.
    built = list((Path(reverse.__file__).parent).glob("_speedups*.so"))
    if not (built or os.environ.get("CI")):
        pytest.skip("the C extension was not built here (no compiler)")
    if os.environ.get("WENGERT_PURE_PYTHON"):
        pytest.skip("this run asked for the pure-Python reverse mode")
    assert reverse._speedups is not None
    assert reverse.VJPTrace.process is not reverse._py_process


def test_the_reverse_mode_tests_pass_in_pure_python():
    if os.environ.get("WENGERT_PURE_PYTHON"):
        pytest.skip("already the pure-Python run")
    env = dict(os.environ, WENGERT_PURE_PYTHON="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider",
         "-x", *[str(TESTS / name) for name in REVERSE_TESTS]],  # fmt: skip
        env=env, capture_output=True, text=True, cwd=TESTS.parent, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def test_pure_python_mode_really_runs_python():
    code = "from wengert.core import reverse; print(reverse._speedups is None)"
    env = dict(os.environ, WENGERT_PURE_PYTHON="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert out.strip() == "True"


def test_records_of_every_arity_and_nesting_against_closed_forms():
    # The C recorder spells out one and two traced-or-constant arguments; three arguments,
    # keyword parameters and values traced by an outer transformation take the generic path.
    x0, y0, z0 = 0.7, -1.3, 2.1

    def f(x, y, z):
        a = np.where(x > 0, x * y, z)  # three arguments
        b = np.sum(np.stack([a, y]) ** 2, axis=0)  # params: axis
        return np.sin(b) + 3.0 * z - y / x  # constant on either side

    # df/dx = cos(b) * 2 a y + y/x^2 (a = x y), df/dy = cos(b)(2 a x + 2 y) - 1/x, df/dz = 3
    b = (x0 * y0) ** 2 + y0**2
    want = (np.cos(b) * 2 * x0 * y0 * y0 + y0 / x0**2,
            np.cos(b) * (2 * x0 * y0 * x0 + 2 * y0) - 1 / x0, 3.0)  # fmt: skip
    got = wg.grad(f, argnums=(0, 1, 2))(x0, y0, z0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # Reverse over forward (the tape's values are forward-mode tracers) and over reverse.
    d2 = wg.grad(lambda x: wg.grad(lambda u: u * np.sin(u))(x))(x0)
    np.testing.assert_allclose(d2, 2 * np.cos(x0) - x0 * np.sin(x0), rtol=1e-12)
    h = wg.hessian(lambda v: np.sum(np.exp(v[0]) * v[1] ** 3))(np.array([x0, y0]))
    e = np.exp(x0)
    np.testing.assert_allclose(h, [[e * y0**3, 3 * e * y0**2], [3 * e * y0**2, 6 * e * y0]],
                               rtol=1e-12)  # fmt: skip


def test_a_malformed_tape_record_is_refused_not_misread():
    trace = reverse.VJPTrace()
    x = trace.new_input(np.float64(2.0))
    y = np.sin(x)
    trace.tape[y.idx] = ("not", "a", "record")
    with pytest.raises(TypeError, match="not a 6-tuple"):
        reverse.backward(trace.tape, {y.idx: 1.0}, 1, free=False)
    trace.close()


def test_a_vjp_rule_error_propagates_with_its_own_message():
    @wg.custom_vjp
    def f(x):
        return x * 2.0

    def fwd(x):
        return x * 2.0, None

    def bwd(res, g):
        raise ZeroDivisionError("from the user's rule")

    f.defvjp(fwd, bwd)
    with pytest.raises(ZeroDivisionError, match="from the user's rule"):
        wg.grad(lambda x: np.sin(f(x)))(1.0)
