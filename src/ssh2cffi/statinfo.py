"""``StatInfo``: a ``struct stat``, as ``Session.scp_recv`` returns it."""
from ._stat import StatFields as _StatFields


class StatInfo(_StatFields):
    """Size, mode, owner and times of a file (``st_*`` fields)."""

    __slots__ = ()
