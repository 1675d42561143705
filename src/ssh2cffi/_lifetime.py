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
* Agents and known-host collections are "local" children: the session does
  not free them and their frees do no network I/O, so those frees run at the
  next drain or just before the session is freed, disconnected or not
  (``defer_local``).
* A forked child inherits copies of its parent's sessions, which share the
  parent's connections.  It must never free or disconnect them: a goodbye or
  a channel close written by the child ends the parent's session, and a read
  steals the parent's data.  Right after a fork every record of the parent
  is marked inherited (``_disown_inherited``): unusable, with nothing to
  free, so the child's finalisers and exit do nothing, and an explicit call
  raises ``BadUseError`` naming the process the session belongs to.

Session and every child class derive from ``Wrapper``, which holds the
record, the pointer and its finaliser, and gives them the same operations:
``_live()`` (the pointer, or the exception saying why it is unusable),
``_adopt()``/``_borrow()`` (take a pointer from libssh2) and ``_disown()``
(for close(), shutdown() and the like: libssh2 frees the pointer now).
``record_of()`` is the one check that an argument is a Session.
"""
from __future__ import annotations

import itertools
import os
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, List, NoReturn, Optional, Set, Tuple, Type, TypeVar

from . import exceptions
from ._errors import EAGAIN as _EAGAIN
from ._libssh2 import ffi, lib
from ._threads import new_lock

if TYPE_CHECKING:
    from ._libssh2 import CData

_tokens = itertools.count()

ChildRelease = Callable[["CData"], int]
_W = TypeVar("_W", bound="Wrapper")


class _Owner:
    """Counts the tokens its Python objects hold; frees once, when the last goes.

    ``_free_once`` is a one-item list: list.pop() is atomic on CPython and
    PyPy, so exactly one caller (finalisers may race in several threads) gets
    to run ``_free()``.
    """

    __slots__ = ("_holders", "_free_once")

    def __init__(self, frees: bool) -> None:
        self._holders: Set[int] = set()
        self._free_once: List[bool] = [True] if frees else []

    def hold(self) -> int:
        token = next(_tokens)
        self._holders.add(token)
        return token

    def let_go(self, token: int) -> None:
        self._holders.discard(token)
        if not self._holders:
            try:
                self._free_once.pop()
            except IndexError:
                return
            self._free()

    def _free(self) -> None:
        raise NotImplementedError

    def finaliser(self) -> Callable[["CData"], None]:
        """A destructor for the owning object's own ffi.gc pointer."""
        token = self.hold()

        def finalise(_ptr: "CData") -> None:
            self.let_go(token)
        return finalise


