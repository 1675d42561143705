"""Run a command with ssh2cffi.aio (asyncio), and fetch a file over SFTP meanwhile.

    python examples/aio_run.py 'uname -a' /etc/hostname

Connection options come from the environment: SSH_HOST, SSH_PORT, SSH_USER,
SSH_KEY (a private key file), SSH_KNOWN_HOSTS (a known_hosts file; the
literal "none" turns the host key check off, which is only safe on a network
you trust).
"""
import asyncio
import os
import sys
import tempfile

from ssh2cffi import aio


async def main(command: str, remote_file: str) -> int:
    known_hosts = os.environ.get("SSH_KNOWN_HOSTS", aio.DEFAULT_KNOWN_HOSTS)
    async with await aio.connect(
            os.environ.get("SSH_HOST", "localhost"), int(os.environ.get("SSH_PORT", "22")),
            username=os.environ.get("SSH_USER"),
            key_file=os.path.expanduser(os.environ.get("SSH_KEY", "~/.ssh/id_ed25519")),
            known_hosts=None if known_hosts == "none" else known_hosts) as conn:
        sftp = await conn.sftp()
        local = os.path.join(tempfile.mkdtemp(), os.path.basename(remote_file))
        # the command and the download run at once, on one connection
        result, size = await asyncio.gather(conn.run(command), sftp.get(remote_file, local))
    sys.stdout.buffer.write(result.stdout)
    print("exit status: %s" % result.exit_status)
    print("fetched %s: %d bytes" % (remote_file, size))
    return result.exit_status or 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
