"""How one non-blocking Session is driven from an asyncio event loop.

Every libssh2 call of ``ssh2cffi.aio`` goes through ``SessionIO.call``: call
it; on ``LIBSSH2_ERROR_EAGAIN`` wait for the socket readiness that
``Session.block_directions()`` names (``loop.add_reader``/``add_writer``: no
thread, no polling), then call again.

Several tasks may use one session at once (channels, SFTP files), and they
share one socket.  A call that reads the socket for one task can take the
packets another task waits for out of the kernel's buffer: libssh2 queues
them, and the socket stops being readable.  So after every call the waits of
the other tasks are checked: a wait that knows what it waits for (its
``ready`` function: data queued on its channel, window space) is woken when
that is there, and a wait that cannot know (a session-level request or an
SFTP call, whose replies libssh2 keeps to itself) is woken by any other call.
Those operations hold ``request_lock``, one at a time per session: libssh2
keeps one state per kind of request, and with one such wait at a time no two
of them can wake each other forever.

Cancellation (``task.cancel()``, ``asyncio.timeout()``) arrives while a call
waits, so libssh2 holds a half-done operation.  What happens then is the
call's ``on_cancel`` policy:

* ``ABANDON`` (reads): nothing is half done when the wait was for input
  only; when output was pending (a half-sent packet blocks every other send
  of the session), a background task calls again until it is sent, and hands
  what the calls return to ``dispose`` (a read's data is kept for the next read).
* ``CLOSE_IF_SENDING`` (bulk SFTP transfers, SFTP file reads, whose data
  has nowhere to go once their caller is gone): nothing is half done when the
  wait was for input only (the file handle is closed afterwards); a half-sent
  packet closes the connection.
* ``COMPLETE`` (requests, writes): a background task finishes the operation
  (holding the caller's lock until then) and hands the result to ``dispose``
  (a channel nobody will use is closed).  If that fails or takes longer than
  ``completion_deadline`` seconds, the connection is closed: a session is
  left usable or closed, never half way through an operation.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any, Callable, List, Optional, Set

from .. import exceptions
from .._errors import EAGAIN
from ..session import LIBSSH2_SESSION_BLOCK_INBOUND as INBOUND
from ..session import LIBSSH2_SESSION_BLOCK_OUTBOUND as OUTBOUND
from ..session import Session

ABANDON = "abandon"
COMPLETE = "complete"
CLOSE_IF_SENDING = "close if sending"
Ready = Optional[Callable[[], bool]]


def is_eagain(result: Any) -> bool:
    """True for EAGAIN, as a plain rc or as the rc of an ``(rc, ...)`` tuple."""
    rc = result[0] if type(result) is tuple else result
    return type(rc) is int and rc == EAGAIN


class _Wait:
    __slots__ = ("future", "directions", "ready")

    def __init__(self, future: "asyncio.Future[None]", directions: int, ready: Ready) -> None:
        self.future = future
        self.directions = directions
        self.ready = ready


class SessionIO:
    """A non-blocking Session, its socket and the event loop that waits for it."""

    def __init__(self, session: Session, sock: socket.socket,
                 completion_deadline: float = 30.0) -> None:
        self.session = session
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self.completion_deadline = completion_deadline
        self.request_lock = asyncio.Lock()  # session-level requests (see module docstring)
        self.closed = False
        self._fd = sock.fileno()
        self._waits: List[_Wait] = []
        self._reading = False
        self._writing = False
        self._background: Set["asyncio.Task[None]"] = set()
        session.set_blocking(False)

    # -- waiting ---------------------------------------------------------------------
    def _sync_registrations(self) -> None:
        """add_reader/add_writer exactly while some wait needs that direction."""
        reading = any(wait.directions & INBOUND for wait in self._waits)
        writing = any(wait.directions & OUTBOUND for wait in self._waits)
        if reading != self._reading:
            if reading:
                self.loop.add_reader(self._fd, self._wake, INBOUND)
            else:
                self.loop.remove_reader(self._fd)
            self._reading = reading
        if writing != self._writing:
            if writing:
                self.loop.add_writer(self._fd, self._wake, OUTBOUND)
            else:
                self.loop.remove_writer(self._fd)
            self._writing = writing

    def _resolve(self, chosen: Callable[[_Wait], bool]) -> None:
        keep = []
        for wait in self._waits:
            if chosen(wait):
                if not wait.future.done():
                    wait.future.set_result(None)
            else:
                keep.append(wait)
        self._waits = keep
        self._sync_registrations()

    def _wake(self, direction: int) -> None:
        """The socket is ready in ``direction``: wake every wait for it."""
        self._resolve(lambda wait: bool(wait.directions & direction))

    def _progress(self, current: Optional[_Wait]) -> None:
        """A call returned: wake the waits whose data it may have queued."""
        if self._waits:
            self._resolve(lambda wait: wait is not current
                          and (wait.ready is None or _safely(wait.ready)))

    def _wake_all(self) -> None:
        self._resolve(lambda wait: True)

    async def _wait(self, ready: Ready) -> int:
        """Wait until the session can make progress; returns what it waited for."""
        directions = self.session.block_directions()
        if directions == 0:  # libssh2 did not say: give the loop a turn and retry
            await asyncio.sleep(0)
            return 0
        # ``ready`` describes input (queued data, window space): it says nothing
        # while libssh2 waits to send, which only the socket can tell
        if not directions & OUTBOUND:
            if ready is not None and _safely(ready):
                return 0
        else:
            ready = _NEVER
        wait = _Wait(self.loop.create_future(), directions, ready)
        self._waits.append(wait)
        self._sync_registrations()
        try:
            await wait.future
        finally:
            if wait in self._waits:
                self._waits.remove(wait)
                self._sync_registrations()
        return directions

    # -- calls -----------------------------------------------------------------------
    async def call(self, fn: Callable[..., Any], *args: Any, ready: Ready = None,
                   lock: Optional[asyncio.Lock] = None, on_cancel: str = COMPLETE,
                   dispose: Optional[Callable[[Any], None]] = None) -> Any:
        """``fn(*args)`` until it stops returning EAGAIN, waiting in between.

        ``lock`` is held for the whole operation (and handed to the background
        completion on cancellation); ``ready`` says whether the operation can
        go on without the socket (see the module docstring).
        """
        if lock is not None:
            await lock.acquire()
        handed_over = False
        try:
            while True:
                self.check_open()
                try:
                    result = fn(*args)
                finally:
                    self._progress(None)
                if not is_eagain(result):
                    return result
                try:
                    await self._wait(ready)
                except asyncio.CancelledError:
                    handed_over = self._after_cancel(fn, args, on_cancel, dispose, lock,
                                                     self.session.block_directions())
                    raise
        finally:
            if lock is not None and not handed_over:
                lock.release()

    def _after_cancel(self, fn: Callable[..., Any], args: Any, on_cancel: str,
                      dispose: Optional[Callable[[Any], None]],
                      lock: Optional[asyncio.Lock], directions: int) -> bool:
        """Start what cancellation leaves to do; True when ``lock`` now belongs to it."""
        if self.closed:
            return False
        if on_cancel in (ABANDON, CLOSE_IF_SENDING) and not directions & OUTBOUND:
            return False
        if on_cancel == CLOSE_IF_SENDING:
            self.abort()
            return False
        only_outbound = on_cancel == ABANDON
        task = self.loop.create_task(self._finish(fn, args, dispose, lock, only_outbound))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return lock is not None

    async def _finish(self, fn: Callable[..., Any], args: Any,
                      dispose: Optional[Callable[[Any], None]],
                      lock: Optional[asyncio.Lock], only_outbound: bool) -> None:
        """The rest of a cancelled operation, in the background (see module docstring)."""
        try:
            await asyncio.wait_for(self._finish_calls(fn, args, dispose, only_outbound),
                                   self.completion_deadline)
        except BaseException:  # failed, timed out, or the loop is closing: give up
            self.abort()
        finally:
            if lock is not None:
                lock.release()

    async def _finish_calls(self, fn: Callable[..., Any], args: Any,
                            dispose: Optional[Callable[[Any], None]],
                            only_outbound: bool) -> None:
        while not self.closed:
            try:
                result = fn(*args)
            finally:
                self._progress(None)
            if not is_eagain(result):
                if dispose is not None:
                    dispose(result)
                return
            if only_outbound and not self.session.block_directions() & OUTBOUND:
                return  # the half-sent packet is out: the rest may stay undone
            await self._wait(None)

    def spawn(self, work: Callable[[], Any]) -> None:
        """Await ``work()`` in the background (a clean-up a cancelled caller left);
        if it fails, the connection is closed.  (The coroutine is made only once
        the task runs: a task cancelled before it starts leaves none unawaited.)"""
        async def guarded() -> None:
            try:
                await work()
            except BaseException:
                self.abort()
        task = self.loop.create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- closing ---------------------------------------------------------------------
    def check_open(self) -> None:
        if self.closed:
            raise exceptions.SocketDisconnectError("the connection is closed")

    def abort(self) -> None:
        """Close the socket without a goodbye (a half-done session cannot send one)."""
        if self.closed:
            return
        self.closed = True
        self._wake_all()
        for task in list(self._background):
            task.cancel()
        self.sock.close()

    async def close(self) -> None:
        """Say goodbye (if the session is in a state to) and close the socket."""
        if self.closed:
            return
        try:
            if not self._background:
                await asyncio.wait_for(self.call(self.session.disconnect, lock=self.request_lock),
                                       self.completion_deadline)
        except (exceptions.SSH2Error, OSError, asyncio.TimeoutError):
            pass
        finally:
            self.abort()


def _never() -> bool:
    return False


_NEVER = _never


def _safely(ready: Callable[[], bool]) -> bool:
    """A ready check that fails (its object is gone) means: go and find out."""
    try:
        return bool(ready())
    except Exception:
        return True
