"""scipy.special under wengert: plain SciPy calls on traced values, wengert's versions of the
functions SciPy coerces (logsumexp, softmax, log_softmax, polygamma, multigammaln), the
conventions at special points, the errors for derivatives with no closed form, and the
import hook. Every rule is also in the registry-driven property test (test_primitives.py).

References are closed forms or central differences (tests/_fd.py), never wengert itself.
"""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.special as sc
from _fd import EXACT, FD, grad_fd, jacobian_fd

import wengert as wg
import wengert.scipy.special as ws
from wengert.core.primitive import registry
from wengert.errors import NoRuleError, TracerConversionError
from wengert.testing import check_grads

gammaln, digamma = sc.gammaln, sc.digamma


def trigamma(x):
    return sc.polygamma(1, x)


# -- a realistic composite: the Dirichlet-multinomial log likelihood --------------------------
COUNTS = np.array([[3.0, 0.0, 5.0, 1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 7.0, 1.0, 0.0],
                   [4.0, 1.0, 0.0, 3.0], [1.0, 1.0, 6.0, 0.0]])  # fmt: skip
ALPHA = np.array([0.7, 1.9, 3.2, 0.45])


def dirichlet_multinomial_loglik(alpha, counts=COUNTS):
    """log P(counts | alpha), summed over the rows; plain NumPy and scipy.special."""
    n = np.sum(counts, axis=-1)
    a0 = np.sum(alpha)
    per_category = gammaln(counts + alpha) - gammaln(alpha) - gammaln(counts + 1)
    per_row = gammaln(a0) - gammaln(n + a0) + gammaln(n + 1) + np.sum(per_category, axis=-1)
    return np.sum(per_row)


def dm_grad(alpha, counts=COUNTS):
    n = np.sum(counts, axis=-1, keepdims=True)
    a0 = np.sum(alpha)
    return np.sum(digamma(a0) - digamma(n + a0) + digamma(counts + alpha) - digamma(alpha), 0)


def dm_hessian(alpha, counts=COUNTS):
    n = np.sum(counts, axis=-1)
    a0 = np.sum(alpha)
    shared = np.sum(trigamma(a0) - trigamma(n + a0))
    return shared + np.diag(np.sum(trigamma(counts + alpha) - trigamma(alpha), axis=0))


def test_dirichlet_multinomial_gradient_both_modes():
    want = dm_grad(ALPHA)
    np.testing.assert_allclose(wg.grad(dirichlet_multinomial_loglik)(ALPHA), want, **EXACT)
    np.testing.assert_allclose(wg.jacfwd(dirichlet_multinomial_loglik)(ALPHA), want, **EXACT)
    np.testing.assert_allclose(grad_fd(dirichlet_multinomial_loglik, ALPHA), want, **FD)


def test_dirichlet_multinomial_second_order():
    want = dm_hessian(ALPHA)
    np.testing.assert_allclose(wg.hessian(dirichlet_multinomial_loglik)(ALPHA), want, **EXACT)
    fwd_over_fwd = wg.jacfwd(wg.jacfwd(dirichlet_multinomial_loglik))(ALPHA)
    rev_over_rev = wg.jacrev(wg.grad(dirichlet_multinomial_loglik))(ALPHA)
    np.testing.assert_allclose(fwd_over_fwd, want, **EXACT)
    np.testing.assert_allclose(rev_over_rev, want, **EXACT)
    np.testing.assert_allclose(jacobian_fd(dm_grad, ALPHA), want, **FD)
    check_grads(dirichlet_multinomial_loglik, (ALPHA,), order=2)


def test_dirichlet_multinomial_in_log_parameters_batched():
    # The usual parametrisation (alpha = exp(theta)), per-example gradients by vmap.
    theta = np.log(ALPHA)

    def loss(theta, row):
        return dirichlet_multinomial_loglik(np.exp(theta), row[None, :])

    per_row = wg.vmap(wg.grad(loss), in_axes=(None, 0))(theta, COUNTS)
    want = np.stack([dm_grad(ALPHA, row[None, :]) * ALPHA for row in COUNTS])
    np.testing.assert_allclose(per_row, want, **EXACT)


