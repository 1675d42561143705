"""Run a command on a non-blocking session, waiting on the socket with select().

In non-blocking mode every libssh2 call that would wait returns
LIBSSH2_ERROR_EAGAIN instead; Session.block_directions() then says whether
libssh2 is waiting to read from the socket, to write to it, or both, and the
program waits for exactly that before calling again.  This is the loop to
build on when one thread drives many sessions.

    python examples/nonblocking_exec.py --host server.example 'ls -l /'

Connection options default to SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY.
"""
import argparse
import getpass
import os
import select
import socket
import sys

from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import (LIBSSH2_SESSION_BLOCK_INBOUND,
                              LIBSSH2_SESSION_BLOCK_OUTBOUND, Session)


def wait_socket(sock, session, timeout=1.0):
    """Block until the socket is ready in the direction libssh2 is waiting on.

    (ssh2cffi.utils.wait_socket does the same; it is spelled out here.)
    """
    directions = session.block_directions()
    if directions == 0:
        return
    readable = [sock] if directions & LIBSSH2_SESSION_BLOCK_INBOUND else []
    writable = [sock] if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND else []
    select.select(readable, writable, [], timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a command on a non-blocking session.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("command", nargs="+", help="the command line to run")
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    session.userauth_publickey_fromfile(args.user, os.path.expanduser(args.key))

    session.set_blocking(False)
    waits = 0

    channel = session.open_session()
    while channel == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
        waits += 1
        channel = session.open_session()

    while channel.execute(" ".join(args.command)) == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
        waits += 1

    # Read until end of file: (EAGAIN, b"") means "nothing yet", (0, b"") means done.
    while True:
        size, data = channel.read()
        if size == LIBSSH2_ERROR_EAGAIN:
            wait_socket(sock, session)
            waits += 1
            continue
        if size <= 0:
            break
        sys.stdout.buffer.write(data)

    while channel.close() == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
    while channel.wait_closed() == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
    status = channel.get_exit_status()
    sys.stdout.flush()
    print("exit status: %d (waited on the socket %d times)" % (status, waits))

    session.set_blocking(True)
    session.disconnect()
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
