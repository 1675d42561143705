"""Known hosts: ssh2-python's ``ssh2.knownhost``.

A ``KnownHost`` is a collection of host keys, usually read from and written
to an OpenSSH ``known_hosts`` file, against which a server's key
(``Session.hostkey()``) is checked.

Module constants (``typemask`` bits, values from libssh2.h):
``LIBSSH2_KNOWNHOST_TYPE_*`` say how the host name is given (plain, SHA1-hashed
as in ``|1|salt|hash`` lines, custom), ``LIBSSH2_KNOWNHOST_KEYENC_*`` how the
key is given (raw bytes or base64 text) and ``LIBSSH2_KNOWNHOST_KEY_*`` its type.
"""
import typing
from base64 import b64decode as _b64decode
from typing import Any, Dict, List, NoReturn, Optional, Type, Union

from . import exceptions
from ._convert import StrOrBytes
from ._convert import to_bytes as _to_bytes
from ._convert import to_cstring as _to_cstring
from ._convert import to_path as _to_path
from ._errors import error_as as _error_as
from ._ints import to_cint as _to_cint
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import record_of as _record_of
from ._threads import serialised as _serialised

if typing.TYPE_CHECKING:
    import os

    from .session import Session

# The exceptions ssh2-python's knownhost module re-exports as a side effect of its imports.
from .exceptions import (KnownHostAddError, KnownHostCheckError,
                         KnownHostCheckFailure, KnownHostCheckMisMatchError,
                         KnownHostCheckNotFoundError, KnownHostDeleteError, KnownHostError,
                         KnownHostGetError, KnownHostReadFileError, KnownHostReadLineError,
                         KnownHostWriteFileError, KnownHostWriteLineError)

LIBSSH2_KNOWNHOST_TYPE_MASK: int = _lib.LIBSSH2_KNOWNHOST_TYPE_MASK
LIBSSH2_KNOWNHOST_TYPE_PLAIN: int = _lib.LIBSSH2_KNOWNHOST_TYPE_PLAIN
LIBSSH2_KNOWNHOST_TYPE_SHA1: int = _lib.LIBSSH2_KNOWNHOST_TYPE_SHA1
LIBSSH2_KNOWNHOST_TYPE_CUSTOM: int = _lib.LIBSSH2_KNOWNHOST_TYPE_CUSTOM
LIBSSH2_KNOWNHOST_KEYENC_MASK: int = _lib.LIBSSH2_KNOWNHOST_KEYENC_MASK
LIBSSH2_KNOWNHOST_KEYENC_RAW: int = _lib.LIBSSH2_KNOWNHOST_KEYENC_RAW
LIBSSH2_KNOWNHOST_KEYENC_BASE64: int = _lib.LIBSSH2_KNOWNHOST_KEYENC_BASE64
LIBSSH2_KNOWNHOST_KEY_MASK: int = _lib.LIBSSH2_KNOWNHOST_KEY_MASK
LIBSSH2_KNOWNHOST_KEY_SHIFT: int = _lib.LIBSSH2_KNOWNHOST_KEY_SHIFT
LIBSSH2_KNOWNHOST_KEY_RSA1: int = _lib.LIBSSH2_KNOWNHOST_KEY_RSA1
LIBSSH2_KNOWNHOST_KEY_SSHRSA: int = _lib.LIBSSH2_KNOWNHOST_KEY_SSHRSA
LIBSSH2_KNOWNHOST_KEY_SSHDSS: int = _lib.LIBSSH2_KNOWNHOST_KEY_SSHDSS
LIBSSH2_KNOWNHOST_KEY_ECDSA_256: int = _lib.LIBSSH2_KNOWNHOST_KEY_ECDSA_256
LIBSSH2_KNOWNHOST_KEY_ECDSA_384: int = _lib.LIBSSH2_KNOWNHOST_KEY_ECDSA_384
LIBSSH2_KNOWNHOST_KEY_ECDSA_521: int = _lib.LIBSSH2_KNOWNHOST_KEY_ECDSA_521
LIBSSH2_KNOWNHOST_KEY_ED25519: int = _lib.LIBSSH2_KNOWNHOST_KEY_ED25519
LIBSSH2_KNOWNHOST_KEY_UNKNOWN: int = _lib.LIBSSH2_KNOWNHOST_KEY_UNKNOWN

