"""The one argument-conversion helper: str -> bytes with ``utils.ENCODING``.

ssh2-python accepts str or bytes wherever C takes a string; str is encoded
with ``ssh2.utils.ENCODING``, read at call time so users can change it.
"""
from __future__ import annotations

import os
from typing import Union

from . import utils
from ._libssh2 import ffi

StrOrBytes = Union[str, bytes]


def to_bytes(value: object, name: str) -> bytes:
    """``value`` as bytes: bytes pass through, str is encoded, else TypeError."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        try:
            return value.encode(utils.ENCODING)
        except UnicodeEncodeError as exc:  # say which argument (lone surrogates...)
            raise UnicodeEncodeError(exc.encoding, exc.object, exc.start, exc.end,
                                     "%s, in %s" % (exc.reason, name)) from None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be str or bytes, not %s" % (name, type(value).__name__))


def to_cstring(value: object, name: str) -> bytes:
    """As to_bytes, for C parameters that take a NUL-terminated string."""
    data = to_bytes(value, name)
    if b"\0" in data:
        raise ValueError("%s must not contain a NUL byte" % name)
    return data


def to_path(value: object, name: str) -> bytes:
    """A local file path: str, bytes or os.PathLike, NUL-free."""
    if isinstance(value, os.PathLike):
        value = os.fsencode(value)
    return to_cstring(value, name)


def to_str(data: bytes, what: str = "") -> str:
    """Text that libssh2 returns (error messages, method names); ``what`` it is, for errors."""
    try:
        return data.decode(utils.ENCODING)
    except UnicodeDecodeError as exc:
        if not what:
            raise
        raise UnicodeDecodeError(exc.encoding, exc.object, exc.start, exc.end,
                                 "%s, in %s" % (exc.reason, what)) from None


def to_int(value: object, name: str) -> int:
    """A C integer argument: an int, or a float truncated (as ssh2-python's C types do).

    Anything else, str included, is a TypeError naming the parameter; the C
    call itself raises OverflowError for values out of its type's range.
    """
    if isinstance(value, float):
        try:
            return int(value)
        except (OverflowError, ValueError) as exc:  # inf, NaN
            raise type(exc)("%s must be a finite number, not %r" % (name, value)) from None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))


def _c_range(ctype: str) -> "tuple[int, int]":
    bits = 8 * ffi.sizeof(ctype)
    if ctype.startswith("unsigned") or ctype in ("size_t", "uint64_t"):
        return 0, 2 ** bits - 1
    return -2 ** (bits - 1), 2 ** (bits - 1) - 1


_C_RANGES = {ctype: _c_range(ctype) for ctype in (
    "int", "unsigned int", "long", "unsigned long", "size_t", "uint64_t")}


def to_cint(value: object, name: str, ctype: str = "int") -> int:
    """A value for a C integer parameter of type ``ctype``, checked in Python.

    As a Cython-typed parameter takes it: an int (bools included), an object
    with ``__index__``, or a float truncated.  cffi's own errors ("an integer
    is required", "int too big to convert") do not say which argument was
    wrong; these do: TypeError for other types, OverflowError for values
    outside ``ctype``'s range (NaN and infinities included).
    """
    number: int
    if type(value) is int:
        number = value
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise OverflowError("%s must be a finite number, not %r" % (name, value))
        number = int(value)
    elif isinstance(value, int):
        number = int(value)
    elif hasattr(type(value), "__index__"):
        number = value.__index__()  # type: ignore[attr-defined]
    else:
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    low, high = _C_RANGES[ctype]
    if not low <= number <= high:
        raise OverflowError("%s must be between %d and %d (C %s), not %d"
                            % (name, low, high, ctype, number))
    return number
