"""Helpers from ssh2-python's ``ssh2.utils``: error codes, line ends, socket waits."""
import select
import typing
from typing import Any, List, Optional, Tuple, Union

from . import exceptions  # noqa: F401  (ssh2.utils exposes the module too)
from ._libssh2 import ffi as _ffi
from ._errors import check as _check
from ._ints import to_cint as _to_cint
from ._libssh2 import lib as _lib
from ._lifetime import record_of as _record_of

if typing.TYPE_CHECKING:
    from .session import Session

#: Encoding for str arguments and str results; read at call time, as ssh2-python does.
ENCODING: str = "utf-8"

_INBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_INBOUND
_OUTBOUND: int = _lib.LIBSSH2_SESSION_BLOCK_OUTBOUND


def handle_error_codes(errcode: int) -> int:
    """Return ``errcode`` if it is >= 0 or LIBSSH2_ERROR_EAGAIN, else raise its exception."""
    return _check(_to_cint(errcode, "errcode"))


def find_eol(buf: bytes, pos: int) -> Tuple[int, int]:
    """Find the next line end in ``buf`` from ``pos``.

    Returns ``(index, skip)``: the index of the line end relative to ``pos``
    and its length, 1 for ``\\n`` and 2 for ``\\r\\n`` (index then points at
    the ``\\r``); ``(-1, 0)`` when there is no ``\\n``.
    """
    if not isinstance(buf, bytes):
        raise TypeError("buf must be bytes, not %s" % type(buf).__name__)
    pos = _to_cint(pos, "pos", "long")
    if not buf:
        return -1, pos
    newline = buf.find(b"\n", pos)
    if newline == -1:
        return -1, 0
    index = newline - pos
    if index > 0 and buf[newline - 1] == 13:  # b"\r"
        return index - 1, 2
    return index, 1


def version(required_version: int = 0) -> Optional[bytes]:
    """libssh2's version as bytes (``b'1.11.1'``), or None if older than ``required_version``."""
    text = _lib.libssh2_version(_to_cint(required_version, "required_version"))
    if text == _ffi.NULL:
        return None
    return bytes(_ffi.string(text))


def ssh2_exit() -> None:
    """Release libssh2's global resources (``libssh2_exit``)."""
    _lib.libssh2_exit()


def wait_socket(_socket: Any, session: "Session", timeout: Union[int, float] = 1) -> Any:
    """Wait with select() for ``_socket`` in the direction(s) the session is blocked on.

    Returns 0 when the session is not blocked, else select()'s three lists.
    """
    if _socket is None:
        raise TypeError("_socket must not be None")
    if isinstance(_socket, int):
        if _to_cint(_socket, "_socket") < 0:  # a descriptor is a C int >= 0
            raise ValueError("_socket must not be negative, got %d" % _socket)
    elif not hasattr(_socket, "fileno"):
        raise TypeError("_socket must be an int or have a fileno() method, not %s"
                        % type(_socket).__name__)
    _record_of(session)  # TypeError unless a Session
    directions = session.block_directions()
    if directions == 0:
        return 0
    readfds: List[Any] = [_socket] if directions & _INBOUND else []
    writefds: List[Any] = [_socket] if directions & _OUTBOUND else []
    try:
        return select.select(readfds, writefds, (), timeout)
    except (TypeError, ValueError, OverflowError) as exc:
        if timeout is not None and (isinstance(timeout, (str, bytes)) or not _is_number(timeout)
                                    or not 0 <= timeout < 2 ** 31):
            raise type(exc)("timeout must be None or a number of seconds >= 0, not %r"
                            % (timeout,)) from None
        raise


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True
