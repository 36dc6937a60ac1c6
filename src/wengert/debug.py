"""NaN and Inf debugging: ``with wg.debug_nans():`` (or ``WENGERT_DEBUG_NANS=1``).

In this mode the transformations open *checked* traces: after every primitive the value and
tangent (forward) or cotangents (backward) are tested, and the first that is not finite
raises :class:`NonFiniteError` naming the operation, the pass, and the file and line of the
user's code that called it. The call site is recorded at trace time, only in this mode; out
of it nothing is checked or recorded, and the ordinary traces run at full speed.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from wengert.core.forward import JVPTrace, JVPTracer
from wengert.core.reverse import SparseCotangent, VJPTrace, VJPTracer
from wengert.core.trace import ERRORS_DOC, user_site
from wengert.errors import WengertError
from wengert.numpy._family import unwrap_all

__all__ = ["debug_nans", "NonFiniteError"]

class NonFiniteError(WengertError, FloatingPointError):
    """A value, tangent or cotangent became NaN or Inf (raised only under debug_nans)."""


_ENV = os.environ.get("WENGERT_DEBUG_NANS", "") not in ("", "0", "false", "False")


class _State(threading.local):
    # The default as a class attribute: a thread that never set ``on`` reads it without the
    # AttributeError that getattr(local, "on", default) raises and catches on every call.
    on = _ENV


_state = _State()


def enabled() -> bool:
    return _state.on


@contextlib.contextmanager
def debug_nans(on: bool = True):
    """Raise at the first operation whose value, tangent or cotangent is not finite.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> with wg.debug_nans(), np.errstate(invalid="ignore"):
    ...     try:
    ...         wg.grad(lambda x: np.sqrt(x - 1.0))(0.5)
    ...     except wg.NonFiniteError as e:
    ...         print(str(e)[:37])
    sqrt produced nan in the forward pass
    """
    before = _state.on
    _state.on = on
    try:
        yield
    finally:
        _state.on = before


def _finite(v) -> bool:
    v = unwrap_all(v)
    if isinstance(v, tuple):
        return all(_finite(e) for e in v)
    try:
        return bool(np.all(np.isfinite(v)))
    except TypeError:  # non-numeric values (dtypes, index tuples) are not checked
        return True


def _raise(prim_name, what, pass_name, site):
    raise NonFiniteError(
        f"{prim_name} produced {what} in the {pass_name} pass, called at {site}. Check its "
        "inputs there (a log or sqrt of a negative, a division by zero, an overflow); "
        "wg.custom_vjp can give a stable rule, np.where a safe branch. " + ERRORS_DOC
    )


def _what(v) -> str:
    return "nan" if np.any(np.isnan(unwrap_all(v))) else "inf"


class CheckedVJPTrace(VJPTrace):
    """Reverse mode that checks each value and records each call site."""

    __slots__ = ()

    def __init__(self):
        super().__init__()
        self.sites = {}  # tape position -> the user's file:line

    def process(self, prim, args, params):
        out = super().process(prim, args, params)
        site = user_site()
        value = out.primal if isinstance(out, VJPTracer) and out._trace is self else out
        if not _finite(value):
            _raise(prim.name, _what(value), "forward", site)
        if isinstance(out, VJPTracer) and out._trace is self:
            self.sites[out.idx] = site
        return out

    def checker(self):
        """The backward-pass check, which outlives the trace's open life."""
        sites = self.sites

        def check(prim, idx, cts):
            for c in cts:
                if isinstance(c, SparseCotangent):
                    c = c.materialize()
                if c is not None and not _finite(c):
                    _raise(prim.name, f"a non-finite cotangent ({_what(c)})", "backward",
                           sites.get(idx, "<unknown>"))  # fmt: skip

        return check


class CheckedJVPTrace(JVPTrace):
    """Forward mode that checks each value and tangent."""

    __slots__ = ()

    def process(self, prim, args, params):
        out = super().process(prim, args, params)
        if isinstance(out, JVPTracer) and out._trace is self:
            for v, kind in ((out.primal, "value"), (out.tangent, "tangent")):
                if not _finite(v):
                    _raise(prim.name, f"a non-finite {kind} ({_what(v)})", "forward",
                           user_site())  # fmt: skip
        elif not _finite(out):
            _raise(prim.name, _what(out), "forward", user_site())
        return out


def vjp_trace() -> VJPTrace:
    return CheckedVJPTrace() if enabled() else VJPTrace()


def jvp_trace() -> JVPTrace:
    return CheckedJVPTrace() if enabled() else JVPTrace()
