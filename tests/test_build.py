"""The extension is built against the libssh2 the test run asked for."""
import os

import pytest

from ssh2cffi import utils
from ssh2cffi._libssh2 import ffi, lib


def test_linked_libssh2_is_the_expected_one():
    expected = os.environ.get("SSH2CFFI_EXPECT_LIBSSH2")
    if expected is None:
        pytest.skip("SSH2CFFI_EXPECT_LIBSSH2 not set (scripts/test.sh sets it)")
    # Run time (the loaded library) and build time (the header) agree.
    assert utils.version().decode().startswith(expected)
    header = lib.LIBSSH2_VERSION_NUM
    assert "%d.%d" % (header >> 16, (header >> 8) & 0xFF) == expected


def test_newer_functions_are_detected_at_build_time():
    assert lib.SSH2CFFI_HAS_CHANNEL_SIGNAL == (lib.LIBSSH2_VERSION_NUM >= 0x010B00)


def test_extension_is_api_mode():
    # API mode: lib is a compiled module, not a dlopen()ed library object.
    assert type(lib).__name__ == "Lib" and not hasattr(ffi, "dlopen_handle")
    assert "ssh2cffi._libssh2" in repr(lib) or hasattr(lib, "libssh2_session_init_ex")
