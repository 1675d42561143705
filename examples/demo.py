"""ssh2cffi demo: a real SSH session against an OpenSSH server on loopback.

The server is started here (tests/servers.py: sshd with generated host and
user keys on a free 127.0.0.1 port), so the demo needs no configuration.
"""
from __future__ import annotations

import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from servers import OpenSSHServer

from ssh2cffi import utils
from ssh2cffi.session import LIBSSH2_HOSTKEY_HASH_SHA256, Session


def main() -> None:
    with OpenSSHServer() as server:
        print("sshd listening on %s:%d" % (server.host, server.port))
        sock = server.connect_socket()
        with Session() as session:
            session.handshake(sock)
            fingerprint = session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA256)
            print("host key SHA256:%s" % base64.b64encode(fingerprint).decode().rstrip("="))
            session.userauth_publickey_fromfile(server.user, server.key_paths["id_ed25519"])
            print("authenticated as %s with libssh2 %s"
                  % (server.user, utils.version().decode()))
            channel = session.open_session()
            channel.execute("echo hello from $(hostname) via ssh2cffi; uname -sr")
            while True:
                size, data = channel.read(65536)
                if size <= 0:
                    break
                sys.stdout.write(data.decode())
            channel.wait_closed()
            print("exit status:", channel.get_exit_status())
        sock.close()


if __name__ == "__main__":
    main()
