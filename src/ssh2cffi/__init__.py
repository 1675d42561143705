"""ssh2cffi: libssh2 for CPython and PyPy, with ssh2-python's API.

Modules mirror ssh2-python's: ``ssh2cffi.session.Session``,
``ssh2cffi.channel.Channel``, ``ssh2cffi.exceptions`` and so on.
"""
__version__ = "0.1.0"

