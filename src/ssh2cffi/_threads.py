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

The states are libssh2's, grouped where libssh2 shares them: "channel" for
every channel open (``sftp_init`` and SCP open one too) and every channel
request that waits for a reply (``execute``, ``pty``, ``setenv``...): libssh2
1.11 takes the first CHANNEL_SUCCESS/FAILURE that arrives as its own and
fails a request when it belongs to another channel's; "global_request" for
``forward_listen`` and ``keepalive_send`` (their replies carry no channel
either); "userauth"; and one per SFTP request type.

Channels, listeners and handles keep their state per object: using one of
them from two threads at once is serialised but not otherwise policed (see
docs/concurrency.rst).  ``Session.block_directions()`` and the other reads
of one field of the session take no lock: they free nothing and do no I/O.
"""
from __future__ import annotations

import inspect
import threading
from functools import wraps
from typing import Any, Callable, Dict, TypeVar

from . import exceptions
from ._errors import EAGAIN as _EAGAIN

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


# The wrappers are generated with the wrapped method's own parameters: on
# CPython a generic ``(self, *args, **kwargs)`` wrapper costs twice as much
# per call (issue 15 measured 276 ns against 164 ns around a trivial method).
_ACQUIRE = """
    rec = self._rec
    lock = rec.lock
    if rec.blocking:
        if not lock.acquire(False):
            raise busy_error()
    else:
        lock.acquire()
    try:
        if rec.callback_error is not None:
            rec.raise_callback_error()
"""
# For ``live=True``: what Wrapper._live() checks, inlined (one Python call
# fewer on the trivial calls; the method then uses ``self._ptr``).
_LIVE_CHECK = """
        if not rec.usable:
            rec.raise_unusable()
        gone = self._gone
        if gone is not None:
            raise gone[0](gone[1])
"""
_SERIALISED_BODY = """
        return method(%(call)s)
    finally:
        lock.release()
"""
_OPERATION_BODY = """
        owners = self._state_owner().owners
        if owners:
            owner = owners.get(state)
            if owner is not None and owner != get_ident():
                if rec.blocking:
                    raise half_done_error(state)
                return would_block() if callable(would_block) else would_block
        try:
            result = method(%(call)s)
        except BaseException:
            owners.pop(state, None)
            raise
        if pending(self, result):
            owners[state] = get_ident()
        elif owners:
            owners.pop(state, None)
        return result
    finally:
        lock.release()
"""


def _wrap(method: Callable[..., Any], body: str, names: Dict[str, Any], live: bool = False
          ) -> Any:
    """``method`` wrapped in ``_ACQUIRE`` + ``body``, with the same parameters
    (and with ``_LIVE_CHECK`` between them if ``live``)."""
    parameters, arguments = [], []
    defaults: Dict[str, Any] = {}
    keyword_only_started = False
    for param in inspect.signature(method).parameters.values():
        text = param.name
        if param.default is not param.empty:
            defaults["default_" + param.name] = param.default
            text += "=default_" + param.name
        if param.kind is param.VAR_POSITIONAL:
            text, keyword_only_started = "*" + param.name, True
            arguments.append(text)
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + param.name
            arguments.append(text)
        elif param.kind is param.KEYWORD_ONLY:
            if not keyword_only_started:
                parameters.append("*")
                keyword_only_started = True
            arguments.append("%s=%s" % (param.name, param.name))
        else:
            arguments.append(param.name)
        parameters.append(text)
    source = ("def %s(%s):" % (method.__name__, ", ".join(parameters)) + _ACQUIRE
              + (_LIVE_CHECK if live else "") + body % {"call": ", ".join(arguments)})
    namespace = dict(names, method=method, busy_error=busy_error, get_ident=_get_ident,
                     half_done_error=half_done_error, **defaults)
    exec(compile(source, "<ssh2cffi._threads wrapper of %s>" % method.__qualname__, "exec"),
         namespace)
    wrapper: Any = wraps(method)(namespace[method.__name__])
    wrapper.serialised = True  # what tests/test_threads.py looks for
    return wrapper


def serialised(method: _F) -> _F:
    """Run ``method`` holding its session's lock (see the module docstring)."""
    return _wrap(method, _SERIALISED_BODY, {})  # type: ignore[no-any-return]


def serialised_live(method: _F) -> _F:
    """As ``serialised``, raising first as ``Wrapper._live()`` does when the
    object or its session is unusable: ``method`` uses ``self._ptr`` directly."""
    return _wrap(method, _SERIALISED_BODY, {}, live=True)  # type: ignore[no-any-return]


def returned_eagain(result: Any) -> bool:
    """Whether a call's result is LIBSSH2_ERROR_EAGAIN: the int itself, or a
    tuple starting with it (reads, writes, ``forward_listen_ex``)."""
    rc = result[0] if type(result) is tuple else result
    return type(rc) is int and rc == _EAGAIN


def _returned_eagain(_self: Any, result: Any) -> bool:
    return returned_eagain(result)


def half_done_error(state: str) -> exceptions.BadUseError:
    """A blocking session's call of an operation another thread left half done."""
    return exceptions.BadUseError(
        "another thread has a %s operation half done on this session (it returned "
        "LIBSSH2_ERROR_EAGAIN); it must finish it first" % state)


def operation(state: str, would_block: Any = _EAGAIN,
              pending: Callable[[Any, Any], bool] = _returned_eagain) -> Callable[[_F], _F]:
    """As ``serialised``, for a method that resumes libssh2's ``state`` of a session.

    ``self._state_owner()`` is the record holding that state (the session's,
    or an SFTP session's).  ``would_block`` is what the method returns when
    another thread has the operation half done (called first if it is a
    function, for a fresh object each time); ``pending(self, result)`` says
    whether a result leaves it half done (by default: it is EAGAIN).
    """
    def decorate(method: _F) -> _F:
        return _wrap(method, _OPERATION_BODY,  # type: ignore[no-any-return]
                     {"state": state, "would_block": would_block, "pending": pending})
    return decorate