# Not exported by ssh2-python: the only file type, and check() results.
_FILE_OPENSSH: int = _lib.LIBSSH2_KNOWNHOST_FILE_OPENSSH
_CHECK_MATCH: int = _lib.LIBSSH2_KNOWNHOST_CHECK_MATCH
_CHECK_MISMATCH: int = _lib.LIBSSH2_KNOWNHOST_CHECK_MISMATCH
_CHECK_NOTFOUND: int = _lib.LIBSSH2_KNOWNHOST_CHECK_NOTFOUND
_CHECK_FAILURE: int = _lib.LIBSSH2_KNOWNHOST_CHECK_FAILURE
_BUFFER_TOO_SMALL: int = _lib.LIBSSH2_ERROR_BUFFER_TOO_SMALL
_KNOWNHOST_GC_SIZE = 4096


class _Node:
    """Whether one libssh2 entry (one ``struct libssh2_knownhost``) still exists.

    Every KnownHostEntry for the same entry shares its _Node; delete() marks
    it dead.  A new entry that malloc() places at a freed one's address gets
    a new _Node, so an entry object can never reach it.
    """

    __slots__ = ("alive",)

    def __init__(self) -> None:
        self.alive = True


def _address(ptr: Any) -> int:
    return int(_ffi.cast("uintptr_t", ptr))


def _host_text(host: bytes, port: Optional[int] = None) -> str:
    name = host.decode("utf-8", "replace")
    return name if port is None or port < 0 else "%s port %d" % (name, port)


class KnownHostEntry:
    """One host and key of a ``KnownHost``, from ``get()``, ``addc()`` or ``checkp()``.

    The entry keeps its KnownHost alive.  A ``KnownHostEntry()`` built
    directly has every property None; an entry that was ``delete()``d
    raises ``KnownHostError`` (ssh2-python's read freed memory in both cases).
    """

    __slots__ = ("_kh", "_ptr", "_node")

    def __init__(self) -> None:
        self._kh: Optional["KnownHost"] = None
        self._ptr: Any = _ffi.NULL
        self._node: Optional[_Node] = None

    @classmethod
    def _wrap(cls, kh: "KnownHost", ptr: Any) -> "KnownHostEntry":
        entry = cls.__new__(cls)
        entry._kh = kh
        entry._ptr = ptr
        entry._node = kh._node_for(ptr)
        return entry

    def _entry(self) -> Any:
        """The entry's pointer; None for an entry built directly."""
        node = self._node
        if node is None:
            return None
        if not node.alive:
            raise KnownHostError("this known host entry was deleted from its KnownHost")
        return self._ptr

    @property
    def magic(self) -> Optional[int]:
        """libssh2's marker for entries it handed out."""
        ptr = self._entry()
        return None if ptr is None else int(ptr.magic)

    @property
    def name(self) -> Optional[bytes]:
        """The host name; None when the file stores it hashed (``|1|...``)."""
        ptr = self._entry()
        if ptr is None or ptr.name == _ffi.NULL:
            return None
        return bytes(_ffi.string(ptr.name))

    @property
    def key(self) -> Optional[bytes]:
        """The host key, decoded from base64 (the key blob in SSH wire format).

        For an entry added with LIBSSH2_KNOWNHOST_KEYENC_RAW this is the key
        that was passed in.
        """
        ptr = self._entry()
        if ptr is None or ptr.key == _ffi.NULL:
            return None
        return _b64decode(_ffi.string(ptr.key))

    @property
    def typemask(self) -> Optional[int]:
        """LIBSSH2_KNOWNHOST_TYPE_*, _KEYENC_* and _KEY_* bits of the entry."""
        ptr = self._entry()
        return None if ptr is None else int(ptr.typemask)

    def __repr__(self) -> str:
        # ssh2-python shows the bytes repr: Known host entry for host: b'127.0.0.1'
        return "Known host entry for host: %r" % (self.name,)

    __str__ = __repr__


