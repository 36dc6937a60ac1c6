"""The C hot paths of reverse mode (``core/_speedups.c``) and their pure-Python reference.

``make test`` runs the whole suite twice: on what the install built (C wherever a compiler is
found), then with WENGERT_PURE_PYTHON=1, so that both implementations are checked against
the same finite differences and closed forms.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wengert as wg
from wengert.core import forward, primitive, reverse
from wengert.core.trace import Tracer


def test_ci_builds_and_uses_the_c_extension():
    # A build that silently fell back to Python would pass every other test, only slower.
    built = list((Path(reverse.__file__).parent).glob("_speedups*.so"))
    if not (built or os.environ.get("CI")):
        pytest.skip("the C extension was not built here (no compiler)")
    if os.environ.get("WENGERT_PURE_PYTHON"):
        pytest.skip("this run asked for the pure-Python reverse mode")
    assert reverse._speedups is not None
    assert reverse.VJPTrace.process is not reverse._py_process
    assert Tracer.__array_ufunc__ is not primitive._py_array_ufunc
    assert type(Tracer.__mul__) is reverse._speedups.BinaryMethod
    assert forward.JVPTrace.process is not forward._py_process


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
    with pytest.raises((TypeError, ValueError)):  # C: "not a 6-tuple"; Python: unpacking
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


def test_operators_and_ufuncs_on_every_kind_of_operand_against_closed_forms():
    # Each operand kind takes its own branch of the C operators and __array_ufunc__ (a number,
    # an array, a list, an object array of tracers, a tracer of an outer trace, keywords).
    x0 = np.array([0.5, -1.5])

    def f(x):
        a = x * [1.0, 2.0] + [3.0, 4.0] * x  # lists on either side: coerced
        b = np.multiply(x, (2.0, 1.0), dtype=np.float64)  # a tuple operand and a keyword
        c = np.array([x[0] * x[1], x[1]])  # an object array of tracers
        d = 2.0 - x / np.array([2.0, 4.0])  # a number and an array
        assert isinstance(x < 0.0, np.ndarray) and (x < 0.0).dtype == bool  # plain booleans
        return np.sum(a * b + c * d)

    x1, x2 = x0
    # a = (4x1, 6x2), b = (2x1, x2), c = (x1 x2, x2), d = (2 - x1/2, 2 - x2/4)
    want = np.array([16 * x1 + x2 * (2 - x1 / 2) - x1 * x2 / 2,
                     12 * x2 + x1 * (2 - x1 / 2) + 2 - x2 / 2])  # fmt: skip
    np.testing.assert_allclose(wg.grad(f)(x0), want, rtol=1e-12)
    # A tracer of an outer trace meets an inner one (the other-trace branch): d/dy of
    # d/dx (x * y)^2 = d/dy (2 x y^2) = 4 x y.
    g = wg.grad(lambda y: wg.grad(lambda x: (x * y) ** 2)(0.3))(1.7)
    np.testing.assert_allclose(g, 4 * 0.3 * 1.7, rtol=1e-12)
    # out= into a traced array (the Python version's path)
    def h(x):
        out = np.zeros_like(x)
        np.sin(x, out=out)
        return np.sum(out * x)

    np.testing.assert_allclose(wg.grad(h)(x0), np.sin(x0) + x0 * np.cos(x0), rtol=1e-12)


def test_a_tape_resized_during_the_backward_pass_is_an_error_not_a_crash():
    trace = reverse.VJPTrace()
    x = trace.new_input(np.float64(2.0))
    y = np.sin(np.cos(x))
    tape = trace.tape

    def check(prim, pos, cts):
        tape.clear()  # a misbehaving callback: the C loop must not index past the end

    with pytest.raises((RuntimeError, IndexError)):
        reverse.backward(tape, {y.idx: 1.0}, 1, free=False, check=check)
    trace.close()
