"""Where PyPy's time goes on bulk reads (issue 16): read() against read_into().

Runs the exec-stream and SFTP-download workloads of bench/workloads.py at
16 KiB, 64 KiB and 1 MiB reads, through ``read()`` (a new bytes object per
read) and through ``read_into()`` (one reused bytearray), on:

* ssh2cffi on PyPy 3.9 as it starts by default, and with PYPY_GC_NURSERY=8M;
* ssh2cffi on CPython 3.11, and ssh2-python on CPython 3.11 (read() only).

For each run it reports the throughput, the process's page faults and peak
memory (getrusage in the child), and on PyPy the number of minor collections
(PYPYLOG=gc-minor).  Medians of ``--rounds`` runs.  With ``--warm`` each
process first makes the same transfer untimed (its steady state: the JIT has
compiled the loop and the process has touched its memory once); the page
faults and collections then count both transfers.  Needs the virtualenvs of
scripts/bench.sh (or scripts/setup.sh cpython-1.11 pypy-1.11).

    .venv/cpython-1.11/bin/python bench/pypy_reads.py [--rounds 3] [--mib 256] [--warm]
        [--sizes 65536 ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from driver import run_workload  # noqa: E402
from servers import OpenSSHServer  # noqa: E402

MiB = 1024 * 1024
SIZES = [16 * 1024, 64 * 1024, MiB]
# column label -> (virtualenv, package, environment additions)
CONFIGS = {
    "ssh2cffi PyPy 3.9": ("pypy-1.11", "ssh2cffi", {}),
    "ssh2cffi PyPy 3.9, PYPY_GC_NURSERY=8M": ("pypy-1.11", "ssh2cffi", {"PYPY_GC_NURSERY": "8M"}),
    "ssh2cffi CPython 3.11": ("cpython-1.11", "ssh2cffi", {}),
    "ssh2-python CPython 3.11": ("ssh2-python-cpython3.11", "ssh2", {}),
}
# workload name -> (read() workload, read_into() workload)
WORKLOADS = {"exec stream": ("exec_stream", "exec_stream_into"),
             "SFTP download": ("sftp_download", "sftp_download_into")}


def run_once(config: str, workload: str, args: List[str], server: OpenSSHServer,
             warm: bool) -> Dict[str, float]:
    venv, package, extra_env = CONFIGS[config]
    env = dict(os.environ, **extra_env)
    with tempfile.NamedTemporaryFile(prefix="pypylog-") as log:
        if "PyPy" in config:
            env["PYPYLOG"] = "gc-minor:" + log.name
        result = run_workload(os.path.join(REPO, ".venv", venv, "bin", "python"), package,
                              server, workload, args, cipher="aes128-ctr", warm=warm, env=env,
                              label=config)
        minors: Optional[int] = None
        if "PyPy" in config:
            with open(log.name, "rb") as fobj:
                minors = sum(1 for line in fobj if line.rstrip().endswith(b"{gc-minor"))
    return {"MB/s": result["value"], "page faults": result["page_faults"],
            "peak RSS MiB": result["max_rss_mib"], "minor GCs": minors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256, help="MiB moved per run")
    parser.add_argument("--warm", action="store_true", help="measure a second transfer")
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES, help="read sizes")
    opts = parser.parse_args()
    total = opts.mib * MiB
    path = "/tmp/ssh2cffi-bench-%dM.bin" % opts.mib
    if not os.path.exists(path) or os.path.getsize(path) != total:
        with open(path, "wb") as fobj:
            fobj.write(os.urandom(total))
    rows: List[Tuple[str, str, str, Dict[str, float]]] = []
    with OpenSSHServer() as server:
        for name, (plain, into) in WORKLOADS.items():
            source = str(total) if name == "exec stream" else path
            for size in opts.sizes:
                samples: Dict[Tuple[str, str], List[Dict[str, float]]] = {}
                for _ in range(opts.rounds):  # the columns in alternation, round after round
                    for config in CONFIGS:
                        apis = [("read()", plain)] + ([("read_into()", into)]
                                                      if CONFIGS[config][1] == "ssh2cffi" else [])
                        for api, workload in apis:
                            samples.setdefault((config, api), []).append(
                                run_once(config, workload, [source, str(size)], server,
                                         opts.warm))
                for (config, api), runs in samples.items():
                    median = {key: (statistics.median(run[key] for run in runs)
                                    if runs[0][key] is not None else None) for key in runs[0]}
                    rows.append(("%s, %d KiB" % (name, size // 1024), config, api, median))
                    print(rows[-1], flush=True)
    print()
    print("| workload | interpreter | API | MB/s | page faults | peak RSS MiB | minor GCs |")
    print("|---|---|---|---|---|---|---|")
    for workload, config, api, median in rows:
        print("| %s | %s | %s | %.0f | %d | %.0f | %s |" % (
            workload, config, api, median["MB/s"], median["page faults"],
            median["peak RSS MiB"], "" if median["minor GCs"] is None else "%d"
            % median["minor GCs"]))


if __name__ == "__main__":
    main()