class SessionRecord(_Owner):
    """The ownership record of one LIBSSH2_SESSION pointer (see module docstring)."""

    __slots__ = ("ptr", "usable", "blocking", "why_unusable", "_pending", "keepalive",
                 "_sock", "_fd", "_restore_blocking", "_local", "_pid", "lock", "owners",
                 "callback_error", "relay", "__weakref__")

    def __init__(self, ptr: Optional["CData"], *, keepalive: object = None) -> None:
        super().__init__(frees=ptr is not None)
        # The raw pointer; nothing but this record frees it.  (None in an unusable
        # record, whose calls all raise before reaching libssh2.)
        self.ptr: Any = ptr
        self.usable = ptr is not None
        self.blocking = True
        self.why_unusable: Tuple[Type[exceptions.SSH2Error], str] = (
            exceptions.SocketDisconnectError, "the session is disconnected")
        # Frees queued by finalisers, oldest first (an SFTP handle's close is
        # queued before its SFTP session's shutdown).  append/popleft are atomic.
        self._pending: Deque[Tuple[ChildRelease, "CData"]] = deque()
        # Frees of "local" children (see defer_local), kept across disconnect.
        self._local: Deque[Tuple[ChildRelease, "CData"]] = deque()
        self.keepalive: Any = keepalive  # what C holds a pointer to (the callback handle)
        self._sock: Any = None
        self._fd = -1
        self._restore_blocking = False
        self._pid = os.getpid()  # the process whose connection this is
        # Threads: every libssh2 call on the session holds ``lock``; ``owners``
        # names the thread that has each half-done operation (see _threads).
        self.lock = new_lock()
        self.owners: Dict[str, int] = {}
        # What a Python callback raised inside libssh2, waiting to be raised
        # (session._CallbackState.keep_error); every serialised call checks it.
        self.callback_error: Optional[BaseException] = None
        # The session's open agent_forwarding.AgentForwarding, or None: the
        # Channel and Listener calls that wait for the peer run through it
        # (see _waiting), so that forwarded agent connections move while the
        # program waits.
        self.relay: Any = None
        if ptr is not None:
            _records_of_this_process.add(self)

    def adopt_socket(self, sock: Any, fd: int) -> None:
        """Before the handshake: make ``fd`` non-blocking ourselves (see module docstring)."""
        self._sock, self._fd = sock, fd
        if os.get_blocking(fd):
            os.set_blocking(fd, False)
            self._restore_blocking = True

    def adopt_transport(self, channel: Any, fd: int) -> None:
        """Before a handshake over ``channel`` (a channel of another session, whose
        socket is ``fd``): keep the channel, and with it the outer session, alive
        as long as this session.  The descriptor is the outer session's: it is
        not made blocking again when this session is freed."""
        self._sock, self._fd = channel, fd

    @property
    def fd(self) -> int:
        """The descriptor libssh2 waits on for this session (-1 before a handshake)."""
        return self._fd

    # -- children -------------------------------------------------------
    def child_finaliser(self, release: ChildRelease) -> "ChildFinaliser":
        """A destructor for a child's ffi.gc pointer; ``release`` frees the child in C."""
        return ChildFinaliser(self, self, release)

    def defer(self, release: ChildRelease, child_ptr: "CData") -> None:
        """Queue a child's free for the program's next session-level call."""
        if self.usable:
            self._pending.append((release, child_ptr))

    def local_child_finaliser(self, release: ChildRelease) -> "LocalChildFinaliser":
        """A destructor for a child whose C free does no network I/O (see defer_local)."""
        return LocalChildFinaliser(self, self, release)

    def defer_local(self, release: ChildRelease, child_ptr: "CData") -> None:
        """Queue the free of a child that libssh2_session_free() does not free.

        Agents and known-host collections live in memory the session
        allocated, but the session does not track them: dropped with the
        other children after a disconnect, they would leak (and an agent
        would keep its socket open).  Their frees touch no network, so they
        run at the next drain() or, at the latest, just before the session
        itself is freed, whatever its state.
        """
        self._local.append((release, child_ptr))

    def _free_local(self) -> None:
        local = self._local
        while local:
            try:
                release, child_ptr = local.popleft()
            except IndexError:
                return
            release(child_ptr)

    # -- state ----------------------------------------------------------
    def raise_unusable(self) -> NoReturn:
        cls, text = self.why_unusable
        raise cls(text)

    def raise_callback_error(self, context: Optional[BaseException] = None) -> None:
        """Raise (once) what a callback raised, if anything is waiting; ``context``
        is the libssh2 error the failing call would have raised, kept as its
        ``__context__``."""
        error, self.callback_error = self.callback_error, None
        if error is not None:
            if context is not None and error.__context__ is None:
                error.__context__ = context
            raise error

    def mark_inherited(self) -> None:
        """In a forked child: the session is the parent's; never use or free it here."""
        self.usable = False
        self.why_unusable = (
            exceptions.BadUseError,
            "this session belongs to process %d, which opened it before forking; "
            "open a new session in this process (%d)" % (self._pid, os.getpid()))
        self._free_once.clear()
        self._pending.clear()
        self._local.clear()
        self._restore_blocking = False
        # A thread of the parent may have held the lock at the fork: that
        # thread does not exist here, and would never let go.
        self.lock = new_lock()
        self.owners = {}
        self.relay = None  # its channels and agent sockets are the parent's too

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
        self._free_local()
        pending = self._pending
        while pending and self.usable and self.blocking:
            try:
                release, child_ptr = pending.popleft()
            except IndexError:
                return
            if release(child_ptr) == _EAGAIN:
                pending.appendleft((release, child_ptr))
                return

    def _free(self) -> None:
        self.usable = False
        self._pending.clear()
        # No I/O from a finaliser: fail every send/receive, then free.
        lib.ssh2cffi_detach_socket(self.ptr)
        self._free_local()
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


