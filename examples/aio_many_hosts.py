"""Run one command on many hosts at once with ssh2cffi.aio, printing each result
as it arrives; a host that fails does not stop the others.

    python examples/aio_many_hosts.py 'uptime' host1 host2 host3:2222

SSH_USER and SSH_KEY as in the other examples; SSH_KNOWN_HOSTS as in aio_run.py.
"""
import asyncio
import os
import sys

from ssh2cffi import aio


def parse_host(text: str):
    name, _, port = text.partition(":")
    return (name, int(port)) if port else (name, 22)


async def main(command: str, hosts) -> int:
    known_hosts = os.environ.get("SSH_KNOWN_HOSTS", aio.DEFAULT_KNOWN_HOSTS)
    failures = 0
    async for outcome in aio.run_on_hosts(
            [parse_host(host) for host in hosts], command, limit=50,
            username=os.environ.get("SSH_USER"),
            key_file=os.path.expanduser(os.environ.get("SSH_KEY", "~/.ssh/id_ed25519")),
            known_hosts=None if known_hosts == "none" else known_hosts):
        name = "%s:%d" % outcome.host
        if outcome.ok:
            print("%s: %s" % (name, outcome.result.stdout.decode().strip()))
        else:
            failures += 1
            print("%s: failed: %s" % (name, type(outcome.error).__name__))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
