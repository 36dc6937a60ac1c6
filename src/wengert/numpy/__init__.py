"""The rules for NumPy: importing this package registers every family's primitives."""

from wengert.numpy import elementwise, fft, linalg, outputs, reductions, select, shape  # noqa: F401
from wengert.numpy import _methods  # noqa: F401  (operators and methods need the tables)
