"""debug_nans names the first operation, the pass and the user's line that made a NaN/Inf."""

import os
import subprocess
import sys

import numpy as np
import pytest

import wengert as wg


def f(x):
    y = x - 1.0
    return np.sqrt(y)  # the line the error must name


LINE = f.__code__.co_firstlineno + 2


def test_forward_value_names_op_pass_and_line():
    with wg.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(wg.NonFiniteError, match=rf"sqrt produced nan in the forward pass, "
                           rf"called at .*test_debug_nans.py:{LINE}"):  # fmt: skip
            wg.grad(f)(0.5)


def test_backward_cotangent_is_checked():
    with wg.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(wg.NonFiniteError, match=r"sqrt .*cotangent \(inf\).*backward pass"):
            wg.grad(lambda x: np.sqrt(x))(0.0)


def test_forward_mode_tangent_is_checked():
    with wg.debug_nans(), np.errstate(all="ignore"):
        with pytest.raises(wg.NonFiniteError, match="arcsin.*tangent"):
            wg.jvp(lambda x: np.arcsin(2 * x), (0.5,), (1.0,))


def test_finite_computations_pass_and_mode_is_scoped():
    with wg.debug_nans():
        assert wg.grad(np.sin)(0.0) == 1.0
    with np.errstate(all="ignore"):
        assert np.isnan(wg.grad(f)(0.5))  # outside the block nothing is checked


def test_environment_variable_turns_it_on():
    code = "import numpy as np, wengert as wg; np.seterr(all='ignore'); wg.grad(np.log)(-1.0)"
    env = dict(os.environ, WENGERT_DEBUG_NANS="1")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "NonFiniteError: log produced nan" in run.stderr
