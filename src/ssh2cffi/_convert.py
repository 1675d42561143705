"""The one text-argument helper: str -> bytes with ``utils.ENCODING``.

Integer arguments go through ``_ints.to_cint``.

ssh2-python accepts str or bytes wherever C takes a string; str is encoded
with ``ssh2.utils.ENCODING``, read at call time so users can change it.
"""
from __future__ import annotations

import os
from typing import Optional, Union

from . import utils

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


def ssh_string(data: bytes) -> Optional[bytes]:
    """The bytes of the SSH string (uint32 length, then the bytes) that ``data``
    starts with, or None when ``data`` is shorter than its length says."""
    if len(data) >= 4:
        length = int.from_bytes(data[:4], "big")
        if length <= len(data) - 4:
            return data[4:4 + length]
    return None
