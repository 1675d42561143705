"""The one buffer helper: unzeroed C buffers for reads.

Reads copy exactly once on the Python side (C buffer -> bytes): libssh2 writes
into a buffer each object keeps and grows on demand, so a read allocates
nothing but its result.  Zero-filling a buffer libssh2 overwrites is wasted
work, so the allocator skips it.
"""
from __future__ import annotations

from typing import Any

from ._libssh2 import ffi

_new_unzeroed = ffi.new_allocator(should_clear_after_alloc=False)
MAX_READ_SIZE = 2 ** 31  # larger single reads are a mistake, not a request


def new_read_buffer(size: int, name: str = "size") -> Any:
    """A ``char[size]`` C buffer (at least 1 byte) for a read of up to ``size`` bytes.

    ``name`` is the caller's parameter, for the error messages.
    """
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError("%s must be an int, not %s" % (name, type(size).__name__))
    if size < 0:
        raise ValueError("%s must not be negative, got %d" % (name, size))
    if size > MAX_READ_SIZE:
        raise ValueError("%s %d is larger than the %d bytes one read may ask for"
                         % (name, size, MAX_READ_SIZE))
    return _new_unzeroed("char[]", max(size, 1))
