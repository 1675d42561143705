"""``Session``: one SSH connection, as ssh2-python's ``ssh2.session``."""
import logging as _logging
import weakref as _weakref
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from . import exceptions
from ._channel_transport import ChannelTransport as _ChannelTransport
from ._convert import StrOrBytes
from ._convert import ssh_string as _ssh_string
from ._convert import to_bytes as _to_bytes
from ._convert import to_cstring as _to_cstring
from ._convert import to_path as _to_path
from ._convert import to_str as _to_str
from ._errors import EAGAIN as _EAGAIN
from ._errors import error_as as _error_as
from ._errors import needs_libssh2 as _needs_libssh2
from ._errors import running_libssh2_version as _running_libssh2_version
from ._errors import make_error as _make_error
from ._errors import session_message_bytes as _session_message_bytes
from ._ints import to_cint as _to_cint
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import SESSION_GC_SIZE as _SESSION_GC_SIZE
from ._lifetime import SessionBase as _SessionBase
from ._lifetime import SessionRecord as _SessionRecord
from ._stat import new_stat_buffer as _new_stat_buffer
from ._threads import operation as _operation
from ._threads import serialised as _serialised
from .agent import Agent as _Agent
from .agent_forwarding import AgentForwarding as _AgentForwarding
from .agent_forwarding import PathArgument as _PathArgument
from .channel import Channel as _Channel
from .fileinfo import FileInfo as _FileInfo
from .knownhost import KnownHost as _KnownHost
from .listener import Listener as _Listener
from .publickey import PublicKeySystem as _PublicKeySystem
from .sftp import SFTP as _SFTP
from .statinfo import StatInfo as _StatInfo

# The exceptions ssh2-python's session module re-exports as a side effect of its imports.
from .exceptions import (ChannelError, KnownHostError,  # noqa: F401
                         PublicKeyInitError, SessionHostKeyError)

# The call parallel-ssh makes most often (before every wait on the socket):
# a module-level name saves the lookup on ``lib`` (~20 ns on CPython).
_block_directions = _lib.libssh2_session_block_directions

LIBSSH2_SESSION_BLOCK_INBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_INBOUND
LIBSSH2_SESSION_BLOCK_OUTBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_OUTBOUND
LIBSSH2_HOSTKEY_HASH_MD5: int = _lib.LIBSSH2_HOSTKEY_HASH_MD5
LIBSSH2_HOSTKEY_HASH_SHA1: int = _lib.LIBSSH2_HOSTKEY_HASH_SHA1
LIBSSH2_HOSTKEY_HASH_SHA256: int = _lib.LIBSSH2_HOSTKEY_HASH_SHA256
LIBSSH2_HOSTKEY_TYPE_UNKNOWN: int = _lib.LIBSSH2_HOSTKEY_TYPE_UNKNOWN
LIBSSH2_HOSTKEY_TYPE_RSA: int = _lib.LIBSSH2_HOSTKEY_TYPE_RSA
LIBSSH2_HOSTKEY_TYPE_DSS: int = _lib.LIBSSH2_HOSTKEY_TYPE_DSS
LIBSSH2_HOSTKEY_TYPE_ECDSA_256: int = _lib.LIBSSH2_HOSTKEY_TYPE_ECDSA_256
LIBSSH2_HOSTKEY_TYPE_ECDSA_384: int = _lib.LIBSSH2_HOSTKEY_TYPE_ECDSA_384
LIBSSH2_HOSTKEY_TYPE_ECDSA_521: int = _lib.LIBSSH2_HOSTKEY_TYPE_ECDSA_521
LIBSSH2_HOSTKEY_TYPE_ED25519: int = _lib.LIBSSH2_HOSTKEY_TYPE_ED25519

# Digest length of each LIBSSH2_HOSTKEY_HASH_* type: libssh2 returns a bare pointer.
_HOSTKEY_HASH_LENGTHS = {LIBSSH2_HOSTKEY_HASH_MD5: 16, LIBSSH2_HOSTKEY_HASH_SHA1: 20,
                         LIBSSH2_HOSTKEY_HASH_SHA256: 32}


class MethodType:
    """A method (algorithm) type for ``methods``, ``method_pref`` and ``supported_algs``."""

    __slots__ = ("_value",)

    def __init__(self, value: int) -> None:
        self._value = int(value)

    def __repr__(self) -> str:
        return "MethodType(%d)" % self._value


class FlagType:
    """A session flag for ``Session.flag``."""

    __slots__ = ("_value",)

    def __init__(self, value: int) -> None:
        self._value = int(value)

    def __repr__(self) -> str:
        return "FlagType(%d)" % self._value


LIBSSH2_METHOD_KEX = MethodType(_lib.LIBSSH2_METHOD_KEX)
LIBSSH2_METHOD_HOSTKEY = MethodType(_lib.LIBSSH2_METHOD_HOSTKEY)
LIBSSH2_METHOD_CRYPT_CS = MethodType(_lib.LIBSSH2_METHOD_CRYPT_CS)
LIBSSH2_METHOD_CRYPT_SC = MethodType(_lib.LIBSSH2_METHOD_CRYPT_SC)
LIBSSH2_METHOD_MAC_CS = MethodType(_lib.LIBSSH2_METHOD_MAC_CS)
LIBSSH2_METHOD_MAC_SC = MethodType(_lib.LIBSSH2_METHOD_MAC_SC)
LIBSSH2_METHOD_COMP_CS = MethodType(_lib.LIBSSH2_METHOD_COMP_CS)
LIBSSH2_METHOD_COMP_SC = MethodType(_lib.LIBSSH2_METHOD_COMP_SC)
LIBSSH2_METHOD_LANG_CS = MethodType(_lib.LIBSSH2_METHOD_LANG_CS)
LIBSSH2_METHOD_LANG_SC = MethodType(_lib.LIBSSH2_METHOD_LANG_SC)
#: Signature algorithms for RSA user keys (``"rsa-sha2-512,rsa-sha2-256"``).
#: An ssh2cffi addition; libssh2 >= 1.11.0.
LIBSSH2_METHOD_SIGN_ALGO = MethodType(_lib.LIBSSH2_METHOD_SIGN_ALGO)

# Trace categories for Session.set_trace() (ssh2cffi additions), libssh2.h's values.
LIBSSH2_TRACE_TRANS: int = _lib.LIBSSH2_TRACE_TRANS
LIBSSH2_TRACE_KEX: int = _lib.LIBSSH2_TRACE_KEX
LIBSSH2_TRACE_AUTH: int = _lib.LIBSSH2_TRACE_AUTH
LIBSSH2_TRACE_CONN: int = _lib.LIBSSH2_TRACE_CONN
LIBSSH2_TRACE_SCP: int = _lib.LIBSSH2_TRACE_SCP
LIBSSH2_TRACE_SFTP: int = _lib.LIBSSH2_TRACE_SFTP
LIBSSH2_TRACE_ERROR: int = _lib.LIBSSH2_TRACE_ERROR
LIBSSH2_TRACE_PUBLICKEY: int = _lib.LIBSSH2_TRACE_PUBLICKEY
LIBSSH2_TRACE_SOCKET: int = _lib.LIBSSH2_TRACE_SOCKET
_TRACE_ALL = (LIBSSH2_TRACE_TRANS | LIBSSH2_TRACE_KEX | LIBSSH2_TRACE_AUTH | LIBSSH2_TRACE_CONN
              | LIBSSH2_TRACE_SCP | LIBSSH2_TRACE_SFTP | LIBSSH2_TRACE_ERROR
              | LIBSSH2_TRACE_PUBLICKEY | LIBSSH2_TRACE_SOCKET)
_trace_logger = _logging.getLogger("ssh2cffi.trace")
_logger = _logging.getLogger("ssh2cffi")
_trace_support: List[bool] = []  # filled once, by Session.trace_supported()

