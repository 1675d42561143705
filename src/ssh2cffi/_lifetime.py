"""Ownership of libssh2 sessions: who frees the LIBSSH2_SESSION *, and when.

libssh2_session_free() also frees every channel, listener and SFTP session
still open on the session, so a child freed after its session is a
use-after-free.  Relying on the garbage collector's order does not work: the
cycle collector runs finalisers in any order on CPython, and PyPy runs them
late, in any thread.  So each session has one ``SessionRecord``:

* The Session object and each child hold a token in the record.  Finalisers
  only give their token back; the session pointer is freed by whoever gives
  back the last one, so the order in which objects die cannot matter.
* A child's finaliser never calls libssh2: it may run in any thread, while
  another thread is inside libssh2 on the same session.  It queues the child
  pointer; the queue is drained by the next session-level call made by the
  program itself (or is freed with the session).
* Once the session is disconnected, nothing does network I/O on it any more:
  its file descriptor may already belong to another connection.  Children are
  not freed one by one (libssh2_session_free frees them), and the socket
  callbacks are replaced by ones that fail at once before the final free.
"""
from __future__ import annotations

import itertools
import os
from typing import Any, Callable, List, NoReturn, Set, Tuple, Type

from . import exceptions
from ._libssh2 import lib

_tokens = itertools.count()
_EAGAIN: int = lib.LIBSSH2_ERROR_EAGAIN

ChildRelease = Callable[[object], int]


class SessionRecord:
    """The ownership record of one LIBSSH2_SESSION pointer (see module docstring)."""

    __slots__ = ("ptr", "usable", "blocking", "why_unusable", "_holders",
                 "_free_once", "_pending", "keepalive", "_sock", "_fd",
                 "_restore_blocking")

    def __init__(self, ptr: object, *, keepalive: object = None) -> None:
        self.ptr = ptr  # raw cdata; nothing but this record frees it
        self.usable = ptr is not None
        self.blocking = True
        self.why_unusable: Tuple[Type[exceptions.SSH2Error], str] = (
            exceptions.SocketDisconnectError, "the session is disconnected")
        self._holders: Set[int] = set()
        # list.pop() is atomic on CPython and PyPy: exactly one caller gets the item.
        self._free_once: List[bool] = [True] if ptr is not None else []
        self._pending: List[Tuple[ChildRelease, object]] = []
        self.keepalive = keepalive  # objects C holds pointers to (callback handles)
        self._sock: Any = None
        self._fd = -1
        self._restore_blocking = False

    def adopt_socket(self, sock: Any, fd: int) -> None:
        """Before the handshake: make ``fd`` non-blocking ourselves (see module docstring)."""
        self._sock, self._fd = sock, fd
        if os.get_blocking(fd):
            os.set_blocking(fd, False)
            self._restore_blocking = True

    # -- tokens ---------------------------------------------------------
    def hold(self) -> int:
        token = next(_tokens)
        self._holders.add(token)
        return token

    def let_go(self, token: int) -> None:
        self._holders.discard(token)
        if not self._holders:
            self._free_session()

    def finaliser(self) -> Callable[[object], None]:
        """A destructor for the Session's own ffi.gc pointer."""
        token = self.hold()

        def finalise(_ptr: object) -> None:
            self.let_go(token)
        return finalise

    def child_finaliser(self, release: ChildRelease) -> Callable[[object], None]:
        """A destructor for a child's ffi.gc pointer; ``release`` frees the child in C."""
        token = self.hold()

        def finalise(child_ptr: object) -> None:
            if self.usable:
                self._pending.append((release, child_ptr))
            self.let_go(token)
        return finalise

    # -- state ----------------------------------------------------------
    def raise_unusable(self) -> NoReturn:
        cls, text = self.why_unusable
        raise cls(text)

    def mark_disconnected(self) -> None:
        """No more I/O on this session: its children die with it."""
        self.usable = False
        self._pending.clear()
        if self.ptr is not None and self._free_once:
            lib.ssh2cffi_detach_socket(self.ptr)

    def drain(self) -> None:
        """Free the children dropped since the last call.

        Called by the program's own session-level calls, in blocking mode
        only: in non-blocking mode a free could start a packet while another
        operation's packet is half sent, which libssh2 refuses.
        """
        pending = self._pending
        while pending and self.usable and self.blocking:
            try:
                release, child_ptr = pending.pop()
            except IndexError:
                return
            if release(child_ptr) == _EAGAIN:
                pending.append((release, child_ptr))
                return

    def _free_session(self) -> None:
        try:
            self._free_once.pop()
        except IndexError:
            return
        self.usable = False
        self._pending.clear()
        # No I/O from a finaliser: fail every send/receive, then free.
        lib.ssh2cffi_detach_socket(self.ptr)
        lib.libssh2_session_free(self.ptr)
        if self._restore_blocking and self._owns_fd():
            os.set_blocking(self._fd, True)
        self._sock = None

    def _owns_fd(self) -> bool:
        """True while the socket object handed to handshake() still owns its descriptor."""
        fileno = getattr(self._sock, "fileno", None)
        try:
            return fileno is not None and fileno() == self._fd
        except (OSError, ValueError):
            return False


def unusable_record(cls: Type[exceptions.SSH2Error], text: str) -> SessionRecord:
    """A record for objects built without a libssh2 pointer: every call raises."""
    record = SessionRecord(None)
    record.why_unusable = (cls, text)
    return record


# Approximate C memory behind one object, for ffi.gc(size=): lets PyPy's
# collector feel the pressure of objects whose memory is mostly in C.
SESSION_GC_SIZE = 64 * 1024
CHANNEL_GC_SIZE = 8 * 1024
