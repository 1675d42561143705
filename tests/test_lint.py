"""ruff finds nothing in the repository's Python (configured in pyproject.toml).

Once: in the cpython-1.10 variant (the result does not depend on the
interpreter or the libssh2).
"""
import os
import platform
import subprocess
import sys

import pytest

from helpers import TEST_VARIANT

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(platform.python_implementation() == "PyPy" or
                    TEST_VARIANT not in (None, "cpython-1.10"),
                    reason="once: runs in cpython-1.10")
def test_ruff_finds_nothing():
    if TEST_VARIANT is None:
        pytest.importorskip("ruff")     # scripts/setup.sh installs it
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", REPO],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
