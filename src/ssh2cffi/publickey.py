"""The publickey subsystem (RFC 4819): ssh2-python's ``ssh2.publickey``.

Lets a client add, remove and list the public keys a server accepts for its
account, on servers that offer the ``publickey`` subsystem (some commercial
servers; OpenSSH does not).  ``Session.publickey_init()`` starts it.
"""
import functools as _functools
import struct as _struct
import typing
from typing import Any, List, NoReturn, Optional, Sequence, Tuple, Union

from . import exceptions
from ._convert import StrOrBytes
from ._convert import to_bytes as _to_bytes
from ._errors import EAGAIN as _EAGAIN
from ._errors import make_error as _make_error
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import record_of as _record_of
from ._threads import serialised as _serialised

if typing.TYPE_CHECKING:
    from .session import Session

_PUBLICKEY_GC_SIZE = 4096
_SOCKET_NONE: int = _lib.LIBSSH2_ERROR_SOCKET_NONE
_PROTOCOL_ERROR: int = _lib.LIBSSH2_ERROR_PUBLICKEY_PROTOCOL
# RFC 4819: the "list" request, and a sanity limit on one response packet.
_LIST_REQUEST = _struct.pack(">I", 8) + _struct.pack(">I", 4) + b"list"
_MAX_PACKET = 1 << 24
_STATUS_NAMES = {0: "success", 1: "access denied", 2: "storage exceeded",
                 3: "version not supported", 4: "key not found", 5: "key not supported",
                 6: "key already present", 7: "general failure", 8: "request not supported"}


class _Listing:
    """A list_fetch() in progress: what was sent and received so far (non-blocking mode)."""

    __slots__ = ("sent", "packet", "keys")

    def __init__(self) -> None:
        self.sent = 0
        self.packet = bytearray()
        self.keys: List["PublicKeyList"] = []


def _parse_strings(packet: bytes, offset: int, count: int) -> "Tuple[Any, ...]":
    """``count`` SSH strings from ``packet`` at ``offset``: (strings..., new offset)."""
    values = []
    for _ in range(count):
        if offset + 4 > len(packet):
            raise ValueError("truncated publickey packet")
        (length,) = _struct.unpack_from(">I", packet, offset)
        offset += 4
        if offset + length > len(packet):
            raise ValueError("truncated publickey packet")
        values.append(bytes(packet[offset:offset + length]))
        offset += length
    return tuple(values) + (offset,)


class PublicKeyAttribute:
    """A name/value attribute of a key (for example ``comment``), for ``PublicKeySystem.add()``.

    ``mandatory`` asks the server to refuse the key if it does not
    understand the attribute.  Servers do not report it back when listing.
    """

    __slots__ = ("_name", "_value", "_mandatory")

    def __init__(self, name: StrOrBytes, value: StrOrBytes, mandatory: int) -> None:
        self._name = _to_bytes(name, "name")
        self._value = _to_bytes(value, "value")
        if not isinstance(mandatory, int):
            raise TypeError("mandatory must be an int or bool, not %s"
                            % type(mandatory).__name__)
        self._mandatory = int(mandatory)

    @property
    def name(self) -> bytes:
        """The attribute's name, e.g. ``b'comment'``."""
        return self._name

    @property
    def name_len(self) -> int:
        """Length of :attr:`name` in bytes."""
        return len(self._name)

    @property
    def value(self) -> bytes:
        """The attribute's value."""
        return self._value

    @property
    def value_len(self) -> int:
        """Length of :attr:`value` in bytes."""
        return len(self._value)

    @property
    def mandatory(self) -> int:
        """1 if the server must understand the attribute to accept the key, else 0."""
        return self._mandatory

    def __repr__(self) -> str:
        return "PublicKeyAttribute(%r, %r, %d)" % (self._name, self._value, self._mandatory)


