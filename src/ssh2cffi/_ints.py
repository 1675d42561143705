"""The one integer-argument rule: a value for a C integer parameter, checked in Python.

ssh2-python's parameters are Cython-typed C integers, which take an int
(bools included), an object with ``__index__``, or a float (truncated), and
raise OverflowError outside the C type's range.  ssh2cffi takes the same
values, so code written for ssh2-python keeps working, and every refusal
names the argument (cffi's own "an integer is required" does not).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from ._libssh2 import ffi


def _c_range(ctype: str) -> Tuple[int, int]:
    bits = 8 * ffi.sizeof(ctype)
    if ctype.startswith("unsigned") or ctype in ("size_t", "uint64_t"):
        return 0, 2 ** bits - 1
    return -2 ** (bits - 1), 2 ** (bits - 1) - 1


_C_RANGES: Dict[str, Tuple[int, int]] = {ctype: _c_range(ctype) for ctype in (
    "int", "unsigned int", "long", "unsigned long", "size_t", "uint64_t")}


def to_cint(value: object, name: str, ctype: str = "int", minimum: Optional[int] = None) -> int:
    """``value`` for a C parameter of type ``ctype``, named ``name`` in errors.

    TypeError for a value that is no number; OverflowError for NaN, the
    infinities and values outside ``ctype``'s range; ValueError below
    ``minimum``, for parameters whose C type is wider than their meaning
    (a negative terminal size).
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
    if minimum is not None and number < minimum:
        raise ValueError("%s must be at least %d, not %d" % (name, minimum, number))
    if not low <= number <= high:
        raise OverflowError("%s must be between %d and %d (C %s), not %d"
                            % (name, low, high, ctype, number))
    return number
