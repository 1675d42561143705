"""asyncio benchmarks: ssh2cffi.aio against asyncssh, on the same loop and interpreter.

Starts one OpenSSH sshd on loopback (tests/servers.py) and a latency proxy in
front of it (bench/latency_proxy.py: 25 ms each way), then runs every workload
of bench/aio_workloads.py in a fresh interpreter per measurement, alternating
the two clients, on each interpreter that has ssh2cffi and asyncssh (the test
virtualenvs; the Debian 13 ones run in its root), and reports medians.  For
reference, 50 hosts also go through parallel-ssh with gevent on ssh2cffi
(bench/workloads.py's many_sessions_pssh).  scripts/bench.sh runs it after
bench/run.py.

    python bench/aio.py [--rounds N] [--only NAME...]

Writes bench/results/aio.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, HERE)

from driver import run_workload  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402
from run import IN_DEBIAN13, venv_python  # noqa: E402
from servers import OpenSSHServer  # noqa: E402

DRIVER = os.path.join(HERE, "aio_workloads.py")
MiB = 1 << 20
BIG_FILE = "/tmp/ssh2cffi-bench-aio-128M.bin"
SLOW_FILE = "/tmp/ssh2cffi-bench-aio-32M.bin"
INTERPRETERS = {"CPython 3.11": (venv_python("cpython-1.11"), []),
                "PyPy 3.9": (venv_python("pypy-1.11"), []),
                "CPython 3.13": (venv_python("cpython3.13-1.11"), IN_DEBIAN13),
                "PyPy 3.11": (venv_python("pypy3.11-1.11"), IN_DEBIAN13)}
CLIENTS = ["ssh2cffi.aio", "asyncssh"]
# name -> (workload, arguments; "<proxy>" and "<hosts>" are filled in, higher is better)
WORKLOADS = {
    "exec stream, 128 MiB": ("exec_stream", [128 * MiB], True),
    "SFTP get 128 MiB, loopback": ("sftp_get", [BIG_FILE], True),
    "SFTP put 128 MiB, loopback": ("sftp_put", [BIG_FILE], True),
    "SFTP get 32 MiB, 25 ms each way": ("sftp_get", [SLOW_FILE, "<proxy>"], True),
    "SFTP put 32 MiB, 25 ms each way": ("sftp_put", [SLOW_FILE, "<proxy>"], True),
    "one command on 50 hosts": ("many_hosts", [50, "<hosts>"], False),
    "one command on 200 hosts": ("many_hosts", [200, "<hosts>"], False),
}


def measure(names: List[str], server: OpenSSHServer, proxy: LatencyProxy, rounds: int,
            log) -> Dict[str, Dict[str, float]]:
    fill = {"<proxy>": proxy.port, "<hosts>": ",".join(server.addresses)}
    results: Dict[str, Dict[str, float]] = {}
    for name in names:
        workload, args, _higher = WORKLOADS[name]
        args = [fill.get(arg, arg) if isinstance(arg, str) else arg for arg in args]
        samples: Dict[str, List[float]] = {}
        for _ in range(rounds):
            for interpreter, (python, prefix) in INTERPRETERS.items():
                if not os.path.exists(python):
                    continue
                for client in CLIENTS:
                    label = "%s %s" % (client, interpreter)
                    value = run_workload(python, client, server, workload, args, driver=DRIVER,
                                         prefix=prefix, label=label)["value"]
                    samples.setdefault(label, []).append(value)
        if workload == "many_hosts" and args[0] == 50:
            for interpreter in ("CPython 3.11", "PyPy 3.9"):
                python = INTERPRETERS[interpreter][0]
                label = "parallel-ssh (gevent) on ssh2cffi %s" % interpreter
                for _ in range(rounds):
                    samples.setdefault(label, []).append(run_workload(
                        python, "ssh2cffi", server, "many_sessions_pssh", [50],
                        label=label)["value"])
        results[name] = {label: statistics.median(values) for label, values in samples.items()}
        log("%s: %s" % (name, ", ".join("%s %.4g" % item for item in results[name].items())))
    return results


def markdown(results: Dict[str, Dict[str, float]]) -> str:
    lines = ["| workload | interpreter | ssh2cffi.aio | asyncssh | ratio |", "|---|---|---|---|---|"]
    for name, row in results.items():
        higher = WORKLOADS[name][2]
        unit = "MB/s" if higher else "s"
        for interpreter in INTERPRETERS:
            ours = row.get("ssh2cffi.aio %s" % interpreter)
            theirs = row.get("asyncssh %s" % interpreter)
            if ours is None or theirs is None:
                continue
            ratio = ours / theirs if higher else theirs / ours
            lines.append("| %s | %s | %.4g %s | %.4g %s | %.2fx |"
                         % (name, interpreter, ours, unit, theirs, unit, ratio))
        for label, value in row.items():
            if label.startswith("parallel-ssh"):
                lines.append("| %s | %s | %.4g %s | | |" % (name, label, value, unit))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="workload names (substring match)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    opts = parser.parse_args()
    names = [n for n in WORKLOADS if not opts.only or any(o in n for o in opts.only)]
    for path, size in ((BIG_FILE, 128 * MiB), (SLOW_FILE, 32 * MiB)):
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path, "wb") as out:
                out.write(os.urandom(size))
    log = lambda text: print(text, flush=True)  # noqa: E731
    with OpenSSHServer() as server:
        proxy = LatencyProxy(server.port, 0.025).start()
        try:
            results = measure(names, server, proxy, opts.rounds, log)
        finally:
            proxy.stop()
    os.makedirs(opts.out, exist_ok=True)
    with open(os.path.join(opts.out, "aio.json"), "w") as out:
        json.dump(results, out, indent=1)
    table = markdown(results)
    with open(os.path.join(opts.out, "aio.md"), "w") as out:
        out.write(table)
    print(table)


if __name__ == "__main__":
    main()
