"""The public API is typed: mypy --strict passes over the package."""
import os
import platform
import subprocess
import sys

import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


@pytest.mark.skipif(platform.python_implementation() == "PyPy",
                    reason="mypy runs on CPython; the sources are the same on PyPy")
def test_mypy_strict():
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             os.path.join(SRC, "ssh2cffi")], capture_output=True, text=True,
                            env=dict(os.environ, MYPYPATH=SRC), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
