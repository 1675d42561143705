"""``Listener``: a remote port forward (``tcpip-forward``), as ssh2-python's ``ssh2.listener``."""
import typing
from typing import Any, Optional, Union

from . import exceptions
from ._errors import EAGAIN as _EAGAIN
from ._errors import check as _check_rc
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import unusable_record as _unusable_record
from .channel import Channel as _Channel

if typing.TYPE_CHECKING:
    from ._lifetime import ChildFinaliser, SessionRecord
    from .session import Session

_LISTENER_GC_SIZE = 1024


class Listener:
    """A port the server listens on for us, from ``Session.forward_listen[_ex]()``.

    ``forward_accept()`` returns a ``Channel`` for each connection made to
    that port on the server side.  ``forward_cancel()`` stops listening and
    frees the listener (with the connections not yet accepted); the
    listener is unusable afterwards.  A listener dropped without
    ``forward_cancel()`` is cancelled at the session's next call.
    """

    __slots__ = ("_session", "_rec", "_ptr", "_finaliser", "_cancelled", "__weakref__")

    def __init__(self, session: "Session") -> None:
        from .session import Session

        if not isinstance(session, Session):
            raise TypeError("session must be a Session, not %s" % type(session).__name__)
        self._session = session
        self._rec: "SessionRecord" = _unusable_record(
            exceptions.BadUseError, "this Listener was not made by Session.forward_listen()")
        self._ptr: Any = _ffi.NULL
        self._finaliser: Optional["ChildFinaliser"] = None
        self._cancelled = False

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "Listener":
        listener = cls.__new__(cls)
        rec = session._rec
        listener._session = session
        listener._rec = rec
        listener._finaliser = rec.child_finaliser(_lib.libssh2_channel_forward_cancel)
        listener._ptr = _ffi.gc(raw, listener._finaliser, size=_LISTENER_GC_SIZE)
        listener._cancelled = False
        return listener

    def _live(self) -> Any:
        rec = self._rec
        if not rec.usable:
            rec.raise_unusable()
        if self._cancelled:
            raise exceptions.BadUseError("this Listener was cancelled (forward_cancel)")
        return self._ptr

    def forward_accept(self) -> Union[_Channel, int]:
        """The channel of the next connection forwarded to us, or LIBSSH2_ERROR_EAGAIN.

        On a blocking session this waits for a connection (up to the session
        timeout, then ``Timeout``).
        """
        raw = _lib.libssh2_channel_forward_accept(self._live())
        if raw == _ffi.NULL:
            return _check_rc(_lib.libssh2_session_last_errno(self._rec.ptr), self._rec.ptr)
        return _Channel._wrap(self._session, raw)

    def forward_cancel(self) -> int:
        """Stop the forward and free the listener: 0, or LIBSSH2_ERROR_EAGAIN (call again)."""
        rc = _lib.libssh2_channel_forward_cancel(self._live())
        if rc == _EAGAIN:
            return int(rc)
        # Whatever rc says, libssh2 has freed the listener: never touch it again.
        self._cancelled = True
        _ffi.gc(self._ptr, None)
        if self._finaliser is not None:
            self._finaliser.forget()
        return _check_rc(rc, self._rec.ptr)

    def __repr__(self) -> str:
        return "<Listener%s>" % (" cancelled" if self._cancelled else "")