LIBSSH2_FLAG_SIGPIPE = FlagType(_lib.LIBSSH2_FLAG_SIGPIPE)
LIBSSH2_FLAG_COMPRESS = FlagType(_lib.LIBSSH2_FLAG_COMPRESS)
LIBSSH2_FLAG_QUOTE_PATHS = FlagType(_lib.LIBSSH2_FLAG_QUOTE_PATHS)
LIBSSH2_FLAG_SK_PRESENCE_REQUIRED = FlagType(_lib.LIBSSH2_SK_PRESENCE_REQUIRED)
LIBSSH2_FLAG_SK_VERIFICATION_REQUIRED = FlagType(_lib.LIBSSH2_SK_VERIFICATION_REQUIRED)

# ssh2-python accepts exactly these two flag objects (by identity, not value).
_SETTABLE_FLAGS = (LIBSSH2_FLAG_SIGPIPE, LIBSSH2_FLAG_COMPRESS)

KbdCallback = Callable[[bytes, bytes, List[str]], Sequence[StrOrBytes]]
SignCallback = Callable[[bytes], bytes]
_X11Callback = Callable[[_Channel, str, int], Any]
_AgentChannelCallback = Callable[[_Channel], Any]
IgnoreCallback = Callable[[bytes], Any]
DebugCallback = Callable[[bool, str, str], Any]
DisconnectCallback = Callable[[int, str, str], Any]


class _CallbackState:
    """What libssh2's callbacks reach through the session's abstract pointer.

    An exception raised inside a callback cannot cross C: ``keep_error``
    stores it in the session's record, and the session raises it (see
    ``SessionRecord.raise_callback_error``).
    """

    __slots__ = ("kbd_callback", "sign_callback", "x11_callback", "session",
                 "ignore_callback", "debug_callback", "disconnect_callback",
                 "authagent_callback")

    def __init__(self) -> None:
        self.kbd_callback: Optional[KbdCallback] = None
        self.sign_callback: Optional[SignCallback] = None
        self.x11_callback: Optional[_X11Callback] = None
        self.ignore_callback: Optional[IgnoreCallback] = None
        self.debug_callback: Optional[DebugCallback] = None
        self.disconnect_callback: Optional[DisconnectCallback] = None
        # Set by set_agent_forwarding_callback(), or an AgentForwarding's own.
        self.authagent_callback: Optional[_AgentChannelCallback] = None
        # The Session, weakly: callbacks reach its record through it, trace
        # lines and X11 channels name it.  Once it is gone (its pointer is
        # being freed), messages and X11 channels are dropped.
        self.session: Callable[[], Optional["Session"]] = lambda: None

    def failed(self) -> bool:
        """True while an exception a callback raised waits to be raised."""
        owner = self.session()
        return owner is not None and owner._rec.callback_error is not None

    def keep_error(self, exc: BaseException, what: str = "") -> None:
        """Store what a callback raised, for the session to raise.

        The authentication callbacks run inside the call that raises it.
        Message callbacks (``what`` names them) run inside whatever libssh2
        call reads the packet, often a read on a channel whose own result
        must not be lost: theirs are also logged, and raised by the next call
        on the session or one of its objects.  The first one is kept.
        """
        if what:
            try:
                _logger.error("the %s callback raised %r", what, exc)
            except BaseException:
                pass
        owner = self.session()
        if owner is not None and owner._rec.callback_error is None:
            owner._rec.callback_error = exc


def _unpack(ptr: Any, length: int) -> bytes:
    return _ffi.unpack(ptr, length) if ptr != _ffi.NULL and length > 0 else b""


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_kbdint_response(name: Any, name_len: int, instruction: Any,
                              instruction_len: int, num_prompts: int,
                              prompts: Any, responses: Any, abstract: Any) -> None:
    state = _ffi.from_handle(abstract[0])
    if state.kbd_callback is None or state.failed():
        return  # answered nothing: the server rejects the attempt
    try:
        length = _ffi.new("size_t *")
        texts = []
        for index in range(num_prompts):
            text = _lib.ssh2cffi_kbdint_prompt(prompts, index, length)
            texts.append(_to_str(_unpack(text, length[0])))
        answers = state.kbd_callback(_unpack(name, name_len),
                                     _unpack(instruction, instruction_len), texts)
        if len(answers) < num_prompts:
            raise ValueError("keyboard-interactive callback returned %d answers for "
                             "%d prompts" % (len(answers), num_prompts))
        for index in range(num_prompts):
            data = _to_bytes(answers[index], "keyboard-interactive answer")
            copy = _lib.ssh2cffi_memdup(data, len(data))
            if copy == _ffi.NULL:
                raise MemoryError("keyboard-interactive answer")
            _lib.ssh2cffi_kbdint_respond(responses, index, copy, len(data))
    except BaseException as exc:  # re-raised by the caller once C returns
        state.keep_error(exc)


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_sign(session: Any, sig: Any, sig_len: Any, data: Any,
                   data_len: int, abstract: Any) -> int:
    state = _ffi.from_handle(abstract[0])
    try:
        signature = state.sign_callback(_ffi.buffer(data, data_len)[:])
        if not isinstance(signature, bytes) or not signature:
            raise TypeError("sign_callback must return the signature as non-empty bytes")
        copy = _lib.ssh2cffi_memdup(signature, len(signature))
        if copy == _ffi.NULL:
            raise MemoryError("signature")
        sig[0] = _ffi.cast("unsigned char *", copy)
        sig_len[0] = len(signature)
        return 0
    except BaseException as exc:
        state.keep_error(exc)
        return -1


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_trace(session: Any, context: Any, message: Any, length: int) -> None:
    # Called by libssh2 for each trace line.  Nothing may escape into C.
    try:
        owner = _ffi.from_handle(context).session()
        if owner is None:
            return
        text = _ffi.unpack(message, length).decode("utf-8", "replace")
        _trace_logger.debug("%s", text, extra={"session": owner})
    except BaseException:  # a log line is not worth a crash
        pass


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_x11(session: Any, channel: Any, shost: Any, sport: int, abstract: Any) -> None:
    # libssh2 opened a forwarded X11 channel (inside some other libssh2 call).
    # Nothing may escape into C: a failing callable is logged.
    try:
        state = _ffi.from_handle(abstract[0])
        owner = state.session()
        callback = state.x11_callback
        if owner is None or callback is None:
            return  # libssh2 keeps the channel; it is freed with the session
        wrapped = _Channel._wrap(owner, channel)
        host = "" if shost == _ffi.NULL else _ffi.string(shost).decode("utf-8", "replace")
        callback(wrapped, host, int(sport))
    except BaseException:
        try:
            _logger.exception("the X11 callback raised")
        except BaseException:
            pass


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_authagent(session: Any, channel: Any, abstract: Any) -> None:
    # libssh2 (>= 1.11.0) accepted a forwarded agent channel, inside some other
    # libssh2 call.  Nothing may escape into C: what the callable raises is
    # kept for the program (_CallbackState.keep_error).
    state = None
    try:
        state = _ffi.from_handle(abstract[0])
        owner = state.session()
        callback = state.authagent_callback
        if owner is None or callback is None:
            return  # libssh2 keeps the channel; it is freed with the session
        callback(_Channel._wrap(owner, channel))
    except BaseException as exc:
        if state is not None:
            state.keep_error(exc, "agent forwarding")


def _text(ptr: Any, length: int) -> str:
    return _unpack(ptr, length).decode("utf-8", "replace")


def _ignore_data(payload: bytes) -> bytes:
    """SSH_MSG_IGNORE's data: libssh2 hands it over still an SSH string.
    Anything shorter than its length says is returned as it is."""
    data = _ssh_string(payload)
    return payload if data is None else data


