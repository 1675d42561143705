"""SFTP session: ssh2-python's ``ssh2.sftp``.

Module constants: ``LIBSSH2_FXF_*`` open flags, ``LIBSSH2_SFTP_S_*`` mode
bits, ``LIBSSH2_SFTP_ATTR_*`` attribute flags and ``LIBSSH2_SFTP_ST_*``
statvfs flags, with libssh2.h's values.
"""
import os
import typing
from typing import Any, Callable, Dict, NoReturn, Optional, Union

from . import exceptions
from ._buffers import new_read_buffer as _new_read_buffer
from ._convert import StrOrBytes
from ._convert import to_bytes as _to_bytes
from ._convert import to_path as _to_path
from ._convert import to_str as _to_str
from ._errors import EAGAIN as _EAGAIN
from ._errors import make_error as _make_error
from ._errors import message_for as _message_for
from ._errors import needs_libssh2 as _needs_libssh2
from ._ints import to_cint as _to_cint
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import NestedRecord as _NestedRecord
from ._lifetime import SFTPBase as _SFTPBase
from ._lifetime import record_of as _record_of
from ._threads import operation as _operation
from ._threads import serialised as _serialised
from .channel import Channel as _Channel
from .sftp_handle import SFTPAttributes, SFTPHandle, SFTPStatVFS

if typing.TYPE_CHECKING:
    from .session import Session

# An SFTP session buffers requests and replies in C.
_SFTP_GC_SIZE = 64 * 1024

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
# What each status means, for error messages (RFC draft-ietf-secsh-filexfer-13 9.1).
_FX_MEANINGS: Dict[str, str] = {
    "LIBSSH2_FX_OK": "success", "LIBSSH2_FX_EOF": "end of file",
    "LIBSSH2_FX_NO_SUCH_FILE": "no such file", "LIBSSH2_FX_PERMISSION_DENIED":
    "permission denied", "LIBSSH2_FX_FAILURE": "failure (the server gave no reason)",
    "LIBSSH2_FX_BAD_MESSAGE": "badly formed request", "LIBSSH2_FX_NO_CONNECTION":
    "no connection", "LIBSSH2_FX_CONNECTION_LOST": "connection lost",
    "LIBSSH2_FX_OP_UNSUPPORTED": "operation not supported by the server",
    "LIBSSH2_FX_INVALID_HANDLE": "invalid handle", "LIBSSH2_FX_NO_SUCH_PATH":
    "no such path", "LIBSSH2_FX_FILE_ALREADY_EXISTS": "file already exists",
    "LIBSSH2_FX_WRITE_PROTECT": "write protected", "LIBSSH2_FX_NO_MEDIA": "no media",
    "LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM": "no space left on the file system",
    "LIBSSH2_FX_QUOTA_EXCEEDED": "quota exceeded", "LIBSSH2_FX_UNKNOWN_PRINCIPAL":
    "unknown principal", "LIBSSH2_FX_LOCK_CONFLICT": "lock conflict",
    "LIBSSH2_FX_DIR_NOT_EMPTY": "directory not empty", "LIBSSH2_FX_NOT_A_DIRECTORY":
    "not a directory", "LIBSSH2_FX_INVALID_FILENAME": "invalid file name",
    "LIBSSH2_FX_LINK_LOOP": "too many symbolic links"}
_SFTP_PROTOCOL: int = _lib.LIBSSH2_ERROR_SFTP_PROTOCOL
_RENAME_ALL_FLAGS: int = (_lib.LIBSSH2_SFTP_RENAME_OVERWRITE | _lib.LIBSSH2_SFTP_RENAME_ATOMIC
                          | _lib.LIBSSH2_SFTP_RENAME_NATIVE)
#: Read/write size of the bulk transfers (get/put).  libssh2 keeps requests
#: for the whole buffer in flight, so large reads are much faster than small ones.
BULK_TRANSFER_SIZE = 2 * 1024 * 1024


def _status_text(status: int) -> str:
    """``LIBSSH2_FX_NO_SUCH_FILE (2, no such file)``: an SFTP status code, readable."""
    name = _FX_NAMES.get(status)
    if name is None:
        return "SFTP status (%d, not a known status code)" % status
    return "%s (%d, %s)" % (name, status, _FX_MEANINGS.get(name, "?"))


