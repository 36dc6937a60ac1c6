"""wengert: automatic differentiation for the NumPy code you already write.

>>> import numpy as np, wengert as wg
>>> wg.grad(lambda x: np.sum(np.sin(x) ** 2))(np.zeros(2))
array([0., 0.])
"""

from wengert import numpy as _rules  # noqa: F401  (registers every rule)
from wengert import scipy as _scipy  # noqa: F401  (scipy.special rules once SciPy is imported)
from wengert import extend, tree
from wengert.api import (
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    stop_gradient,
    value_and_grad,
    vjp,
    vmap,
)
from wengert.errors import (
    ArgumentError,
    BatchedControlFlowError,
    EscapedTracerError,
    InputTypeError,
    NoRuleError,
    OutputShapeError,
    TangentMismatchError,
    TracerConversionError,
    WengertError,
)

from wengert.custom import checkpoint, custom_jvp, custom_vjp
from wengert.debug import NonFiniteError, debug_nans
from wengert.dual import Dual, HyperDual
from wengert.listing import WengertList, wengert_list

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "jacobian", "hessian",
    "hvp", "vmap", "elementwise_grad", "stop_gradient", "extend", "wengert_list", "WengertList", "Dual", "HyperDual", "custom_vjp", "custom_jvp", "checkpoint", "debug_nans", "NonFiniteError", "tree", "WengertError", "TracerConversionError",
    "NoRuleError", "EscapedTracerError", "BatchedControlFlowError", "InputTypeError",
    "OutputShapeError", "TangentMismatchError", "ArgumentError",
]  # fmt: skip
