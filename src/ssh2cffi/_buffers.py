"""The buffer helpers: unzeroed C buffers for reads, and the caller's own buffers.

Reads copy exactly once on the Python side (C buffer -> bytes): libssh2 writes
into a buffer each object keeps and grows on demand, so a read allocates
nothing but its result.  Zero-filling a buffer libssh2 overwrites is wasted
work, so the allocator skips it.

The ``read_into`` calls copy nothing and allocate nothing: libssh2 writes
straight into the caller's bytearray, memoryview or mmap (``caller_buffer``).
On PyPy that matters beyond the copy: each ``bytes`` result is a new object
in the nursery, and a fresh process's first pass over a large nursery costs
a page fault per 4 KiB (docs/benchmarks.rst).
"""
from __future__ import annotations

from typing import Any

from ._libssh2 import ffi

_new_unzeroed = ffi.new_allocator(should_clear_after_alloc=False)
# The type object, not the string "char[]": given a string, from_buffer looks it
# up in cffi's type cache on every call (CPython; PyPy's JIT folds the lookup).
_CHAR_ARRAY = ffi.typeof("char[]")
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


def caller_buffer(buffer: Any, name: str = "buffer", allow_empty: bool = False) -> Any:
    """A ``char[]`` over ``buffer``'s memory, for libssh2 to write into.

    An empty buffer raises ValueError unless ``allow_empty``: a read into it
    would return 0, which means end of file.

    ``buffer`` must be writable and contiguous (bytearray, a writable
    memoryview, mmap, array.array...).  cffi reports the refusals as
    TypeError or BufferError depending on the interpreter: both become one
    TypeError here.  The cdata keeps the buffer exported (a bytearray cannot
    be resized) for as long as it lives.
    """
    try:
        target = ffi.from_buffer(_CHAR_ARRAY, buffer, require_writable=True)
    except (TypeError, BufferError) as exc:
        raise TypeError("%s must be a writable, contiguous bytes-like object (bytearray, "
                        "memoryview, mmap), not %s (%s)"
                        % (name, type(buffer).__name__, exc)) from None
    if not allow_empty and not len(target):
        raise ValueError("%s is empty: a read into it would return 0, which means end of file"
                         % name)
    return target
