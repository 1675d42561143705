"""The twelve ``st_*`` fields shared by FileInfo (SCP) and StatInfo."""
from typing import Any, Tuple

from ._libssh2 import ffi, lib

FIELDS = ("st_size", "st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_rdev",
          "st_blksize", "st_blocks", "st_atime", "st_mtime", "st_ctime")
assert len(FIELDS) == lib.SSH2CFFI_STAT_FIELDS


def new_stat_buffer() -> Any:
    """Zeroed memory for one libssh2_struct_stat (struct stat)."""
    return ffi.new("char[]", lib.ssh2cffi_stat_size())


def stat_values(buffer: Any) -> Tuple[int, ...]:
    """The twelve fields of a filled libssh2_struct_stat, in FIELDS order."""
    out = ffi.new("long long[]", len(FIELDS))
    lib.ssh2cffi_stat_fields(buffer, out)
    return tuple(out)


def _field(index: int, name: str) -> property:
    return property(lambda self: self._values[index], doc="``%s`` of the file." % name)


class StatFields:
    """Read-only ``st_*`` integers, all 0 until filled by libssh2."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: Tuple[int, ...] = (0,) * len(FIELDS)

    @classmethod
    def _from_buffer(cls, buffer: Any) -> Any:
        info = cls()
        info._values = stat_values(buffer)
        return info

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%d" % pair for pair in zip(FIELDS, self._values)))


for _index, _name in enumerate(FIELDS):
    setattr(StatFields, _name, _field(_index, _name))
