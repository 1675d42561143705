"""Many hosts at once: one job per host, a limit on how many run together, results
as they complete, and each host's failure its own."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, Optional, Tuple, Union

from .connection import Connection, RunResult, connect
from .sftp import PathLike

Host = Union[str, Tuple[str, int], Dict[str, Any]]
Job = Callable[[Connection], Awaitable[Any]]


class HostResult:
    """One host's outcome: ``result`` (what the job returned) or ``error`` (what it raised)."""

    __slots__ = ("host", "result", "error")

    def __init__(self, host: Host, result: Any = None,
                 error: Optional[BaseException] = None) -> None:
        self.host = host
        self.result = result
        self.error = error

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        outcome = "error=%r" % (self.error,) if self.error is not None else "result=%r" % (
            self.result,)
        return "HostResult(%r, %s)" % (self.host, outcome)


def _connect_arguments(host: Host, defaults: Dict[str, Any]) -> Dict[str, Any]:
    """``connect()``'s arguments for one host: a name, (name, port) or a dict of them."""
    arguments = dict(defaults)
    if isinstance(host, str):
        arguments["host"] = host
    elif isinstance(host, tuple):
        arguments["host"], arguments["port"] = host
    elif isinstance(host, dict):
        arguments.update(host)
    else:
        raise TypeError("a host is a name, a (name, port) tuple or a dict of connect() "
                        "arguments, not %s" % type(host).__name__)
    return arguments


async def for_each_host(hosts: Iterable[Host], job: Job, *, limit: int = 100,
                        **connect_arguments: Any) -> AsyncIterator[HostResult]:
    """Connect to each host and ``await job(connection)``, at most ``limit`` hosts at
    a time; yield a :class:`HostResult` per host as each completes.

    A host's failure (connecting, authenticating, or in the job) is that host's
    ``error``: the others go on.  ``connect_arguments`` are :func:`connect`'s
    (``username``, ``key_file``, ``known_hosts``...), overridden per host by a dict
    host.  Closing the iterator early (``break``) cancels the hosts still running.
    """
    if limit < 1:
        raise ValueError("limit must be >= 1, not %d" % limit)
    gate = asyncio.Semaphore(limit)

    async def one(host: Host) -> HostResult:
        async with gate:
            try:
                async with await connect(**_connect_arguments(host, connect_arguments)) as conn:
                    return HostResult(host, result=await job(conn))
            except Exception as exc:  # the host's own failure; cancellation propagates
                return HostResult(host, error=exc)

    tasks = [asyncio.ensure_future(one(host)) for host in hosts]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def run_on_hosts(hosts: Iterable[Host], command: str, *, limit: int = 100,
                 **connect_arguments: Any) -> AsyncIterator[HostResult]:
    """``command`` on every host: each result is a :class:`RunResult` (see for_each_host)."""
    async def run(conn: Connection) -> RunResult:
        return await conn.run(command)
    return for_each_host(hosts, run, limit=limit, **connect_arguments)


def put_on_hosts(hosts: Iterable[Host], local_path: PathLike, remote_path: PathLike, *,
                 limit: int = 100, **connect_arguments: Any) -> AsyncIterator[HostResult]:
    """Upload one local file to every host: each result is the byte count."""
    async def put(conn: Connection) -> int:
        async with await conn.sftp() as sftp:
            return await sftp.put(local_path, remote_path)
    return for_each_host(hosts, put, limit=limit, **connect_arguments)
