"""``SFTP`` and ``SFTPFile``: an SFTP session of an ``aio`` connection, awaited.

Whole-file transfers (``get``/``put``) run libssh2's pipelined copy loop in C
(the same one as the blocking ``SFTP.get``/``put``) and await the socket
whenever it would block.  Every SFTP call holds the connection's request lock
for its duration (see ``_io``): calls of several tasks interleave, one at a time.
"""
from __future__ import annotations

import os
import stat as stat_module
from typing import Any, List, Union

from .. import exceptions
from .._errors import EAGAIN
from .._libssh2 import ffi, lib
from ..sftp import (LIBSSH2_FXF_APPEND, LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ,
                    LIBSSH2_FXF_TRUNC, LIBSSH2_FXF_WRITE)
from ..sftp import SFTP as _SyncSFTP
from ..sftp_handle import SFTPAttributes
from ..sftp_handle import SFTPHandle as _SyncHandle
from ._io import CLOSE_IF_SENDING, SessionIO

PathLike = Union[str, bytes, "os.PathLike[str]"]
# Bytes per libssh2 call of the copy loops: libssh2 keeps requests for all of
# them in flight, so on a slow link the buffer bounds the throughput.  Uploads
# gain up to 8 MiB (through 25 ms each way: 18 MB/s with 2 MiB, 27 with 8, 30
# with 16); downloads do not (libssh2 reads ahead by itself).
TRANSFER_BUFFER = 2 * 1024 * 1024
UPLOAD_BUFFER = 8 * 1024 * 1024
_MODES = {"r": LIBSSH2_FXF_READ,
          "w": LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
          "a": LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_APPEND,
          "r+": LIBSSH2_FXF_READ | LIBSSH2_FXF_WRITE}


def _remote(path: PathLike) -> bytes:
    value = os.fspath(path)
    return value if isinstance(value, bytes) else value.encode("utf-8")