def _raise_no_target(request: str, name: bytes) -> None:
    """Raise for a readlink/realpath answer with no path in it.

    A link target or a canonical path is never empty.  Debian's
    CVE-2025-15661 backport turns an error status whose request id is 0 into
    success with no path (see the README): that is still an error.
    """
    raise _make_error(_SFTP_PROTOCOL, "SFTP %s gave no path (the server replied with a "
                      "status) for path %r" % (request, os.fsdecode(name)))

class SFTP(_SFTPBase):
    """An SFTP session on an SSH session, from ``Session.sftp_init()``.

    Paths may be str (UTF-8) or bytes.  Methods return 0 (or what their
    docstring says), ``LIBSSH2_ERROR_EAGAIN`` on a non-blocking session that
    would wait (also in place of a handle, attributes or path; call again),
    and raise on any other error: a failed SFTP request raises
    ``SFTPProtocolError`` whose message names the SFTP status and the path
    (``LIBSSH2_FX_NO_SUCH_FILE (2) for path '/x'``) and ``last_error()`` gives
    the status code; transport errors raise their own classes
    (``SocketDisconnectError``, ``Timeout``, ...).
    """

    # _handles: the record of the SFTP pointer, shared with the handles opened on it
    __slots__ = ("_session", "_handles", "__weakref__")
    _session: "Session"

    def __init__(self, session: "Session") -> None:
        _record_of(session)
        self._session = session
        self._handles: Optional[_NestedRecord] = None
        self._unattached(exceptions.SFTPError,
                         "this SFTP was not started by Session.sftp_init()")

    @classmethod
    def _wrap(cls, session: "Session", raw: Any) -> "SFTP":
        sftp = cls.__new__(cls)
        sftp._session = session
        sftp._handles = _NestedRecord(session._rec, raw, _lib.libssh2_sftp_shutdown)
        sftp._adopt(session._rec, raw, sftp._handles.finaliser(), _SFTP_GC_SIZE)
        return sftp

    @property
    def session(self) -> "Session":
        """The SSH session this SFTP session runs on."""
        return self._session

    def _state_owner(self) -> Any:
        # libssh2 keeps each SFTP operation's state in the LIBSSH2_SFTP, shared by its handles.
        return self._handles if self._handles is not None else self._rec

    # -- plumbing -------------------------------------------------------------------------
    def _raise(self, rc: int, path: Optional[bytes] = None) -> NoReturn:
        """Raise for ``rc``, naming the SFTP status and the path when there is one."""
        # libssh2 returns some codes (e.g. BUFFER_TOO_SMALL) without setting a
        # message: _message_for leaves out the session's text then, which
        # belongs to an earlier error.
        message = _message_for(rc, self._rec.ptr)
        if rc == _SFTP_PROTOCOL and self._rec.usable:
            message = "%s: %s" % (message or "SFTP failure",
                                  _status_text(_lib.libssh2_sftp_last_error(self._ptr)))
        if path is not None:
            message = "%s for path %r" % (message or "failure", os.fsdecode(path))
        raise _make_error(rc, message)

    def _check(self, rc: int, path: Optional[bytes] = None) -> int:
        if rc < 0 and rc != _EAGAIN:
            self._raise(rc, path)
        return rc

    def _null_result(self, path: Optional[bytes] = None) -> int:
        rc = _lib.libssh2_session_last_errno(self._rec.ptr)
        if rc == 0:  # libssh2 returned NULL without an error: say so anyway
            rc = _lib.LIBSSH2_ERROR_SFTP_PROTOCOL
        return self._check(rc, path)

    # -- files and directories ---------------------------------------------------------------
    def open(self, filename: StrOrBytes, flags: int, mode: int) -> Union[SFTPHandle, int]:
        """Open a remote file: returns an SFTPHandle.

        ``flags`` are LIBSSH2_FXF_* bits, ``mode`` the permissions of a created file.

        Args:
            filename: the remote path.
            flags: ``LIBSSH2_FXF_READ``, ``_WRITE``, ``_APPEND``, ``_CREAT``,
                ``_TRUNC``, ``_EXCL``, or-ed together.
            mode: permission bits (``LIBSSH2_SFTP_S_*`` or an octal int) for
                a file the call creates; ignored otherwise.

        Returns:
            an :class:`~ssh2cffi.sftp_handle.SFTPHandle` (a context manager).

        Raises:
            SFTPProtocolError: the server refused (no such file, permission
                denied, ...), with the status and the path in the message.
        """
        return self.open_ex(_to_bytes(filename, "filename"), -1, flags, mode,
                            _lib.LIBSSH2_SFTP_OPENFILE)

    @_operation("open")
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
        assert self._handles is not None
        return SFTPHandle._wrap(self, self._handles, raw)

    def opendir(self, path: StrOrBytes) -> Union[SFTPHandle, int]:
        """Open a remote directory for readdir(): returns an SFTPHandle.

        Raises ``SFTPProtocolError`` (no such directory, permission denied).
        """
        return self.open_ex(_to_bytes(path, "path"), -1, 0, 0, _lib.LIBSSH2_SFTP_OPENDIR)

    def rename(self, source_filename: StrOrBytes, dest_filename: StrOrBytes) -> int:
        """Rename, overwriting the destination if the server allows (libssh2's default flags)."""
        return self.rename_ex(_to_bytes(source_filename, "source_filename"), -1,
                              _to_bytes(dest_filename, "dest_filename"), -1, _RENAME_ALL_FLAGS)

    @_operation("rename")
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

    @_operation("unlink")
    def unlink(self, filename: StrOrBytes) -> int:
        """Remove the file ``filename``; returns 0, or raises ``SFTPProtocolError``."""
        path = _to_bytes(filename, "filename")
        return self._check(_lib.libssh2_sftp_unlink_ex(self._live(), path, len(path)), path)

    @_operation("mkdir")
    def mkdir(self, path: StrOrBytes, mode: int) -> int:
        """Create the directory ``path`` with permission bits ``mode``; returns 0.

        Raises ``SFTPProtocolError`` (for example ``LIBSSH2_FX_FAILURE`` when it exists).
        """
        name = _to_bytes(path, "path")
        return self._check(_lib.libssh2_sftp_mkdir_ex(
            self._live(), name, len(name), _to_cint(mode, "mode", "long")), name)

    @_operation("rmdir")
    def rmdir(self, path: StrOrBytes) -> int:
        """Remove the empty directory ``path``; returns 0, or raises ``SFTPProtocolError``."""
        name = _to_bytes(path, "path")
        return self._check(_lib.libssh2_sftp_rmdir_ex(self._live(), name, len(name)), name)

    # -- attributes ---------------------------------------------------------------------------
    @_operation("stat")
    def _stat(self, path: StrOrBytes, stat_type: int,
              attrs: Optional[SFTPAttributes] = None) -> Union[SFTPAttributes, int]:
        name = _to_bytes(path, "path")
        if attrs is None:
            attrs = SFTPAttributes()
        rc = _lib.libssh2_sftp_stat_ex(self._live(), name, len(name), stat_type, attrs._attrs)
        return attrs if rc == 0 else self._check(rc, name)

    def stat(self, path: StrOrBytes) -> Union[SFTPAttributes, int]:
        """Attributes of ``path`` (following symlinks): an SFTPAttributes."""
        return self._stat(path, _lib.LIBSSH2_SFTP_STAT)

    def lstat(self, path: StrOrBytes) -> Union[SFTPAttributes, int]:
        """Attributes of ``path`` itself (not following a symlink): an SFTPAttributes.

        Raises ``SFTPProtocolError`` when ``path`` does not exist.
        """
        return self._stat(path, _lib.LIBSSH2_SFTP_LSTAT)

    @_operation("stat")
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

    @_operation("statvfs")
    def statvfs(self, path: StrOrBytes) -> Union[SFTPStatVFS, int]:
        """File system statistics (needs the statvfs@openssh.com extension)."""
        name = _to_bytes(path, "path")
        statvfs = SFTPStatVFS(self)
        rc = _lib.libssh2_sftp_statvfs(self._live(), name, len(name), statvfs._st)
        return statvfs if rc == 0 else self._check(rc, name)

    @_operation("symlink")
    def symlink(self, path: StrOrBytes, target: StrOrBytes) -> int:
        """Make a symlink; as in libssh2 the arguments go to the server in this order."""
        name = _to_bytes(path, "path")
        link = _to_bytes(target, "target")
        return self._check(_lib.libssh2_sftp_symlink_ex(
            self._live(), name, len(name), link, len(link), _lib.LIBSSH2_SFTP_SYMLINK), name)

    @_operation("symlink")
    def realpath(self, path: StrOrBytes, max_len: int = 256) -> Union[str, int]:
        """The canonical absolute form of ``path``, as str.

        ``max_len`` bounds the answer's length in bytes.  Raises ``SFTPProtocolError``
        when the server cannot resolve the path.
        """
        name = _to_bytes(path, "path")
        max_len = _to_cint(max_len, "max_len", "unsigned int")
        target = _ffi.new("char[]", max(max_len, 1))
        rc = _lib.libssh2_sftp_symlink_ex(self._live(), name, len(name), target, max_len,
                                          _lib.LIBSSH2_SFTP_REALPATH)
        if rc < 0:
            return self._check(rc, name)
        if rc == 0:
            _raise_no_target("realpath", name)
        return _to_str(_ffi.unpack(target, rc), "the real path of path %r" % (name,))

    @_serialised
    def last_error(self) -> int:
        """The SFTP status code (LIBSSH2_FX_*) of the last failed SFTP request."""
        return _lib.libssh2_sftp_last_error(self._live())

    # -- ssh2cffi additions ---------------------------------------------------------------------
    @_serialised
    def last_error_text(self) -> str:
        """``last_error()`` as text: ``"LIBSSH2_FX_NO_SUCH_FILE (2, no such file)"``.

        The same text SFTP exceptions carry.  An ssh2cffi addition.
        """
        return _status_text(self.last_error())

    @_operation("symlink")
    def readlink(self, path: StrOrBytes) -> Union[str, int]:
        """The target of the symbolic link ``path``, as str.

        An ssh2cffi addition (any libssh2).
        """
        name = _to_bytes(path, "path")
        size = 1024
        while True:
            target = _ffi.new("char[]", size)
            rc = _lib.libssh2_sftp_symlink_ex(self._live(), name, len(name), target, size,
                                              _lib.LIBSSH2_SFTP_READLINK)
            if rc == _lib.LIBSSH2_ERROR_BUFFER_TOO_SMALL and size < (1 << 20):
                size *= 4  # the reply was consumed: ask again with room for it
                continue
            if rc < 0:
                return self._check(rc, name)
            if rc == 0:
                _raise_no_target("readlink", name)
            return _to_str(_ffi.unpack(target, rc))

    @_operation("posix_rename")
    def posix_rename(self, source_filename: StrOrBytes, dest_filename: StrOrBytes) -> int:
        """Rename with POSIX semantics (an existing destination is replaced atomically),
        through the server's ``posix-rename@openssh.com`` extension.

        Raises SFTPProtocolError saying so when the server does not offer the
        extension.  An ssh2cffi addition; needs libssh2 >= 1.11.0 (older
        builds raise NotImplementedError).
        """
        source = _to_bytes(source_filename, "source_filename")
        dest = _to_bytes(dest_filename, "dest_filename")
        if not _lib.SSH2CFFI_HAS_SFTP_POSIX_RENAME:
            raise _needs_libssh2("SFTP.posix_rename", "1.11.0")
        rc = _lib.libssh2_sftp_posix_rename_ex(self._live(), source, len(source), dest,
                                               len(dest))
        if rc > 0:
            # libssh2 returns LIBSSH2_FX_OP_UNSUPPORTED itself (a positive
            # number) when the server did not announce the extension.
            raise _make_error(_SFTP_PROTOCOL, "The SFTP server does not offer the "
                              "posix-rename@openssh.com extension (renaming %r)"
                              % os.fsdecode(source))
        return self._check(rc, source)

    @_operation("open")
    def open_ex_r(self, filename: StrOrBytes, flags: int, mode: int,
                  open_type: int = _lib.LIBSSH2_SFTP_OPENFILE,
                  attrs: Optional[SFTPAttributes] = None) -> Union[SFTPHandle, int]:
        """open_ex() that also sends ``attrs`` (uid/gid, times, size... selected by
        ``attrs.flags``; the permissions always come from ``mode``) with the request.

        As for open(), a refusal raises with the SFTP status in the message
        (``last_error()`` holds it).  An ssh2cffi addition; needs libssh2 >= 1.11.0
        (older builds raise NotImplementedError).
        """
        name = _to_bytes(filename, "filename")
        if attrs is not None and not isinstance(attrs, SFTPAttributes):
            raise TypeError("attrs must be SFTPAttributes or None, not %s"
                            % type(attrs).__name__)
        flags = _to_cint(flags, "flags", "unsigned long")
        mode = _to_cint(mode, "mode", "long")
        open_type = _to_cint(open_type, "open_type")
        if open_type not in (_lib.LIBSSH2_SFTP_OPENFILE, _lib.LIBSSH2_SFTP_OPENDIR):
            raise ValueError("open_type must be LIBSSH2_SFTP_OPENFILE (0) or "
                             "LIBSSH2_SFTP_OPENDIR (1), not %r" % (open_type,))
        if not _lib.SSH2CFFI_HAS_SFTP_OPEN_EX_R:
            raise _needs_libssh2("SFTP.open_ex_r", "1.11.0")
        # libssh2 copies the attributes: a scratch copy keeps ``attrs`` as it was.
        scratch = SFTPAttributes()
        if attrs is not None:
            scratch._attrs[0] = attrs._attrs[0]
        raw = _lib.libssh2_sftp_open_ex_r(self._live(), name, len(name), flags, mode,
                                          open_type, scratch._attrs if attrs is not None
                                          else _ffi.NULL)
        if raw == _ffi.NULL:
            return self._null_result(name)
        assert self._handles is not None
        return SFTPHandle._wrap(self, self._handles, raw)

    @_serialised
    def get_channel(self) -> Union[_Channel, int]:
        """The channel the SFTP session runs on (owned by the SFTP session)."""
        raw = _lib.libssh2_sftp_get_channel(self._live())
        if raw == _ffi.NULL:
            return self._null_result()
        return _Channel._borrow_from(self._session, raw, self)

    # -- bulk transfers (ssh2cffi additions) ---------------------------------------------------
    @_operation("read")
    def get(self, remote_path: StrOrBytes, local_path: Any,
            buffer_size: int = BULK_TRANSFER_SIZE) -> int:
        """Download ``remote_path`` into the local file ``local_path``; returns the byte count.

        The copy loop runs in C with large requests (libssh2 keeps them in
        flight), so it is much faster than a Python loop of read() calls.
        Needs a blocking session.

        Args:
            remote_path: the file to download.
            local_path: where to write it (str, bytes or os.PathLike);
                created or truncated once the remote file is open.
            buffer_size: bytes per request.

        Returns:
            the number of bytes copied.

        Raises:
            SFTPProtocolError: the remote file cannot be opened or read.
            OSError: the local file cannot be written.
        """
        remote = _to_bytes(remote_path, "remote_path")
        # the local file is opened (truncated) only once the remote one is open
        return self._bulk(_lib.ssh2cffi_sftp_download, remote, _lib.LIBSSH2_FXF_READ, 0,
                          lambda: open(_to_path(local_path, "local_path"), "wb"), buffer_size)

    @_operation("write")
    def put(self, local_path: Any, remote_path: StrOrBytes, mode: int = 0o644,
            buffer_size: int = BULK_TRANSFER_SIZE) -> int:
        """Upload the local file ``local_path`` to ``remote_path`` (created or truncated
        with ``mode``); returns the byte count.  Needs a blocking session.

        Raises:
            OSError: the local file cannot be read.
            SFTPProtocolError: the remote file cannot be created or written.
        """
        remote = _to_bytes(remote_path, "remote_path")
        flags = _lib.LIBSSH2_FXF_WRITE | _lib.LIBSSH2_FXF_CREAT | _lib.LIBSSH2_FXF_TRUNC
        with open(_to_path(local_path, "local_path"), "rb") as local:
            return self._bulk(_lib.ssh2cffi_sftp_upload, remote, flags, mode,
                              lambda: local, buffer_size)

    def _bulk(self, copy: Any, remote: bytes, flags: int, mode: int,
              open_local: Callable[[], Any], buffer_size: int) -> int:
        if not self._rec.blocking:
            raise ValueError("SFTP.get()/put() need a blocking session")
        buffer = _new_read_buffer(buffer_size)
        state = _ffi.new("struct ssh2cffi_copy_state *")
        handle = self.open(remote, flags, mode)
        assert isinstance(handle, SFTPHandle)
        with handle, open_local() as local:
            rc = copy(handle._live(), local.fileno(), buffer, buffer_size, state)
        if rc == _lib.SSH2CFFI_LOCAL_IO_ERROR:
            raise OSError(state.local_errno, os.strerror(state.local_errno))
        self._check(rc, remote)
        return int(state.copied)

