"""Threads sharing a session: one lock per session, and who may resume an operation.

libssh2 allows one thread inside a session at a time: two threads inside it
at once corrupt its packet buffers and crash the process.  So every call
into libssh2 on a session, or on anything opened from it, is made holding
the session's lock (``SessionRecord.lock``, a re-entrant lock: a Python
callback that libssh2 runs may call back into its session).  How a thread
that finds the lock taken is treated depends on the session's mode:

* **Non-blocking session: it waits for the lock.**  A non-blocking libssh2
  call never waits for the network, so the holder lets go within one call.
  Calls from several threads are serialised.
* **Blocking session: it gets ``BadUseError`` at once.**  A blocking call can
  wait for the network as long as the session's timeout allows, holding the
  session.  A thread waiting for it could be the very thread that would
  write the data the holder waits for (a reader waiting for the output of a
  command whose input the other thread sends), and both would wait forever.
  Refusing at once makes that deadlock impossible.

Non-blocking sessions have a second hazard: an operation that returned
``LIBSSH2_ERROR_EAGAIN`` is half done, and libssh2 keeps its state in the
session (or SFTP session) for whichever call comes next.  The next
``open_session()``, from any thread, would complete the open another thread
started, and the next SFTP ``stat()`` would return another thread's file.  So
an ``operation`` names the libssh2 state it resumes; while one thread has
such an operation half done, the same operation from another thread returns
``LIBSSH2_ERROR_EAGAIN`` without entering libssh2 (or, on a blocking
session, raises ``BadUseError``) until the first thread finishes it.

Channels, listeners and handles keep their state per object: using one of
them from two threads at once is serialised but not otherwise policed (see
docs/concurrency.rst).  ``Session.block_directions()`` and the other reads
of one field of the session take no lock: they free nothing and do no I/O.
"""
from __future__ import annotations

import threading
from functools import wraps
from typing import Any, Callable, Optional, TypeVar

from . import exceptions
from ._libssh2 import lib

_EAGAIN: int = lib.LIBSSH2_ERROR_EAGAIN
_get_ident = threading.get_ident
_F = TypeVar("_F", bound=Callable[..., Any])

BUSY_TEXT = (
    "session is in use by another thread: a blocking session serves one thread at a "
    "time, because a blocking call may wait for the network while it holds the session. "
    "Use a session per thread, a lock of your own, or a non-blocking session "
    "(whose calls ssh2cffi serialises)")


def new_lock() -> Any:
    """The lock of one session (re-entrant: libssh2's callbacks may call back in)."""
    return threading.RLock()


def busy_error() -> exceptions.BadUseError:
    """What a thread gets for calling into a blocking session another thread is inside."""
    return exceptions.BadUseError(BUSY_TEXT)


def serialised(method: _F) -> _F:
    """Run ``method`` holding its session's lock (see the module docstring)."""
    @wraps(method)
    def holding_the_session(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = self._rec
        lock = rec.lock
        if not lock.acquire(not rec.blocking):
            raise busy_error()
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release()
    holding_the_session.serialised = True  # type: ignore[attr-defined]
    return holding_the_session  # type: ignore[return-value]


def _returned_eagain(_self: Any, result: Any) -> bool:
    rc = result[0] if type(result) is tuple else result
    return type(rc) is int and rc == _EAGAIN


def operation(state: str, would_block: Any = _EAGAIN,
              pending: Callable[[Any, Any], bool] = _returned_eagain) -> Callable[[_F], _F]:
    """As ``serialised``, for a method that resumes libssh2's ``state`` of a session.

    ``self._state_owner()`` is the record holding that state (the session's,
    or an SFTP session's).  ``would_block`` is what the method returns when
    another thread has the operation half done (called first if it is a
    function, for a fresh object each time); ``pending(self, result)``
    says whether a result leaves it half done (by default: it is EAGAIN).
    """
    def decorate(method: _F) -> _F:
        @wraps(method)
        def holding_the_operation(self: Any, *args: Any, **kwargs: Any) -> Any:
            rec = self._rec
            lock = rec.lock
            if not lock.acquire(not rec.blocking):
                raise busy_error()
            try:
                owners = self._state_owner().owners
                me = _get_ident()
                owner: Optional[int] = owners.get(state)
                if owner is not None and owner != me:
                    if rec.blocking:
                        raise exceptions.BadUseError(
                            "another thread has a %s operation half done on this session "
                            "(it returned LIBSSH2_ERROR_EAGAIN); it must finish it first" % state)
                    return would_block() if callable(would_block) else would_block
                try:
                    result = method(self, *args, **kwargs)
                except BaseException:
                    owners.pop(state, None)
                    raise
                if pending(self, result):
                    owners[state] = me
                elif owner is not None:
                    del owners[state]
                return result
            finally:
                lock.release()
        holding_the_operation.serialised = True  # type: ignore[attr-defined]
        return holding_the_operation  # type: ignore[return-value]
    return decorate
