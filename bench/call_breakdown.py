"""Where a per-call nanosecond goes (issue 16): ssh2cffi's hottest calls taken apart.

Connects to a server with a non-blocking idle channel (``sleep 60``) and
times, in this interpreter, each call and its pieces with the same objects:

* ``Channel.read()`` returning EAGAIN as shipped; the same Python code
  without the session lock; the cffi call of libssh2_channel_read_ex alone
  inside a method; and an empty method returning the same tuple;
* ``Session.block_directions()`` and ``Channel.eof()``.

Each figure is the best of three runs of ``--calls`` calls, in ns per call.
Run it with each interpreter, and with ssh2-python for its figures:

    python bench/call_breakdown.py --port PORT --key KEY [--package ssh2]

(bench/run.py and tests/servers.py start such a server; scripts/bench.sh's
virtualenvs have both packages.)
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads


def ns_per_call(call: Callable[[], object], calls: int) -> float:
    for _ in range(min(calls, 100000)):  # warm-up (the PyPy JIT)
        call()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - start) / calls * 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--package", default="ssh2cffi")
    parser.add_argument("--calls", type=int, default=2000000)
    opts = parser.parse_args()
    session, _sock = workloads.connect(opts.package, opts.port, opts.key)
    channel = session.open_session()
    channel.execute("sleep 60")
    session.set_blocking(False)
    eagain = importlib.import_module(opts.package + ".error_codes").LIBSSH2_ERROR_EAGAIN
    assert channel.read() == (eagain, b"")
    rows = [("Channel.read() returning EAGAIN", channel.read)]
    if opts.package == "ssh2cffi":
        lib = importlib.import_module("ssh2cffi._libssh2").lib
        read_ex = lib.libssh2_channel_read_ex
        eagain_result = (eagain, b"")

        def without_lock(self: object, size: int = 1024, stream_id: int = 0) -> tuple:
            # Channel.read_ex's own checks and call, with no lock around them
            rec = self._rec  # type: ignore[attr-defined]
            if not rec.usable:
                rec.raise_unusable()
            small_enough = 0 < size <= self._bufsize  # type: ignore[attr-defined]
            assert small_enough
            rc = read_ex(self._ptr, stream_id, self._buf, size)  # type: ignore[attr-defined]
            return eagain_result if rc == eagain else (rc, b"")

        def call_only(self: object, size: int = 1024, stream_id: int = 0) -> tuple:
            read_ex(self._ptr, stream_id, self._buf, size)  # type: ignore[attr-defined]
            return eagain_result

        def empty(self: object, size: int = 1024, stream_id: int = 0) -> tuple:
            return eagain_result

        rows += [("  the same without the session lock", without_lock.__get__(channel)),
                 ("  the cffi call of libssh2_channel_read_ex alone", call_only.__get__(channel)),
                 ("  a method returning the EAGAIN tuple", empty.__get__(channel))]
    rows += [("Session.block_directions()", session.block_directions),
             ("Channel.eof()", channel.eof)]
    for label, call in rows:
        print("%-52s %7.1f ns" % (label, ns_per_call(call, opts.calls)), flush=True)


if __name__ == "__main__":
    main()
