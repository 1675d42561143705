"""SFTP session: ssh2-python's ``ssh2.sftp``.

Module constants: ``LIBSSH2_FXF_*`` open flags, ``LIBSSH2_SFTP_S_*`` mode
bits, ``LIBSSH2_SFTP_ATTR_*`` attribute flags and ``LIBSSH2_SFTP_ST_*``
statvfs flags, with libssh2.h's values.
"""
import os
import typing
from typing import Any, Callable, Dict, NoReturn, Optional, Union

from . import exceptions
from ._convert import StrOrBytes
from ._convert import to_bytes as _to_bytes
from ._convert import to_cint as _to_cint
from ._convert import to_path as _to_path
from ._convert import to_str as _to_str
from ._errors import EAGAIN as _EAGAIN
from ._errors import make_error as _make_error
from ._errors import session_message as _session_message
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import NestedRecord as _NestedRecord
from .sftp_handle import SFTPAttributes, SFTPHandle, SFTPStatVFS

if typing.TYPE_CHECKING:
    from .channel import Channel
    from .session import Session

LIBSSH2_FXF_READ: int = _lib.LIBSSH2_FXF_READ
LIBSSH2_FXF_WRITE: int = _lib.LIBSSH2_FXF_WRITE
LIBSSH2_FXF_APPEND: int = _lib.LIBSSH2_FXF_APPEND
LIBSSH2_FXF_CREAT: int = _lib.LIBSSH2_FXF_CREAT
LIBSSH2_FXF_TRUNC: int = _lib.LIBSSH2_FXF_TRUNC
LIBSSH2_FXF_EXCL: int = _lib.LIBSSH2_FXF_EXCL

LIBSSH2_SFTP_ATTR_SIZE: int = _lib.LIBSSH2_SFTP_ATTR_SIZE
LIBSSH2_SFTP_ATTR_UIDGID: int = _lib.LIBSSH2_SFTP_ATTR_UIDGID
LIBSSH2_SFTP_ATTR_PERMISSIONS: int = _lib.LIBSSH2_SFTP_ATTR_PERMISSIONS
LIBSSH2_SFTP_ATTR_ACMODTIME: int = _lib.LIBSSH2_SFTP_ATTR_ACMODTIME
# ssh2-python exports 0x80000000 through a C int: -2147483648.  Kept for compatibility.
LIBSSH2_SFTP_ATTR_EXTENDED: int = _lib.LIBSSH2_SFTP_ATTR_EXTENDED - 2 ** 32
LIBSSH2_SFTP_ST_RDONLY: int = _lib.LIBSSH2_SFTP_ST_RDONLY
LIBSSH2_SFTP_ST_NOSUID: int = _lib.LIBSSH2_SFTP_ST_NOSUID

LIBSSH2_SFTP_S_IFMT: int = _lib.LIBSSH2_SFTP_S_IFMT
LIBSSH2_SFTP_S_IFIFO: int = _lib.LIBSSH2_SFTP_S_IFIFO
LIBSSH2_SFTP_S_IFCHR: int = _lib.LIBSSH2_SFTP_S_IFCHR
LIBSSH2_SFTP_S_IFDIR: int = _lib.LIBSSH2_SFTP_S_IFDIR
LIBSSH2_SFTP_S_IFBLK: int = _lib.LIBSSH2_SFTP_S_IFBLK
LIBSSH2_SFTP_S_IFREG: int = _lib.LIBSSH2_SFTP_S_IFREG
LIBSSH2_SFTP_S_IFLNK: int = _lib.LIBSSH2_SFTP_S_IFLNK
LIBSSH2_SFTP_S_IFSOCK: int = _lib.LIBSSH2_SFTP_S_IFSOCK
LIBSSH2_SFTP_S_IRWXU: int = _lib.LIBSSH2_SFTP_S_IRWXU
LIBSSH2_SFTP_S_IRUSR: int = _lib.LIBSSH2_SFTP_S_IRUSR
LIBSSH2_SFTP_S_IWUSR: int = _lib.LIBSSH2_SFTP_S_IWUSR
LIBSSH2_SFTP_S_IXUSR: int = _lib.LIBSSH2_SFTP_S_IXUSR
LIBSSH2_SFTP_S_IRWXG: int = _lib.LIBSSH2_SFTP_S_IRWXG
LIBSSH2_SFTP_S_IRGRP: int = _lib.LIBSSH2_SFTP_S_IRGRP
LIBSSH2_SFTP_S_IWGRP: int = _lib.LIBSSH2_SFTP_S_IWGRP
LIBSSH2_SFTP_S_IXGRP: int = _lib.LIBSSH2_SFTP_S_IXGRP
LIBSSH2_SFTP_S_IRWXO: int = _lib.LIBSSH2_SFTP_S_IRWXO
LIBSSH2_SFTP_S_IROTH: int = _lib.LIBSSH2_SFTP_S_IROTH
LIBSSH2_SFTP_S_IWOTH: int = _lib.LIBSSH2_SFTP_S_IWOTH
LIBSSH2_SFTP_S_IXOTH: int = _lib.LIBSSH2_SFTP_S_IXOTH

