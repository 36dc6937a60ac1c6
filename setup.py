"""The optional C extension; everything else is in pyproject.toml.

``optional=True``: where it cannot be compiled (no C compiler, an interpreter without headers),
the install goes on and wengert runs its pure-Python reverse mode, which computes the same."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("wengert.core._speedups", ["src/wengert/core/_speedups.c"], optional=True)
    ]
)
