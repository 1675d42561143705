"""Copy a local file to the server with SCP, then copy it back.

    python examples/scp_copy.py --host server.example LOCAL_FILE REMOTE_PATH

SCP ends each file with a zero byte from the sender, answered by the receiver;
libssh2 leaves both to the program, as done below.
Connection options default to SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY.
"""
import argparse
import getpass
import hashlib
import os
import socket
import sys

from ssh2cffi.session import Session


def upload(session, local_path, remote_path):
    info = os.stat(local_path)
    channel = session.scp_send64(remote_path, info.st_mode & 0o777, info.st_size,
                                 int(info.st_mtime), int(info.st_atime))
    with open(local_path, "rb") as local:
        for block in iter(lambda: local.read(1 << 20), b""):
            channel.write(block)
    channel.write(b"\0")            # end of file
    channel.send_eof()
    channel.wait_eof()
    channel.wait_closed()
    return info.st_size


def download(session, remote_path):
    channel, info = session.scp_recv2(remote_path)
    chunks, remaining = [], info.st_size
    while remaining > 0:
        size, data = channel.read(min(remaining, 1 << 20))
        if size <= 0:
            raise SystemExit("the server ended the copy early")
        chunks.append(data)
        remaining -= size
    channel.read(1)                 # the server's end-of-file byte
    channel.write(b"\0")            # and our answer
    channel.send_eof()
    channel.wait_eof()
    channel.wait_closed()
    return b"".join(chunks), info


def main() -> int:
    parser = argparse.ArgumentParser(description="SCP a file to the server and back.")
    parser.add_argument("--host", default=os.environ.get("SSH_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSH_PORT", "22")))
    parser.add_argument("--user", default=os.environ.get("SSH_USER", getpass.getuser()))
    parser.add_argument("--key", default=os.environ.get("SSH_KEY", "~/.ssh/id_ed25519"))
    parser.add_argument("local_file")
    parser.add_argument("remote_path")
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port))
    session = Session()
    session.handshake(sock)
    session.userauth_publickey_fromfile(args.user, os.path.expanduser(args.key))

    sent = upload(session, args.local_file, args.remote_path)
    print("sent %d bytes to %s" % (sent, args.remote_path))
    data, info = download(session, args.remote_path)
    print("received %d bytes, mode %o" % (len(data), info.st_mode & 0o777))
    with open(args.local_file, "rb") as local:
        same = hashlib.sha256(local.read()).digest() == hashlib.sha256(data).digest()
    print("sha256 %s" % ("matches" if same else "DIFFERS"))

    session.disconnect()
    sock.close()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
