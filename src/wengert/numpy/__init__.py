"""The rules for NumPy: importing this package registers every family's primitives."""

from wengert.numpy import (  # noqa: F401
    arrays,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    nanfuncs,
    outputs,
    products,
    quantiles,
    reductions,
    select,
    sets,
    shape,
    spectral,
    statistics,
    writers,
)
from wengert.numpy import _methods  # noqa: F401  (operators and methods need the tables)
from wengert.numpy import inplace  # noqa: F401  (writes: after the methods they complete)
from wengert.numpy import _residuals  # noqa: E402

_residuals.learn_donation()  # needs the rules above (see _residuals.scaled)
