"""``Channel``: one SSH channel (exec, shell, subsystem, forwarded connection).

Return conventions are ssh2-python's: reads return ``(rc, bytes)``, writes
``(rc, bytes_written)``; ``LIBSSH2_ERROR_EAGAIN`` is returned, never raised,
so non-blocking callers can poll; every other negative code raises.
"""
import typing
from typing import Any, List, NoReturn, Optional, Tuple

from . import exceptions
from ._buffers import caller_buffer as _caller_buffer
from ._buffers import new_read_buffer as _new_read_buffer
from ._convert import StrOrBytes
from ._convert import to_bytes as _to_bytes
from ._convert import to_cstring as _to_cstring
from ._errors import EAGAIN as _EAGAIN
from ._errors import needs_libssh2 as _needs_libssh2
from ._errors import make_error as _make_error
from ._ints import to_cint as _to_cint
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import CHANNEL_GC_SIZE as _CHANNEL_GC_SIZE
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import record_of as _record_of
from ._threads import busy_error as _busy_error
from ._threads import operation as _operation
from ._threads import serialised as _serialised
from ._threads import serialised_live as _serialised_live
from ._waiting import waits_for_peer as _waits_for_peer
from .exceptions import ChannelError  # noqa: F401  (ssh2.channel re-exports it)

if typing.TYPE_CHECKING:
    from .session import Session

_read_ex = _lib.libssh2_channel_read_ex
_write_all = _lib.ssh2cffi_channel_write_all
_unpack = _ffi.unpack
_STDERR: int = _lib.SSH_EXTENDED_DATA_STDERR
_DEFAULT_READ_SIZE = 1024
_EAGAIN_RESULT = (_EAGAIN, b"")
_EOF_RESULT = (0, b"")
_EAGAIN_INTO_RESULT = (_EAGAIN, 0)


def _terminal_size(width: object, height: object, width_px: object,
                   height_px: object) -> Tuple[int, int, int, int]:
    """Terminal dimensions as C ints; a negative size means nothing to the server."""
    return (_to_cint(width, "width", minimum=0), _to_cint(height, "height", minimum=0),
            _to_cint(width_px, "width_px", minimum=0),
            _to_cint(height_px, "height_px", minimum=0))