# -- logsumexp, softmax, log_softmax ----------------------------------------------------------
RNG = np.random.default_rng(4)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))

LOGSUMEXP_CASES = [
    {}, {"axis": 0}, {"axis": 1}, {"axis": (0, 1)}, {"axis": -1, "keepdims": True},
    {"b": B}, {"b": np.abs(B), "axis": 0, "keepdims": True},
    {"b": B, "axis": 1, "return_sign": True}, {"b": np.array([1.0, 0.0, 2.0, 3.0])},
    {"b": np.ones((2, 1, 4)), "axis": 0},
]  # fmt: skip


@pytest.mark.parametrize("kw", LOGSUMEXP_CASES, ids=lambda kw: ",".join(sorted(kw)) or "plain")
def test_logsumexp_matches_scipy(kw):
    got, want = ws.logsumexp(A, **kw), sc.logsumexp(A, **kw)
    for g, w in zip(*((got, want) if kw.get("return_sign") else ((got,), (want,)))):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-14, equal_nan=True)


@pytest.mark.parametrize("a", [3.0, [1, 2, 3], np.array([]), np.array([-np.inf, -np.inf]),
                               np.array([np.inf, 1.0]), np.array([1.0, 2 + 1j]),
                               np.array([[-np.inf, 1.0], [-np.inf, -np.inf]])])  # fmt: skip
def test_logsumexp_special_values_match_scipy(a):
    for axis in (None, 0):
        got, want = ws.logsumexp(a, axis=axis), sc.logsumexp(a, axis=axis)
        np.testing.assert_allclose(got, want, rtol=1e-14)
        assert np.shape(got) == np.shape(want)


def test_logsumexp_signs_and_zero_weights_match_scipy():
    assert ws.logsumexp([1, 2], b=[1, -1], return_sign=True) == pytest.approx(
        sc.logsumexp([1, 2], b=[1, -1], return_sign=True), rel=1e-15)  # fmt: skip
    with np.errstate(invalid="ignore"):
        assert np.isnan(ws.logsumexp([1, 2], b=[1, -1]))  # a negative sum, no sign asked
    assert ws.logsumexp([1.0, np.inf], b=[1, 0]) == 1.0  # weight 0 silences even inf
    z = np.array([1 + 2j, 3 - 1j, 0.5 + 4j])
    np.testing.assert_allclose(ws.logsumexp(z, return_sign=True),
                               sc.logsumexp(z, return_sign=True), rtol=1e-14)  # fmt: skip


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_softmax_and_log_softmax_match_scipy(name, axis):
    got, want = getattr(ws, name)(A, axis=axis), getattr(sc, name)(A, axis=axis)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    for x in (3.0, [1, 2], np.array([1000.0, 1.0])):
        np.testing.assert_allclose(getattr(ws, name)(x), getattr(sc, name)(x), rtol=1e-15)


def closed_softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def test_logsumexp_gradient_is_softmax():
    x = np.array([0.3, -1.2, 2.0, 0.0])
    s = closed_softmax(x)
    np.testing.assert_allclose(wg.grad(ws.logsumexp)(x), s, rtol=1e-14)
    np.testing.assert_allclose(wg.jacfwd(ws.logsumexp)(x), s, rtol=1e-14)
    np.testing.assert_allclose(wg.hessian(ws.logsumexp)(x), np.diag(s) - np.outer(s, s),
                               rtol=1e-13, atol=1e-16)  # fmt: skip
    # In the weights: d/db log sum b e^a = e^a / sum(b e^a).
    b = np.array([0.5, 2.0, 1.0, 3.0])
    np.testing.assert_allclose(wg.grad(lambda b: ws.logsumexp(x, b=b))(b),
                               np.exp(x) / np.sum(b * np.exp(x)), rtol=1e-14)  # fmt: skip


