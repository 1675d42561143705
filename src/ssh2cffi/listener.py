"""``Listener``: a remote port forward (``tcpip-forward``), as ssh2-python's ``ssh2.listener``."""
import typing
from typing import Any, Union

from . import exceptions
from ._errors import EAGAIN as _EAGAIN
from ._errors import check as _check_rc
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import record_of as _record_of
from ._threads import serialised as _serialised
from ._waiting import waits_for_peer as _waits_for_peer
from .channel import Channel as _Channel

if typing.TYPE_CHECKING:
    from .session import Session

_LISTENER_GC_SIZE = 1024


class Listener(_Wrapper):
    """A port the server listens on for us, from ``Session.forward_listen[_ex]()``.

    ``forward_accept()`` returns a ``Channel`` for each connection made to
    that port on the server side.  ``forward_cancel()`` stops listening and
    frees the listener (with the connections not yet accepted); the
    listener is unusable afterwards.  A listener dropped without
    ``forward_cancel()`` is cancelled at the session's next call.

    On a non-blocking session a call that would wait returns
    ``LIBSSH2_ERROR_EAGAIN`` (in place of the channel, for
    ``forward_accept()``): call again.  Other libssh2 errors raise their
    :mod:`ssh2cffi.exceptions` class.
    """

    __slots__ = ("_session", "__weakref__")

    def __init__(self, session: "Session") -> None:
        _record_of(session)
        self._session = session
        self._unattached(exceptions.BadUseError,
                         "this Listener was not made by Session.forward_listen()")

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "Listener":
        return cls._child_of(session, raw, _lib.libssh2_channel_forward_cancel,
                             _LISTENER_GC_SIZE)

    @_serialised
    @_waits_for_peer
    def forward_accept(self) -> Union[_Channel, int]:
        """The channel of the next connection forwarded to us.

        On a blocking session this waits for a connection (up to the session
        timeout, then ``Timeout``).
        """
        raw = _lib.libssh2_channel_forward_accept(self._live())
        if raw == _ffi.NULL:
            return _check_rc(_lib.libssh2_session_last_errno(self._rec.ptr), self._rec.ptr)
        return _Channel._wrap(self._session, raw)

    @_serialised
    def forward_cancel(self) -> int:
        """Stop the forward and free the listener; returns 0."""
        rc = _lib.libssh2_channel_forward_cancel(self._live())
        if rc == _EAGAIN:
            return rc
        # Whatever rc says, libssh2 has freed the listener: never touch it again.
        self._disown(exceptions.BadUseError, "this Listener was cancelled (forward_cancel)")
        return _check_rc(rc, self._rec.ptr)

    def __repr__(self) -> str:
        return "<Listener%s>" % (" cancelled" if self._gone is not None else "")
