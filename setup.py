"""setuptools needs setup() for cffi_modules and the .pth hook; metadata is in pyproject.toml."""
import os

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


setup(cffi_modules=["build_ffi.py:ffibuilder"], cmdclass={"build_py": build_py_with_pth})