def test_softmax_jacobian_is_diag_s_minus_s_st():
    x = np.array([0.3, -1.2, 2.0])
    s = closed_softmax(x)
    want = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(wg.jacrev(ws.softmax)(x), want, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(wg.jacfwd(ws.softmax)(x), want, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(wg.jacrev(ws.log_softmax)(x), np.eye(3) - s[None, :],
                               rtol=1e-14, atol=1e-16)  # fmt: skip


def test_stable_at_large_inputs():
    big = np.array([1000.0, 1000.0])
    assert ws.logsumexp(big) == pytest.approx(1000 + np.log(2), rel=1e-15)
    np.testing.assert_array_equal(wg.grad(ws.logsumexp)(big), [0.5, 0.5])
    np.testing.assert_array_equal(wg.jvp(ws.logsumexp, (big,), (np.array([1.0, 0.0]),))[1], 0.5)
    np.testing.assert_array_equal(wg.jacrev(ws.softmax)(big), [[0.25, -0.25], [-0.25, 0.25]])
    x = np.array([1000.0, 1000.0, 0.0])
    expected = np.eye(3) - closed_softmax(x)[None, :]
    np.testing.assert_allclose(wg.jacfwd(ws.log_softmax)(x), expected, rtol=0, atol=1e-15)


def test_logsumexp_family_all_modes_finite_differences():
    b = RNG.uniform(0.5, 2.0, (3, 4))
    for f in [lambda a, b: ws.logsumexp(a, b=b),
              lambda a, b: ws.logsumexp(a, axis=0, b=b, keepdims=True),
              lambda a, b: ws.logsumexp(a, b=b - 1.0, axis=1, return_sign=True)[0],
              lambda a, b: ws.softmax(a * b, axis=0),
              lambda a, b: ws.log_softmax(a * b, axis=1)]:  # fmt: skip
        check_grads(f, (A, b), order=2)


def test_logsumexp_under_vmap_matches_a_loop():
    np.testing.assert_allclose(wg.vmap(ws.logsumexp)(A), sc.logsumexp(A, axis=1), rtol=1e-14)
    np.testing.assert_allclose(wg.vmap(wg.grad(ws.logsumexp))(A), sc.softmax(A, axis=1),
                               rtol=1e-14)  # fmt: skip
    np.testing.assert_allclose(wg.vmap(ws.log_softmax)(A), sc.log_softmax(A, axis=1),
                               rtol=1e-14)  # fmt: skip


def test_scipy_logsumexp_itself_is_refused():
    # SciPy coerces with np.asarray: the conversion error, never a silently constant result.
    with pytest.raises(TracerConversionError, match="np.asarray"):
        wg.grad(sc.logsumexp)(np.array([1.0, 2.0]))


# -- plain scipy.special calls: values, closed forms and conventions -------------------------
def test_expit_at_two():
    value, slope = wg.value_and_grad(sc.expit)(2.0)
    assert value == pytest.approx(0.8807970779778823, rel=1e-15)
    assert slope == pytest.approx(0.10499358540350662, rel=1e-14)  # s (1 - s)
    assert wg.grad(sc.expit)(40.0) == pytest.approx(np.exp(-40.0), rel=1e-12)  # no cancellation


CLOSED_FORMS = [
    (sc.gamma, lambda x: sc.gamma(x) * digamma(x)),
    (gammaln, digamma),
    (digamma, trigamma),
    (sc.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x)),
    (sc.erfinv, lambda x: np.sqrt(np.pi) / 2 * np.exp(sc.erfinv(x) ** 2)),
    (sc.ndtri, lambda x: 1 / (np.exp(-(sc.ndtri(x) ** 2) / 2) / np.sqrt(2 * np.pi))),
    (sc.logit, lambda x: 1 / x + 1 / (1 - x)),
    (sc.log_ndtr, lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi) / sc.ndtr(x)),
    (lambda x: sc.gammainc(2.5, x), lambda x: x**1.5 * np.exp(-x) / sc.gamma(2.5)),
    (lambda x: sc.iv(1.5, x), lambda x: sc.iv(0.5, x) - 1.5 / x * sc.iv(1.5, x)),
    (lambda x: sc.kv(0.0, x), lambda x: -sc.kv(1.0, x)),
    (lambda x: sc.jv(0.0, x), lambda x: -sc.jv(1.0, x)),
    (lambda x: sc.zeta(3.0, x), lambda x: -3.0 * sc.zeta(4.0, x)),
]


