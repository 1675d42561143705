"""``Channel``: a command's (or a shell's, or a tunnel's) channel, awaited."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, Optional, Tuple

from .._errors import EAGAIN
from .._libssh2 import ffi, lib
from ..channel import Channel as _SyncChannel
from ._io import ABANDON, SessionIO

READ_SIZE = 65536
_STDOUT, _STDERR = 0, 1
_EAGAIN_READ = (EAGAIN, -1, b"")


class Channel:
    """A channel of an ``aio`` connection.

    Both output streams are read together (whatever the program asks for), so a
    command writing a lot to one stream never stalls waiting for a reader of the
    other; what was read for the stream nobody is reading is kept.  ``async for
    chunk in channel`` iterates over stdout, ``channel.lines()`` over its lines.
    ``async with`` closes the channel.
    """

    def __init__(self, io: SessionIO, channel: _SyncChannel) -> None:
        self._io = io
        self._channel = channel
        self._buffers: Dict[int, bytearray] = {_STDOUT: bytearray(), _STDERR: bytearray()}
        self._eof = False
        self._read_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._closed = False
        self.exit_status: Optional[int] = None
        self.exit_signal: Optional[str] = None

    @property
    def sync_channel(self) -> _SyncChannel:
        """The underlying (non-blocking) ``ssh2cffi.channel.Channel``."""
        return self._channel

    # -- readiness (see _io) ------------------------------------------------------------
    def _input_queued(self) -> bool:
        channel = self._channel
        if channel._gone is not None:
            return True
        ptr = channel._ptr
        return bool(lib.libssh2_poll_channel_read(ptr, 0) or lib.libssh2_poll_channel_read(ptr, 1)
                    or lib.libssh2_channel_eof(ptr))

    def _window_open(self) -> bool:
        channel = self._channel
        if channel._gone is not None:
            return True
        ptr = channel._ptr
        return bool(lib.libssh2_channel_window_write_ex(ptr, ffi.NULL) > 0
                    or lib.libssh2_channel_eof(ptr))

    # -- reading ------------------------------------------------------------------------
    def _read_either(self, size: int) -> Tuple[int, int, bytes]:
        """One non-blocking read of stdout, then of stderr: ``(rc, stream, data)``."""
        rc, data = self._channel.read_ex(size, _STDOUT)
        if rc > 0:
            return rc, _STDOUT, data
        rc_err, data_err = self._channel.read_ex(size, _STDERR)
        if rc_err > 0:
            return rc_err, _STDERR, data_err
        if rc == 0 and rc_err == 0:
            return 0, _STDOUT, b""
        return _EAGAIN_READ

    def _keep(self, result: Tuple[int, int, bytes]) -> None:
        """What a read returned: into its stream's buffer (or the end of the output)."""
        rc, stream, data = result
        if rc > 0:
            self._buffers[stream] += data
        elif rc == 0:
            self._eof = True

    async def _fill(self, size: int) -> None:
        """Read once more (either stream) into the buffers."""
        result = await self._io.call(self._read_either, size, ready=self._input_queued,
                                     lock=self._read_lock, on_cancel=ABANDON,
                                     dispose=self._keep)
        self._keep(result)

    async def read(self, size: int = READ_SIZE, stderr: bool = False) -> bytes:
        """Up to ``size`` bytes of stdout (``stderr=True``: of stderr); b'' at the end."""
        if size <= 0:
            raise ValueError("size must be > 0, not %d" % size)
        buffer = self._buffers[_STDERR if stderr else _STDOUT]
        while not buffer and not self._eof:
            await self._fill(max(size, READ_SIZE))
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    async def read_stderr(self, size: int = READ_SIZE) -> bytes:
        """Up to ``size`` bytes of stderr; b'' at the end."""
        return await self.read(size, stderr=True)

    async def read_all(self, stderr: bool = False) -> bytes:
        """The rest of one stream, up to the end of the output."""
        while not self._eof:
            await self._fill(READ_SIZE)
        stream = self._buffers[_STDERR if stderr else _STDOUT]
        data = bytes(stream)
        stream.clear()
        return data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.read()
            if not chunk:
                return
            yield chunk

    async def lines(self, stderr: bool = False) -> AsyncIterator[bytes]:
        """The lines of stdout (or stderr), each with its b'\\n' (the last may lack it)."""
        pending = b""
        while True:
            chunk = await self.read(stderr=stderr)
            if not chunk:
                if pending:
                    yield pending
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line + b"\n"

    # -- writing ------------------------------------------------------------------------
    async def write(self, data: bytes, stderr: bool = False) -> None:
        """Write all of ``data`` to the command's stdin (or its stderr stream).

        Cancelled half way, the rest of ``data`` is still written (in the
        background): a half-sent packet would stop the whole session.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes, not %s" % type(data).__name__)
        view = bytes(data)
        stream = _STDERR if stderr else _STDOUT
        sent = [0]

        def step() -> Tuple[int, int]:
            rc, written = self._channel.write_ex(stream, view[sent[0]:])
            sent[0] += written
            return rc, written

        await self._io.call(step, ready=self._window_open, lock=self._write_lock)

    async def send_eof(self) -> None:
        """Tell the command its stdin is over."""
        await self._io.call(self._channel.send_eof, lock=self._write_lock)

    # -- closing ------------------------------------------------------------------------
    async def close(self) -> None:
        """Close the channel and wait for the server to close it too; sets
        ``exit_status`` and ``exit_signal`` (the signal name, e.g. ``"TERM"``)."""
        channel = self._channel
        if self._closed or channel._gone is not None or self._io.closed:
            return
        await self._io.call(channel.close, lock=self._write_lock)
        self._closed = True
        # libssh2 waits for the server's close only once the output has ended
        # (closed earlier, the rest of the output is dropped, and no exit status)
        if channel.eof():
            await self._io.call(channel.wait_closed, lock=self._io.request_lock)
            self._record_exit()

    async def wait_closed(self) -> Optional[int]:
        """Read the output to its end, close, and return the exit status."""
        while not self._eof:
            await self._fill(READ_SIZE)
        await self.close()
        return self.exit_status

    def _record_exit(self) -> None:
        self.exit_status = self._channel.get_exit_status()
        signal = self._channel.get_exit_signal()[1]
        self.exit_signal = None if signal is None else signal.decode("utf-8", "replace")

    async def __aenter__(self) -> "Channel":
        return self

    async def __aexit__(self, exc_type: Any, *exc_info: Any) -> None:
        if exc_type is None:
            await self.close()
        elif not self._closed and not self._io.closed:
            # Leaving on an error or a cancellation (asyncio.timeout()): do not make
            # the caller wait, since libssh2's close waits for the server's close,
            # which a server may send only once the command exits.  It goes on in
            # the background.
            self._io.spawn(self.close)

