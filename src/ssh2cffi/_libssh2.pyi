"""Type stub for the cffi-built extension: ffi and lib are dynamic."""
from typing import Any

ffi: Any
lib: Any