class PublicKeyList:
    """One key the server holds, from ``PublicKeySystem.list_fetch()``.

    ``name`` is the key's algorithm name (``b'ssh-ed25519'``), ``blob`` the
    key in SSH wire format and ``attrs`` its attributes (an ssh2cffi
    addition; ssh2-python's properties all raise AttributeError).  A
    ``PublicKeyList(pkey_s)`` built directly has every property None.
    """

    __slots__ = ("_pkey_s", "_name", "_blob", "_attrs")

    def __init__(self, pkey_s: Optional["PublicKeySystem"] = None) -> None:
        self._pkey_s = pkey_s
        self._name: Optional[bytes] = None
        self._blob: Optional[bytes] = None
        self._attrs: Optional[List[PublicKeyAttribute]] = None

    @classmethod
    def _from_packet(cls, pkey_s: "PublicKeySystem", packet: bytes,
                     offset: int) -> "PublicKeyList":
        """The key of a version 2 ``publickey`` response, its fields from ``offset`` on."""
        name, blob, offset = _parse_strings(packet, offset, 2)
        if offset + 4 > len(packet):
            raise ValueError("truncated publickey packet")
        (count,) = _struct.unpack_from(">I", packet, offset)
        offset += 4
        attrs = []
        for _ in range(count):
            attr_name, attr_value, offset = _parse_strings(packet, offset, 2)
            # Lists carry no "mandatory" flag (RFC 4819 section 4.3).
            attrs.append(PublicKeyAttribute(attr_name, attr_value, 0))
        entry = cls(pkey_s)
        entry._name, entry._blob, entry._attrs = name, blob, attrs
        return entry

    @property
    def name(self) -> Optional[bytes]:
        """The key's algorithm name, e.g. ``b'ssh-ed25519'``; None if built directly."""
        return self._name

    @property
    def name_len(self) -> Optional[int]:
        """Length of :attr:`name` in bytes, or None."""
        return None if self._name is None else len(self._name)

    @property
    def blob(self) -> Optional[bytes]:
        """The public key in SSH wire format, or None."""
        return self._blob

    @property
    def blob_len(self) -> Optional[int]:
        """Length of :attr:`blob` in bytes, or None."""
        return None if self._blob is None else len(self._blob)

    @property
    def num_attrs(self) -> Optional[int]:
        """Number of attributes the server sent with the key, or None."""
        return None if self._attrs is None else len(self._attrs)

    @property
    def attrs(self) -> Optional[List[PublicKeyAttribute]]:
        """The key's attributes (:class:`PublicKeyAttribute`, an ssh2cffi addition), or None."""
        return None if self._attrs is None else list(self._attrs)

    def __repr__(self) -> str:
        return "PublicKeyList(name=%r, blob_len=%s, attrs=%r)" % (
            self._name, self.blob_len, self._attrs)