@pytest.mark.parametrize("f, df", CLOSED_FORMS, ids=range(len(CLOSED_FORMS)))
def test_derivatives_match_closed_forms(f, df):
    x = np.array([0.3, 0.55, 0.8])
    np.testing.assert_allclose(wg.elementwise_grad(f)(x), df(x), **EXACT)
    np.testing.assert_allclose(wg.jvp(f, (x,), (np.ones(3),))[1], df(x), **EXACT)


def test_log_ndtr_far_in_the_left_tail():
    # phi(x) / Phi(x) ~ -x there; both factors underflow to 0 separately.
    assert wg.grad(sc.log_ndtr)(-40.0) == pytest.approx(40.025, rel=1e-4)


def test_xlogy_conventions_at_zero():
    dy = wg.grad(lambda y: sc.xlogy(0.0, y))
    assert dy(2.0) == 0.0 and dy(0.0) == 0.0  # xlogy(0, y) is 0 for every y
    assert wg.grad(lambda x: sc.xlogy(x, 2.0))(0.0) == pytest.approx(np.log(2.0))
    # The derivative in y stays differentiable in x at x == 0: d2/dxdy x log y = 1 / y.
    assert wg.grad(wg.grad(sc.xlogy, argnums=1))(0.0, 2.0) == pytest.approx(0.5)
    assert wg.grad(lambda y: sc.xlog1py(0.0, y))(-1.0) == 0.0
    assert wg.grad(lambda y: sc.rel_entr(0.0, y))(0.0) == 0.0
    assert wg.grad(lambda y: sc.kl_div(0.0, y))(0.0) == 1.0


def test_entropy_pole_at_zero_and_annihilation():
    with np.errstate(all="ignore"):  # NumPy warns as it makes the inf (and 0 * inf)
        assert wg.grad(sc.entr)(0.0) == np.inf  # -log(x) - 1, the limit from the right
        assert wg.jvp(sc.entr, (0.0,), (0.0,))[1] == 0.0  # a zero tangent contributes zero
        # p log p summed over a distribution with an empty bin: the gradient is inf there only
        g = wg.grad(lambda p: np.sum(sc.entr(p)))(np.array([0.0, 0.5, 0.5]))
    assert g[0] == np.inf and g[1:] == pytest.approx(-np.log(0.5) - 1)


def test_scaled_bessel_kinks_at_zero():
    assert wg.grad(sc.i0e)(0.0) == 0.0  # mean of the one-sided derivatives -1 and 1
    assert wg.grad(sc.i1e)(0.0) == 0.5  # exact: exp(-|x|) I1(x) = x / 2 + O(x |x|)
    assert wg.grad(sc.i1)(0.0) == 0.5


def test_holomorphic_rules_on_complex_inputs():
    z, h = 1.3 + 0.7j, 1e-6
    for f in (sc.gamma, sc.loggamma, sc.erf, sc.erfc, lambda z: sc.iv(0.5, z)):
        fd = (f(z + h) - f(z - h)) / (2 * h)
        assert wg.jvp(f, (z,), (1.0 + 0j,))[1] == pytest.approx(fd, rel=1e-8)


def test_float32_stays_float32():
    x = np.array([1.5, 2.5], np.float32)
    for f in (gammaln, sc.erf, sc.expit, sc.log_ndtr, lambda x: sc.iv(1.0, x)):
        assert wg.elementwise_grad(f)(x).dtype == np.float32


def test_polygamma_and_multigammaln_wrappers():
    x = np.array([0.7, 1.5, 4.0])
    np.testing.assert_allclose(ws.polygamma(2, x), sc.polygamma(2, x), rtol=1e-15)
    np.testing.assert_allclose(wg.elementwise_grad(lambda x: ws.polygamma(2, x))(x),
                               sc.polygamma(3, x), **EXACT)  # fmt: skip
    a = np.array([2.0, 3.5])
    np.testing.assert_allclose(ws.multigammaln(a, 3), sc.multigammaln(a, 3), rtol=1e-15)
    want = digamma(a) + digamma(a - 0.5) + digamma(a - 1.0)
    np.testing.assert_allclose(wg.elementwise_grad(lambda a: ws.multigammaln(a, 3))(a), want,
                               **EXACT)  # fmt: skip
    check_grads(lambda a: ws.multigammaln(a, 3), (a,), order=2)


