"""Authenticate with the keys held by a running ssh-agent (SSH_AUTH_SOCK).

    eval $(ssh-agent) && ssh-add ~/.ssh/id_ed25519
    python examples/agent_auth.py --host server.example

Session.agent_auth(user) does it in one call; the Agent object below shows the
steps: connect, list the identities, try each until the server accepts one.
Connection options default to SSH_HOST, SSH_PORT, SSH_USER.
"""
import argparse
import getpass
import os
import socket
import sys

from ssh2cffi.exceptions import AgentAuthenticationError
from ssh2cffi.session import Session


def main() -> int:
    parser = argparse.ArgumentParser(description="SSH agent authentication.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)

    agent = session.agent_init()
    agent.connect()
    identities = agent.get_identities()
    print("the agent holds %d key(s)" % len(identities))
    for identity in identities:
        try:
            agent.userauth(args.user, identity)
        except AgentAuthenticationError:
            print("refused: %s" % identity.comment.decode())
            continue
        print("accepted: %s" % identity.comment.decode())
        break
    agent.disconnect()

    if not session.userauth_authenticated():
        print("no key of the agent was accepted")
        return 1
    channel = session.open_session()
    channel.execute("echo logged in as $(id -un)")
    size, data = channel.read()
    while size > 0:
        sys.stdout.write(data.decode())
        size, data = channel.read()
    channel.close()
    channel.wait_closed()
    session.disconnect()
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
