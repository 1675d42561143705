"""setuptools needs setup() for cffi_modules and the .pth hook; metadata is in pyproject.toml."""
import os
import platform
import sys
import sysconfig

from setuptools import setup
from setuptools.command.build_py import build_py

# Installed at the top of site-packages: runs at every interpreter start-up,
# so it only reads one environment variable unless SSH2CFFI_AS_SSH2=1.
PTH_NAME = "ssh2cffi-as-ssh2.pth"
PTH_LINE = ('import os; os.environ.get("SSH2CFFI_AS_SSH2") == "1" and '
            '__import__("ssh2cffi.compat").compat.register_from_environment()\n')


class build_py_with_pth(build_py):
    """build_py that also puts the drop-in .pth hook into the wheel's root."""

    def run(self) -> None:
        super().run()
        with open(os.path.join(self.build_lib, PTH_NAME), "w") as f:
            f.write(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True):  # type: ignore[override]
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH_NAME)]


def limited_api_options() -> dict:
    """On CPython, cffi compiles the extension against the stable ABI
    (``_libssh2.abi3.so``) except on debug and free-threaded builds: tag those
    wheels ``cp39-abi3``, so that one wheel serves every CPython from 3.9 (the
    oldest ``requires-python`` allows) onwards.  PyPy wheels keep their own tag."""
    if (platform.python_implementation() != "CPython" or hasattr(sys, "gettotalrefcount")
            or sysconfig.get_config_var("Py_GIL_DISABLED")):
        return {}
    return {"bdist_wheel": {"py_limited_api": "cp39"}}


setup(cffi_modules=["build_ffi.py:ffibuilder"], cmdclass={"build_py": build_py_with_pth},
      options=limited_api_options())