def _message_callback_target(abstract: Any, name: str) -> Tuple[Any, Any]:
    """The callback state and its callable ``name``, or (state, None) once the Session is gone."""
    state = _ffi.from_handle(abstract[0])
    if state.session() is None:
        return state, None
    return state, getattr(state, name)


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_ignore(session: Any, data: Any, length: int, abstract: Any) -> None:
    state, callback = _message_callback_target(abstract, "ignore_callback")
    if callback is None:
        return
    try:
        callback(_ignore_data(_unpack(data, length)))
    except BaseException as exc:  # nothing may cross into C
        state.keep_error(exc, "ignore")


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_debug(session: Any, always_display: int, message: Any, message_len: int,
                    language: Any, language_len: int, abstract: Any) -> None:
    state, callback = _message_callback_target(abstract, "debug_callback")
    if callback is None:
        return
    try:
        callback(bool(always_display), _text(message, message_len),
                 _text(language, language_len))
    except BaseException as exc:
        state.keep_error(exc, "debug")


@_ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_disconnect(session: Any, reason: int, message: Any, message_len: int,
                         language: Any, language_len: int, abstract: Any) -> None:
    state, callback = _message_callback_target(abstract, "disconnect_callback")
    if callback is None:
        return
    try:
        callback(int(reason), _text(message, message_len), _text(language, language_len))
    except BaseException as exc:
        state.keep_error(exc, "disconnect")


def _socket_fd(sock: Any) -> int:
    """The file descriptor of an int or of an object with fileno(), as ssh2-python takes it."""
    if isinstance(sock, int):
        fd = sock
    elif hasattr(sock, "fileno"):
        fd = sock.fileno()
    else:
        raise TypeError("sock must be an int or have a fileno() method, not %s"
                        % type(sock).__name__)
    if not isinstance(fd, int):
        # ssh2-python's Cython cannot make a C int of it either: TypeError there too.
        raise TypeError("sock.fileno() must return an int, not %s" % type(fd).__name__)
    if fd < 0:
        raise ValueError("sock has no valid file descriptor (%r)" % (fd,))
    _to_cint(fd, "sock", "int")  # a descriptor is a C int: OverflowError naming sock
    return fd


def _method_value(method_type: object) -> int:
    if not isinstance(method_type, MethodType):
        raise TypeError("method_type must be a MethodType such as LIBSSH2_METHOD_KEX, not %s"
                        % type(method_type).__name__)
    if method_type._value == _SIGN_ALGO and not _lib.SSH2CFFI_HAS_METHOD_SIGN_ALGO:
        raise _needs_libssh2("LIBSSH2_METHOD_SIGN_ALGO", "1.11.0")
    return method_type._value


_SIGN_ALGO: int = _lib.LIBSSH2_METHOD_SIGN_ALGO


def _userauth_list_pending(session: "Session", result: Optional[List[str]]) -> bool:
    """userauth_list() returns None for EAGAIN as for a failure: libssh2's errno tells them apart."""
    return result is None and _lib.libssh2_session_last_errno(session._ptr) == _EAGAIN


