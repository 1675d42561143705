"""Check the server's host key against an OpenSSH known_hosts file before logging in.

    python examples/known_hosts.py --host server.example [--known-hosts FILE] [--add]

Exits 0 when the key matches, 1 when the host is unknown (with --add, the key
is added and the file written: trust on first use), 2 when the host is known
with another key -- the case to treat as an attack.
Connection options default to SSH_HOST, SSH_PORT.
"""
import argparse
import base64
import os
import socket
import sys

from ssh2cffi.exceptions import KnownHostCheckMisMatchError, KnownHostCheckNotFoundError
from ssh2cffi.knownhost import (LIBSSH2_KNOWNHOST_KEY_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
                                LIBSSH2_KNOWNHOST_KEY_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ED25519,
                                LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEYENC_RAW,
                                LIBSSH2_KNOWNHOST_TYPE_PLAIN)
from ssh2cffi.session import (LIBSSH2_HOSTKEY_HASH_SHA256, LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
                              LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
                              LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_HOSTKEY_TYPE_RSA, Session)

# Session.hostkey() names the key type one way, the known-hosts typemask another.
KEY_BITS = {
    LIBSSH2_HOSTKEY_TYPE_RSA: LIBSSH2_KNOWNHOST_KEY_SSHRSA,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
    LIBSSH2_HOSTKEY_TYPE_ED25519: LIBSSH2_KNOWNHOST_KEY_ED25519,
}


def main() -> int:
    parser = argparse.ArgumentParser(description="Verify a server's host key.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--known-hosts", default="~/.ssh/known_hosts")
    parser.add_argument("--add", action="store_true", help="add an unknown host's key")
    args = parser.parse_args()
    path = os.path.expanduser(args.known_hosts)

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    key, key_type = session.hostkey()
    fingerprint = base64.b64encode(session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA256))
    print("server key SHA256:%s" % fingerprint.decode().rstrip("="))

    known = session.knownhost_init()
    if os.path.exists(path):
        known.readfile(path)
    typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KEY_BITS[key_type]
    try:
        entry = known.checkp(args.host, args.port, key, typemask)
    except KnownHostCheckNotFoundError:
        if not args.add:
            print("UNKNOWN: %s is not in %s" % (args.host, path))
            return 1
        # Non-standard ports are written as [host]:port, as OpenSSH does.
        name = args.host if args.port == 22 else "[%s]:%d" % (args.host, args.port)
        known.addc(name, key, typemask)
        known.writefile(path)
        print("ADDED: %s to %s" % (name, path))
        return 0
    except KnownHostCheckMisMatchError:
        print("MISMATCH: %s presented a key that differs from the one in %s" % (args.host, path))
        return 2
    finally:
        session.disconnect()
        sock.close()
    print("OK: the key matches the entry for %s" % entry.name.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
