"""Run one command over SSH and print its output and exit status.

    python examples/exec_command.py --host server.example --user me 'uname -a'

Connection options default to the environment: SSH_HOST, SSH_PORT, SSH_USER,
SSH_KEY (a private key file).
"""
import argparse
import getpass
import os
import socket
import sys

from ssh2cffi.session import Session


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a command over SSH.")
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

    channel = session.open_session()
    channel.execute(" ".join(args.command))
    # read() returns (size, data); size 0 means end of output.
    size, data = channel.read()
    while size > 0:
        sys.stdout.buffer.write(data)
        size, data = channel.read()
    size, data = channel.read_stderr()
    while size > 0:
        sys.stderr.buffer.write(data)
        size, data = channel.read_stderr()
    channel.close()
    channel.wait_closed()
    status = channel.get_exit_status()
    sys.stdout.flush()
    print("exit status: %d" % status)

    session.disconnect()
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