class Session(_SessionBase):
    """An SSH session: handshake, authentication, channels.

    Sessions are blocking by default; after ``set_blocking(False)`` calls
    return ``LIBSSH2_ERROR_EAGAIN`` instead of waiting.  Usable as a context
    manager, which disconnects on exit.

    Return values and errors, for every method below: a call returns what
    its docstring says (0 for plain success); on a non-blocking session a call
    that would wait returns ``LIBSSH2_ERROR_EAGAIN`` instead, also in place of
    the object a method opens (wait with :func:`ssh2cffi.utils.wait_socket`
    and call again); method docstrings mention EAGAIN only where they differ.
    Any other libssh2 error raises the :mod:`ssh2cffi.exceptions` class of its
    code (for example ``AuthenticationError``, ``SocketDisconnectError``,
    ``Timeout``), whose message is libssh2's and whose ``errcode`` is the
    code.  Arguments given
    as str are encoded as UTF-8; a wrong type raises ``TypeError`` before
    libssh2 is called.
    """

    __slots__ = ("_sock", "_callbacks", "_kbd_callback_ref", "_transport", "__weakref__")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # ssh2-python ignores constructor arguments; so do we.
        self._callbacks = _CallbackState()
        self._callbacks.session = _weakref.ref(self)
        handle = _ffi.new_handle(self._callbacks)
        raw = _lib.libssh2_session_init_ex(_ffi.NULL, _ffi.NULL, _ffi.NULL, handle)
        if raw == _ffi.NULL:
            raise MemoryError("libssh2_session_init_ex failed")
        # The record keeps the handle: C holds it as the session's abstract pointer.
        rec = _SessionRecord(raw, keepalive=handle)
        self._adopt(rec, raw, rec.finaliser(), _SESSION_GC_SIZE)
        self._sock: Any = None
        self._kbd_callback_ref: Optional[KbdCallback] = None
        # Set by handshake(channel): the outer channel this session runs over.
        self._transport: Optional[_ChannelTransport] = None

    # -- helpers --------------------------------------------------------------
    def _check(self, rc: int) -> int:
        """handle_error_codes; a failed call raises first what a Python callback
        raised during it, with libssh2's error as its context (a call that
        succeeded returns, and the next call raises it: see _threads)."""
        if rc < 0 and rc != _EAGAIN:
            error = _make_error(rc, session_ptr=self._ptr)
            self._rec.raise_callback_error(error)
            raise error
        return rc

    def _null_result(self) -> int:
        """ssh2-python's result when libssh2 returned NULL: _EAGAIN, or an exception."""
        return self._check(_lib.libssh2_session_last_errno(self._ptr))

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._rec.usable and self._sock is not None:
            self.disconnect()

    # -- connection -----------------------------------------------------------
    @property
    def sock(self) -> Any:
        """The socket (or Channel) passed to ``handshake()``, or None before it."""
        return self._sock

    @property
    def _kbd_callback(self) -> Optional[KbdCallback]:
        return self._kbd_callback_ref

    @_operation("handshake")
    def handshake(self, sock: Any) -> int:
        """Start the SSH session on a connected socket: key exchange and host key.

        Args:
            sock: a connected TCP socket, as an int file descriptor or an
                object with ``fileno()``; the session keeps a reference to it.
                Or (an ssh2cffi addition) a :class:`~ssh2cffi.channel.Channel`
                of another, authenticated session, typically
                ``jump.direct_tcpip(host, 22)``: this session then runs over
                that channel (a jump host), and keeps it alive.  See
                :doc:`/jump-hosts`.

        Raises:
            TypeError: ``sock`` is None, has no ``fileno()``, or its
                ``fileno()`` does not return an int (as ssh2-python).
            ValueError: the descriptor is negative (a closed socket's -1).
            KeyExchangeError, KexFailureError: no common algorithms, or the
                key exchange failed.
            SocketDisconnectError, SocketRecvError, BannerRecvError: the
                server closed the connection or sent no SSH banner.
            Timeout: the session's timeout (``set_timeout``) passed.
        """
        if sock is None:
            raise TypeError("sock must not be None")
        if isinstance(sock, _Channel):
            return self._handshake_over(sock)
        fd = _socket_fd(sock)
        ptr = self._live()
        self._sock = sock
        self._rec.adopt_socket(sock, fd)
        return self._check(_lib.libssh2_session_handshake(ptr, fd))

    def _handshake_over(self, channel: _Channel) -> int:
        """handshake() over ``channel``, a channel of another session (see
        _channel_transport for how the bytes move)."""
        outer = channel.session
        if outer is self:
            raise ValueError("a session cannot run over one of its own channels")
        channel._live()  # a closed channel, or one of a disconnected session, raises
        # libssh2 waits on this descriptor when a blocking call must wait: the
        # outer session's socket (at the bottom of a chain of jump hosts).
        fd = outer._rec.fd
        ptr = self._live()
        transport = self._transport
        if transport is None:  # the first call (a non-blocking one is repeated)
            if self._sock is not None:
                raise exceptions.BadUseError("this session's handshake was started on a socket")
            transport = self._transport = _ChannelTransport(channel)
            self._sock = channel
            self._rec.adopt_transport(channel, fd)
            _lib.ssh2cffi_set_callback(ptr, _lib.SSH2CFFI_CALLBACK_SEND, 1)
            _lib.ssh2cffi_set_callback(ptr, _lib.SSH2CFFI_CALLBACK_RECV, 1)
        elif transport.channel is not channel:
            raise exceptions.BadUseError("this session runs over another channel")
        return self._check(_lib.libssh2_session_handshake(ptr, fd))

    @_operation("disconnect")
    def disconnect(self) -> int:
        """Send SSH_MSG_DISCONNECT; afterwards every channel of this session raises.

        Returns 0 without sending anything when the session never connected
        or is already disconnected.
        """
        rec = self._rec
        if not rec.usable:
            return 0
        if self._sock is None:  # never connected: nothing to say goodbye to
            return 0
        rc = _lib.libssh2_session_disconnect_ex(
            self._ptr, _lib.SSH_DISCONNECT_BY_APPLICATION, b"end", b"")
        if rc == _EAGAIN:
            return rc
        rec.mark_disconnected()  # even if saying goodbye failed: the peer is gone
        if rec.relay is not None:  # its channels are gone: it lets the agent sockets go
            rec.relay._session_ended()
        return self._check(rc)

    @_serialised
    def set_blocking(self, blocking: bool) -> None:
        """Blocking (True, the default) or non-blocking mode for all calls."""
        blocking = bool(blocking)
        _lib.libssh2_session_set_blocking(self._ptr, blocking)
        self._rec.blocking = blocking

    def get_blocking(self) -> bool:
        """True when the session is in blocking mode (the default)."""
        return bool(_lib.libssh2_session_get_blocking(self._ptr))

    @_serialised
    def set_timeout(self, timeout: int) -> None:
        """Time limit for blocking calls in milliseconds (0: none); past it they raise Timeout."""
        _lib.libssh2_session_set_timeout(self._ptr, _to_cint(timeout, "timeout", "long"))

    def get_timeout(self) -> int:
        """The timeout of blocking calls in milliseconds (0: none), as set by ``set_timeout``."""
        return _lib.libssh2_session_get_timeout(self._ptr)

    def block_directions(self) -> int:
        """Bitmask of LIBSSH2_SESSION_BLOCK_INBOUND/OUTBOUND the last EAGAIN waited on.

        For a session running over a channel (``handshake(channel)``): what to
        wait for on the outer session's socket, or 0 when the outer session
        already holds data for this session (call again without waiting).
        """
        transport = self._transport
        if transport is None:
            return _block_directions(self._ptr)
        return transport.block_directions(_block_directions(self._ptr))

    @_serialised
    def flag(self, flag: FlagType, enabled: bool = True) -> None:
        """Set LIBSSH2_FLAG_SIGPIPE or LIBSSH2_FLAG_COMPRESS (before handshake)."""
        if not isinstance(flag, FlagType):
            raise TypeError("flag must be a FlagType, not %s" % type(flag).__name__)
        if not any(flag is allowed for allowed in _SETTABLE_FLAGS):
            raise ValueError("Provided flag must be one of LIBSSH2_FLAG_SIGPIPE or "
                             "LIBSSH2_FLAG_COMPRESS - got %r" % (flag,))
        self._check(_lib.libssh2_session_flag(self._ptr, flag._value, bool(enabled)))

    # -- authentication -------------------------------------------------------
    def userauth_authenticated(self) -> bool:
        """True once an authentication succeeded on this session."""
        return bool(_lib.libssh2_userauth_authenticated(self._ptr))

    @_operation("userauth", would_block=None, pending=_userauth_list_pending)
    def userauth_list(self, username: StrOrBytes) -> Optional[List[str]]:
        """Authentication methods the server offers, or None.

        None when already authenticated, when the request failed (no
        exception), and also, instead of ``LIBSSH2_ERROR_EAGAIN``, when a
        non-blocking call would wait.
        """
        user = _to_bytes(username, "username")
        methods = _lib.libssh2_userauth_list(self._live(), user, len(user))
        if methods == _ffi.NULL:
            return None
        return _to_str(_ffi.string(methods)).split(",")

    @_operation("userauth")
    def userauth_password(self, username: StrOrBytes, password: StrOrBytes) -> int:
        """Authenticate ``username`` with ``password`` (str or bytes).

        Raises:
            AuthenticationError: the server refused the password (message
                ``Authentication failed (username/password)``).
            PasswordExpiredError: the password must be changed first.
        """
        user = _to_bytes(username, "username")
        secret = _to_bytes(password, "password")
        return self._check(_lib.libssh2_userauth_password_ex(
            self._live(), user, len(user), secret, len(secret), _ffi.NULL))

    @_operation("userauth")
    def userauth_publickey_fromfile(self, username: StrOrBytes, privatekey: Any,
                                    passphrase: StrOrBytes = "",
                                    publickey: Any = None) -> int:
        """Authenticate with a private key file (and optionally its public key file).

        Args:
            username: the user to log in as.
            privatekey: path of the private key (str, bytes or os.PathLike).
            passphrase: the key's passphrase; ``""`` for an unencrypted key.
            publickey: path of the public key; None lets libssh2 derive it
                from the private key.

        Raises:
            AuthenticationError: the server refused the key.
            FileError: the key file cannot be read or decrypted (wrong
                passphrase, unsupported format).
            PublickeyUnverifiedError: the signature was not made or not
                verified: libssh2 could not sign with the key (libssh2 1.10
                with an ed25519 or RSA certificate), or the server refused it.
        """
        user = _to_bytes(username, "username")
        public = _ffi.NULL if publickey is None else _to_path(publickey, "publickey")
        return self._check(_lib.libssh2_userauth_publickey_fromfile_ex(
            self._live(), user, len(user), public, _to_path(privatekey, "privatekey"),
            _to_cstring(passphrase, "passphrase")))

    @_operation("userauth")
    def userauth_publickey_frommemory(self, username: StrOrBytes,
                                      privatekeyfiledata: bytes,
                                      passphrase: StrOrBytes = "",
                                      publickeyfiledata: Optional[bytes] = None) -> int:
        """Authenticate with a private key held in memory (the key file's contents).

        Args:
            username: the user to log in as.
            privatekeyfiledata: the private key file's contents, bytes.
            passphrase: the key's passphrase; ``""`` for an unencrypted key.
            publickeyfiledata: the public key file's contents, or None.

        Raises:
            TypeError: the key data is not bytes.
            AuthenticationError, FileError, PublickeyUnverifiedError: as
                :meth:`userauth_publickey_fromfile`.
        """
        user = _to_bytes(username, "username")
        if not isinstance(privatekeyfiledata, bytes):
            raise TypeError("privatekeyfiledata must be bytes, not %s"
                            % type(privatekeyfiledata).__name__)
        if publickeyfiledata is None:
            public, public_len = _ffi.NULL, 0
        elif isinstance(publickeyfiledata, bytes):
            public, public_len = publickeyfiledata, len(publickeyfiledata)
        else:
            raise TypeError("publickeyfiledata must be bytes or None, not %s"
                            % type(publickeyfiledata).__name__)
        return self._check(_lib.libssh2_userauth_publickey_frommemory(
            self._live(), user, len(user), public, public_len, privatekeyfiledata,
            len(privatekeyfiledata), _to_cstring(passphrase, "passphrase")))

    @_operation("userauth")
    def userauth_publickey(self, username: StrOrBytes, pubkeydata: bytes,
                           sign_callback: Optional[SignCallback] = None) -> int:
        """Authenticate with a public key blob, signing with ``sign_callback``.

        ``pubkeydata`` is the key in SSH wire format (the base64-decoded middle
        of a ``.pub`` line).  ``sign_callback(data: bytes) -> bytes`` returns
        the raw signature of ``data`` (an ssh2cffi addition: ssh2-python passes
        no signer to libssh2, which then crashes once the server accepts the key).

        Raises:
            TypeError: ``pubkeydata`` is not bytes or ``sign_callback`` is
                not callable (it is required here).
            AuthenticationError: the server refused the key or the signature.
            Exception: whatever ``sign_callback`` raised, re-raised once
                libssh2 returns.
        """
        user = _to_bytes(username, "username")
        if not isinstance(pubkeydata, bytes):
            raise TypeError("pubkeydata must be bytes, not %s" % type(pubkeydata).__name__)
        if not callable(sign_callback):
            raise TypeError("userauth_publickey needs sign_callback(data) -> signature; "
                            "to authenticate with a key file use userauth_publickey_fromfile "
                            "or userauth_publickey_frommemory")
        state = self._callbacks
        abstract = _ffi.new("void **", self._rec.keepalive)
        state.sign_callback = sign_callback
        try:
            rc = _lib.libssh2_userauth_publickey(self._live(), user, pubkeydata,
                                                len(pubkeydata), _lib._ssh2cffi_sign, abstract)
        finally:
            state.sign_callback = None
        return self._check(rc)

    @_operation("userauth")
    def userauth_hostbased_fromfile(self, username: StrOrBytes, privatekey: Any,
                                    hostname: StrOrBytes, publickey: Any = None,
                                    passphrase: StrOrBytes = "") -> int:
        """Host-based authentication: log in ``username`` as vouched for by this host's key.

        Args:
            username: the user to log in as (also sent as the local user).
            privatekey: path of the client host's private key.
            hostname: this client's host name, as the server knows it.
            publickey: path of the host's public key, or None.
            passphrase: the private key's passphrase.

        Raises:
            AuthenticationError: the server refused (see the README for
                libssh2's limits: no ed25519 host keys, ``ssh-rsa`` signatures).
            FileError: the key file cannot be read.
        """
        user = _to_bytes(username, "username")
        host = _to_bytes(hostname, "hostname")
        public = _ffi.NULL if publickey is None else _to_path(publickey, "publickey")
        return self._check(_lib.libssh2_userauth_hostbased_fromfile_ex(
            self._live(), user, len(user), public, _to_path(privatekey, "privatekey"),
            _to_cstring(passphrase, "passphrase"), host, len(host), user, len(user)))

    def userauth_keyboardinteractive(self, username: StrOrBytes,
                                     password: StrOrBytes) -> int:
        """Keyboard-interactive authentication answering ``password`` to every prompt.

        Raises ``AuthenticationError`` when the server does not accept the
        answers.
        """
        return self.userauth_keyboardinteractive_callback(
            username, lambda name, instruction, prompts: [password] * len(prompts))

    @_operation("userauth")
    def userauth_keyboardinteractive_callback(self, username: StrOrBytes,
                                              callback: KbdCallback) -> int:
        """Keyboard-interactive authentication.

        ``callback(name: bytes, instruction: bytes, prompts: list[str])`` is
        called each time the server asks, and returns one answer (str or
        bytes) per prompt.  An exception it raises propagates.

        Raises:
            TypeError: ``callback`` is not callable.
            ValueError: the callback returned fewer answers than prompts.
            AuthenticationError: the server did not accept the answers.
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        user = _to_bytes(username, "username")
        state = self._callbacks
        state.kbd_callback = self._kbd_callback_ref = callback
        try:
            rc = _lib.libssh2_userauth_keyboard_interactive_ex(
                self._live(), user, len(user), _lib._ssh2cffi_kbdint_response)
        finally:
            state.kbd_callback = self._kbd_callback_ref = None
        return self._check(rc)

    # -- channels -------------------------------------------------------------
    @_operation("channel")
    def open_session(self) -> Union[_Channel, int]:
        """Open a new session channel (for execute, shell, subsystem, ...).

        Returns:
            a :class:`~ssh2cffi.channel.Channel`.

        Raises:
            ChannelFailure: the server refused the channel (``MaxSessions``).
            SocketDisconnectError: the session is disconnected.
        """
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_channel_open_ex(
            ptr, b"session", 7, _lib.LIBSSH2_CHANNEL_WINDOW_DEFAULT,
            _lib.LIBSSH2_CHANNEL_PACKET_DEFAULT, _ffi.NULL, 0)
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw)

    @_operation("channel")
    def sftp_init(self) -> Union[_SFTP, int]:
        """Start an SFTP session: returns an :class:`~ssh2cffi.sftp.SFTP` object."""
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_sftp_init(ptr)
        if raw == _ffi.NULL:
            return self._null_result()
        return _SFTP._wrap(self, raw)

    # -- SCP --------------------------------------------------------------------
    @_operation("channel")
    def scp_recv2(self, path: StrOrBytes) -> Union[Tuple[_Channel, _FileInfo], int]:
        """Start receiving ``path`` with SCP: ``(channel, FileInfo)``; read the data from the channel.

        Read exactly ``FileInfo.st_size`` bytes, then the server's ``b"\\0"``,
        answer with ``write(b"\\0")`` and close.  Raises ``SCPProtocolError``
        when the server's scp refuses (no such file, ...).
        """
        name = _to_cstring(path, "path")
        ptr = self._live()
        self._rec.drain()
        stat = _new_stat_buffer()
        raw = _lib.libssh2_scp_recv2(ptr, name, _ffi.cast("libssh2_struct_stat *", stat))
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw), _FileInfo._from_buffer(stat)

    @_operation("channel")
    def scp_recv(self, path: StrOrBytes) -> Union[Tuple[_Channel, _StatInfo], int]:
        """Older form of scp_recv2: ``(channel, StatInfo)``."""
        name = _to_cstring(path, "path")
        ptr = self._live()
        self._rec.drain()
        stat = _new_stat_buffer()
        raw = _lib.libssh2_scp_recv(ptr, name, _ffi.cast("struct stat *", stat))
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw), _StatInfo._from_buffer(stat)

    @_operation("channel")
    def scp_send64(self, path: StrOrBytes, mode: int, size: int, mtime: int,
                   atime: int) -> Union[_Channel, int]:
        """Start sending a file of ``size`` bytes to ``path`` with SCP; write the data to the channel.

        Args:
            path: the remote file to create or replace.
            mode: its permission bits (e.g. ``0o644``).
            size: the exact number of bytes that will be written.
            mtime, atime: modification and access times (seconds since the epoch).

        Returns:
            a :class:`~ssh2cffi.channel.Channel` to write the data to, then
            ``b"\\0"``, ``send_eof()``, ``wait_eof()``, ``wait_closed()`` (see
            the README on SCP).

        Raises:
            SCPProtocolError: the server's scp refused (no such directory,
                permission denied; libssh2's message quotes the server).
        """
        name = _to_cstring(path, "path")
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_scp_send64(
            ptr, name, _to_cint(mode, "mode"), _to_cint(size, "size", "long"),
            _to_cint(mtime, "mtime", "long"), _to_cint(atime, "atime", "long"))
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw)

    def scp_send(self, path: StrOrBytes, mode: int, size: int) -> Union[_Channel, int]:
        """Older form of scp_send64, without times."""
        return self.scp_send64(path, mode, size, 0, 0)

    # -- forwarding ---------------------------------------------------------------
    @_operation("channel")
    def direct_tcpip_ex(self, host: StrOrBytes, port: int, shost: StrOrBytes,
                        sport: int) -> Union[_Channel, int]:
        """A channel to ``host``:``port`` as seen from the server (local port forwarding).

        ``shost``:``sport`` is what the server is told the connection comes
        from.  Returns the Channel.
        """
        target = _to_cstring(host, "host")
        source = _to_cstring(shost, "shost")
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_channel_direct_tcpip_ex(ptr, target, _to_cint(port, "port"), source,
                                                   _to_cint(sport, "sport"))
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw)

    def direct_tcpip(self, host: StrOrBytes, port: int) -> Union[_Channel, int]:
        """direct_tcpip_ex() from 127.0.0.1 port 22, as libssh2's macro."""
        return self.direct_tcpip_ex(host, port, "127.0.0.1", 22)

    @_operation("channel")
    def direct_streamlocal_ex(self, socket_path: StrOrBytes, shost: StrOrBytes,
                              sport: int) -> Union[_Channel, int]:
        """A channel to the Unix socket ``socket_path`` on the server. Needs libssh2 >= 1.11.0."""
        path = _to_cstring(socket_path, "socket_path")
        source = _to_cstring(shost, "shost")
        if not _lib.SSH2CFFI_HAS_DIRECT_STREAMLOCAL:
            raise _needs_libssh2("Session.direct_streamlocal_ex", "1.11.0")
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_channel_direct_streamlocal_ex(ptr, path, source,
                                                         _to_cint(sport, "sport"))
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._wrap(self, raw)

    @_operation("global_request", would_block=_EAGAIN)
    def forward_listen(self, port: int) -> Union[_Listener, int]:
        """Ask the server to listen on ``port`` on all its addresses and forward to us.

        Returns a Listener (queue of 16 connections).
        """
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_channel_forward_listen_ex(ptr, _ffi.NULL, _to_cint(port, "port"),
                                                     _ffi.NULL, 16)
        if raw == _ffi.NULL:
            return self._null_result()
        return _Listener._wrap(self, raw)

    @_operation("global_request", would_block=(_EAGAIN, 0))
    def forward_listen_ex(self, queue_maxsize: int, host: Optional[StrOrBytes] = None,
                          port: int = 0) -> Tuple[Union[_Listener, int], int]:
        """Ask the server to listen on ``host``:``port`` (port 0: any free port) and forward to us.

        Returns ``(Listener, bound_port)``, bound_port being the port the
        server chose; ``(LIBSSH2_ERROR_EAGAIN, 0)`` in non-blocking mode.
        ``host`` None listens on all the server's addresses.
        """
        address = _ffi.NULL if host is None else _to_cstring(host, "host")
        ptr = self._live()
        self._rec.drain()
        bound = _ffi.new("int *")
        raw = _lib.libssh2_channel_forward_listen_ex(ptr, address, _to_cint(port, "port"), bound,
                                                     _to_cint(queue_maxsize, "queue_maxsize"))
        if raw == _ffi.NULL:
            return self._null_result(), 0
        return _Listener._wrap(self, raw), int(bound[0])

    # -- agent, known hosts, publickey subsystem ------------------------------------------
    @_serialised
    def agent_init(self) -> _Agent:
        """An Agent for this session, not yet connected (see ssh2cffi.agent)."""
        return _Agent(self)

    @_serialised
    def agent_auth(self, username: StrOrBytes) -> None:
        """Authenticate ``username`` with the first key of the SSH agent the server accepts.

        The agent is found through SSH_AUTH_SOCK.  Raises
        ``AgentConnectionError`` (no agent), ``AgentListIdentitiesError``,
        ``AgentGetIdentityError``, or ``AgentAuthenticationError`` when no key
        is accepted (also for an empty agent).

        Blocking sessions only: on a non-blocking session it raises
        ``AgentAuthenticationError``, as ssh2-python does (there every key's
        attempt returns EAGAIN); use agent_init() and Agent.userauth() instead.
        """
        user = _to_cstring(username, "username")
        self._live()
        agent = _Agent(self)
        try:
            agent.connect()
            keys = agent.get_identities()
            if not self._rec.blocking:
                # Not tried: an attempt that returns EAGAIN leaves libssh2's
                # userauth state half-way, which would confuse the next attempt.
                raise exceptions.AgentAuthenticationError(
                    "agent_auth needs a blocking session; in non-blocking mode use "
                    "agent_init() and Agent.userauth() for each key")
            refusals = []
            for key in keys:
                try:
                    agent.userauth(user, key)
                    return None
                except exceptions.AgentAuthenticationError as exc:
                    refusals.append("%s: %s" % (key.comment.decode("utf-8", "replace")
                                                if key.comment else "key", exc))
            detail = ("the agent holds no keys" if not refusals
                      else "%d key(s) refused; last: %s" % (len(refusals), refusals[-1]))
            raise exceptions.AgentAuthenticationError(
                "No identities match for user %s (%s)" % (user.decode("utf-8", "replace"),
                                                          detail))
        finally:
            agent._free()

    @_serialised
    def knownhost_init(self) -> _KnownHost:
        """An empty known-hosts collection (see ssh2cffi.knownhost); needs no connection."""
        return _KnownHost(self)

    @_operation("channel")
    def publickey_init(self) -> Union[_PublicKeySystem, int]:
        """Start the publickey subsystem (RFC 4819) on a new channel.

        Raises ``PublicKeyInitError`` when the server does not offer it.
        """
        ptr = self._live()
        self._rec.drain()
        raw = _lib.libssh2_publickey_init(ptr)
        if raw == _ffi.NULL:
            rc = _lib.libssh2_session_last_errno(ptr)
            if rc == _EAGAIN:
                return rc
            if rc == 0:
                # libssh2 records CHANNEL_FAILURE when the server refuses the
                # subsystem, then loses it while closing the channel.
                raise _error_as(PublicKeyInitError, "Unable to start the publickey subsystem: "
                                "the server refused it or ended the exchange",
                                _lib.LIBSSH2_ERROR_CHANNEL_FAILURE)
            raise _error_as(PublicKeyInitError, "Unable to start the publickey subsystem",
                            rc, ptr)
        return _PublicKeySystem._wrap(self, raw)

    # -- host key and algorithms ----------------------------------------------
    @_serialised
    def hostkey(self) -> Tuple[bytes, int]:
        """The server's host key: ``(key_blob, LIBSSH2_HOSTKEY_TYPE_*)``."""
        length = _ffi.new("size_t *")
        key_type = _ffi.new("int *")
        key = _lib.libssh2_session_hostkey(self._ptr, length, key_type)
        if key == _ffi.NULL:
            raise SessionHostKeyError("Error retrieving server host key for session")
        return _ffi.unpack(key, length[0]), int(key_type[0])

    @_serialised
    def hostkey_hash(self, hash_type: int) -> Optional[bytes]:
        """The host key's MD5 (16 bytes), SHA1 (20) or SHA256 (32) digest, or None."""
        if not isinstance(hash_type, int):   # as ssh2-python's C int parameter
            raise TypeError("hash_type must be an int, not %s" % type(hash_type).__name__)
        size = _HOSTKEY_HASH_LENGTHS.get(hash_type)
        if size is None:
            raise ValueError("hash_type must be one of LIBSSH2_HOSTKEY_HASH_MD5, _SHA1 or "
                             "_SHA256, not %r" % (hash_type,))
        digest = _lib.libssh2_hostkey_hash(self._ptr, hash_type)
        if digest == _ffi.NULL:
            return None
        return bytes(_ffi.unpack(digest, size))

    @_serialised
    def methods(self, method_type: MethodType) -> Optional[str]:
        """The algorithm negotiated for ``method_type``; None before the handshake."""
        value = _method_value(method_type)
        if not self._sock:
            return None
        name = _lib.libssh2_session_methods(self._ptr, value)
        if name == _ffi.NULL:
            return None
        return _to_str(_ffi.string(name))

    @_serialised
    def method_pref(self, method_type: MethodType, prefs: StrOrBytes) -> int:
        """Set the preferred algorithms (comma-separated) for ``method_type``; before handshake."""
        value = _method_value(method_type)
        return self._check(_lib.libssh2_session_method_pref(
            self._ptr, value, _to_cstring(prefs, "prefs")))

    @_serialised
    def supported_algs(self, method_type: MethodType) -> List[str]:
        """Algorithms this libssh2 supports for ``method_type``."""
        value = _method_value(method_type)
        if value == _SIGN_ALGO:
            return []  # libssh2 keeps no list: the crypto backend decides per key
        algs = _ffi.new("const char ***")
        count = _lib.libssh2_session_supported_algs(self._ptr, value, algs)
        if count < 0:
            self._check(count)
        if count <= 0:
            return []
        try:
            return [_to_str(_ffi.string(algs[0][i])) for i in range(count)]
        finally:
            _lib.libssh2_free(self._ptr, algs[0])

    # -- keepalive --------------------------------------------------------------
    @_serialised
    def keepalive_config(self, want_reply: bool, interval: int) -> None:
        """Send keepalives every ``interval`` seconds (0 disables)."""
        interval = _to_cint(interval, "interval", "unsigned int")
        _lib.libssh2_keepalive_config(self._ptr, bool(want_reply), interval)

    @_operation("global_request")
    def keepalive_send(self) -> int:
        """Send a keepalive if due; returns the seconds until the next one is due."""
        seconds = _ffi.new("int *")
        self._check(_lib.libssh2_keepalive_send(self._live(), seconds))
        return int(seconds[0])

    # -- errors -----------------------------------------------------------------
    @_serialised
    def last_error(self, msg_size: int = 1024) -> str:
        """libssh2's message for the last error, '' when there is none.

        ``msg_size`` is accepted for ssh2-python's signature and not needed:
        libssh2 hands out its own copy of the text.
        """
        # Decoded strictly, as ever (invalid UTF-8 raises UnicodeDecodeError);
        # exception messages use _errors.session_message, which replaces.
        return _to_str(_session_message_bytes(self._ptr))

    @_serialised
    def last_errno(self) -> int:
        """libssh2's code for the last error on this session (0: none; LIBSSH2_ERROR_*)."""
        return _lib.libssh2_session_last_errno(self._ptr)

    @_serialised
    def set_last_error(self, errcode: int, errmsg: StrOrBytes) -> int:
        """Record ``errcode`` and ``errmsg`` as the session's last error; returns ``errcode``."""
        return _lib.libssh2_session_set_last_error(
            self._ptr, _to_cint(errcode, "errcode"), _to_cstring(errmsg, "errmsg"))

    # -- ssh2cffi additions: banners, trace output, X11 forwarding -----------------
    @_serialised
    def banner_set(self, banner: StrOrBytes) -> int:
        """Set the identification line sent in the handshake (call before ``handshake()``).

        ``banner`` is the whole line without CR LF, ``SSH-2.0-`` followed by
        the software name, e.g. ``"SSH-2.0-myclient_1.0"`` (RFC 4253 4.2: at
        most 253 characters here).  An ssh2cffi addition.
        """
        line = _to_cstring(banner, "banner")
        if not line.startswith(b"SSH-2.0-") or len(line) <= 8:
            raise ValueError("banner must start with 'SSH-2.0-' followed by a software name")
        if len(line) > 253 or b"\r" in line or b"\n" in line:
            raise ValueError("banner must be one line of at most 253 characters")
        return self._check(_lib.libssh2_session_banner_set(self._ptr, line))

    @_serialised
    def banner_get(self) -> Optional[str]:
        """The server's identification line (``"SSH-2.0-OpenSSH_9.2p1 ..."``), or None
        before the handshake.  An ssh2cffi addition."""
        line = _lib.libssh2_session_banner_get(self._ptr)
        if line == _ffi.NULL:
            return None
        return str(_ffi.string(line).decode("utf-8", "replace"))

    @_serialised
    def userauth_banner(self) -> Optional[str]:
        """The server's user-authentication banner (SSH_MSG_USERAUTH_BANNER), or None.

        libssh2 records the banner while ``userauth_list()`` asks the server
        for its methods, so call that first.  None when the server sent no
        banner.  An ssh2cffi addition; needs libssh2 >= 1.11.0 (older
        builds raise NotImplementedError).
        """
        if not _lib.SSH2CFFI_HAS_USERAUTH_BANNER:
            raise _needs_libssh2("Session.userauth_banner", "1.11.0")
        text = _ffi.new("char **")
        rc = _lib.libssh2_userauth_banner(self._ptr, text)
        if rc == _lib.LIBSSH2_ERROR_MISSING_USERAUTH_BANNER or text[0] == _ffi.NULL:
            return None
        self._check(rc)
        return str(_ffi.string(text[0]).decode("utf-8", "replace"))

    @staticmethod
    def trace_supported() -> bool:
        """True when the linked libssh2 was built with debug logging (trace output).

        Debian's libssh2 packages are built without it.  An ssh2cffi addition.
        """
        if not _trace_support:
            found = _lib.ssh2cffi_trace_supported()
            if found < 0:
                raise MemoryError("libssh2_session_init_ex failed")
            _trace_support.append(bool(found))
        return _trace_support[0]

    @_serialised
    def set_trace(self, bitmask: int) -> None:
        """Send libssh2's trace lines for the LIBSSH2_TRACE_* categories in ``bitmask``
        to the ``logging`` logger ``"ssh2cffi.trace"`` (level DEBUG); -1 sends all of
        them, 0 none.

        Each record has a ``session`` attribute, this Session.  Raises
        NotImplementedError when libssh2 was built without debug logging (see
        ``trace_supported()``).  An ssh2cffi addition.
        """
        mask = _to_cint(bitmask, "bitmask")
        if mask & _TRACE_ALL and not self.trace_supported():
            raise NotImplementedError(
                "libssh2 %s was built without debug logging (LIBSSH2DEBUG), so it has no "
                "trace output; build libssh2 with -DENABLE_DEBUG_LOGGING=ON"
                % _running_libssh2_version())
        # The context is the session's callback-state handle, which the
        # session record keeps alive as long as the LIBSSH2_SESSION.
        _lib.libssh2_trace_sethandler(self._ptr, self._rec.keepalive, _lib._ssh2cffi_trace)
        _lib.libssh2_trace(self._ptr, mask)

    @_serialised
    def set_x11_callback(self, callback: Optional[_X11Callback]) -> None:
        """Accept forwarded X11 connections: ``callback(channel, host, port)`` gets each one.

        After ``Channel.x11_req()``, each X11 client the server forwards
        arrives as a new Channel, during whatever libssh2 call reads the
        server's packets (often a ``read()`` on another channel).  The callable
        gets that Channel and the X11 client's address, and should only keep
        the channel (for example in a list) for the program to serve later:
        calling into this session from inside the callback is not allowed.
        An exception it raises is logged to the ``"ssh2cffi"`` logger.
        ``None`` refuses X11 connections again (libssh2's default).
        An ssh2cffi addition.
        """
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        self._callbacks.x11_callback = callback
        _lib.ssh2cffi_set_callback(self._ptr, _lib.SSH2CFFI_CALLBACK_X11, callback is not None)

    @_serialised
    def set_agent_forwarding_callback(self, callback: Optional[_AgentChannelCallback]) -> None:
        """Accept forwarded agent connections: ``callback(channel)`` gets each one.

        The low-level form of :meth:`forward_agent`, for programs that serve
        the agent protocol themselves.  After ``Channel.request_auth_agent()``,
        each connection a remote program makes to its ``SSH_AUTH_SOCK``
        arrives as a new Channel (``auth-agent@openssh.com``), during
        whatever libssh2 call reads the server's packets.  The callable
        should only keep the channel for the program to serve (read the
        agent requests, write the answers, close it): calling into this
        session from inside the callback is not allowed, and nothing relays
        the channel but the program.  An exception it raises is logged to the
        ``"ssh2cffi"`` logger and raised by the session's next call.

        ``None`` refuses forwarded agent connections: they are accepted and
        closed at once, inside the Channel calls that wait, so the remote
        program gets an error.  (libssh2 1.11.1's own refusal is a malformed
        message that makes sshd drop the connection: see
        :doc:`/agent-forwarding`.)

        Raises:
            TypeError: ``callback`` is neither callable nor None.
            BadUseError: an :class:`~ssh2cffi.agent_forwarding.AgentForwarding`
                serves this session (close it first).
            NotImplementedError: libssh2 < 1.11.0, which never answers
                these channels (see :doc:`/agent-forwarding`).

        An ssh2cffi addition; needs libssh2 >= 1.11.0.
        """
        if not _lib.SSH2CFFI_HAS_AUTHAGENT_CALLBACK:
            raise _needs_libssh2("Session.set_agent_forwarding_callback", "1.11.0")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        relay = self._rec.relay
        if relay is not None and not relay._closing:
            raise exceptions.BadUseError(
                "an AgentForwarding serves this session's forwarded agent connections; "
                "close() it first")
        if callback is None:
            if relay is None and self._callbacks.authagent_callback is not None:
                self._refuse_agent_connections(replace=True)
            return
        if relay is not None:
            relay._detach()  # a refuser: the program's callback serves them now
        self._set_authagent(callback)

    @_serialised
    def forward_agent(self, path: Optional[_PathArgument] = None) -> _AgentForwarding:
        """Forward the local SSH agent: relay each agent connection the server
        forwards to the agent's Unix socket, ``path`` or ``$SSH_AUTH_SOCK``.

        Then call ``Channel.request_auth_agent()`` on a session channel
        before ``execute()``: sshd gives the command an ``SSH_AUTH_SOCK``, so
        ``ssh``, ``ssh-add`` or ``git`` on the server use the local agent's
        keys.  (OpenSSH grants the request once per connection and refuses
        it after that, with ``ChannelRequestDenied``; the later commands of
        the connection get ``SSH_AUTH_SOCK`` all the same.)

        The relaying happens where the program waits: inside the Channel
        calls that wait for the remote side (reads, writes, ``send_eof``,
        ``wait_eof``, ``close``, ``wait_closed``) and
        ``Listener.forward_accept``.  On a blocking session those calls wait
        for the remote side as usual, relaying meanwhile.  On a non-blocking
        session they relay when they return ``LIBSSH2_ERROR_EAGAIN``; wait
        with :meth:`~ssh2cffi.agent_forwarding.AgentForwarding.wait` (or
        add :meth:`~ssh2cffi.agent_forwarding.AgentForwarding.sockets` to
        your own wait) so that the local agent's answers wake the program
        too.  See
        :class:`~ssh2cffi.agent_forwarding.AgentForwarding` and
        :doc:`/agent-forwarding`.

        The socket is connected once per forwarded connection, not now: a
        missing agent fails each remote request (the forwarded channel is
        closed) and is logged to the ``"ssh2cffi"`` logger.

        Raises:
            TypeError: ``path`` is not str, bytes or os.PathLike.
            ValueError: ``path`` is empty, too long or contains a NUL byte.
            AgentConnectionError: ``path`` is None and ``SSH_AUTH_SOCK`` is unset.
            BadUseError: an AgentForwarding or an agent forwarding callback
                already serves this session.
            NotImplementedError: libssh2 < 1.11.0, which never answers
                these channels (see :doc:`/agent-forwarding`).

        An ssh2cffi addition; needs libssh2 >= 1.11.0.
        """
        if not _lib.SSH2CFFI_HAS_AUTHAGENT_CALLBACK:
            raise _needs_libssh2("Session.forward_agent", "1.11.0")
        forwarding = _AgentForwarding._start(self, path)
        self._live()
        previous = self._rec.relay
        if (previous is not None and not previous._closing) or (
                previous is None and self._callbacks.authagent_callback is not None):
            raise exceptions.BadUseError(
                "agent forwarding is already set up on this session (an AgentForwarding, "
                "or set_agent_forwarding_callback); close it or remove the callback first")
        if previous is not None:  # a refuser: finish what it was closing
            forwarding._take_over(previous)
            previous._detach()
        self._install_relay(forwarding)
        return forwarding

    def _refuse_agent_connections(self, replace: bool = False) -> None:
        """Close each forwarded agent channel at once, unless something serves
        them already (``replace``: the program's callback is replaced).

        libssh2 1.11's own refusal makes sshd drop the connection (see
        ssh2cffi.agent_forwarding); Channel.request_auth_agent() calls this.
        Nothing to do on libssh2 1.10, which has no such channels.
        """
        if not _lib.SSH2CFFI_HAS_AUTHAGENT_CALLBACK or self._rec.relay is not None:
            return
        if self._callbacks.authagent_callback is not None and not replace:
            return
        self._install_relay(_AgentForwarding._refuser(self))

    def _install_relay(self, relay: _AgentForwarding) -> None:
        self._callbacks.authagent_callback = relay._accept
        _lib.ssh2cffi_set_callback(self._ptr, _lib.SSH2CFFI_CALLBACK_AUTHAGENT, 1)
        self._rec.relay = relay

    def _set_authagent(self, callback: _AgentChannelCallback) -> None:
        """Install the program's callback for forwarded agent channels."""
        self._callbacks.authagent_callback = callback
        _lib.ssh2cffi_set_callback(self._ptr, _lib.SSH2CFFI_CALLBACK_AUTHAGENT, 1)

    def _set_message_callback(self, cbtype: int, name: str, callback: Any) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        setattr(self._callbacks, name, callback)
        _lib.ssh2cffi_set_callback(self._ptr, cbtype, callback is not None)

    @_serialised
    def set_ignore_callback(self, callback: Optional[IgnoreCallback]) -> None:
        """Call ``callback(data: bytes)`` for each SSH_MSG_IGNORE the server sends.

        Message callbacks run inside whatever libssh2 call reads the
        server's packet (often a ``read()`` on a channel) and must not call
        into this session.  An exception one raises is logged to the
        ``"ssh2cffi"`` logger and re-raised by the session's next call (or by
        the call on one of its channels that fails next).  ``None`` removes
        the callback.  An ssh2cffi addition; any libssh2.
        """
        self._set_message_callback(_lib.SSH2CFFI_CALLBACK_IGNORE, "ignore_callback", callback)

    @_serialised
    def set_debug_callback(self, callback: Optional[DebugCallback]) -> None:
        """Call ``callback(always_display: bool, message: str, language: str)`` for
        each SSH_MSG_DEBUG the server sends (sshd sends some after authentication,
        e.g. the options of the authorized key).

        Same rules as ``set_ignore_callback``.  An ssh2cffi addition; any libssh2.
        """
        self._set_message_callback(_lib.SSH2CFFI_CALLBACK_DEBUG, "debug_callback", callback)

    @_serialised
    def set_disconnect_callback(self, callback: Optional[DisconnectCallback]) -> None:
        """Call ``callback(reason: int, description: str, language: str)`` when the
        server sends SSH_MSG_DISCONNECT: its reason code (``SSH_DISCONNECT_*`` of
        RFC 4253 section 11.1, e.g. 2 for a protocol error, 11 "by application")
        and its description, e.g. sshd's "Too many authentication failures".

        The call that read the message then raises ``SocketDisconnectError``
        as before.  Same rules as ``set_ignore_callback``.  An ssh2cffi
        addition; any libssh2.
        """
        self._set_message_callback(_lib.SSH2CFFI_CALLBACK_DISCONNECT, "disconnect_callback",
                                   callback)

    @_serialised
    def set_read_timeout(self, seconds: int) -> None:
        """How long libssh2 waits for an expected packet, in seconds (default 60).

        This is libssh2's own limit, separate from ``set_timeout``: a reply
        that takes longer (a slow SFTP listing, a keyboard-interactive prompt
        a person answers) raises ``Timeout`` when it passes, even on a
        session with no ``set_timeout``.  0 restores the default.  An
        ssh2cffi addition; needs libssh2 >= 1.11.0 (older builds raise
        NotImplementedError).
        """
        if not _lib.SSH2CFFI_HAS_READ_TIMEOUT:
            raise _needs_libssh2("Session.set_read_timeout", "1.11.0")
        value = _to_cint(seconds, "seconds", "long")
        if value < 0:
            raise ValueError("seconds must be >= 0, not %d" % value)
        _lib.libssh2_session_set_read_timeout(self._ptr, value)

    def get_read_timeout(self) -> int:
        """The packet read timeout in seconds (see ``set_read_timeout``).

        An ssh2cffi addition; needs libssh2 >= 1.11.0.
        """
        if not _lib.SSH2CFFI_HAS_READ_TIMEOUT:
            raise _needs_libssh2("Session.get_read_timeout", "1.11.0")
        return int(_lib.libssh2_session_get_read_timeout(self._ptr))
