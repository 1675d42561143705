"""cffi build script for ssh2cffi._libssh2 (out-of-line, API mode).

libssh2 is found with pkg-config; set PKG_CONFIG_PATH to build against another
libssh2 install (for example the 1.11.1 build made by scripts/build-libssh2.sh).
The declarations live in ffi/*.h, one file per libssh2 area, read in the fixed
order below (types first); ffi/helpers.c is the C source compiled with them.
"""
from __future__ import annotations

import os
import pathlib

import pkgconfig
from cffi import FFI

HERE = pathlib.Path(__file__).resolve().parent
FFI_DIR = HERE / "ffi"
CDEF_FILES = ("types.h", "errors.h", "session.h", "userauth.h", "channel.h",
              "sftp.h", "scp.h", "helpers.h", "agent.h", "knownhost.h",
              "publickey.h", "forward.h")
MIN_LIBSSH2 = "1.10.0"
SYSTEM_LIB_PREFIXES = ("/usr/lib", "/lib", "/usr/lib64", "/lib64")


def libssh2_build_args() -> dict:
    """Compiler and linker arguments for libssh2, from pkg-config."""
    if not pkgconfig.exists("libssh2"):
        raise RuntimeError(
            "pkg-config cannot find libssh2: install libssh2-1-dev (Debian) or "
            "set PKG_CONFIG_PATH to the directory holding libssh2.pc")
    if not pkgconfig.installed("libssh2", ">= " + MIN_LIBSSH2):
        raise RuntimeError("ssh2cffi needs libssh2 >= %s, pkg-config found %s"
                           % (MIN_LIBSSH2, pkgconfig.modversion("libssh2")))
    args = {key: list(value) for key, value in pkgconfig.parse("libssh2").items()}
    libdir = pkgconfig.variables("libssh2").get("libdir", "")
    # A libssh2 outside the system directories (a private 1.11 build) must be
    # the one loaded at run time too, not the system's: record its directory.
    if libdir and not libdir.startswith(SYSTEM_LIB_PREFIXES):
        args["runtime_library_dirs"] = [libdir]
    return args


ffibuilder = FFI()
ffibuilder.cdef("\n".join((FFI_DIR / name).read_text() for name in CDEF_FILES))
ffibuilder.set_source(
    "ssh2cffi._libssh2",
    (FFI_DIR / "helpers.c").read_text(),
    **libssh2_build_args(),
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.environ.get("SSH2CFFI_BUILD_DIR", "build"),
                       verbose=True)
