"""src/ssh2cffi/_libssh2.pyi is what scripts/generate_stub.py makes of ffi/*.h.

Once: in the cpython-1.10 variant (the generator reads the headers, not the
built extension, so the result does not depend on the interpreter or the
libssh2).
"""
import importlib.util
import os
import platform

import pytest

from helpers import TEST_VARIANT

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_generator():
    """scripts/generate_stub.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "generate_stub", os.path.join(REPO, "scripts", "generate_stub.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(platform.python_implementation() == "PyPy" or
                    TEST_VARIANT not in (None, "cpython-1.10"),
                    reason="once: runs in cpython-1.10")
def test_stub_matches_cdefs():
    generator = load_generator()
    with open(generator.STUB) as committed:
        assert committed.read() == generator.render_stub(), (
            "_libssh2.pyi is out of date: run python scripts/generate_stub.py")
