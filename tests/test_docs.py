"""The Sphinx documentation builds with -W (warnings are errors) from the tracked files.

Once: in the cpython-1.10 variant (the one scripts/docs.sh uses); autodoc
reads the docstrings of the ssh2cffi installed in this virtualenv, which
scripts/setup.sh built from the same tree.
"""
import os
import platform
import subprocess
import sys

import pytest

from helpers import TEST_VARIANT

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(platform.python_implementation() == "PyPy",
                    reason="the docs are built on CPython (scripts/docs.sh)")
@pytest.mark.skipif(TEST_VARIANT not in (None, "cpython-1.10"), reason="once: runs in cpython-1.10")
def test_docs_build_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                             os.path.join(REPO, "docs"), str(tmp_path / "html")],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index", "install", "quickstart", "examples", "migration", "certificates",
                 "agent-forwarding", "jump-hosts", "asyncio", "api", "benchmarks", "changelog"):
        assert (tmp_path / "html" / (page + ".html")).exists(), page
    api = (tmp_path / "html" / "api.html").read_text()
    # Spot checks that autodoc found the docstrings (not empty stubs).
    for text in ("userauth_publickey_fromfile", "Authenticate with a private key file",
                 "SFTPProtocolError", "get_exit_status"):
        assert text in api, text
