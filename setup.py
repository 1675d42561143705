"""setuptools needs setup() for cffi_modules; all metadata is in pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["build_ffi.py:ffibuilder"])
