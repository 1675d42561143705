"""SFTP handle, attributes and stat VFS classes."""
import typing
from typing import Any, Iterator, Optional, Tuple, Union

from . import exceptions
from ._buffers import caller_buffer as _caller_buffer
from ._buffers import new_read_buffer as _new_read_buffer
from ._errors import EAGAIN as _EAGAIN
from ._ints import to_cint as _to_cint
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import SFTPBase as _SFTPBase
from ._threads import operation as _operation
from ._threads import serialised as _serialised

if typing.TYPE_CHECKING:
    from ._lifetime import NestedRecord
    from .sftp import SFTP

_sftp_read = _lib.libssh2_sftp_read
_write_all = _lib.ssh2cffi_sftp_write_all
_unpack = _ffi.unpack
#: ssh2-python's default read size (LIBSSH2_CHANNEL_WINDOW_DEFAULT, 2 MiB).
DEFAULT_READ_SIZE: int = _lib.LIBSSH2_CHANNEL_WINDOW_DEFAULT
# An open handle holds its name and a little state in C.
_SFTP_HANDLE_GC_SIZE = 1024


def _attribute(name: str, doc: str, ctype: str) -> property:
    def get(self: "SFTPAttributes") -> int:
        return int(getattr(self._attrs, name))

    def set(self: "SFTPAttributes", value: int) -> None:
        setattr(self._attrs, name, _to_cint(value, name, ctype))
    return property(get, set, doc=doc)


class SFTPAttributes:
    """File attributes (``stat``/``setstat``). Fields apply only if named in ``flags``."""

    __slots__ = ("_attrs",)

    def __init__(self) -> None:
        self._attrs = _ffi.new("LIBSSH2_SFTP_ATTRIBUTES *")

    flags = _attribute("flags", "Which fields are valid: LIBSSH2_SFTP_ATTR_* bits.", "unsigned long")
    filesize = _attribute("filesize", "File size in bytes.", "uint64_t")
    uid = _attribute("uid", "Owner user id.", "unsigned long")
    gid = _attribute("gid", "Owner group id.", "unsigned long")
    permissions = _attribute("permissions", "Mode bits, including the file type.", "unsigned long")
    atime = _attribute("atime", "Access time (seconds since the epoch).", "unsigned long")
    mtime = _attribute("mtime", "Modification time (seconds since the epoch).", "unsigned long")

    def __repr__(self) -> str:
        return ("SFTPAttributes(flags=%d, filesize=%d, uid=%d, gid=%d, permissions=0o%o, "
                "atime=%d, mtime=%d)" % (self.flags, self.filesize, self.uid, self.gid,
                                         self.permissions, self.atime, self.mtime))


def _statvfs_field(name: str, doc: str) -> property:
    return property(lambda self: int(getattr(self._st, name)), doc=doc)


class SFTPStatVFS:
    """File system statistics (``statvfs``/``fstatvfs``)."""

    __slots__ = ("_st", "_ref")

    def __init__(self, _sftp_ref: Any) -> None:
        self._ref = _sftp_ref
        self._st = _ffi.new("LIBSSH2_SFTP_STATVFS *")

    f_bsize = _statvfs_field("f_bsize", "File system block size")
    f_frsize = _statvfs_field("f_frsize", "Fragment size")
    f_blocks = _statvfs_field("f_blocks", "Size of fs in f_frsize units")
    f_bfree = _statvfs_field("f_bfree", "Free blocks")
    f_bavail = _statvfs_field("f_bavail", "Free blocks for non-root")
    f_files = _statvfs_field("f_files", "Inodes")
    f_ffree = _statvfs_field("f_ffree", "Free inodes")
    f_favail = _statvfs_field("f_favail", "Free inodes for non-root")
    f_fsid = _statvfs_field("f_fsid", "File system ID")
    f_flag = _statvfs_field("f_flag", "File system mount flags.")
    f_namemax = _statvfs_field("f_namemax", "Maximum filename length")