# SFTP status codes (SFTP.last_error()) and their names, for error messages.
_FX_NAMES: Dict[int, str] = {
    getattr(_lib, name): name for name in dir(_lib) if name.startswith("LIBSSH2_FX_")}
_SFTP_PROTOCOL: int = _lib.LIBSSH2_ERROR_SFTP_PROTOCOL
_RENAME_ALL_FLAGS: int = (_lib.LIBSSH2_SFTP_RENAME_OVERWRITE | _lib.LIBSSH2_SFTP_RENAME_ATOMIC
                          | _lib.LIBSSH2_SFTP_RENAME_NATIVE)
#: Read/write size of the bulk transfers (get/put).  libssh2 keeps requests
#: for the whole buffer in flight, so large reads are much faster than small ones.
BULK_TRANSFER_SIZE = 2 * 1024 * 1024


class SFTP:
    """An SFTP session on an SSH session, from ``Session.sftp_init()``."""

    __slots__ = ("_ptr", "_session", "_rec", "_srec", "__weakref__")

    def __init__(self, session: "Session") -> None:
        from ._lifetime import unusable_record
        from .session import Session

        if not isinstance(session, Session):
            raise TypeError("session must be a Session, not %s" % type(session).__name__)
        self._session = session
        self._ptr: Any = _ffi.NULL
        self._rec: Optional[_NestedRecord] = None
        self._srec = unusable_record(exceptions.SFTPError,
                                     "this SFTP was not started by Session.sftp_init()")

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "SFTP":
        sftp = cls.__new__(cls)
        sftp._session = session
        sftp._srec = session._rec
        sftp._rec = _NestedRecord(session._rec, raw, _lib.libssh2_sftp_shutdown)
        sftp._ptr = _ffi.gc(raw, sftp._rec.finaliser(), size=64 * 1024)
        return sftp

    @property
    def session(self) -> "Session":
        """The SSH session this SFTP session runs on."""
        return self._session

    # -- plumbing -------------------------------------------------------------------------
    def _live(self) -> Any:
        rec = self._srec
        if not rec.usable:
            rec.raise_unusable()
        return self._ptr

    def _raise(self, rc: int, path: Optional[bytes] = None) -> NoReturn:
        """Raise for ``rc``, naming the SFTP status and the path when there is one."""
        # libssh2 returns some codes (e.g. BUFFER_TOO_SMALL) without setting a
        # message: the session's text then belongs to an earlier error.
        message = ""
        if int(_lib.libssh2_session_last_errno(self._srec.ptr)) == rc:
            message = _session_message(self._srec.ptr)
        if rc == _SFTP_PROTOCOL and self._srec.usable:
            status = int(_lib.libssh2_sftp_last_error(self._ptr))
            message = "%s: %s (%d)" % (message or "SFTP failure",
                                      _FX_NAMES.get(status, "SFTP status"), status)
        if path is not None:
            message = "%s for path %r" % (message or "failure", os.fsdecode(path))
        raise _make_error(rc, message)

    def _check(self, rc: int, path: Optional[bytes] = None) -> int:
        if rc < 0 and rc != _EAGAIN:
            self._raise(rc, path)
        return rc

    def _null_result(self, path: Optional[bytes] = None) -> int:
        rc = int(_lib.libssh2_session_last_errno(self._srec.ptr))
        if rc == 0:  # libssh2 returned NULL without an error: say so anyway
            rc = _lib.LIBSSH2_ERROR_SFTP_PROTOCOL
        return self._check(rc, path)

    # -- files and directories ---------------------------------------------------------------
    def open(self, filename: StrOrBytes, flags: int, mode: int) -> Union[SFTPHandle, int]:
        """Open a remote file: an SFTPHandle, or LIBSSH2_ERROR_EAGAIN in non-blocking mode.

        ``flags`` are LIBSSH2_FXF_* bits, ``mode`` the permissions of a created file.
        """
        return self.open_ex(_to_bytes(filename, "filename"), -1, flags, mode,
                            _lib.LIBSSH2_SFTP_OPENFILE)

    def open_ex(self, filename: bytes, filename_len: int, flags: int, mode: int,
                open_type: int) -> Union[SFTPHandle, int]:
        """open()/opendir() with the open type given (0 file, 1 directory).

        ``filename_len`` may be -1 for the whole of ``filename``.
        """
        if not isinstance(filename, bytes):
            raise TypeError("filename must be bytes, not %s" % type(filename).__name__)
        filename_len = _to_cint(filename_len, "filename_len", "long")
        if filename_len < 0 or filename_len > len(filename):
            filename_len = len(filename)
        raw = _lib.libssh2_sftp_open_ex(
            self._live(), filename, filename_len, _to_cint(flags, "flags", "unsigned long"),
            _to_cint(mode, "mode", "long"), _to_cint(open_type, "open_type"))
        if raw == _ffi.NULL:
            return self._null_result(filename)
        assert self._rec is not None
        return SFTPHandle._wrap(self, self._rec, raw)

    def opendir(self, path: StrOrBytes) -> Union[SFTPHandle, int]:
        """Open a remote directory for readdir()."""
        return self.open_ex(_to_bytes(path, "path"), -1, 0, 0, _lib.LIBSSH2_SFTP_OPENDIR)

    def rename(self, source_filename: StrOrBytes, dest_filename: StrOrBytes) -> int:
        """Rename, overwriting the destination if the server allows (libssh2's default flags)."""
        return self.rename_ex(_to_bytes(source_filename, "source_filename"), -1,
                              _to_bytes(dest_filename, "dest_filename"), -1, _RENAME_ALL_FLAGS)

    def rename_ex(self, source_filename: bytes, source_filename_len: int,
                  dest_filename: bytes, dest_filename_len: int, flags: int) -> int:
        """Rename with LIBSSH2_SFTP_RENAME_* ``flags`` (lengths may be -1 for all)."""
        for value, name in ((source_filename, "source_filename"), (dest_filename, "dest_filename")):
            if not isinstance(value, bytes):
                raise TypeError("%s must be bytes, not %s" % (name, type(value).__name__))
        source_filename_len = _to_cint(source_filename_len, "source_filename_len", "long")
        dest_filename_len = _to_cint(dest_filename_len, "dest_filename_len", "long")
        if source_filename_len < 0 or source_filename_len > len(source_filename):
            source_filename_len = len(source_filename)
        if dest_filename_len < 0 or dest_filename_len > len(dest_filename):
            dest_filename_len = len(dest_filename)
        return self._check(_lib.libssh2_sftp_rename_ex(
            self._live(), source_filename, source_filename_len, dest_filename,
            dest_filename_len, _to_cint(flags, "flags", "long")), source_filename)

    def unlink(self, filename: StrOrBytes) -> int:
        path = _to_bytes(filename, "filename")
        return self._check(_lib.libssh2_sftp_unlink_ex(self._live(), path, len(path)), path)

    def mkdir(self, path: StrOrBytes, mode: int) -> int:
        name = _to_bytes(path, "path")
        return self._check(_lib.libssh2_sftp_mkdir_ex(
            self._live(), name, len(name), _to_cint(mode, "mode", "long")), name)

    def rmdir(self, path: StrOrBytes) -> int:
        name = _to_bytes(path, "path")
        return self._check(_lib.libssh2_sftp_rmdir_ex(self._live(), name, len(name)), name)

    # -- attributes ---------------------------------------------------------------------------
    def _stat(self, path: StrOrBytes, stat_type: int,
              attrs: Optional[SFTPAttributes] = None) -> Union[SFTPAttributes, int]:
        name = _to_bytes(path, "path")
        if attrs is None:
            attrs = SFTPAttributes()
        rc = _lib.libssh2_sftp_stat_ex(self._live(), name, len(name), stat_type, attrs._attrs)
        return attrs if rc == 0 else self._check(rc, name)

    def stat(self, path: StrOrBytes) -> Union[SFTPAttributes, int]:
        """Attributes of ``path`` (following symlinks), or LIBSSH2_ERROR_EAGAIN."""
        return self._stat(path, _lib.LIBSSH2_SFTP_STAT)

    def lstat(self, path: StrOrBytes) -> Union[SFTPAttributes, int]:
        """Attributes of ``path`` itself (not following a symlink)."""
        return self._stat(path, _lib.LIBSSH2_SFTP_LSTAT)

    def setstat(self, path: StrOrBytes, attrs: SFTPAttributes) -> int:
        """Apply the fields of ``attrs`` selected by ``attrs.flags`` to ``path``."""
        if not isinstance(attrs, SFTPAttributes):
            raise TypeError("attrs must be SFTPAttributes, not %s" % type(attrs).__name__)
        # libssh2 zeroes the attributes it was given once a SETSTAT succeeds:
        # hand it a copy, so that ``attrs`` can be applied to another file.
        scratch = SFTPAttributes()
        scratch._attrs[0] = attrs._attrs[0]
        result = self._stat(path, _lib.LIBSSH2_SFTP_SETSTAT, scratch)
        return result if isinstance(result, int) else 0

    def statvfs(self, path: StrOrBytes) -> Union[SFTPStatVFS, int]:
        """File system statistics (needs the statvfs@openssh.com extension)."""
        name = _to_bytes(path, "path")
        statvfs = SFTPStatVFS(self)
        rc = _lib.libssh2_sftp_statvfs(self._live(), name, len(name), statvfs._st)
        return statvfs if rc == 0 else self._check(rc, name)

    def symlink(self, path: StrOrBytes, target: StrOrBytes) -> int:
        """Make a symlink; as in libssh2 the arguments go to the server in this order."""
        name = _to_bytes(path, "path")
        link = _to_bytes(target, "target")
        return self._check(_lib.libssh2_sftp_symlink_ex(
            self._live(), name, len(name), link, len(link), _lib.LIBSSH2_SFTP_SYMLINK), name)

    def realpath(self, path: StrOrBytes, max_len: int = 256) -> Union[str, int]:
        """The canonical absolute form of ``path`` (str)."""
        name = _to_bytes(path, "path")
        max_len = _to_cint(max_len, "max_len", "unsigned int")
        target = _ffi.new("char[]", max(max_len, 1))
        rc = _lib.libssh2_sftp_symlink_ex(self._live(), name, len(name), target, max_len,
                                          _lib.LIBSSH2_SFTP_REALPATH)
        if rc < 0:
            return self._check(rc, name)
        return _to_str(_ffi.unpack(target, rc), "the real path of path %r" % (name,))

    def last_error(self) -> int:
        """The SFTP status code (LIBSSH2_FX_*) of the last failed SFTP request."""
        return int(_lib.libssh2_sftp_last_error(self._live()))

    def get_channel(self) -> Union["Channel", int]:
        """The channel the SFTP session runs on (owned by the SFTP session)."""
        from .channel import Channel

        raw = _lib.libssh2_sftp_get_channel(self._live())
        if raw == _ffi.NULL:
            return self._null_result()
        return Channel._borrow(self._session, raw, self)

    # -- bulk transfers (ssh2cffi additions) ---------------------------------------------------
    def get(self, remote_path: StrOrBytes, local_path: Any,
            buffer_size: int = BULK_TRANSFER_SIZE) -> int:
        """Download ``remote_path`` into the local file ``local_path``; returns the byte count.

        The copy loop runs in C with large requests (libssh2 keeps them in
        flight), so it is much faster than a Python loop of read() calls.
        Needs a blocking session.
        """
        remote = _to_bytes(remote_path, "remote_path")
        # the local file is opened (truncated) only once the remote one is open
        return self._bulk(_lib.ssh2cffi_sftp_download, remote, _lib.LIBSSH2_FXF_READ, 0,
                          lambda: open(_to_path(local_path, "local_path"), "wb"), buffer_size)

    def put(self, local_path: Any, remote_path: StrOrBytes, mode: int = 0o644,
            buffer_size: int = BULK_TRANSFER_SIZE) -> int:
        """Upload the local file ``local_path`` to ``remote_path`` (created or truncated
        with ``mode``); returns the byte count.  Needs a blocking session."""
        remote = _to_bytes(remote_path, "remote_path")
        flags = _lib.LIBSSH2_FXF_WRITE | _lib.LIBSSH2_FXF_CREAT | _lib.LIBSSH2_FXF_TRUNC
        with open(_to_path(local_path, "local_path"), "rb") as local:
            return self._bulk(_lib.ssh2cffi_sftp_upload, remote, flags, mode,
                              lambda: local, buffer_size)

    def _bulk(self, copy: Any, remote: bytes, flags: int, mode: int,
              open_local: Callable[[], Any], buffer_size: int) -> int:
        from ._buffers import new_read_buffer

        if not self._srec.blocking:
            raise ValueError("SFTP.get()/put() need a blocking session")
        buffer = new_read_buffer(buffer_size)
        local_errno = _ffi.new("int *")
        handle = self.open(remote, flags, mode)
        assert isinstance(handle, SFTPHandle)
        with handle, open_local() as local:
            total = copy(handle._live(), local.fileno(), buffer, buffer_size, local_errno)
        if total == _lib.SSH2CFFI_LOCAL_IO_ERROR:
            raise OSError(local_errno[0], os.strerror(local_errno[0]))
        return int(self._check(int(total), remote))

