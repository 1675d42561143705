"""One asyncio benchmark workload, through ssh2cffi.aio or asyncssh, in its own interpreter.

Both clients do the same work on the same event loop (asyncio's default) and
interpreter; bench/aio.py runs this once per measurement and reads the JSON it
prints.

    python aio_workloads.py --package {ssh2cffi.aio,asyncssh} --port P --key KEY \
        [--hosts A,B,...] WORKLOAD [ARG...]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

CIPHER = "aes128-ctr"  # both clients, as bench/run.py's main table
MAC = "hmac-sha2-256"  # what libssh2 picks with OpenSSH; asyncssh would prefer another


class Client:
    """The few calls the workloads make, over either library."""

    def __init__(self, package: str, port: int, key: str) -> None:
        self.package = package
        self.port = port
        self.key = key

    async def connect(self, host: str = "127.0.0.1", port: int = 0) -> object:
        port = port or self.port
        if self.package == "asyncssh":
            import asyncssh
            return await asyncssh.connect(host, port, username="root", client_keys=[self.key],
                                          known_hosts=None, encryption_algs=[CIPHER],
                                          mac_algs=[MAC])
        from ssh2cffi import aio
        return await aio.connect(host, port, username="root", key_file=self.key,
                                 known_hosts=None, ciphers=CIPHER)

    async def run(self, conn: object, command: str) -> bytes:
        if self.package == "asyncssh":
            result = await conn.run(command, encoding=None)  # type: ignore[attr-defined]
            return result.stdout
        result = await conn.run(command)  # type: ignore[attr-defined]
        return result.stdout

    async def close(self, conn: object) -> None:
        if self.package == "asyncssh":
            conn.close()  # type: ignore[attr-defined]
            await conn.wait_closed()  # type: ignore[attr-defined]
        else:
            await conn.close()  # type: ignore[attr-defined]


async def exec_stream(client: Client, size: int) -> tuple:
    """A command's ``size`` bytes of stdout, read to the end as chunks arrive."""
    conn = await client.connect()
    got = 0
    start = time.perf_counter()
    if client.package == "asyncssh":
        process = await conn.create_process("head -c %d /dev/zero" % size, encoding=None)
        while True:
            chunk = await process.stdout.read(65536)
            if not chunk:
                break
            got += len(chunk)
        await process.wait()
    else:
        channel = await conn.exec("head -c %d /dev/zero" % size)
        async for chunk in channel:
            got += len(chunk)
        await channel.close()
    elapsed = time.perf_counter() - start
    assert got == size, (got, size)
    await client.close(conn)
    return got / elapsed / 1e6, "MB/s"


async def _sftp(client: Client, conn: object, upload: bool, path: str, target: str) -> float:
    start = time.perf_counter()
    if client.package == "asyncssh":
        async with conn.start_sftp_client() as sftp:  # type: ignore[attr-defined]
            if upload:
                await sftp.put(path, target)
            else:
                await sftp.get(path, target)
    else:
        async with await conn.sftp() as sftp:  # type: ignore[attr-defined]
            if upload:
                await sftp.put(path, target)
            else:
                await sftp.get(path, target)
    return time.perf_counter() - start


async def sftp_get(client: Client, path: str, via_port: int = 0) -> tuple:
    """Download ``path`` whole (through the latency proxy at ``via_port`` if given)."""
    conn = await client.connect(port=via_port)
    elapsed = await _sftp(client, conn, False, path, "/tmp/ssh2cffi-bench-aio-get")
    await client.close(conn)
    return os.path.getsize(path) / elapsed / 1e6, "MB/s"


async def sftp_put(client: Client, path: str, via_port: int = 0) -> tuple:
    """Upload ``path`` whole (through the latency proxy at ``via_port`` if given)."""
    conn = await client.connect(port=via_port)
    elapsed = await _sftp(client, conn, True, path, "/tmp/ssh2cffi-bench-aio-put")
    await client.close(conn)
    return os.path.getsize(path) / elapsed / 1e6, "MB/s"


async def many_hosts(client: Client, count: int, hosts: str) -> tuple:
    """Wall time for one command on ``count`` connections at once, spread over the
    sshd's loopback addresses: connect, authenticate, run, close."""
    addresses = hosts.split(",")

    async def one(index: int) -> None:
        conn = await client.connect(addresses[index % len(addresses)])
        out = await client.run(conn, "echo %d" % index)
        assert out == b"%d\n" % index, out
        await client.close(conn)

    start = time.perf_counter()
    await asyncio.gather(*[one(index) for index in range(count)])
    return time.perf_counter() - start, "s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", required=True, choices=["ssh2cffi.aio", "asyncssh"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("workload")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()
    client = Client(opts.package, opts.port, opts.key)
    args = [int(arg) if arg.isdigit() else arg for arg in opts.args]
    value, unit = asyncio.run(globals()[opts.workload](client, *args))
    print(json.dumps({"value": value, "unit": unit}))


if __name__ == "__main__":
    main()
