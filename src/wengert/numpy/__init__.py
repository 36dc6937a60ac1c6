"""The rules for NumPy: importing this package registers every family's primitives."""

from wengert.numpy import (  # noqa: F401
    decompositions,
    elementwise,
    fft,
    linalg,
    outputs,
    reductions,
    select,
    shape,
)
from wengert.numpy import _methods  # noqa: F401  (operators and methods need the tables)
