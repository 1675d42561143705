"""``ssh2cffi.aio``: SSH from asyncio, on libssh2's non-blocking sessions.

No threads and no polling: a call that would block waits for the socket
readiness libssh2 names (``Session.block_directions()``) through the running
loop's ``add_reader``/``add_writer``.  Works on CPython and PyPy, with the
default event loop and with uvloop.  See docs/asyncio.rst.

    async with await aio.connect("host", username="me", key_file="~/.ssh/id_ed25519") as conn:
        result = await conn.run("uname -a")
"""
from .channel import Channel
from .connection import DEFAULT_KNOWN_HOSTS, Connection, RunResult, connect
from .many import HostResult, for_each_host, put_on_hosts, run_on_hosts
from .sftp import SFTP, SFTPFile

__all__ = ["connect", "Connection", "RunResult", "Channel", "SFTP", "SFTPFile", "HostResult",
           "for_each_host", "run_on_hosts", "put_on_hosts", "DEFAULT_KNOWN_HOSTS"]
