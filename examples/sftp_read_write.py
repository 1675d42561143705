"""Write a file over SFTP, read it back, list its directory, remove it.

    python examples/sftp_read_write.py --host server.example --remote-dir /tmp

Connection options default to SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY.
"""
import argparse
import getpass
import os
import posixpath
import socket
import sys

from ssh2cffi.session import Session
from ssh2cffi.sftp import (LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_TRUNC,
                           LIBSSH2_FXF_WRITE, LIBSSH2_SFTP_S_IRGRP, LIBSSH2_SFTP_S_IROTH,
                           LIBSSH2_SFTP_S_IRUSR, LIBSSH2_SFTP_S_IWUSR)

TEXT = b"".join(b"line %d written by ssh2cffi over SFTP\n" % n for n in range(1, 1001))


def main() -> int:
    parser = argparse.ArgumentParser(description="SFTP write, read, list and remove.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("--remote-dir", default="/tmp", help="a directory the user may write to")
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    session.userauth_publickey_fromfile(args.user, os.path.expanduser(args.key))
    sftp = session.sftp_init()
    path = posixpath.join(args.remote_dir, "ssh2cffi-example.txt")

    # Write: the handle is a context manager (closed on exit).
    mode = LIBSSH2_SFTP_S_IRUSR | LIBSSH2_SFTP_S_IWUSR | LIBSSH2_SFTP_S_IRGRP | LIBSSH2_SFTP_S_IROTH
    with sftp.open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, mode) as remote:
        rc, written = remote.write(TEXT)
    print("wrote %d bytes to %s" % (written, path))

    attrs = sftp.stat(path)
    print("size %d, permissions %o" % (attrs.filesize, attrs.permissions & 0o7777))

    # Read: iterating a handle yields (size, data) until end of file.
    chunks = []
    with sftp.open(path, LIBSSH2_FXF_READ, 0) as remote:
        for size, data in remote:
            chunks.append(data)
    content = b"".join(chunks)
    print("read %d bytes back, %s" % (len(content), "identical" if content == TEXT else "DIFFERENT"))

    # List the directory: readdir() yields (name length, name, attributes).
    with sftp.opendir(args.remote_dir) as directory:
        names = sorted(name.decode() for size, name, attrs in directory.readdir())
    print("%s is listed in %s" % (posixpath.basename(path), args.remote_dir)
          if posixpath.basename(path) in names else "not listed")

    sftp.unlink(path)
    print("removed %s" % path)
    session.disconnect()
    sock.close()
    return 0 if content == TEXT else 1


if __name__ == "__main__":
    sys.exit(main())
