"""A session whose transport is a channel of another session (a jump host).

``Session.handshake(channel)`` runs the new ("inner") session over
``channel``, typically ``outer.direct_tcpip(next_host, 22)``: libssh2's
socket I/O for the inner session is replaced (LIBSSH2_CALLBACK_SEND/RECV) by
the two functions below, which read and write the outer channel.  No local
port, no thread: each inner call moves its own bytes through the outer
session, in the calling thread.

Why the calls look the way they do:

* The receive side never blocks.  libssh2 reads its transport before a
  channel write too (to see window adjustments), and a receive that waited
  for data there would hang the write.  When the outer channel has nothing,
  the inner session gets EAGAIN: a blocking inner session then waits in
  libssh2 on the outer session's socket (handed to libssh2 as the inner
  session's descriptor), which is correct because a read of the outer
  channel that returns EAGAIN has read everything the socket had.
* The send side of a blocking inner session does block (an outer blocking
  write, which waits for the outer channel's window as well as for the
  socket).  Otherwise the inner session would see EAGAIN for a full window
  and wait for the socket to become writable, which it always is: a busy loop.
* A non-blocking inner session gets EAGAIN from both, and its
  ``block_directions()`` reports what the *outer* session waits for (a full
  window is a wait for input), or 0 when the outer session already holds data
  for this channel: packets for several channels arrive on one socket, and a
  read for one inner session may queue another's.
* Each call holds the outer session's lock (the inner call holds the inner
  one: always inner, then outer) and sets the outer session's blocking mode
  for its own call only.
* Nothing may raise into C: a failure of the outer channel is a negative
  errno for libssh2, which raises its own socket error in the inner call.
"""
from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from ._errors import EAGAIN
from ._libssh2 import ffi, lib

if TYPE_CHECKING:
    from .channel import Channel

_INBOUND: int = lib.LIBSSH2_SESSION_BLOCK_INBOUND
_EAGAIN_ERRNO = -errno.EAGAIN
_GONE_ERRNO = -errno.ENOTCONN
_FAILED_ERRNO = -errno.ECONNRESET


class ChannelTransport:
    """The outer channel an inner session runs over, and what it last waited for."""

    __slots__ = ("channel", "directions")

    def __init__(self, channel: "Channel") -> None:
        self.channel = channel
        # The outer session's block directions when the outer channel last
        # returned EAGAIN: what a non-blocking inner session waits for.
        self.directions = _INBOUND

    def _outer(self) -> Any:
        """The outer channel's pointer, or None once it or its session is unusable."""
        channel = self.channel
        if channel._gone is not None or not channel._rec.usable:
            return None
        return channel._ptr

    def transfer(self, buffer: Any, length: int, sending: bool, block: bool) -> int:
        """Move up to ``length`` bytes between ``buffer`` and the outer channel:
        the byte count, 0 at the channel's EOF, or a negative errno."""
        rec = self.channel._rec
        with rec.lock:
            channel_ptr = self._outer()
            if channel_ptr is None:
                return _GONE_ERRNO
            session_ptr = rec.ptr
            was_blocking = lib.libssh2_session_get_blocking(session_ptr)
            lib.libssh2_session_set_blocking(session_ptr, 1 if block else 0)
            try:
                if sending:
                    rc = lib.libssh2_channel_write_ex(channel_ptr, 0, buffer, length)
                else:
                    rc = lib.libssh2_channel_read_ex(channel_ptr, 0, buffer, length)
                if rc == EAGAIN:
                    self.directions = lib.libssh2_session_block_directions(session_ptr) or _INBOUND
            finally:
                lib.libssh2_session_set_blocking(session_ptr, was_blocking)
        if rc >= 0:
            return int(rc)
        return _EAGAIN_ERRNO if rc == EAGAIN else _FAILED_ERRNO

    def block_directions(self, inner_directions: int) -> int:
        """What a non-blocking inner session blocked on ``inner_directions`` waits
        for on the outer socket (see the module docstring)."""
        if inner_directions == 0:
            return 0
        rec = self.channel._rec
        with rec.lock:
            channel_ptr = self._outer()
            if channel_ptr is None:
                return 0  # the next call fails at once: nothing to wait for
            if lib.libssh2_poll_channel_read(channel_ptr, 0):
                return 0
        return self.directions


def _transport_of(abstract: Any) -> Any:
    """The inner session's transport and whether the session blocks, or (None, False)."""
    state = ffi.from_handle(abstract[0])
    session = state.session()
    if session is None:
        return None, False
    return session._transport, session._rec.blocking


@ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_transport_send(fd: int, buffer: Any, length: int, flags: int,
                             abstract: Any) -> int:
    try:
        transport, blocking = _transport_of(abstract)
        if transport is None:
            return _GONE_ERRNO
        sent: int = transport.transfer(buffer, length, True, blocking)
        return sent
    except BaseException:  # nothing may cross into C; libssh2 reports a send error
        return _FAILED_ERRNO


@ffi.def_extern()  # type: ignore[untyped-decorator]
def _ssh2cffi_transport_recv(fd: int, buffer: Any, length: int, flags: int,
                             abstract: Any) -> int:
    try:
        transport, _blocking = _transport_of(abstract)
        if transport is None:
            return _GONE_ERRNO
        received: int = transport.transfer(buffer, length, False, False)
        return received
    except BaseException:
        return _FAILED_ERRNO