class SFTP:
    """An SFTP session; ``async with`` shuts it down."""

    def __init__(self, io: SessionIO, sftp: _SyncSFTP) -> None:
        self._io = io
        self._sftp = sftp
        self._closed = False

    async def _call(self, fn: Any, *args: Any, **options: Any) -> Any:
        if self._closed:
            raise exceptions.SFTPError("this SFTP session is closed")
        return await self._io.call(fn, *args, lock=self._io.request_lock, **options)

    def _close_later(self, handle: Any) -> None:
        """Dispose of a handle a cancelled open() produced."""
        if isinstance(handle, _SyncHandle):
            self._io.spawn(lambda: self._call(handle.close))

    async def _open(self, path: PathLike, flags: int, mode: int) -> _SyncHandle:
        handle = await self._call(self._sftp.open, _remote(path), flags, mode,
                                  dispose=self._close_later)
        assert isinstance(handle, _SyncHandle)
        return handle

    # -- files ----------------------------------------------------------------------------
    async def open(self, path: PathLike, mode: str = "r", permissions: int = 0o644
                   ) -> "SFTPFile":
        """Open a remote file: ``mode`` "r", "w" (create or truncate), "a" or "r+"."""
        try:
            flags = _MODES[mode.replace("b", "")]
        except KeyError:
            raise ValueError("mode must be one of r, w, a, r+ (with or without b), not %r"
                             % (mode,)) from None
        return SFTPFile(self, await self._open(path, flags, permissions))

    async def get(self, remote_path: PathLike, local_path: PathLike) -> int:
        """Download a whole file; returns the byte count."""
        handle = await self._open(remote_path, LIBSSH2_FXF_READ, 0)
        with open(local_path, "wb") as local:
            return await self._copy(lib.ssh2cffi_sftp_download, handle, local, remote_path,
                                    TRANSFER_BUFFER)

    async def put(self, local_path: PathLike, remote_path: PathLike,
                  permissions: int = 0o644) -> int:
        """Upload a whole file (created or truncated); returns the byte count."""
        with open(local_path, "rb") as local:
            handle = await self._open(remote_path, _MODES["w"], permissions)
            return await self._copy(lib.ssh2cffi_sftp_upload, handle, local, remote_path,
                                    UPLOAD_BUFFER)

    async def _copy(self, copy: Any, handle: _SyncHandle, local: Any, path: PathLike,
                    size: int) -> int:
        buffer = ffi.new("char[]", size)
        state = ffi.new("struct ssh2cffi_copy_state *")
        try:
            rc = await self._call(copy, handle._live(), local.fileno(), buffer, size, state,
                                  on_cancel=CLOSE_IF_SENDING)
        except BaseException:
            if not self._io.closed:
                self._io.spawn(lambda: self._call(handle.close))
            raise
        await self._call(handle.close)
        if rc == lib.SSH2CFFI_LOCAL_IO_ERROR:
            raise OSError(state.local_errno, os.strerror(state.local_errno))
        self._sftp._check(rc, _remote(path))
        return int(state.copied)

    # -- names ----------------------------------------------------------------------------
    async def stat(self, path: PathLike) -> SFTPAttributes:
        """The attributes of ``path`` (following symbolic links)."""
        attrs = await self._call(self._sftp.stat, _remote(path))
        assert isinstance(attrs, SFTPAttributes)
        return attrs

    async def exists(self, path: PathLike) -> bool:
        try:
            await self.stat(path)
        except exceptions.SFTPProtocolError:
            return False
        return True

    async def isdir(self, path: PathLike) -> bool:
        try:
            attrs = await self.stat(path)
        except exceptions.SFTPProtocolError:
            return False
        return stat_module.S_ISDIR(attrs.permissions)

    async def listdir(self, path: PathLike = ".") -> List[str]:
        """The names in directory ``path``, without ``.`` and ``..``."""
        handle = await self._call(self._sftp.opendir, _remote(path), dispose=self._close_later)
        assert isinstance(handle, _SyncHandle)
        names = []
        try:
            while True:
                rc, name, _attrs = await self._call(handle._readdir, 1024)
                if rc == 0:
                    break
                self._sftp._check(rc)
                text = name.decode("utf-8", "surrogateescape")
                if text not in (".", ".."):
                    names.append(text)
        finally:
            if not self._io.closed:
                await self._call(handle.close)
        return names

    async def mkdir(self, path: PathLike, permissions: int = 0o755) -> None:
        await self._call(self._sftp.mkdir, _remote(path), permissions)

    async def rmdir(self, path: PathLike) -> None:
        await self._call(self._sftp.rmdir, _remote(path))

    async def remove(self, path: PathLike) -> None:
        await self._call(self._sftp.unlink, _remote(path))

    async def rename(self, source: PathLike, destination: PathLike) -> None:
        await self._call(self._sftp.rename, _remote(source), _remote(destination))

    async def close(self) -> None:
        """Stop using this SFTP session: later calls raise.  libssh2 shuts it down
        when the object is freed or the connection closes (ssh2cffi's SFTP has no
        shutdown call, as ssh2-python's has none)."""
        self._closed = True

    async def __aenter__(self) -> "SFTP":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


class SFTPFile:
    """An open remote file: ``read``/``write``/``close``; ``async with`` closes it."""

    def __init__(self, sftp: SFTP, handle: _SyncHandle) -> None:
        self._sftp = sftp
        self._handle = handle

    async def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left for -1); b'' at the end of the file."""
        if size == 0:
            return b""
        chunks = []
        wanted = size
        while wanted != 0:
            count = TRANSFER_BUFFER if wanted < 0 else min(wanted, TRANSFER_BUFFER)
            rc, data = await self._sftp._call(self._handle.read, count,
                                              on_cancel=CLOSE_IF_SENDING)
            if rc < 0 and rc != EAGAIN:
                self._sftp._sftp._check(rc)
            if rc == 0:
                break
            chunks.append(data)
            if wanted > 0:
                wanted -= len(data)
                break  # like a file's read(n): what came, up to n
        return b"".join(chunks)

    async def write(self, data: bytes) -> int:
        """Write all of ``data``; returns its length.  Cancelled half way, the rest is
        still written in the background (libssh2 needs the same data again)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes, not %s" % type(data).__name__)
        view = bytes(data)
        sent = [0]

        def step() -> Any:
            rc, written = self._handle.write(view[sent[0]:])
            sent[0] += written
            return rc, written

        await self._sftp._call(step)
        return len(view)

    async def stat(self) -> SFTPAttributes:
        attrs = await self._sftp._call(self._handle.fstat)
        assert isinstance(attrs, SFTPAttributes)
        return attrs

    async def close(self) -> None:
        if self._handle._gone is None and not self._sftp._io.closed:
            await self._sftp._call(self._handle.close)

    async def __aenter__(self) -> "SFTPFile":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


__all__ = ["SFTP", "SFTPFile", "SFTPAttributes"]
