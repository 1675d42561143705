"""A TCP proxy on loopback that delays every byte by a fixed time in each direction.

This machine's kernel has no netem, so a slow link is emulated here: each chunk
read from one side is written to the other ``delay`` seconds later, in order.
Reading pauses while too much is in flight, so the proxy does not buffer without
bound (TCP's own windows then see the delay, as on a real link).

    python latency_proxy.py LISTEN_PORT TARGET_PORT [DELAY_SECONDS]

or, from Python, ``LatencyProxy(target_port, delay).start()`` runs it in a child
process and gives its port.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Optional

MAX_IN_FLIGHT = 8 * 1024 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: "asyncio.Queue[Optional[tuple]]" = asyncio.Queue()
    in_flight = 0
    room = asyncio.Event()
    room.set()

    async def deliver() -> None:
        nonlocal in_flight
        while True:
            item = await queue.get()
            if item is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            due, data = item
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
            in_flight -= len(data)
            if in_flight < MAX_IN_FLIGHT:
                room.set()

    sender = asyncio.ensure_future(deliver())
    try:
        while True:
            await room.wait()
            data = await reader.read(256 * 1024)
            if not data:
                break
            in_flight += len(data)
            if in_flight >= MAX_IN_FLIGHT:
                room.clear()
            queue.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait(None)
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def _serve(listen_port: int, target_port: int, delay: float) -> None:
    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1",
                                                                         target_port)
        except OSError:
            client_writer.close()
            return
        for writer in (client_writer, server_writer):
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                                       socket.TCP_NODELAY, 1)
        await asyncio.gather(_pipe(client_reader, server_writer, delay),
                             _pipe(server_reader, client_writer, delay))
        client_writer.close()
        server_writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


class LatencyProxy:
    """The proxy in a child process (the benchmark's clients must not share its CPU)."""

    def __init__(self, target_port: int, delay: float = 0.025) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "LatencyProxy":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(self.port),
                                      str(self.target_port), str(self.delay)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the latency proxy did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2]),
                       float(sys.argv[3]) if len(sys.argv) > 3 else 0.025))