class SFTPHandle(_Wrapper):
    """An open remote file or directory, from ``SFTP.open()``/``opendir()``.

    Iterating over a file yields ``(rc, data)`` chunks until EOF; iterating
    with ``readdir()`` yields ``(rc, name, attrs)``.  Usable as a context
    manager, which closes the handle.  After ``close()`` every call raises
    ``SFTPHandleError`` (the handle's memory belongs to libssh2 no more).

    As everywhere, ``LIBSSH2_ERROR_EAGAIN`` is returned by a non-blocking
    session that would wait (as ``rc`` where a method returns a tuple, e.g.
    ``(LIBSSH2_ERROR_EAGAIN, b'')``, or in place of attributes; call again),
    and other errors raise (``SFTPProtocolError`` with the SFTP status, or
    the transport's error class) -- except :meth:`read`, which returns a
    negative code as ssh2-python does.
    """

    __slots__ = ("_sftp", "_buf", "_bufsize", "_written", "__weakref__")

    def __init__(self, sftp: Optional["SFTP"] = None) -> None:
        if sftp is not None and not isinstance(sftp, _SFTPBase):
            raise TypeError("sftp must be an SFTP, not %s" % type(sftp).__name__)
        self._sftp = sftp
        self._unattached(exceptions.SFTPHandleError,
                         "this SFTPHandle was not opened by an SFTP session")
        self._buf: Any = None
        self._bufsize = 0
        self._written = _ffi.new("size_t *")

    @classmethod
    def _wrap(cls, sftp: "SFTP", record: "NestedRecord", raw: Any) -> "SFTPHandle":
        handle = cls.__new__(cls)
        handle._sftp = sftp
        handle._adopt(record.session, raw, record.child_finaliser(_lib.libssh2_sftp_close_handle),
                      _SFTP_HANDLE_GC_SIZE)
        handle._buf = None
        handle._bufsize = 0
        handle._written = _ffi.new("size_t *")
        return handle

    def _state_owner(self) -> Any:
        # The SFTP session's record: libssh2 keeps read, write, fstat... state there.
        sftp = self._sftp
        return sftp._state_owner() if sftp is not None else self._rec

    def _check(self, rc: int) -> int:
        if rc < 0 and rc != _EAGAIN:
            self._sftp._raise(rc)  # type: ignore[union-attr]
        return rc

    @property
    def closed(self) -> bool:
        """True once close() has succeeded."""
        return self._gone is not None

    def __enter__(self) -> "SFTPHandle":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._gone is None and self._rec.usable:
            self.close()

    # -- data -----------------------------------------------------------------------
    @_operation("read", would_block=(_EAGAIN, b""))
    def read(self, buffer_maxlen: int = DEFAULT_READ_SIZE) -> Tuple[int, bytes]:
        """Read up to ``buffer_maxlen`` bytes: ``(rc, data)``; ``(0, b'')`` at EOF.

        As in ssh2-python, errors are returned as a negative rc, not raised:
        any error code, not only ``LIBSSH2_ERROR_EAGAIN``.
        """
        ptr = self._live()
        try:
            small_enough = 0 < buffer_maxlen <= self._bufsize
        except TypeError:
            raise TypeError("buffer_maxlen must be an int, not %s"
                            % type(buffer_maxlen).__name__) from None
        if not small_enough:
            self._buf = _new_read_buffer(buffer_maxlen, "buffer_maxlen")
            self._bufsize = max(buffer_maxlen, 1)
        try:
            rc = _sftp_read(ptr, self._buf, buffer_maxlen)
        except TypeError:  # a float passes the comparison above
            _new_read_buffer(buffer_maxlen, "buffer_maxlen")
            raise
        if rc > 0:
            return rc, _unpack(self._buf, rc)
        return rc, b""

    def read_into(self, buffer: Any) -> Tuple[int, int]:
        """Read into ``buffer`` (a bytearray, writable memoryview, mmap...): ``(rc, n)``.

        An ssh2cffi addition for bulk reads: libssh2 writes straight into
        ``buffer``, up to its length, and no bytes object is made.  ``rc`` is
        the byte count (0 at EOF, ``LIBSSH2_ERROR_EAGAIN``) and ``n`` the
        number of bytes stored (0 unless rc > 0).  Unlike :meth:`read`, errors
        raise (``SFTPProtocolError`` with the SFTP status, or the transport's
        class).  A read-only or non-contiguous buffer raises ``TypeError``,
        an empty one ``ValueError``.
        """
        return self._read_into(_caller_buffer(buffer))

    @_operation("read", would_block=(_EAGAIN, 0))
    def _read_into(self, target: Any) -> Tuple[int, int]:
        """read_into(), ``target`` being the caller's buffer as a non-empty ``char[]``."""
        rc = _sftp_read(self._live(), target, len(target))
        if rc >= 0:
            return rc, rc
        if rc != _EAGAIN:
            self._check(rc)
        return _EAGAIN, 0

    # -- the binary file protocol: io.BufferedReader(handle) is a file object ----------
    def readinto(self, buffer: Any) -> Optional[int]:
        """Read into ``buffer``: the bytes stored, 0 at end of file.

        The binary file protocol's ``readinto`` (an ssh2cffi addition), so that
        ``io.BufferedReader(handle)`` gives a file object for
        ``shutil.copyfileobj``, ``read(size)``, ``readline()``...  Returns None
        where a non-blocking session would block; errors raise.
        """
        target = _caller_buffer(buffer, allow_empty=True)
        if not len(target):
            return 0  # as file objects do
        rc, stored = self._read_into(target)
        return None if rc == _EAGAIN else stored

    def readall(self) -> Optional[bytes]:
        """The rest of the file as bytes (the binary file protocol's ``readall``).

        On a non-blocking session that would block: what was read so far, or
        None if nothing was.
        """
        chunks = []
        while True:
            rc, data = self.read()
            if rc > 0:
                chunks.append(data)
            elif rc == _EAGAIN:
                return b"".join(chunks) if chunks else None
            elif rc == 0:
                return b"".join(chunks)
            else:
                self._check(rc)

    def flush(self) -> None:
        """Nothing to flush (:meth:`write` has sent everything when it returns);
        raises ``SFTPHandleError`` once the handle is closed, as file objects do."""
        self._usable_ptr()

    def readable(self) -> bool:
        """True while the handle is open (the binary file protocol)."""
        return self._gone is None

    def writable(self) -> bool:
        """False: :meth:`write` returns ``(rc, n)``, not what a file object's write returns."""
        return False

    def seekable(self) -> bool:
        """False: :meth:`seek` has ssh2-python's signature, not a file object's."""
        return False

    def __iter__(self) -> "SFTPHandle":
        return self

    def __next__(self) -> Tuple[int, bytes]:
        """The next ``(rc, data)`` chunk.

        Unlike ssh2-python, an error raises instead of ending the iteration
        as if the file were complete.
        """
        rc, data = self.read()
        if rc > 0 or rc == _EAGAIN:
            return rc, data
        if rc == 0:
            raise StopIteration
        self._check(rc)
        raise StopIteration  # pragma: no cover  (_check raised)

    @_operation("write", would_block=(_EAGAIN, 0))
    def write(self, buf: bytes) -> Tuple[int, int]:
        """Write all of ``buf`` (bytes): ``(rc, bytes_written)``, rc being the last chunk's."""
        if not isinstance(buf, bytes):
            raise TypeError("buf must be bytes, not %s" % type(buf).__name__)
        ptr = self._live()
        written = self._written
        rc = _write_all(ptr, buf, len(buf), written)
        self._check(rc)
        return rc, written[0]

    @_operation("fsync")
    def fsync(self) -> int:
        """Ask the server to flush the file to disk (needs the fsync@openssh.com extension)."""
        return self._check(_lib.libssh2_sftp_fsync(self._live()))

    @_serialised
    def close(self) -> Optional[int]:
        """Close the handle: returns 0, or None if it was already closed."""
        if self._gone is not None:
            return None
        rc = _lib.libssh2_sftp_close_handle(self._live())
        if rc == _EAGAIN:
            return rc
        # libssh2 has freed the handle, whatever rc says: never touch it again.
        self._disown(exceptions.SFTPHandleError, "the SFTP handle is closed")
        self._check(rc)
        return rc

    # -- position -----------------------------------------------------------------------
    @_serialised
    def seek(self, offset: int) -> None:
        """Move the file position to ``offset`` bytes from the start (no network I/O).

        Raises ``OverflowError`` for a negative ``offset``.
        """
        _lib.libssh2_sftp_seek(self._live(), _to_cint(offset, "offset", "size_t"))

    @_serialised
    def seek64(self, offset: int) -> None:
        """As :meth:`seek`, with a 64-bit offset."""
        _lib.libssh2_sftp_seek64(self._live(), _to_cint(offset, "offset", "uint64_t"))

    @_serialised
    def rewind(self) -> None:
        """Move the file position back to the start."""
        _lib.libssh2_sftp_seek64(self._live(), 0)

    @_serialised
    def tell(self) -> int:
        """The current file position in bytes (see :meth:`tell64`)."""
        return _lib.libssh2_sftp_tell(self._live())

    @_serialised
    def tell64(self) -> int:
        """The 64-bit file position (ssh2-python truncates it to 32 bits)."""
        return _lib.libssh2_sftp_tell64(self._live())

    # -- attributes ------------------------------------------------------------------------
    @_operation("fstat")
    def fstat(self) -> Union[SFTPAttributes, int]:
        """The open file's attributes: an SFTPAttributes."""
        attrs = SFTPAttributes()
        rc = _lib.libssh2_sftp_fstat_ex(self._live(), attrs._attrs, 0)
        return attrs if rc == 0 else self._check(rc)

    @_operation("fstat")
    def fstat_ex(self, attrs: SFTPAttributes, setstat: int) -> int:
        """Fill ``attrs`` (setstat=0) or apply it (setstat=1)."""
        if not isinstance(attrs, SFTPAttributes):
            raise TypeError("attrs must be SFTPAttributes, not %s" % type(attrs).__name__)
        return self._check(_lib.libssh2_sftp_fstat_ex(self._live(), attrs._attrs,
                                                      1 if setstat else 0))

    def fsetstat(self, attrs: SFTPAttributes) -> int:
        """Apply the fields of ``attrs`` selected by ``attrs.flags``."""
        return self.fstat_ex(attrs, 1)

    @_operation("fstatvfs")
    def fstatvfs(self) -> Union[SFTPStatVFS, int]:
        """File system statistics of the open file: an :class:`SFTPStatVFS`.

        Needs the server's statvfs@openssh.com extension; raises ``SFTPProtocolError``
        when it has none.
        """
        statvfs = SFTPStatVFS(self)
        rc = _lib.libssh2_sftp_fstatvfs(self._live(), statvfs._st)
        return statvfs if rc == 0 else self._check(rc)

    # -- directories --------------------------------------------------------------------------
    def _readdir(self, buffer_maxlen: int = 1024) -> Tuple[int, bytes, SFTPAttributes]:
        """One directory entry: ``(rc, name, attrs)``; rc is the name's length, 0 at the end."""
        rc, name, _longentry, attrs = self._readdir_ex(0, buffer_maxlen)
        return rc, name, attrs

    @_operation("readdir", would_block=lambda: (_EAGAIN, b"", b"", SFTPAttributes()))
    def _readdir_ex(self, longentry_maxlen: int = 1024,
                    buffer_maxlen: int = 1024) -> Tuple[int, bytes, bytes, SFTPAttributes]:
        """One directory entry: ``(rc, name, longentry, attrs)``."""
        ptr = self._live()
        name = _new_read_buffer(buffer_maxlen, "buffer_maxlen")
        if isinstance(longentry_maxlen, int) and longentry_maxlen == 0:
            longentry = _ffi.NULL
        else:
            longentry = _new_read_buffer(longentry_maxlen, "longentry_maxlen")
        attrs = SFTPAttributes()
        rc = _lib.libssh2_sftp_readdir_ex(ptr, name, buffer_maxlen, longentry,
                                          longentry_maxlen, attrs._attrs)
        if rc <= 0:
            return rc, b"", b"", attrs
        long_text = _ffi.string(longentry) if longentry_maxlen else b""
        return rc, _unpack(name, rc), long_text, attrs

    def readdir(self, buffer_maxlen: int = 1024) -> Iterator[Tuple[int, bytes, SFTPAttributes]]:
        """Yield ``(rc, name, attrs)`` for each entry (``.`` and ``..`` included).

        In non-blocking mode it yields ``(LIBSSH2_ERROR_EAGAIN, b'', attrs)``;
        wait on the socket and go on iterating.  An error raises.
        """
        while True:
            rc, name, attrs = self._readdir(buffer_maxlen)
            if rc == 0:
                return
            self._check(rc)
            yield rc, name, attrs

    def readdir_ex(self, longentry_maxlen: int = 1024, buffer_maxlen: int = 1024
                   ) -> Iterator[Tuple[int, bytes, bytes, SFTPAttributes]]:
        """Yield ``(rc, name, longentry, attrs)``; ``longentry`` is the ``ls -l`` line."""
        while True:
            entry = self._readdir_ex(longentry_maxlen, buffer_maxlen)
            if entry[0] == 0:
                return
            self._check(entry[0])
            yield entry
