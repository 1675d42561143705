"""The one error path: libssh2 return code -> exception.

The code-to-class table is built by reflection from the ``_error_code`` names
that ``exceptions`` gives its classes, with the values read from libssh2.h.
Every raised exception carries the numeric code and, when the session's last
error is that code (message_for), libssh2's own message, so ``str(exc)`` says
what went wrong.  Every call site builds its exception here: make_error,
raise_error, check and error_as for libssh2 codes, needs_libssh2 for features
this build of libssh2 lacks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, NoReturn, Optional, Type

from . import exceptions
from ._libssh2 import ffi, lib

if TYPE_CHECKING:
    from ._libssh2 import CData

EAGAIN: int = lib.LIBSSH2_ERROR_EAGAIN


def _build_table() -> Dict[int, Type[exceptions.SSH2Error]]:
    table = {}
    for cls in vars(exceptions).values():
        if isinstance(cls, type) and "_error_code" in cls.__dict__:
            table[getattr(lib, cls.__dict__["_error_code"])] = cls
    return table


CODE_TO_CLASS: Dict[int, Type[exceptions.SSH2Error]] = _build_table()
CODE_TO_NAME: Dict[int, str] = {
    getattr(lib, name): name for name in dir(lib)
    if name.startswith("LIBSSH2_ERROR_") and name != "LIBSSH2_ERROR_PUBLICKEY_UNRECOGNIZED"}


def session_message_bytes(session_ptr: Optional["CData"]) -> bytes:
    """libssh2's text for the session's last error, undecoded (b'' when there is none).

    The one place that asks libssh2 for the text: Session.last_error()
    decodes it strictly (as it always has), error messages with "replace".
    """
    if session_ptr is None or session_ptr == ffi.NULL:
        return b""
    msg = ffi.new("char **")
    length = ffi.new("int *")
    lib.libssh2_session_last_error(session_ptr, msg, length, 0)
    if msg[0] == ffi.NULL or length[0] <= 0:
        return b""
    data: bytes = ffi.unpack(msg[0], length[0])
    return data


def session_message(session_ptr: Optional["CData"]) -> str:
    """libssh2's text for the session's last error ('' when there is none)."""
    return session_message_bytes(session_ptr).decode("utf-8", "replace")


def message_for(rc: int, session_ptr: Optional["CData"]) -> str:
    """libssh2's message for the failure that returned ``rc``, or '' if it recorded none.

    The rule every exception follows: the session's last message is
    attached only when the session's last error code is ``rc``.  libssh2
    returns some codes without recording a message (BUFFER_TOO_SMALL from
    several calls, a bare -1 from the publickey subsystem...), and the
    session keeps the text of its previous failure until the next one, so
    without this check an exception could carry an earlier, unrelated
    message.
    """
    if session_ptr is None or session_ptr == ffi.NULL:
        return ""
    if lib.libssh2_session_last_errno(session_ptr) != rc:
        return ""
    return session_message(session_ptr)


def make_error(rc: int, context: str = "",
               cls: Optional[Type[exceptions.SSH2Error]] = None,
               session_ptr: Optional["CData"] = None) -> exceptions.SSH2Error:
    """The exception for libssh2 error code ``rc`` (< 0, not EAGAIN).

    Its text is ``context``, then libssh2's message when it belongs to ``rc``
    (see message_for; pass ``session_ptr`` for it), then the code's name and
    value: ``"<context>: <libssh2's message> (LIBSSH2_ERROR_<NAME>, <rc>)"``.
    ``errcode`` is ``rc``.  ``cls`` overrides the class the code maps to,
    for the failures ssh2-python reports with a class of its own
    (KnownHostAddError, AgentConnectionError...).
    """
    if cls is None:
        cls = CODE_TO_CLASS.get(rc, exceptions.UnknownError)
    message = message_for(rc, session_ptr)
    if context and message:
        message = "%s: %s" % (context, message)
    elif context:
        message = context
    name = CODE_TO_NAME.get(rc, "unknown libssh2 error")
    text = "%s (%s, %d)" % (message, name, rc) if message else "%s (%d)" % (name, rc)
    exc = cls(text)
    exc.errcode = rc
    return exc


def raise_error(rc: int, session_ptr: Optional["CData"] = None, context: str = "") -> NoReturn:
    """Raise make_error(rc, context, session_ptr=session_ptr)."""
    raise make_error(rc, context, None, session_ptr)


def check(rc: int, session_ptr: Optional["CData"] = None) -> int:
    """ssh2-python's ``handle_error_codes``: return rc when >= 0 or EAGAIN, else raise.

    Hot paths test ``rc < 0 and rc != EAGAIN`` inline and call raise_error()
    directly; this is for the many calls where one function call costs nothing.
    """
    if rc < 0 and rc != EAGAIN:
        raise_error(rc, session_ptr)
    return rc


def error_as(cls: Type[exceptions.SSH2Error], context: str, rc: Optional[int] = None,
             session_ptr: Optional["CData"] = None) -> exceptions.SSH2Error:
    """An exception of class ``cls`` saying ``context``, then libssh2's message and code.

    As make_error with ``cls``; with ``rc`` None (a failure ssh2cffi found
    itself, with no libssh2 code) just ``cls(context)``, whose errcode stays None.
    """
    if rc is None:
        return cls(context)
    return make_error(rc, context, cls, session_ptr)


def _version_text(number: int) -> str:
    return "%d.%d.%d" % (number >> 16, (number >> 8) & 0xFF, number & 0xFF)


def running_libssh2_version() -> str:
    """The version of the libssh2 loaded at run time, e.g. "1.11.1"."""
    return str(ffi.string(lib.libssh2_version(0)).decode("ascii", "replace"))


def needs_libssh2(feature: str, version: str) -> NotImplementedError:
    """The error for ``feature``, which ssh2cffi's build lacks because libssh2 < ``version``.

    The SSH2CFFI_HAS_* flags are fixed when the binding is compiled, so the
    message names the libssh2 ssh2cffi was built against, and the one it
    runs with when that differs: a newer library at run time does not
    bring the feature back until ssh2cffi is rebuilt.
    """
    built = _version_text(lib.LIBSSH2_VERSION_NUM)
    running = running_libssh2_version()
    text = "%s needs libssh2 >= %s; ssh2cffi was built against libssh2 %s" % (
        feature, version, built)
    if running != built:
        text += " (it runs with libssh2 %s)" % running
    return NotImplementedError(text)
