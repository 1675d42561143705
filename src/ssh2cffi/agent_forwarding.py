"""SSH agent forwarding: relay the agent connections the server forwards to a local agent.

``Session.forward_agent()`` returns an :class:`AgentForwarding`.  After it,
``Channel.request_auth_agent()`` on a session channel makes sshd export
``SSH_AUTH_SOCK`` to the command; each connection a remote program (``ssh``,
``ssh-add``, ``git``...) makes to that socket reaches us as a new
``auth-agent@openssh.com`` channel, which the AgentForwarding joins to a new
connection to the local agent's Unix socket.  Needs libssh2 >= 1.11.0.

Why the relay runs where the program waits
-------------------------------------------
A channel's data moves only when the program calls into libssh2, libssh2
reports no arrival of data, and it must not be re-entered from its own
callbacks.  So forwarded agent connections move inside the calls that wait
for the remote side (see ``_waiting``): the Channel reads, writes,
``send_eof``, ``wait_eof``, ``close``, ``wait_closed`` and
``Listener.forward_accept``.

* Non-blocking session: when such a call returns ``LIBSSH2_ERROR_EAGAIN``,
  the relay takes a step, and the call is made once more if the step
  touched libssh2 (it may have read the call's data off the socket).  The
  program then waits as it always does; :meth:`AgentForwarding.wait` also
  wakes when the local agent answers.
* Blocking session: such a call runs libssh2 in non-blocking mode and waits
  itself, on the session socket and the local agent sockets together,
  relaying in between, until the call completes or the session's timeout
  passes (``Timeout``), so ``channel.read()`` returns what the remote
  ``ssh-add`` printed after the agent answered.

Refusing is closing
-------------------
libssh2 1.11.1 refuses a forwarded agent channel (when no callback is set)
with a malformed CHANNEL_OPEN_FAILURE, and sshd drops the whole connection
("Invalid open failure message").  So a session that asked for agent
forwarding never goes back to libssh2's refusal: after
:meth:`AgentForwarding.close`, after ``set_agent_forwarding_callback(None)``,
and from ``Channel.request_auth_agent()`` on when nothing else serves them, a
closed AgentForwarding (a "refuser") accepts each forwarded channel and
closes it at once, inside the same waiting calls, so the remote program gets
an error.

One packet in flight
--------------------
libssh2 sends one packet at a time: a packet the socket took only part of
must be finished by the call that started it, and every other send returns
EAGAIN until then.  A relay that left its own packet half sent would stall
the program's next call, so the relay finishes any packet of its own before
it returns, waiting for the socket to take it (a tiny agent message waits
only when the socket's send buffer is full).  It never does so while the
program's own packet is half sent (``block_directions()`` says OUTBOUND when
the relay starts): its sends then just return EAGAIN and are tried again
later.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import select
import socket
import time
import typing
from typing import Any, Callable, Deque, List, Optional, Tuple, TypeVar, Union

from . import exceptions
from ._buffers import new_read_buffer as _new_read_buffer
from ._convert import to_path as _to_path
from ._errors import EAGAIN as _EAGAIN
from ._errors import make_error as _make_error
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._threads import returned_eagain as _returned_eagain
from ._threads import serialised as _serialised

if typing.TYPE_CHECKING:
    from .channel import Channel
    from .session import Session

_logger = logging.getLogger("ssh2cffi")
_R = TypeVar("_R")

_INBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_INBOUND
_OUTBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_OUTBOUND
_block_directions = _lib.libssh2_session_block_directions
_read_ex = _lib.libssh2_channel_read_ex
_write_all = _lib.ssh2cffi_channel_write_all
_CHUNK = 16 * 1024  # per read from either side; agent messages are mostly far smaller
# The longest Unix socket path (Linux's sun_path); a longer one cannot be connected to.
_MAX_SOCKET_PATH = 108
_POLLIN: int = select.POLLIN
_POLLOUT: int = select.POLLOUT
# errnos of a local agent that is gone or refuses us: the connection ends, the relay goes on.
_LOCAL_AGENT_GONE = (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN, errno.ECONNREFUSED)

PathArgument = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class _Connection:
    """One forwarded agent connection: the channel sshd opened, our socket to the agent.

    ``to_local`` holds bytes read from the channel and not yet taken by the
    agent's socket, ``to_channel`` the agent's bytes not yet written to the
    channel; neither side is read again until its buffer is empty, so the
    channel's window and the socket's buffer pace the two directions.
    ``blocked`` is set while the last libssh2 call on the channel returned
    EAGAIN without being in flight (a write waiting for window, a close
    waiting for the server's CLOSE, a send the program's half-sent packet
    kept out): it is tried again only after a wait.
    """

    __slots__ = ("channel", "sock", "to_local", "to_channel", "local_ended", "remote_ended",
                 "closing", "blocked")

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel
        self.sock: Optional[socket.socket] = None
        self.to_local = b""
        self.to_channel = b""
        self.local_ended = False  # the agent closed its end, or the connection failed
        self.remote_ended = False  # the remote program closed its end (channel EOF)
        self.closing = False      # the channel is being freed (libssh2_channel_free)
        self.blocked = False

    def close_local(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
        self.to_local = b""


class AgentForwarding(_Wrapper):
    """Relays the agent connections the server forwards to a local SSH agent.

    Made by :meth:`ssh2cffi.session.Session.forward_agent`; works until
    :meth:`close` or until the session is disconnected (dropping the object
    does not end it: the session keeps it, as it keeps an X11 callback).
    Each forwarded connection gets its own connection to the local agent's
    Unix socket, opened when the server opens the channel.  A connection
    that fails (no agent listening, the agent hung up) closes its channel,
    so the remote program gets an error instead of waiting; the failure is
    logged to the ``"ssh2cffi"`` logger.

    The relay runs inside the Channel calls that wait for the remote side
    (see :doc:`/agent-forwarding`): a blocking program needs nothing else, and a
    non-blocking one only waits with :meth:`wait` (or adds :meth:`sockets`
    to its own select/poll/gevent wait).  :meth:`process` runs one step
    explicitly, for loops that wait on something else.

    Calls after :meth:`close` raise ``BadUseError``; after the session is
    disconnected, ``SocketDisconnectError``.  An ssh2cffi addition; needs
    libssh2 >= 1.11.0.
    """

    __slots__ = ("_session", "_path", "_connections", "_incoming", "_buf", "_closing")

    _session: "Session"
    _path: bytes
    _connections: List[_Connection]
    _incoming: Deque["Channel"]  # handed over by the callback, inside some libssh2 call
    _buf: Any
    _closing: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("an AgentForwarding is made by Session.forward_agent()")

    @classmethod
    def _start(cls, session: "Session", path: Optional[PathArgument]) -> "AgentForwarding":
        """The relay of ``session`` to the agent at ``path`` (None: $SSH_AUTH_SOCK)."""
        return cls._new(session, _agent_socket_path(path))

    @classmethod
    def _refuser(cls, session: "Session") -> "AgentForwarding":
        """A closed AgentForwarding: it closes every forwarded channel it gets
        (see the module docstring, "Refusing is closing")."""
        refuser = cls._new(session, b"")
        refuser._close_all()
        refuser._gone = (exceptions.BadUseError, "this AgentForwarding is closed")
        return refuser

    @classmethod
    def _new(cls, session: "Session", path: bytes) -> "AgentForwarding":
        forwarding: AgentForwarding = cls.__new__(cls)
        forwarding._path = path
        forwarding._session = session
        # The session's own pointer, borrowed: _live() then checks the session.
        forwarding._borrow(session._rec, session._ptr)
        forwarding._connections = []
        forwarding._incoming = collections.deque()
        forwarding._buf = _new_read_buffer(_CHUNK)
        forwarding._closing = False
        return forwarding

    def _take_over(self, previous: "AgentForwarding") -> None:
        """Finish closing what ``previous`` (a refuser being replaced) still has."""
        self._connections.extend(previous._connections)
        self._incoming.extend(previous._incoming)
        previous._connections = []
        previous._incoming.clear()

    @property
    def path(self) -> str:
        """The local agent's socket path."""
        return os.fsdecode(self._path)

    def _accept(self, channel: "Channel") -> None:
        # The session's authagent callback, inside a libssh2 call: only take
        # the channel (nothing may call into libssh2 here).
        self._incoming.append(channel)

    # -- public -----------------------------------------------------------
    @_serialised
    def process(self) -> bool:
        """Relay what is ready, in both directions, on every forwarded connection.

        Opens the local connections of newly forwarded channels, moves the
        data that is ready without waiting, and closes the connections that
        ended.  Returns True if it did anything; then call your own channel
        calls again before waiting (they may have data now).  Needed only in
        loops that do not wait in a Channel call (see the class docstring).
        """
        self._live()
        with _non_blocking(self):
            touched, progressed = self._step(after_wait=True)
        return touched or progressed

    def wait(self, timeout: Optional[float] = 1.0) -> bool:
        """Wait until the session socket or a local agent socket is ready.

        The session socket is waited on for reading, and for writing when
        libssh2 is blocked on that (``Session.block_directions()``); the
        local agent sockets for their answers.  Returns at once (True) when
        forwarded data is already queued in libssh2; False when ``timeout``
        seconds (None: no limit) passed with nothing ready.  For
        non-blocking programs: call it when a call returned
        ``LIBSSH2_ERROR_EAGAIN``, then call again.
        """
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError("timeout must be a number of seconds or None, not %s"
                                % type(timeout).__name__)
            if not timeout >= 0:
                raise ValueError("timeout must be >= 0, not %r" % (timeout,))
        if self._ready():
            return True
        return self._poll(None if timeout is None else time.monotonic() + timeout)

    @_serialised
    def _ready(self) -> bool:
        self._live()
        return self._queued_work()

    @_serialised
    def sockets(self) -> List[socket.socket]:
        """The open sockets to the local agent, for your own select/poll/gevent loop:
        wait for them to become readable as well as for the session socket."""
        self._live()
        return [conn.sock for conn in self._connections if conn.sock is not None]

    @_serialised
    def close(self) -> int:
        """Stop forwarding: close the open agent connections, and every one
        the server forwards from now on.

        Returns 0 once the forwarded channels are closed.  On a non-blocking
        session it returns ``LIBSSH2_ERROR_EAGAIN`` while the server has not
        yet confirmed every close: :meth:`wait` and call again.  On a blocking session it waits for that (up to the
        session timeout).  Afterwards the session goes on closing the agent
        connections the server still forwards (remote programs get an
        error), inside the Channel calls that wait, until another
        ``forward_agent()`` or ``set_agent_forwarding_callback()``: libssh2
        1.11.1's own refusal of them makes sshd drop the whole connection.
        Calling it again returns 0 once nothing is left to close; after the
        session was disconnected it returns 0 at once.
        """
        rec = self._rec
        if not rec.usable or rec.relay is not self:
            self._session_ended()
            return 0
        self._close_all()
        if rec.blocking:
            # libssh2 itself waits for each close (the session's timeout applies).
            while self._connections:
                self._free_channel(self._connections[0], blocking=True)
        else:
            self._step(after_wait=True)
            if self._connections:
                return _EAGAIN  # process() and wait() still work meanwhile
        self._gone = (exceptions.BadUseError, "this AgentForwarding is closed")
        return 0

    def _close_all(self) -> None:
        """Enter the closing state: every connection, open or to come, is closed."""
        if self._closing:
            return
        self._closing = True
        self._adopt_incoming()
        for conn in self._connections:
            conn.close_local()
            conn.to_channel = b""
            conn.closing = True
            conn.blocked = False

    def __repr__(self) -> str:
        state = " closed" if self._gone is not None else ""
        return "<AgentForwarding to %s%s, %d connection(s)>" % (
            self.path, state, len(self._connections))

    # -- the hook of _waiting -------------------------------------------------
    def _run_waiting(self, call: Callable[[], _R]) -> _R:
        """Run ``call``, a Channel call that waits for the peer, relaying while it waits.

        Called holding the session lock (see _waiting).  Non-blocking session:
        a step after EAGAIN, and the call again while steps touch libssh2.
        Blocking session: libssh2 runs non-blocking and this waits instead,
        relaying in between, until ``call`` completes or the timeout passes.
        """
        rec = self._rec
        if not rec.blocking:
            result = call()
            if not _returned_eagain(result):
                return result
            touched, _ = self._step(after_wait=True)
            while touched:
                result = call()
                if not _returned_eagain(result):
                    break
                touched, _ = self._step(after_wait=False)
            return result
        timeout_ms = _lib.libssh2_session_get_timeout(rec.ptr)
        deadline = time.monotonic() + timeout_ms / 1000.0 if timeout_ms > 0 else None
        with _non_blocking(self):
            after_wait = True
            while True:
                result = call()
                if not _returned_eagain(result):
                    return result
                touched, _ = self._step(after_wait)
                after_wait = False
                # After a step that touched libssh2 the call goes first: the
                # step may have read the call's data off the socket.
                if touched or self._queued_work():
                    continue
                if not self._poll(deadline):
                    raise self._timeout()
                after_wait = True

    def _session_ended(self) -> None:
        """The session was disconnected (or this relay replaced): let go of
        everything.  Channels left open are freed with the session."""
        self._detach()
        self._closing = True
        self._gone = (exceptions.BadUseError, "this AgentForwarding is closed")

    def _detach(self) -> None:
        """No longer the session's relay; a channel still held is freed later
        by the session (ssh2cffi's usual deferred free of a dropped Channel)."""
        for conn in self._connections:
            conn.close_local()
        self._connections = []
        self._incoming.clear()
        if self._rec.relay is self:
            self._rec.relay = None

    # -- the relay ------------------------------------------------------------
    def _adopt_incoming(self) -> bool:
        """Take the channels the callback handed over; open their agent connections."""
        adopted = False
        while self._incoming:
            conn = _Connection(self._incoming.popleft())
            self._connections.append(conn)
            adopted = True
            if self._closing:
                conn.closing = True
                continue
            try:
                conn.sock = self._connect()
            except OSError as exc:
                _logger.warning("agent forwarding: cannot connect to the agent at %s: %s; "
                                "closing the forwarded connection", self.path, exc)
                conn.local_ended = True
        return adopted

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Non-blocking from the start: an agent with a full backlog fails
            # this connection instead of stalling the program.
            sock.setblocking(False)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        return sock

    def _step(self, after_wait: bool) -> Tuple[bool, bool]:
        """One pass over every connection: ``(touched libssh2, made progress)``.

        The caller holds the session lock and has libssh2 in non-blocking
        mode.  ``after_wait``: also retry the calls that returned EAGAIN last
        time (``_Connection.blocked``), which is worth it only after a wait.
        """
        # Is a packet of the program's half sent?  Then only it can finish it.
        program_in_flight = bool(_block_directions(self._rec.ptr) & _OUTBOUND)
        progressed = self._adopt_incoming()
        touched = False
        for conn in list(self._connections):
            conn_touched, conn_progressed = self._step_connection(conn, after_wait,
                                                                  program_in_flight)
            touched |= conn_touched
            progressed |= conn_progressed
        return touched, progressed

    def _step_connection(self, conn: _Connection, after_wait: bool,
                         program_in_flight: bool) -> Tuple[bool, bool]:
        touched = progressed = False
        ptr = conn.channel._ptr
        # A libssh2 call that returned EAGAIN last time is made again only
        # after a wait: before it, it would return EAGAIN again.
        may_call = after_wait or not conn.blocked
        if not conn.closing:
            # channel -> local agent (the queue is checked without I/O first)
            if (may_call and not conn.to_local and conn.sock is not None
                    and not conn.remote_ended and _lib.libssh2_poll_channel_read(ptr, 0) == 1):
                touched = True
                rc = self._finish_own(lambda: _read_ex(ptr, 0, self._buf, _CHUNK),
                                      program_in_flight)
                # EAGAIN with data queued: a window adjustment it could not send
                conn.blocked = rc == _EAGAIN
                if rc > 0:
                    conn.to_local = _ffi.unpack(self._buf, rc)
                    progressed = True
                elif rc < 0 and rc != _EAGAIN:
                    self._channel_failed(conn, rc)
            if conn.to_local and conn.sock is not None:
                progressed |= self._send_local(conn)
            # local agent -> channel
            if conn.sock is not None and not conn.to_channel and not conn.local_ended:
                progressed |= self._recv_local(conn)
            if conn.to_channel and not conn.closing and may_call:
                touched = True
                progressed |= self._write_channel(conn, program_in_flight)
            # The ends.  The agent hung up: close once its last answer is
            # written.  The remote program hung up: once its last bytes
            # reached the agent, say so (as OpenSSH's ssh does); the agent then
            # hangs up too, after answering what it was asked.
            if conn.local_ended and not conn.to_channel:
                conn.closing = True
                conn.blocked = False
            elif (not conn.remote_ended and not conn.to_local
                  and _lib.libssh2_channel_eof(ptr)):
                conn.remote_ended = True
                progressed = True
                self._shutdown_local(conn)
        if conn.closing and (after_wait or not conn.blocked):
            conn.close_local()
            touched = True
            progressed |= self._free_channel(conn, blocking=False,
                                             program_in_flight=program_in_flight)
        return touched, progressed

    def _send_local(self, conn: _Connection) -> bool:
        assert conn.sock is not None
        try:
            sent = conn.sock.send(conn.to_local)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            self._local_failed(conn, exc)
            return True
        conn.to_local = conn.to_local[sent:]
        return sent > 0

    def _shutdown_local(self, conn: _Connection) -> None:
        if conn.sock is None:
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._local_failed(conn, exc)

    def _recv_local(self, conn: _Connection) -> bool:
        assert conn.sock is not None
        try:
            data = conn.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            self._local_failed(conn, exc)
            return True
        if not data:
            conn.local_ended = True
        conn.to_channel = data
        return True

    def _write_channel(self, conn: _Connection, program_in_flight: bool) -> bool:
        ptr = conn.channel._ptr
        written = _ffi.new("size_t *")
        before = len(conn.to_channel)

        def attempt() -> int:
            # Goes on from what the previous attempt wrote, never sending twice.
            rc: int = _write_all(ptr, 0, conn.to_channel, len(conn.to_channel), written)
            conn.to_channel = conn.to_channel[written[0]:]
            return rc

        rc = self._finish_own(attempt, program_in_flight)
        conn.blocked = rc == _EAGAIN
        if rc < 0 and rc != _EAGAIN:
            self._channel_failed(conn, rc)
        return len(conn.to_channel) < before

    def _free_channel(self, conn: _Connection, blocking: bool,
                      program_in_flight: bool = False) -> bool:
        """libssh2_channel_free (which sends EOF and CLOSE and waits for the
        server's CLOSE); True once freed.  ``blocking``: libssh2 waits itself."""
        ptr = conn.channel._ptr
        if blocking:
            rc = _lib.libssh2_channel_free(ptr)
        else:
            rc = self._finish_own(lambda: _lib.libssh2_channel_free(ptr), program_in_flight)
        if rc == _EAGAIN:
            conn.blocked = True
            return False
        # libssh2_channel_free frees the channel whatever else it returns.
        conn.channel._disown(exceptions.ChannelError, "the forwarded agent channel is closed")
        self._connections.remove(conn)
        return True

    def _finish_own(self, attempt: Callable[[], int], program_in_flight: bool) -> int:
        """``attempt()``, made again until our own half-sent packet is sent (see
        the module docstring, "One packet in flight")."""
        rc = attempt()
        while (rc == _EAGAIN and not program_in_flight
               and _block_directions(self._rec.ptr) & _OUTBOUND):
            self._wait_session_writable()
            rc = attempt()
        return rc

    def _channel_failed(self, conn: _Connection, rc: int) -> None:
        _logger.debug("agent forwarding: the forwarded channel failed: %s",
                      _make_error(rc, session_ptr=self._rec.ptr))
        conn.close_local()
        conn.to_channel = b""
        conn.closing = True
        conn.blocked = False

    def _local_failed(self, conn: _Connection, exc: OSError) -> None:
        if exc.errno not in _LOCAL_AGENT_GONE:
            _logger.warning("agent forwarding: the connection to the agent at %s failed: %s",
                            self.path, exc)
        conn.close_local()
        conn.local_ended = True

    # -- waiting --------------------------------------------------------------
    def _queued_work(self) -> bool:
        """Is there relaying to do without waiting?  (No I/O: libssh2's queue is
        looked at.)  The caller holds the session lock."""
        if self._incoming:
            return True
        for conn in self._connections:
            if conn.closing or conn.blocked:
                continue  # a closing channel, or a call to make again after a wait
            ptr = conn.channel._ptr
            if not conn.to_local and conn.sock is not None and not conn.remote_ended and (
                    _lib.libssh2_poll_channel_read(ptr, 0) == 1
                    or _lib.libssh2_channel_eof(ptr)):
                return True
            if conn.to_channel:
                return True
        return False

    def _poll(self, deadline: Optional[float]) -> bool:
        """Wait for the session socket and the agent sockets (see ``wait``); False at the deadline."""
        poller = select.poll()
        events = self._session_events()
        if events is None:
            return True
        if events:
            poller.register(self._rec.fd, events)
        for conn in self._connections:
            if conn.sock is None:
                continue
            events = 0
            if not conn.to_channel and not conn.local_ended:
                events |= _POLLIN
            if conn.to_local:
                events |= _POLLOUT
            if events:
                poller.register(conn.sock, events)
        if deadline is None:
            return bool(poller.poll())
        remaining = max(deadline - time.monotonic(), 0.0)
        return bool(poller.poll(remaining * 1000.0))

    def _session_events(self) -> Optional[int]:
        """The poll events to wait for on the session's descriptor (0: it has
        none yet), or None when there is nothing to wait for: a session over
        a channel whose outer session already holds its data (see
        ``Session.block_directions``)."""
        if self._rec.fd < 0:
            return 0
        session = self._session
        directions = session.block_directions()
        if directions == 0 and session._transport is not None:
            return None
        # Readable always: whatever arrives may be what the relay or the call waits for.
        return _POLLIN | (_POLLOUT if directions & _OUTBOUND else 0)

    def _wait_session_writable(self) -> None:
        """Wait until the session's transport takes more data (the session timeout
        applies): our own packet is half sent (``_finish_own``)."""
        session = self._session
        events = _POLLOUT
        if session._transport is not None:
            # over a channel: what the outer session waits for (a full window
            # is a wait for input), nothing when it already holds data
            directions = session.block_directions()
            if directions == 0:
                return
            events = ((_POLLIN if directions & _INBOUND else 0)
                      | (_POLLOUT if directions & _OUTBOUND else 0))
        timeout_ms = _lib.libssh2_session_get_timeout(self._rec.ptr)
        poller = select.poll()
        poller.register(self._rec.fd, events)
        if not poller.poll(timeout_ms if timeout_ms > 0 else None):
            raise self._timeout()

    def _timeout(self) -> exceptions.SSH2Error:
        """What libssh2 raises when a blocking call outlives the session timeout."""
        ptr = self._rec.ptr
        _lib.libssh2_session_set_last_error(ptr, _lib.LIBSSH2_ERROR_TIMEOUT,
                                            b"Timed out waiting on socket")
        error = _make_error(_lib.LIBSSH2_ERROR_TIMEOUT, session_ptr=ptr)
        self._rec.raise_callback_error(error)
        return error