class Channel(_Wrapper):
    """An SSH channel of a ``Session``.

    Channels come from ``Session.open_session()`` (and the forwarding calls).
    ``Channel(session)`` builds an empty channel, as ssh2-python allows; using
    it raises.  A channel whose session was disconnected raises
    ``SocketDisconnectError`` instead of touching freed memory or a reused socket.

    Return values and errors: request and control methods return 0 (or the
    value their docstring names); reads return ``(rc, data)`` and writes
    ``(rc, bytes_written)``.  On a non-blocking session a call that would
    wait returns ``LIBSSH2_ERROR_EAGAIN`` (as ``rc`` for reads and writes,
    e.g. ``(LIBSSH2_ERROR_EAGAIN, b'')`` from a read; wait for the socket
    and call again);
    any other libssh2 error raises the :mod:`ssh2cffi.exceptions` class of
    its code, e.g. ``ChannelRequestDenied`` or ``ChannelFailure`` when the
    server refuses a request, ``ChannelClosedError`` or ``ChannelEOFSentError``
    when writing after the channel was closed or EOF was sent,
    ``SocketDisconnectError`` once the session is gone.
    """

    __slots__ = ("_session", "_buf", "_bufsize", "_written", "_owner", "__weakref__")
    _session: "Session"

    def __init__(self, session: "Session") -> None:
        _record_of(session)
        self._session = session
        self._unattached(exceptions.BadUseError, "this Channel was not opened by a Session")
        self._start_io(None)

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "Channel":
        """The Channel owning ``raw``, a LIBSSH2_CHANNEL * opened on ``session``."""
        channel = cls._child_of(session, raw, _lib.libssh2_channel_free, _CHANNEL_GC_SIZE)
        channel._start_io(None)
        return channel

    @classmethod
    def _borrow_from(cls, session: "Session", raw: Any, owner: Any) -> "Channel":
        """A Channel for ``raw``, a channel that ``owner`` (an SFTP session) frees."""
        channel = cls.__new__(cls)
        channel._session = session
        channel._borrow(session._rec, raw)
        channel._start_io(owner)  # the owner, and so the pointer, lives as long as we do
        return channel

    def _start_io(self, owner: Any) -> None:
        self._buf: Any = None  # the read buffer, grown on demand
        self._bufsize = 0
        self._written = _ffi.new("size_t *")
        self._owner = owner

    @property
    def session(self) -> "Session":
        """Originating session."""
        return self._session

    def _check(self, rc: int) -> int:
        if rc < 0 and rc != _EAGAIN:
            self._fail(rc)
        return rc

    def _fail(self, rc: int) -> NoReturn:
        """Raise libssh2's error ``rc``, or first what a session message callback
        raised while libssh2 read packets (the server's disconnect, usually)."""
        error = _make_error(rc, session_ptr=self._rec.ptr)
        self._rec.raise_callback_error(error)
        raise error

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._rec.usable:
            self.close()

    # -- requests ---------------------------------------------------------------
    @_operation("channel")
    def pty(self, term: StrOrBytes = "vt100", *, width: int = _lib.LIBSSH2_TERM_WIDTH,
            height: int = _lib.LIBSSH2_TERM_HEIGHT, width_px: int = _lib.LIBSSH2_TERM_WIDTH_PX,
            height_px: int = _lib.LIBSSH2_TERM_HEIGHT_PX, modes: bytes = b"") -> int:
        """Request a pseudo terminal of type ``term``, 80x24 characters by default.

        ssh2cffi additions (keyword-only): ``width``/``height`` in characters,
        ``width_px``/``height_px`` in pixels (0: unknown), and ``modes``, the
        encoded terminal modes of RFC 4254 section 8 (opcode byte, uint32
        value, ..., ending with a 0 byte), e.g. ``b"\\x35\\0\\0\\0\\0\\0"`` turns echo off.

        Raises ``ChannelRequestDenied`` or ``ChannelFailure`` when the server
        refuses.
        """
        name = _to_bytes(term, "term")
        if not isinstance(modes, (bytes, bytearray, memoryview)):
            raise TypeError("modes must be bytes, not %s" % type(modes).__name__)
        encoded = bytes(modes)
        sizes = _terminal_size(width, height, width_px, height_px)
        return self._check(_lib.libssh2_channel_request_pty_ex(
            self._live(), name, len(name), encoded, len(encoded), *sizes))

    @_serialised
    def pty_resize(self, width: int, height: int, width_px: int = 0, height_px: int = 0) -> int:
        """Tell the server the terminal is now ``width`` x ``height`` characters
        (``width_px`` x ``height_px`` pixels, 0: unknown); the remote program gets SIGWINCH.

        An ssh2cffi addition.
        """
        sizes = _terminal_size(width, height, width_px, height_px)
        return self._check(_lib.libssh2_channel_request_pty_size_ex(self._live(), *sizes))

    def execute(self, command: StrOrBytes) -> int:
        """Run ``command`` (str or bytes) on the server (an ``exec`` request).

        Read its output with :meth:`read` and :meth:`read_stderr`, then
        :meth:`wait_closed` and :meth:`get_exit_status`.  Raises
        ``ChannelRequestDenied`` or ``ChannelFailure`` when the server refuses
        the request.
        """
        return self.process_startup(b"exec", _to_bytes(command, "command"))

    def subsystem(self, subsystem: StrOrBytes) -> int:
        """Start a subsystem such as ``sftp``.

        Raises ``ChannelRequestDenied`` or ``ChannelFailure`` when the server has
        no such subsystem.
        """
        return self.process_startup(b"subsystem", _to_bytes(subsystem, "subsystem"))

    def shell(self) -> int:
        """Start the user's login shell."""
        return self.process_startup(b"shell", None)

    @_operation("channel")
    def process_startup(self, request: StrOrBytes, message: Optional[StrOrBytes] = None) -> int:
        """Send a channel request (``exec``, ``shell``, ``subsystem``) with an optional message."""
        req = _to_bytes(request, "request")
        if message is None:
            msg, msg_len = _ffi.NULL, 0
        else:
            msg = _to_bytes(message, "message")
            msg_len = len(msg)
        return self._check(_lib.libssh2_channel_process_startup(
            self._live(), req, len(req), msg, msg_len))

    @_operation("channel")
    def setenv(self, varname: StrOrBytes, value: StrOrBytes) -> int:
        """Set the environment variable ``varname`` to ``value`` for the command to come.

        Raises ``ChannelRequestDenied`` when the server refuses (OpenSSH
        accepts only the names its ``AcceptEnv`` lists).
        """
        name = _to_bytes(varname, "varname")
        data = _to_bytes(value, "value")
        return self._check(_lib.libssh2_channel_setenv_ex(
            self._live(), name, len(name), data, len(data)))

    @_operation("channel")
    def request_auth_agent(self) -> int:
        """Ask the server to forward the SSH agent on this channel.

        The remote command then gets an ``SSH_AUTH_SOCK``; its connections to
        it reach the session as forwarded agent channels, served by
        ``Session.forward_agent()`` or ``set_agent_forwarding_callback()``.
        Until one of them is set up, each such connection is closed at once,
        so the remote program gets an error (libssh2 1.11.1's own refusal
        makes sshd drop the connection; libssh2 1.10 never answers, and the
        remote program waits).  OpenSSH grants the request once per
        connection: a second one raises ``ChannelRequestDenied``, and the
        later commands get ``SSH_AUTH_SOCK`` all the same.
        """
        rc = self._check(_lib.libssh2_channel_request_auth_agent(self._live()))
        if rc == 0:
            self._session._refuse_agent_connections()
        return rc

    def x11_req(self, screen_number: int) -> int:
        """Request X11 forwarding with a generated cookie."""
        return self.x11_req_ex(0, None, None, screen_number)

    @_operation("channel")
    def x11_req_ex(self, single_connection: int, auth_proto: Optional[bytes],
                   auth_cookie: Optional[bytes], screen_number: int) -> int:
        """Request X11 forwarding with the given protocol and cookie (bytes)."""
        proto = _ffi.NULL if auth_proto is None else _to_cstring(auth_proto, "auth_proto")
        cookie = _ffi.NULL if auth_cookie is None else _to_cstring(auth_cookie, "auth_cookie")
        return self._check(_lib.libssh2_channel_x11_req_ex(
            self._live(), _to_cint(single_connection, "single_connection"), proto, cookie,
            _to_cint(screen_number, "screen_number")))

    @_serialised
    def signal(self, signame: StrOrBytes) -> int:
        """Send a signal such as ``"TERM"`` (no ``SIG`` prefix) to the remote process.

        Needs libssh2 >= 1.11.0.

        Raises:
            NotImplementedError: ssh2cffi was built against an older libssh2
                (the message names the version).
        """
        name = _to_bytes(signame, "signame")
        if not _lib.SSH2CFFI_HAS_CHANNEL_SIGNAL:
            raise _needs_libssh2("Channel.signal", "1.11.0")
        return self._check(_lib.libssh2_channel_signal_ex(self._live(), name, len(name)))

    # -- reading ----------------------------------------------------------------
    def read_stderr(self, size: int = _DEFAULT_READ_SIZE) -> Tuple[int, bytes]:
        """Read up to ``size`` bytes of stderr: ``(rc, data)``."""
        return self.read_ex(size, _STDERR)

    def read_ex(self, size: int = _DEFAULT_READ_SIZE, stream_id: int = 0) -> Tuple[int, bytes]:
        """Read up to ``size`` bytes of stream ``stream_id`` (stdout by default): ``(rc, data)``.

        ``(0, b'')`` at EOF.
        """
        rec = self._rec
        lock = rec.lock  # inline _serialised: this is the hottest call
        if rec.blocking:
            if not lock.acquire(False):
                raise _busy_error()
        else:
            lock.acquire()
        try:
            if not rec.usable:
                rec.raise_unusable()
            if rec.callback_error is not None:
                rec.raise_callback_error()
            try:
                small_enough = 0 < size <= self._bufsize
            except TypeError:
                raise TypeError("size must be an int, not %s" % type(size).__name__) from None
            if not small_enough:
                # Also for size <= 0: the buffer may still be None, and
                # _new_read_buffer rejects a negative size (it holds >= 1 byte).
                self._buf = _new_read_buffer(size)
                self._bufsize = max(size, 1)
            relay = rec.relay
            if relay is not None:  # agent forwarding: see _waiting
                rc = self._read_relayed(relay, size, stream_id)
            else:
                try:
                    rc = _read_ex(self._ptr, stream_id, self._buf, size)
                except (TypeError, OverflowError):  # cffi refused size or stream_id: say which
                    _new_read_buffer(size)  # a float size passes the comparison above
                    rc = _read_ex(self._ptr, _to_cint(stream_id, "stream_id"), self._buf, size)
            if rc > 0:
                return rc, _unpack(self._buf, rc)
            if rc == _EAGAIN:
                return _EAGAIN_RESULT
            if rc == 0:
                return _EOF_RESULT
            self._fail(rc)
        finally:
            lock.release()

    # read(size) is read_ex(size, 0): the same function, one Python call fewer
    # on the hottest path.
    read = read_ex

    def _read_relayed(self, relay: Any, size: int, stream_id: int) -> int:
        """read_ex's libssh2 call, run through the session's agent relay (lock held)."""
        if not isinstance(size, int):
            _new_read_buffer(size)  # raises the TypeError the direct call's fallback raises
        stream = _to_cint(stream_id, "stream_id")
        ptr, buf = self._ptr, self._buf
        rc: int = relay._run_waiting(lambda: _read_ex(ptr, stream, buf, size))
        return rc

    @_serialised
    @_waits_for_peer
    def read_into(self, buffer: Any, stream_id: int = 0) -> Tuple[int, int]:
        """Read stream ``stream_id`` (stdout by default) into ``buffer``: ``(rc, n)``.

        An ssh2cffi addition for bulk reads: libssh2 writes straight into
        ``buffer`` (a bytearray, writable memoryview, mmap...), up to its
        length, and no bytes object is made.  ``rc`` is what :meth:`read_ex`
        returns as rc (the byte count, 0 at EOF, ``LIBSSH2_ERROR_EAGAIN``) and
        ``n`` the number of bytes stored (0 unless rc > 0).  Errors raise as
        in :meth:`read_ex`; a read-only or non-contiguous buffer raises
        ``TypeError``, an empty one ``ValueError``.
        """
        ptr = self._live()
        target = _caller_buffer(buffer)
        rc = _read_ex(ptr, _to_cint(stream_id, "stream_id"), target, len(target))
        if rc >= 0:
            return rc, rc
        if rc == _EAGAIN:
            return _EAGAIN_INTO_RESULT
        self._fail(rc)

    @_serialised_live
    def eof(self) -> bool:
        """True once the remote side has sent EOF."""
        return _lib.libssh2_channel_eof(self._ptr) != 0

    @_serialised
    def poll_channel_read(self, extended: int) -> int:
        """1 if data (``extended``: stderr) is waiting to be read, else 0. Deprecated upstream."""
        return self._check(_lib.libssh2_poll_channel_read(self._live(), _to_cint(extended, "extended")))

    # -- writing ----------------------------------------------------------------
    def write(self, buf: StrOrBytes) -> Tuple[int, int]:
        """Write all of ``buf`` to stdin: ``(rc, bytes_written)``.

        In non-blocking mode rc may be ``LIBSSH2_ERROR_EAGAIN`` with part of
        the data written (``bytes_written`` says how much); write the rest
        again later.
        """
        return self.write_ex(0, buf)

    def write_stderr(self, buf: StrOrBytes) -> Tuple[int, int]:
        """Write all of ``buf`` to the extended-data (stderr) stream."""
        return self.write_ex(_STDERR, buf)

    def write_ex(self, stream_id: int, buf: StrOrBytes) -> Tuple[int, int]:
        """Write all of ``buf`` to stream ``stream_id``: ``(rc, bytes_written)``."""
        rec = self._rec
        lock = rec.lock  # inline _serialised, as in read_ex
        if rec.blocking:
            if not lock.acquire(False):
                raise _busy_error()
        else:
            lock.acquire()
        try:
            if not rec.usable:
                rec.raise_unusable()
            if rec.callback_error is not None:
                rec.raise_callback_error()
            data = buf if type(buf) is bytes else _to_bytes(buf, "buf")
            relay = rec.relay
            if relay is not None:  # agent forwarding: see _waiting
                rc, total = self._write_relayed(relay, stream_id, data)
                if rc < 0 and rc != _EAGAIN:
                    self._fail(rc)
                return rc, total
            written = self._written
            try:
                rc = _write_all(self._ptr, stream_id, data, len(data), written)
            except (TypeError, OverflowError):  # cffi refused stream_id: say so
                rc = _write_all(self._ptr, _to_cint(stream_id, "stream_id"), data, len(data),
                                written)
            if rc < 0 and rc != _EAGAIN:
                self._fail(rc)
            return rc, written[0]
        finally:
            lock.release()

    def _write_relayed(self, relay: Any, stream_id: int, data: bytes) -> Tuple[int, int]:
        """write_ex's libssh2 call, run through the session's agent relay (lock held).

        Each attempt goes on from the bytes the previous ones wrote, so a
        retry after LIBSSH2_ERROR_EAGAIN never sends anything twice.
        """
        stream = _to_cint(stream_id, "stream_id")
        view = _ffi.from_buffer(data)
        written = self._written
        total = 0

        def attempt() -> int:
            nonlocal total
            rc: int = _write_all(self._ptr, stream, view + total, len(data) - total, written)
            total += written[0]
            return rc

        rc: int = relay._run_waiting(attempt)
        return rc, total

    def flush(self) -> int:
        """Discard unread stdout data; returns the number of bytes flushed."""
        return self.flush_ex(0)

    def flush_stderr(self) -> int:
        """Discard unread stderr data; returns the number of bytes flushed."""
        return self.flush_ex(_STDERR)

    @_serialised
    def flush_ex(self, stream_id: int) -> int:
        """Discard unread data of stream ``stream_id`` (0 stdout, 1 stderr,
        ``LIBSSH2_CHANNEL_FLUSH_ALL``...); returns the number of bytes flushed."""
        return self._check(_lib.libssh2_channel_flush_ex(
            self._live(), _to_cint(stream_id, "stream_id")))

    # -- end of stream and exit ------------------------------------------------
    @_serialised
    @_waits_for_peer
    def send_eof(self) -> int:
        """Tell the remote process there is no more input (its stdin ends)."""
        return self._check(_lib.libssh2_channel_send_eof(self._live()))

    @_serialised
    @_waits_for_peer
    def wait_eof(self) -> int:
        """Wait for the remote side's EOF (all output sent)."""
        return self._check(_lib.libssh2_channel_wait_eof(self._live()))

    @_serialised
    @_waits_for_peer
    def close(self) -> int:
        """Close the channel (send CHANNEL_CLOSE); use wait_closed() to wait for the reply."""
        return self._check(_lib.libssh2_channel_close(self._live()))

    @_serialised
    @_waits_for_peer
    def wait_closed(self) -> int:
        """Wait for the remote side to close the channel (exit status is then final).

        Raises ``InvalidRequestError`` when neither side has closed the
        channel nor sent EOF yet (call :meth:`close` first, or read until the
        end of the output).
        """
        return self._check(_lib.libssh2_channel_wait_closed(self._live()))

    def get_exit_status(self) -> int:
        """The remote command's exit status: an int, 0 if none was sent (yet).

        Final once :meth:`wait_closed` returned.  A command killed by a signal
        has no status: see :meth:`get_exit_signal`.
        """
        # libssh2 returns one field of the channel (never an error code): like
        # Session.block_directions(), no lock -- no I/O, nothing walked or
        # freed, and the channel's memory lives as long as this object.
        return _lib.libssh2_channel_get_exit_status(self._live())

    @_serialised
    def get_exit_signal(self) -> Tuple[int, Optional[bytes], Optional[bytes], Optional[bytes]]:
        """``(rc, signal, message, language)`` of a remote process killed by a signal.

        The signal name has no ``SIG`` prefix (``b'TERM'``); all three are None
        when the process was not signalled.  (ssh2-python always returns Nones.)
        """
        ptr = self._live()
        texts = _ffi.new("char *[3]")
        lengths = _ffi.new("size_t[3]")
        rc = _lib.libssh2_channel_get_exit_signal(ptr, texts, lengths, texts + 1,
                                                 lengths + 1, texts + 2, lengths + 2)
        values: List[Optional[bytes]] = []
        for index in range(3):
            text = texts[index]
            if text == _ffi.NULL:
                values.append(None)
            else:
                values.append(_ffi.unpack(text, lengths[index]))
                _lib.libssh2_free(self._rec.ptr, text)
        self._check(rc)
        return rc, values[0], values[1], values[2]

    # -- windows and extended data ----------------------------------------------
    @_serialised
    def window_read(self) -> int:
        """Bytes the remote side may still send before the window is adjusted."""
        return self._check(_lib.libssh2_channel_window_read_ex(
            self._live(), _ffi.NULL, _ffi.NULL))

    @_serialised
    def window_read_ex(self, read_avail: int, window_size_initial: int) -> int:
        """As window_read(); the arguments are accepted for ssh2-python compatibility."""
        avail = _ffi.new("unsigned long *", _to_cint(read_avail, "read_avail", "unsigned long"))
        initial = _ffi.new("unsigned long *", _to_cint(window_size_initial, "window_size_initial",
                                                       "unsigned long"))
        return self._check(_lib.libssh2_channel_window_read_ex(self._live(), avail, initial))

    @_serialised
    def window_write(self) -> int:
        """Bytes that may be written before the remote window is full."""
        return self._check(_lib.libssh2_channel_window_write_ex(self._live(), _ffi.NULL))

    @_serialised
    def window_write_ex(self, window_size_initial: int) -> int:
        """As window_write(); the argument is accepted for ssh2-python compatibility."""
        initial = _ffi.new("unsigned long *", _to_cint(window_size_initial, "window_size_initial",
                                                       "unsigned long"))
        return self._check(_lib.libssh2_channel_window_write_ex(self._live(), initial))

    @_serialised
    def receive_window_adjust(self, adjustment: int, force: bool = False) -> int:
        """Grow the receive window by ``adjustment`` bytes (older API; see receive_window_adjust2)."""
        return self._check(_lib.libssh2_channel_receive_window_adjust(
            self._live(), _to_cint(adjustment, "adjustment", "unsigned long"), bool(force)))

    @_serialised
    def receive_window_adjust2(self, adjustment: int, force: bool) -> int:
        """Grow the receive window by ``adjustment`` bytes."""
        store = _ffi.new("unsigned int *")
        return self._check(_lib.libssh2_channel_receive_window_adjust2(
            self._live(), _to_cint(adjustment, "adjustment", "unsigned long"), bool(force), store))

    @_serialised
    def handle_extended_data2(self, ignore_mode: int) -> int:
        """What to do with stderr: LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL, IGNORE or MERGE."""
        return self._check(_lib.libssh2_channel_handle_extended_data2(
            self._live(), _to_cint(ignore_mode, "ignore_mode")))

    def handle_extended_data(self, ignore_mode: int) -> None:
        """As handle_extended_data2, without a result (older API)."""
        self.handle_extended_data2(ignore_mode)

    def ignore_extended_data(self, ignore: bool) -> None:
        """Ignore stderr (True) or keep it readable (False) (older API)."""
        self.handle_extended_data2(_lib.LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE if ignore
                                   else _lib.LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL)