class ChildFinaliser:
    """The ffi.gc destructor of one child pointer.

    It holds a token in its owner (the session record, or an SFTP record for
    SFTP handles) and queues the child's C free with the session.  A child
    freed explicitly (SFTPHandle.close) calls ``forget()`` instead: the token
    goes back, nothing is freed twice.
    """

    __slots__ = ("_owner", "_session", "_token", "_release")

    def __init__(self, owner: Any, session: SessionRecord, release: ChildRelease) -> None:
        self._owner: Optional[Any] = owner
        self._session = session
        self._token = owner.hold()
        self._release = release

    def __call__(self, child_ptr: "CData") -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            self._session.defer(self._release, child_ptr)
            owner.let_go(self._token)

    def forget(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.let_go(self._token)


class LocalChildFinaliser(ChildFinaliser):
    """A ChildFinaliser whose free is queued with SessionRecord.defer_local."""

    __slots__ = ()

    def __call__(self, child_ptr: "CData") -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            self._session.defer_local(self._release, child_ptr)
            owner.let_go(self._token)


class NestedRecord(_Owner):
    """Ownership of a pointer that has children of its own (LIBSSH2_SFTP *).

    The SFTP session is shut down (queued with the session) only once the
    SFTP object and every handle opened on it are gone; it holds a token in
    the session record meanwhile.
    """

    __slots__ = ("session", "ptr", "_in_session", "owners")

    def __init__(self, session: SessionRecord, ptr: "CData", release: ChildRelease) -> None:
        super().__init__(frees=True)
        self.session = session
        self.ptr = ptr
        self.owners: Dict[str, int] = {}  # half-done SFTP operations (see _threads)
        self._in_session = ChildFinaliser(session, session, release)

    def _free(self) -> None:
        self._in_session(self.ptr)

    def child_finaliser(self, release: ChildRelease) -> ChildFinaliser:
        return ChildFinaliser(self, self.session, release)


# The live sessions of this process, for _disown_inherited (weak: they die as usual).
_records_of_this_process: "weakref.WeakSet[SessionRecord]" = weakref.WeakSet()


def _disown_inherited() -> None:
    """After fork(), in the child: every session so far is the parent's (see module docstring)."""
    for record in list(_records_of_this_process):
        record.mark_inherited()
    _records_of_this_process.clear()


os.register_at_fork(after_in_child=_disown_inherited)


def unusable_record(cls: Type[exceptions.SSH2Error], text: str) -> SessionRecord:
    """A record for objects built without a libssh2 pointer: every call raises."""
    record = SessionRecord(None)
    record.why_unusable = (cls, text)
    return record


# -- the Python objects ---------------------------------------------------------------
class Wrapper:
    """A Python object wrapping a libssh2 pointer: Session and every child of one.

    ``_rec`` is the session's record, ``_ptr`` the object's pointer (owned
    through ``_finaliser``, an ffi.gc destructor, or borrowed), and ``_gone``
    says why the object is unusable once its pointer was freed on purpose
    (closed, cancelled, shut down): None while it is usable.
    """

    __slots__ = ("_rec", "_ptr", "_finaliser", "_gone")

    _rec: SessionRecord
    _ptr: Any
    _finaliser: Any  # a ChildFinaliser; _Owner.finaliser()'s function for SFTP sessions
    _gone: Optional[Tuple[Type[exceptions.SSH2Error], str]]
    _session: Any  # children's: a slot of each child class (the Session they belong to)

    @classmethod
    def _child_of(cls: Type[_W], session: SessionBase, raw: CData, release: ChildRelease,
                  gc_size: int) -> _W:
        """A new ``cls`` owning ``raw``, a pointer of ``session`` that ``release`` frees."""
        child = cls.__new__(cls)
        child._session = session
        rec = session._rec
        child._adopt(rec, raw, rec.child_finaliser(release), gc_size)
        return child

    def _unattached(self, cls: Type[exceptions.SSH2Error], text: str) -> None:
        """State of an object built directly instead of by its parent: every call raises."""
        self._rec = unusable_record(cls, text)
        self._ptr = ffi.NULL
        self._finaliser = None
        self._gone = None

    def _adopt(self, rec: SessionRecord, raw: "CData", finaliser: Any, gc_size: int) -> None:
        """Own ``raw``: ``finaliser`` gets it when this object is garbage."""
        self._rec = rec
        self._finaliser = finaliser
        self._ptr = ffi.gc(raw, finaliser, size=gc_size)
        self._gone = None

    def _borrow(self, rec: SessionRecord, raw: "CData") -> None:
        """Use ``raw`` without owning it: whoever owns it must outlive this object."""
        self._rec = rec
        self._finaliser = None
        self._ptr = raw
        self._gone = None

    def _usable_ptr(self) -> Any:
        """The pointer, for calls that touch no network: raises once it was freed."""
        gone = self._gone
        if gone is not None:
            raise gone[0](gone[1])
        return self._ptr

    def _live(self) -> Any:
        """The pointer, for calls that may do network I/O on the session."""
        rec = self._rec
        if not rec.usable:
            rec.raise_unusable()
        gone = self._gone
        if gone is not None:
            raise gone[0](gone[1])
        return self._ptr

    def _state_owner(self) -> Any:
        """The record whose ``owners`` guard this object's half-done operations (_threads)."""
        return self._rec

    def _disown(self, cls: Type[exceptions.SSH2Error], text: str) -> Any:
        """Take the pointer back from the collector, now that libssh2 frees it.

        Returns the pointer (for a free the caller is about to make); from now
        on every call raises ``cls(text)``.  The finaliser's token goes back.
        """
        ptr = self._ptr
        self._gone = (cls, text)
        ffi.gc(ptr, None)
        finaliser, self._finaliser = self._finaliser, None
        if finaliser is not None:
            finaliser.forget()
        return ptr


class SessionBase(Wrapper):
    """Session's base.

    Children check their ``session`` argument against this class (record_of),
    so that no child module has to import session.py, which imports them all.
    """

    __slots__ = ()


def record_of(session: object) -> SessionRecord:
    """The record of ``session``, which must be a Session (TypeError otherwise)."""
    if not isinstance(session, SessionBase):
        raise TypeError("session must be a Session, not %s" % type(session).__name__)
    return session._rec


class SFTPBase(Wrapper):
    """SFTP's base: SFTP handles check their ``sftp`` argument against it (see SessionBase)."""

    __slots__ = ()


# Approximate C memory behind one object, for ffi.gc(size=): lets PyPy's
# collector feel the pressure of objects whose memory is mostly in C.
SESSION_GC_SIZE = 64 * 1024
CHANNEL_GC_SIZE = 8 * 1024