# -- derivatives with no closed form: the error names the function and the argument -----------
@pytest.mark.parametrize(
    "f, at, match",
    [(lambda v: sc.iv(v, 2.0), 1.5, r"iv\(v, x\) has no derivative in its argument v"),
     (lambda v: sc.kve(v, 2.0), 1.5, r"kve\(v, x\) has no derivative in its argument v"),
     (lambda a: sc.gammainc(a, 2.0), 1.5, r"gammainc\(a, x\) .* argument a"),
     (lambda s: sc.zeta(s), 1.5, r"zeta\(x\) has no derivative in its argument x"),
     (lambda s: sc.zeta(s, 2.0), 1.5, r"zeta\(x, q\) has no derivative in its argument x"),
     (lambda n: ws.polygamma(n, 2.0), 1.0, r"polygamma\(n, x\) .* argument n: n is an integer")],
)  # fmt: skip
def test_no_closed_form_raises_naming_the_argument(f, at, match):
    with pytest.raises(NoRuleError, match=match):
        wg.grad(f)(at)
    with pytest.raises(NoRuleError, match=match):
        wg.jvp(f, (at,), (1.0,))
    assert np.isfinite(f(at))  # only the derivative is refused


def test_order_held_constant_is_fine():
    g = wg.grad(lambda v, x: sc.iv(wg.stop_gradient(v), x), argnums=(0, 1))(1.5, 2.0)
    assert g[0] == 0.0 and g[1] == pytest.approx(0.5 * (sc.iv(0.5, 2.0) + sc.iv(2.5, 2.0)))
    # Batching over the order needs no derivative in it.
    v = np.array([0.5, 1.5, 2.5])
    np.testing.assert_allclose(wg.vmap(lambda v: sc.iv(v, 2.0))(v), sc.iv(v, 2.0), rtol=1e-15)


def test_every_listed_function_is_registered():
    names = [
        "gamma", "gammaln", "loggamma", "digamma", "polygamma", "multigammaln", "beta",
        "betaln", "erf", "erfc", "erfinv", "erfcinv", "erfcx", "expit", "logit", "log_expit",
        "ndtr", "ndtri", "log_ndtr", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "i0",
        "i0e", "i1", "i1e", "iv", "ive", "jv", "yv", "kv", "kve", "zeta", "zeta_hurwitz",
        "gammainc", "gammaincc",
    ]  # fmt: skip
    missing = [n for n in names if f"scipy.special.{n}" not in registry]
    assert not missing


@pytest.mark.parametrize("name", ["wengert.scipy.special", "wengert.scipy._logsumexp"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# -- the import hook ---------------------------------------------------------------------------
def _run(code):
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_import_wengert_does_not_import_scipy():
    assert _run("import sys, wengert; print('scipy' in sys.modules)") == "False"


@pytest.mark.parametrize("order", ["wengert first", "scipy first"])
def test_plain_scipy_calls_differentiate_whichever_is_imported_first(order):
    imports = "import wengert as wg\nimport scipy.special as sc"
    if order == "scipy first":
        imports = "\n".join(reversed(imports.split("\n")))
    code = imports + "\nprint(round(float(wg.grad(sc.gammaln)(2.0)), 12))"
    assert _run(code) == str(round(float(digamma(2.0)), 12))


def test_without_scipy_wengert_works_and_wengert_scipy_says_what_is_missing():
    code = (
        "import sys; sys.modules['scipy'] = None\n"  # as if SciPy were not installed
        "import numpy as np, wengert as wg\n"
        "print(wg.grad(np.sin)(0.0))\n"
        "try:\n    import wengert.scipy.special\n"
        "except ImportError as e:\n    print(e)"
    )
    sine_slope, message = _run(code).splitlines()
    assert sine_slope == "1.0" and message.startswith("wengert.scipy needs SciPy: pip install")
