"""Log in with an OpenSSH user certificate and run one command.

    ssh-keygen -s user_ca -I me@laptop -n me -V +52w ~/.ssh/id_ed25519.pub
    python examples/certificate_auth.py --host server.example --user me "id -un"

The server must trust the CA that signed the certificate (sshd_config:
``TrustedUserCAKeys /etc/ssh/user_ca.pub``).  The certificate goes where the
public key would: userauth_publickey_fromfile(user, key, publickey=cert).
libssh2 >= 1.11 signs with ed25519, ECDSA and RSA certificates; 1.10 only
with ECDSA ones.

Connection options default to the environment: SSH_HOST, SSH_PORT, SSH_USER,
SSH_KEY (the private key file) and SSH_CERT (its certificate, by default the
key's path + "-cert.pub", where ssh-keygen -s writes it).
"""
import argparse
import getpass
import os
import socket
import sys

from ssh2cffi.exceptions import AuthenticationError
from ssh2cffi.session import Session


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a command, logged in with a certificate.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("--cert", default=os.environ.get("SSH_CERT"),
                        help="the certificate file (default: the key's path + -cert.pub)")
    parser.add_argument("command", nargs="+", help="the command line to run")
    args = parser.parse_args()
    key = os.path.expanduser(args.key)
    cert = os.path.expanduser(args.cert) if args.cert else key + "-cert.pub"

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    try:
        session.userauth_publickey_fromfile(args.user, key, publickey=cert)
    except AuthenticationError as exc:
        # Expired, not valid for this user, signed by a CA the server does
        # not trust -- or, with libssh2 1.10, an ed25519 or RSA certificate
        # (PublickeyUnverifiedError, a subclass: it cannot sign with them).
        print("certificate refused: %s: %s" % (cert, exc), file=sys.stderr)
        session.disconnect()
        sock.close()
        return 1

    channel = session.open_session()
    channel.execute(" ".join(args.command))
    size, data = channel.read()
    while size > 0:
        sys.stdout.buffer.write(data)
        size, data = channel.read()
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
