"""``FileInfo``: the file's details that ``Session.scp_recv2`` returns."""
from ._stat import StatFields as _StatFields


class FileInfo(_StatFields):
    """Size, mode, owner and times of a file received with SCP (``st_*`` fields)."""

    __slots__ = ()