class _non_blocking:
    """``with _non_blocking(forwarding):`` libssh2 in non-blocking mode for the
    relay's own calls, on a session the program uses in blocking mode."""

    __slots__ = ("_ptr", "_switch")

    def __init__(self, forwarding: AgentForwarding) -> None:
        self._ptr = forwarding._rec.ptr
        self._switch = forwarding._rec.blocking

    def __enter__(self) -> None:
        if self._switch:
            _lib.libssh2_session_set_blocking(self._ptr, 0)

    def __exit__(self, *exc_info: Any) -> None:
        if self._switch:
            _lib.libssh2_session_set_blocking(self._ptr, 1)


def _agent_socket_path(path: Optional[PathArgument]) -> bytes:
    """The agent socket to connect to: ``path``, or $SSH_AUTH_SOCK when it is None."""
    if path is None:
        found = os.environ.get("SSH_AUTH_SOCK")
        if not found:
            raise exceptions.AgentConnectionError(
                "no agent to forward: the SSH_AUTH_SOCK environment variable is not set "
                "and no path was given")
        return os.fsencode(found)
    value = _to_path(path, "path")
    if not value:
        raise ValueError("path must not be empty")
    if len(value) > _MAX_SOCKET_PATH:
        raise ValueError("path is %d bytes long; a Unix socket path has at most %d"
                         % (len(value), _MAX_SOCKET_PATH))
    return value