class KnownHost(_Wrapper):
    """A collection of known hosts, from ``Session.knownhost_init()`` or ``KnownHost(session)``.

    It needs no connection and does no network I/O, so it keeps working
    after its session is disconnected.  Arguments that are text in a
    known_hosts file (host, salt, comment, line) may be str or bytes.
    """

    __slots__ = ("_session", "_nodes", "__weakref__")

    def __init__(self, session: "Session") -> None:
        rec = _record_of(session)
        session_ptr = session._ptr
        raw = _lib.libssh2_knownhost_init(session_ptr)
        if raw == _ffi.NULL:
            raise _error_as(KnownHostError, "Error initialising known host collection",
                            _lib.libssh2_session_last_errno(session_ptr), session_ptr)
        self._session = session
        # Freed before the session whatever happens to it: see SessionRecord.defer_local.
        self._adopt(rec, raw, rec.local_child_finaliser(_lib.ssh2cffi_knownhost_release),
                    _KNOWNHOST_GC_SIZE)
        self._nodes: Dict[int, _Node] = {}

    # -- plumbing -------------------------------------------------------------------------
    def _node_for(self, ptr: Any) -> _Node:
        address = _address(ptr)
        node = self._nodes.get(address)
        if node is None:
            node = self._nodes[address] = _Node()
        return node

    def _entry_ptr(self, entry: KnownHostEntry, cls: Type[exceptions.SSH2Error]) -> Any:
        """The pointer of ``entry``, which must be a live entry of this collection."""
        if not isinstance(entry, KnownHostEntry):
            raise TypeError("entry must be a KnownHostEntry, not %s" % type(entry).__name__)
        if entry._kh is None:
            raise cls("this KnownHostEntry was built directly, not taken from a KnownHost")
        if entry._kh is not self:
            raise cls("this KnownHostEntry belongs to another KnownHost collection")
        assert entry._node is not None
        if not entry._node.alive:
            raise cls("this known host entry was already deleted")
        return entry._ptr

    def _raise(self, cls: Type[exceptions.SSH2Error], context: str, rc: int) -> NoReturn:
        raise _error_as(cls, context, rc, self._session._ptr)

    def _check_result(self, rc: int, store: Any, host: bytes, port: Optional[int]
                      ) -> KnownHostEntry:
        """The entry for a CHECK_MATCH ``rc``; for any other result, raise.

        ``errcode`` keeps its meaning on every exception: a libssh2 error
        code, None when there is none.  Only KnownHostCheckFailure is a
        libssh2 failure, so only it has one: the session's last error code,
        which libssh2 records before returning CHECK_FAILURE (the message is
        that error's).  A mismatch or an unknown host is an answer, not a
        libssh2 error, so errcode stays None, as on ssh2-python's exceptions.
        The LIBSSH2_KNOWNHOST_CHECK_* value itself is ``exc.check_result``
        on all four.
        """
        if rc == _CHECK_MATCH:
            return KnownHostEntry._wrap(self, store[0])
        where = _host_text(host, port)
        if rc == _CHECK_MISMATCH:
            exc: exceptions.SSH2Error = KnownHostCheckMisMatchError(
                "Host key of %s does not match the known key for that host" % where)
            # The entry whose key differs, for callers who want to show or replace it
            # (None when libssh2 names none: it refuses to look up a hashed host).
            exc.entry = (KnownHostEntry._wrap(self, store[0])  # type: ignore[attr-defined]
                         if store[0] != _ffi.NULL else None)
        elif rc == _CHECK_NOTFOUND:
            exc = KnownHostCheckNotFoundError("Host %s not found in known hosts collection"
                                              % where)
        elif rc == _CHECK_FAILURE:
            session_ptr = self._session._ptr
            code = _lib.libssh2_session_last_errno(session_ptr)
            # No code recorded (not what libssh2 1.10/1.11 do): errcode None, no message.
            exc = _error_as(KnownHostCheckFailure, "Failure checking known host %s" % where,
                            code if code < 0 else None, session_ptr)
        else:
            exc = KnownHostCheckError("Unknown result %d checking known host %s" % (rc, where))
        exc.check_result = rc  # type: ignore[attr-defined]
        raise exc

    # -- adding and checking --------------------------------------------------------------
    def add(self, host: StrOrBytes, salt: Optional[StrOrBytes], key: bytes,
            typemask: int) -> KnownHostEntry:
        """As addc() without a comment (libssh2's older call).

        ssh2-python's raises NotImplementedError; this one adds the entry.
        """
        return self.addc(host, key, typemask, salt=salt)

    @_serialised
    def addc(self, host: StrOrBytes, key: bytes, typemask: int,
             salt: Optional[StrOrBytes] = None,
             comment: Optional[StrOrBytes] = None) -> KnownHostEntry:
        """Add ``host`` with ``key``; returns the new entry.

        ``typemask`` combines one LIBSSH2_KNOWNHOST_TYPE_* (how ``host`` is
        given; for TYPE_SHA1, ``host`` is the base64 hash and ``salt`` the
        base64 salt), one LIBSSH2_KNOWNHOST_KEYENC_* (``key`` as raw bytes or
        base64 text) and one LIBSSH2_KNOWNHOST_KEY_* (the key type, needed).
        A failure raises ``KnownHostAddError``.
        """
        name = _to_cstring(host, "host")
        data = _to_bytes(key, "key")
        salt_value = b"" if salt is None else _to_cstring(salt, "salt")
        if comment is None:
            note, note_len = _ffi.NULL, 0
        else:
            note = _to_bytes(comment, "comment")
            note_len = len(note)
        store = _ffi.new("struct libssh2_knownhost **")
        rc = _lib.libssh2_knownhost_addc(self._ptr, name, salt_value, data, len(data), note,
                                         note_len, _to_cint(typemask, "typemask"), store)
        if rc != 0:
            self._raise(KnownHostAddError, "Error adding known host entry for host %s"
                        % _host_text(name), rc)
        return KnownHostEntry._wrap(self, store[0])

    @_serialised
    def check(self, host: StrOrBytes, key: bytes, typemask: int) -> KnownHostEntry:
        """As checkp() without a port: looks ``host`` up as written, without ``[host]:port``.

        ssh2-python's raises NotImplementedError; this one checks.
        """
        name = _to_cstring(host, "host")
        data = _to_bytes(key, "key")
        store = _ffi.new("struct libssh2_knownhost **")
        rc = _lib.libssh2_knownhost_check(self._ptr, name, data, len(data),
                                          _to_cint(typemask, "typemask"), store)
        return self._check_result(rc, store, name, None)

    @_serialised
    def checkp(self, host: StrOrBytes, port: int, key: bytes, typemask: int) -> KnownHostEntry:
        """Check the key a server at ``host``:``port`` presented; returns the matching entry.

        ``key`` is usually ``session.hostkey()[0]`` with ``typemask``
        ``LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW`` and the
        key type's LIBSSH2_KNOWNHOST_KEY_* bits (0 matches any type).  The
        host is looked up as ``[host]:port`` first, then as plain ``host``
        (port -1: plain host only).  Raises ``KnownHostCheckNotFoundError``
        when the host is not known, ``KnownHostCheckMisMatchError`` when it
        is known with another key (the exception's ``entry`` is that known
        entry), ``KnownHostCheckFailure`` when the check itself failed.
        Each has libssh2's LIBSSH2_KNOWNHOST_CHECK_* result as ``check_result``
        (1 mismatch, 2 not found, 3 failure: the values in libssh2.h);
        ``errcode`` is the libssh2 error code of a KnownHostCheckFailure and
        None on the others, which are answers rather than libssh2 errors.
        """
        name = _to_cstring(host, "host")
        data = _to_bytes(key, "key")
        store = _ffi.new("struct libssh2_knownhost **")
        port = _to_cint(port, "port")
        rc = _lib.libssh2_knownhost_checkp(self._ptr, name, port, data, len(data),
                                           _to_cint(typemask, "typemask"), store)
        return self._check_result(rc, store, name, port)

    @_serialised
    def delete(self, entry: KnownHostEntry) -> None:
        """Remove ``entry`` from the collection; the entry object is unusable afterwards.

        Deleting an entry twice raises ``KnownHostDeleteError``.
        """
        ptr = self._entry_ptr(entry, KnownHostDeleteError)
        rc = _lib.libssh2_knownhost_del(self._ptr, ptr)
        if rc != 0:
            self._raise(KnownHostDeleteError, "Error deleting known host entry", rc)
        # libssh2 has freed the entry: every KnownHostEntry for it is dead.
        node = self._nodes.pop(_address(ptr), None)
        if node is not None:
            node.alive = False

    @_serialised
    def get(self, prev: Optional[KnownHostEntry] = None) -> List[KnownHostEntry]:
        """Every entry, in collection order (only those after ``prev``, if given)."""
        if prev is not None and not isinstance(prev, KnownHostEntry):
            raise TypeError("prev must be a KnownHostEntry or None, not %s"
                            % type(prev).__name__)
        start = _ffi.NULL if prev is None else self._entry_ptr(prev, KnownHostGetError)
        entries: List[KnownHostEntry] = []
        store = _ffi.new("struct libssh2_knownhost **")
        while True:
            rc = _lib.libssh2_knownhost_get(self._ptr, store, start)
            if rc == 1:
                return entries
            if rc < 0:
                self._raise(KnownHostGetError, "Error getting known host entries", rc)
            start = store[0]
            entries.append(KnownHostEntry._wrap(self, start))

    # -- files and lines ------------------------------------------------------------------
    @_serialised
    def readfile(self, filename: Union[StrOrBytes, "os.PathLike[Any]"],
                 f_type: int = _FILE_OPENSSH) -> int:
        """Add the entries of an OpenSSH known_hosts file; returns the number of lines read.

        Raises ``KnownHostReadFileError`` (a missing file, a line libssh2
        cannot parse, ...).
        """
        path = _to_path(filename, "filename")
        rc = _lib.libssh2_knownhost_readfile(self._ptr, path, _to_cint(f_type, "f_type"))
        if rc < 0:
            self._raise(KnownHostReadFileError, "Error reading known hosts file %r"
                        % path.decode("utf-8", "replace"), rc)
        return rc

    @_serialised
    def readline(self, line: StrOrBytes, f_type: int = _FILE_OPENSSH) -> None:
        """Add the entry of one known_hosts line; raises ``KnownHostReadLineError``."""
        data = _to_bytes(line, "line")
        rc = _lib.libssh2_knownhost_readline(self._ptr, data, len(data), _to_cint(f_type, "f_type"))
        if rc != 0:
            self._raise(KnownHostReadLineError, "Error reading known hosts line %r" % (data,),
                        rc)

    @_serialised
    def writeline(self, entry: KnownHostEntry, f_type: int = _FILE_OPENSSH,
                  buf_len: int = 1024) -> bytes:
        """``entry`` as one known_hosts line (ending in a newline)."""
        ptr = self._entry_ptr(entry, KnownHostWriteLineError)
        f_type = _to_cint(f_type, "f_type")
        size = max(_to_cint(buf_len, "buf_len", "size_t"), 1)
        out_len = _ffi.new("size_t *")
        for _attempt in range(2):
            buf = _ffi.new("char[]", size)
            rc = _lib.libssh2_knownhost_writeline(self._ptr, ptr, buf, size, out_len, f_type)
            if rc == 0:
                return bytes(_ffi.unpack(buf, out_len[0]))
            if rc != _BUFFER_TOO_SMALL:
                break
            # libssh2 reports the length the whole line needs (without the NUL).
            size = int(out_len[0]) + 1
        self._raise(KnownHostWriteLineError, "Error writing known host line for %s"
                    % (entry,), rc)

    @_serialised
    def writefile(self, filename: Union[StrOrBytes, "os.PathLike[Any]"],
                  f_type: int = _FILE_OPENSSH) -> None:
        """Write every entry to ``filename`` (replacing it) in known_hosts format."""
        path = _to_path(filename, "filename")
        rc = _lib.libssh2_knownhost_writefile(self._ptr, path, _to_cint(f_type, "f_type"))
        if rc != 0:
            self._raise(KnownHostWriteFileError, "Error writing known hosts to file %r"
                        % path.decode("utf-8", "replace"), rc)

    def __repr__(self) -> str:
        return "<KnownHost with %d entries>" % len(self.get())
