"""The one error path: libssh2 return code -> exception.

The code-to-class table is built by reflection from the ``_error_code`` names
that ``exceptions`` gives its classes, with the values read from libssh2.h.
Every raised exception carries libssh2's own message (when a session is known)
and the numeric code, so ``str(exc)`` says what went wrong.
"""
from __future__ import annotations

from typing import Dict, NoReturn, Optional, Type

from . import exceptions
from ._libssh2 import ffi, lib

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


def session_message(session_ptr: object) -> str:
    """libssh2's text for the session's last error ('' when there is none)."""
    if session_ptr is None or session_ptr == ffi.NULL:
        return ""
    msg = ffi.new("char **")
    length = ffi.new("int *")
    lib.libssh2_session_last_error(session_ptr, msg, length, 0)
    if msg[0] == ffi.NULL or length[0] <= 0:
        return ""
    text: str = ffi.unpack(msg[0], length[0]).decode("utf-8", "replace")
    return text


def make_error(rc: int, message: str = "",
               cls: Optional[Type[exceptions.SSH2Error]] = None) -> exceptions.SSH2Error:
    """The exception for libssh2 error code ``rc`` (< 0, not EAGAIN).

    ``cls`` overrides the class the code maps to, for the failures ssh2-python
    reports with a class of its own (KnownHostAddError, AgentConnectionError...).
    """
    if cls is None:
        cls = CODE_TO_CLASS.get(rc, exceptions.UnknownError)
    name = CODE_TO_NAME.get(rc, "unknown libssh2 error")
    text = "%s (%s, %d)" % (message, name, rc) if message else "%s (%d)" % (name, rc)
    exc = cls(text)
    exc.errcode = rc
    return exc


def raise_error(rc: int, session_ptr: object = None,
                message: Optional[str] = None) -> NoReturn:
    """Raise the exception for ``rc``, with the session's last error message."""
    raise make_error(rc, session_message(session_ptr) if message is None else message)


def check(rc: int, session_ptr: object = None) -> int:
    """ssh2-python's ``handle_error_codes``: return rc when >= 0 or EAGAIN, else raise.

    Hot paths test ``rc < 0 and rc != EAGAIN`` inline and call raise_error()
    directly; this is for the many calls where one function call costs nothing.
    """
    if rc < 0 and rc != EAGAIN:
        raise_error(rc, session_ptr)
    return rc


def error_as(cls: Type[exceptions.SSH2Error], context: str, rc: Optional[int] = None,
             session_ptr: object = None) -> exceptions.SSH2Error:
    """An exception of class ``cls`` saying ``context``, then libssh2's message and code.

    libssh2's last message is added only when it belongs to this failure,
    that is when the session's last error code is ``rc``.
    """
    if rc is None:
        return cls(context)
    message = ""
    if (session_ptr is not None and session_ptr != ffi.NULL
            and lib.libssh2_session_last_errno(session_ptr) == rc):
        message = session_message(session_ptr)
    return make_error(rc, "%s: %s" % (context, message) if message else context, cls)
