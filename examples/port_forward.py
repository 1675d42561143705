"""Local port forwarding, as ``ssh -L``: connections to a local port are carried
through the SSH server to TARGET_HOST:TARGET_PORT (Session.direct_tcpip).

    python examples/port_forward.py --host server.example 8080 intranet.example 80
    curl http://127.0.0.1:8080/

One thread serves one forwarded connection at a time: the session is
non-blocking and select() waits on the local client and the SSH socket together.
``--connections N`` stops after N connections (default: run until interrupted).
Connection options default to SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY.
"""
import argparse
import getpass
import os
import select
import socket
import sys

from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session
from ssh2cffi.utils import wait_socket


def forward(session, sock, client, target_host, target_port):
    """Copy bytes both ways between ``client`` and a channel to the target until both end."""
    peer_host, peer_port = client.getpeername()[:2]
    channel = session.direct_tcpip_ex(target_host, target_port, peer_host, peer_port)
    while channel == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
        channel = session.direct_tcpip_ex(target_host, target_port, peer_host, peer_port)
    client.settimeout(60)      # sendall() waits for a slow client, up to a minute
    pending = b""              # read from the client, not yet taken by the channel
    client_done = False        # the client closed its sending side
    readable = []
    total_up = total_down = 0
    while True:
        # Server -> client: drain what the channel has ((EAGAIN, b"") when nothing).
        while True:
            size, data = channel.read(65536)
            if size <= 0:
                break
            client.sendall(data)
            total_down += size
        if size == 0 and channel.eof():
            break              # the target closed the connection
        # Client -> server.
        if client in readable:
            pending = client.recv(65536)
            if not pending:
                client_done = True
                while channel.send_eof() == LIBSSH2_ERROR_EAGAIN:
                    wait_socket(sock, session)
        if pending:
            rc, written = channel.write(pending)   # rc is EAGAIN if only part fitted
            pending = pending[written:]
            total_up += written
        # Wait for the SSH socket, and for the client when there is room for its data.
        listen_to_client = not client_done and not pending
        readers = [sock, client] if listen_to_client else [sock]
        writers = [sock] if pending else []
        readable = select.select(readers, writers, [], 1.0)[0]
    while channel.close() == LIBSSH2_ERROR_EAGAIN:
        wait_socket(sock, session)
    client.close()
    return total_up, total_down


def main() -> int:
    parser = argparse.ArgumentParser(description="Forward a local port through SSH.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("--connections", type=int, default=0,
                        help="stop after this many connections (0: never)")
    parser.add_argument("local_port", type=int, help="0 picks a free port")
    parser.add_argument("target_host", help="as the SSH server resolves it")
    parser.add_argument("target_port", type=int)
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    session.userauth_publickey_fromfile(args.user, os.path.expanduser(args.key))
    session.set_blocking(False)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.local_port))
    listener.listen(5)
    print("forwarding 127.0.0.1:%d to %s:%d via %s" % (listener.getsockname()[1],
          args.target_host, args.target_port, args.host), flush=True)
    served = 0
    try:
        while args.connections == 0 or served < args.connections:
            client, _ = listener.accept()
            up, down = forward(session, sock, client, args.target_host, args.target_port)
            served += 1
            print("connection %d: %d bytes out, %d bytes back" % (served, up, down), flush=True)
    except KeyboardInterrupt:
        pass
    listener.close()
    session.set_blocking(True)
    session.disconnect()
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