class PublicKeySystem(_Wrapper):
    """The publickey subsystem of a session, from ``Session.publickey_init()``.

    Methods return 0 (or what their docstring says).  On a blocking session
    every call waits for the server's answer (libssh2 returns
    ``LIBSSH2_ERROR_EAGAIN`` here even on blocking sessions, which
    ssh2-python passes on); on a non-blocking one a call that would wait
    returns ``LIBSSH2_ERROR_EAGAIN``: call again with the same arguments.
    A status the server refuses a request with raises
    ``PublicKeyProtocolError`` carrying the server's reason (``key already
    present``, ``key not found``, ...); other libssh2 errors raise their
    :mod:`ssh2cffi.exceptions` class.
    """

    __slots__ = ("_session", "_listing", "__weakref__")

    def __init__(self, session: "Session") -> None:
        _record_of(session)
        self._session = session
        self._unattached(exceptions.PublicKeyError,
                         "this PublicKeySystem was not started by Session.publickey_init()")
        self._listing: Optional[_Listing] = None

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "PublicKeySystem":
        # The shutdown closes the subsystem's channel: queued with the session.
        # (Not libssh2_publickey_shutdown: see ssh2cffi_publickey_shutdown in helpers.c.)
        shutdown = _functools.partial(_lib.ssh2cffi_publickey_shutdown, session._rec.ptr)
        system = cls._child_of(session, raw, shutdown, _PUBLICKEY_GC_SIZE)
        system._listing = None
        return system

    # -- plumbing -------------------------------------------------------------------------
    def _idle(self) -> Any:
        """As _live(), for requests that must not cut into a list_fetch() in progress."""
        ptr = self._live()
        if self._listing is not None:
            raise exceptions.PublicKeyError(
                "a list_fetch() is in progress: call it again until it returns the list")
        return ptr

    def _call(self, function: Any, *args: Any) -> int:
        """``function(*args)``, repeated until done when the session is blocking.

        libssh2's publickey calls are not wrapped in its own blocking loop,
        so they return EAGAIN whenever the server has not answered yet.
        """
        rec = self._rec
        while True:
            rc = function(*args)
            if rc != _EAGAIN or not rec.blocking:
                return int(rc)
            waited = _lib.ssh2cffi_wait_socket(rec.ptr, rec._fd)
            if waited != 0:
                return waited

    def _raise(self, rc: int, context: str) -> NoReturn:
        session_ptr = self._rec.ptr
        if rc == _SOCKET_NONE:
            # libssh2 returns a bare -1 here after recording the real error
            # (usually PUBLICKEY_PROTOCOL with the server's status text).
            last = _lib.libssh2_session_last_errno(session_ptr)
            if last < 0 and last != _EAGAIN:
                rc = last
        raise _make_error(rc, context, session_ptr=session_ptr)

    def _check(self, rc: int, context: str) -> int:
        if rc < 0 and rc != _EAGAIN:
            self._raise(rc, context)
        return rc

    # -- API ------------------------------------------------------------------------------
    @_serialised
    def add(self, name: StrOrBytes, blob: bytes, overwrite: int,
            attrs: Sequence[PublicKeyAttribute]) -> int:
        """Ask the server to accept the key ``blob`` of algorithm ``name`` (e.g. ``b'ssh-rsa'``).

        ``overwrite`` replaces a key already present (else the server
        refuses it); ``attrs`` is a list of ``PublicKeyAttribute``.
        """
        key_name = _to_bytes(name, "name")
        key_blob = _to_bytes(blob, "blob")
        try:
            attrs = list(attrs or ())
        except TypeError:
            raise TypeError("attrs must be a sequence of PublicKeyAttribute, not %s"
                            % type(attrs).__name__) from None
        keep: List[Any] = []  # the C array points into these
        array = _ffi.new("libssh2_publickey_attribute[]", max(len(attrs), 1))
        for index, attr in enumerate(attrs):
            if not isinstance(attr, PublicKeyAttribute):
                raise TypeError("attrs must hold PublicKeyAttribute objects, not %s"
                                % type(attr).__name__)
            attr_name = _ffi.new("char[]", attr.name)
            attr_value = _ffi.new("char[]", attr.value)
            keep.extend((attr_name, attr_value))
            array[index].name = attr_name
            array[index].name_len = len(attr.name)
            array[index].value = attr_value
            array[index].value_len = len(attr.value)
            array[index].mandatory = b"\x01" if attr.mandatory else b"\x00"
        rc = self._call(_lib.libssh2_publickey_add_ex, self._idle(), key_name, len(key_name),
                        key_blob, len(key_blob), b"\x01" if overwrite else b"\x00",
                        len(attrs), array)
        return self._check(rc, "publickey add of a %s key refused"
                           % key_name.decode("utf-8", "replace"))

    @_serialised
    def remove(self, name: StrOrBytes, blob: bytes) -> int:
        """Ask the server to stop accepting the key ``blob`` of algorithm ``name``; returns 0."""
        key_name = _to_bytes(name, "name")
        key_blob = _to_bytes(blob, "blob")
        rc = self._call(_lib.libssh2_publickey_remove_ex, self._idle(), key_name,
                        len(key_name), key_blob, len(key_blob))
        return self._check(rc, "publickey remove of a %s key refused"
                           % key_name.decode("utf-8", "replace"))

    @_serialised
    def list_fetch(self) -> Union[List[PublicKeyList], int]:
        """The keys the server holds for this account, as ``PublicKeyList`` objects.

        In non-blocking mode, call it again (and nothing else on this
        object) until it returns the list.
        ssh2-python's cannot work (it gives libssh2 no list to fill); this
        one speaks the protocol's ``list`` request itself (version 2, the
        version libssh2 asks the server for) on the subsystem's channel, as
        libssh2's own list call drops keys when the answer arrives in pieces.
        """
        channel = _lib.ssh2cffi_publickey_channel(self._live())
        rec = self._rec
        listing = self._listing
        if listing is None:
            listing = self._listing = _Listing()
        try:
            while listing.sent < len(_LIST_REQUEST):
                request = _LIST_REQUEST[listing.sent:]
                rc = _lib.libssh2_channel_write_ex(channel, 0, request, len(request))
                if rc == _EAGAIN:
                    return rc
                self._check(rc, "sending the publickey list request failed")
                listing.sent += rc
            read_buffer = _ffi.new("char[]", 65536)
            packet = listing.packet
            while True:
                if len(packet) >= 4:
                    (size,) = _struct.unpack_from(">I", packet, 0)
                    if size > _MAX_PACKET:
                        raise ValueError("publickey packet of %d bytes" % size)
                    want = 4 + size - len(packet)
                else:
                    want = 4 - len(packet)
                if want == 0:
                    done = self._list_packet(bytes(packet[4:]), listing)
                    del packet[:]
                    if done:
                        self._listing = None
                        return listing.keys
                    continue
                rc = _lib.libssh2_channel_read_ex(channel, 0, read_buffer, min(want, 65536))
                if rc == _EAGAIN:
                    if not rec.blocking:
                        return rc
                    waited = _lib.ssh2cffi_wait_socket(rec.ptr, rec._fd)
                    if waited != 0:
                        self._check(waited, "waiting for the publickey list failed")
                    continue
                if rc == 0:
                    raise ValueError("the server closed the publickey subsystem")
                self._check(rc, "reading the publickey list failed")
                packet += _ffi.buffer(read_buffer, rc)
        except ValueError as exc:
            self._listing = None
            error = _make_error(_PROTOCOL_ERROR, "publickey list failed: %s" % exc)
            raise error from None
        except BaseException:
            self._listing = None
            raise

    def _list_packet(self, packet: bytes, listing: _Listing) -> bool:
        """Take one packet of the list response; True once the final status came."""
        response, offset = _parse_strings(packet, 0, 1)
        if response == b"publickey":
            listing.keys.append(PublicKeyList._from_packet(self, packet, offset))
            return False
        if response == b"status":
            if offset + 4 > len(packet):
                raise ValueError("truncated publickey status")
            (status,) = _struct.unpack_from(">I", packet, offset)
            if status == 0:
                return True
            text = _STATUS_NAMES.get(status, "status %d" % status)
            try:
                description = _parse_strings(packet, offset + 4, 1)[0]
            except ValueError:
                description = b""
            if description:
                text += " (%s)" % description.decode("utf-8", "replace")
            raise _make_error(_PROTOCOL_ERROR, "publickey list refused: %s" % text)
        raise ValueError("unexpected %r response" % (response,))

    def list_free(self) -> None:
        """Nothing to do: list_fetch() copies the keys and frees libssh2's list itself."""

    @_serialised
    def shutdown(self) -> int:
        """Close the subsystem; returns 0.  The object is unusable afterwards."""
        self._listing = None  # the channel goes: nothing more to read
        rc = self._call(_lib.ssh2cffi_publickey_shutdown, self._rec.ptr, self._live())
        if rc == _EAGAIN:
            return rc
        # libssh2 has freed the subsystem, whatever rc says.
        self._disown(exceptions.PublicKeyError, "this PublicKeySystem was shut down")
        return self._check(rc, "publickey shutdown failed")

    def __repr__(self) -> str:
        return "<PublicKeySystem%s>" % (" shut down" if self._gone is not None else "")
