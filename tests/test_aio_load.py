"""ssh2cffi.aio under load: 1,000 sequential connections and 200 concurrent ones
to the sshd fixture (spread over its 127.0.0.x addresses), with the resident
set and the open descriptors flat.

The load runs in a child interpreter (a crash fails the test, and the figures
are its own).  Memory is measured as in test_load.py: after a warm-up of the
same work (PyPy's JIT and heap grow at first; PyPy runs with a 4 MB nursery,
see the test), then at the end; growth must stay below 10 MiB.  Descriptors must be back to what they were.
"""
import json

from helpers import run_python, sshd_login

SEQUENTIAL = 1000
CONCURRENT = 200
MAX_GROWTH = 10 * 1024 * 1024

CHILD = r"""
import asyncio, gc, json, os, sys
from ssh2cffi import aio

ADDRESSES = os.environ["LOAD_ADDRESSES"].split(",")
PORT, USER, KEY = int(os.environ["LOAD_PORT"]), os.environ["LOAD_USER"], os.environ["LOAD_KEY"]
SEQUENTIAL = int(os.environ["LOAD_SEQUENTIAL"])
CONCURRENT = int(os.environ["LOAD_CONCURRENT"])
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    gc.collect()
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE

def fds():
    gc.collect()
    return len(os.listdir("/proc/self/fd"))

async def one(index):
    host = ADDRESSES[index % len(ADDRESSES)]
    async with await aio.connect(host, PORT, username=USER, key_file=KEY,
                                 known_hosts=None) as conn:
        result = await conn.run("echo %d" % index)
    assert result.stdout == b"%d\n" % index, result
    assert result.exit_status == 0

async def sequential(count):
    for index in range(count):
        await one(index)

async def concurrent(count):
    await asyncio.gather(*[one(index) for index in range(count)])

async def main():
    # warm-up: the same work once (JIT, heap, the loop's own structures)
    await sequential(100)
    await concurrent(CONCURRENT)
    figures = {"fds_before": fds(), "rss_before": rss()}
    await sequential(SEQUENTIAL)
    figures["rss_after_sequential"] = rss()
    await concurrent(CONCURRENT)
    figures["rss_after_concurrent"] = rss()
    figures["fds_after"] = fds()
    print(json.dumps(figures))

asyncio.run(main())
"""


def test_thousand_sequential_and_two_hundred_concurrent_connections(sshd):
    env = {"LOAD_ADDRESSES": ",".join(sshd.addresses), "LOAD_PORT": str(sshd.port),
           "LOAD_USER": sshd_login(sshd), "LOAD_KEY": sshd.key_paths["id_ed25519"],
           "LOAD_SEQUENTIAL": str(SEQUENTIAL), "LOAD_CONCURRENT": str(CONCURRENT),
           # PyPy's nursery is half the CPU cache size /proc/cpuinfo reports (240 MB
           # on this project's machine), and its pages enter the resident set as the
           # program first allocates through it: a small one is all touched during
           # the warm-up, so growth after it is the program's (CPython ignores it)
           "PYPY_GC_NURSERY": "4M"}
    result = run_python(CHILD, timeout=900, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print("\naio load: %s" % figures)
    assert figures["fds_after"] == figures["fds_before"], figures
    for after in ("rss_after_sequential", "rss_after_concurrent"):
        assert figures[after] - figures["rss_before"] < MAX_GROWTH, figures
