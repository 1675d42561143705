"""Run a command on a host reached through a jump host, like ``ssh -J``.

    python examples/jump_host.py --jump bastion.example --host internal.example 'uname -a'

The second session runs over a ``direct_tcpip`` channel of the first one: no
local port, no thread.  Both hosts default to the environment (SSH_HOST,
SSH_PORT, SSH_USER, SSH_KEY); --jump-port and --port choose the ports, and
the same user and key log in to both.
"""
import argparse
import getpass
import os
import socket
import sys

from ssh2cffi.session import Session


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a command through a jump host.")
    parser.add_argument("--jump", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--jump-port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"),
                        help="the target, as the jump host resolves it")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("command", help="the command line to run on the target")
    args = parser.parse_args()
    key = os.path.expanduser(args.key)

    # The jump host: an ordinary session on a TCP socket.
    sock = socket.create_connection((args.jump, args.jump_port))
    jump = Session()
    jump.handshake(sock)
    jump.userauth_publickey_fromfile(args.user, key)

    # The target: a session whose handshake runs over a channel of the first.
    tunnel = jump.direct_tcpip(args.host, args.port)
    target = Session()
    target.handshake(tunnel)
    target.userauth_publickey_fromfile(args.user, key)

    channel = target.open_session()
    channel.execute(args.command)
    size, data = channel.read()
    while size > 0:
        sys.stdout.buffer.write(data)
        size, data = channel.read()
    channel.close()
    channel.wait_closed()
    status = channel.get_exit_status()
    sys.stdout.flush()
    print("exit status: %d" % status)

    # Inner first: its goodbye travels through the tunnel.
    target.disconnect()
    tunnel.close()
    jump.disconnect()
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
