"""Run a command on the server with your SSH agent forwarded, like ``ssh -A``.

    eval $(ssh-agent) && ssh-add ~/.ssh/id_ed25519
    python examples/agent_forwarding.py --host server.example 'ssh-add -l'
    python examples/agent_forwarding.py --host jump.example 'ssh inner.example uptime'

The command on the server (ssh, ssh-add, git...) uses the keys of the agent
at SSH_AUTH_SOCK on this machine; they never leave it.  By default the
session is blocking, and reading the output is all it takes: ssh2cffi relays
the agent while the read waits.  --non-blocking shows the loop of a
non-blocking program, which waits with AgentForwarding.wait() so that the
agent's answers wake it too.  Needs libssh2 >= 1.11.0.

Connection options default to SSH_HOST, SSH_PORT, SSH_USER; the login uses
SSH_KEY (a private key file) if set, else the agent.
"""
import argparse
import getpass
import os
import socket
import sys

from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session


def run_blocking(session, command):
    """(stdout, exit status) of ``command`` on a blocking session."""
    channel = session.open_session()
    channel.request_auth_agent()   # the command gets an SSH_AUTH_SOCK
    channel.execute(command)
    output = b""
    size, data = channel.read()    # relays the agent while it waits
    while size > 0:
        output += data
        size, data = channel.read()
    channel.close()
    channel.wait_closed()
    return output, channel.get_exit_status()


def run_non_blocking(session, forwarding, command):
    """The same on a non-blocking session: every call may return EAGAIN."""
    session.set_blocking(False)

    def call(method, *args):
        result = method(*args)
        while result == LIBSSH2_ERROR_EAGAIN:
            forwarding.wait()      # the session socket and the agent's sockets
            result = method(*args)
        return result

    channel = call(session.open_session)
    call(channel.request_auth_agent)
    call(channel.execute, command)
    output = b""
    while True:
        size, data = channel.read()  # relays the agent when it returns EAGAIN
        if size == LIBSSH2_ERROR_EAGAIN:
            forwarding.wait()
            continue
        if size <= 0:
            break
        output += data
    call(channel.close)
    call(channel.wait_closed)
    call(forwarding.close)
    session.set_blocking(True)
    return output, channel.get_exit_status()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a command with the agent forwarded.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY"))
    parser.add_argument("--non-blocking", action="store_true",
                        help="use a non-blocking session and a wait loop")
    parser.add_argument("command", nargs="*", default=["ssh-add", "-l"],
                        help="the command line to run (default: ssh-add -l)")
    args = parser.parse_args()
    if not os.environ.get("SSH_AUTH_SOCK"):
        parser.error("no agent: SSH_AUTH_SOCK is not set (run ssh-agent and ssh-add)")

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    if args.key:
        session.userauth_publickey_fromfile(args.user, os.path.expanduser(args.key))
    else:
        session.agent_auth(args.user)

    # Each agent connection the server forwards is joined to the agent at
    # SSH_AUTH_SOCK; failures are logged to the "ssh2cffi" logger.
    forwarding = session.forward_agent()
    command = " ".join(args.command)
    if args.non_blocking:
        output, status = run_non_blocking(session, forwarding, command)
    else:
        output, status = run_blocking(session, command)
        forwarding.close()
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    print("exit status: %d" % status)

    session.disconnect()
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
