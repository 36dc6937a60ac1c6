"""The optional C extension; everything else is in pyproject.toml.

``optional=True``: where it cannot be compiled (no C compiler, an interpreter without headers),
the install goes on and wengert runs its pure-Python hot paths, which compute the same. The
extension reads ndarray fields through NumPy's C API, hence NumPy in the build requirements
(built against NumPy 2's headers, it runs with NumPy 1.25 and later)."""

import numpy
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "wengert.core._speedups",
            ["src/wengert/core/_speedups.c"],
            include_dirs=[numpy.get_include()],
            optional=True,
        )
    ]
)
