"""Benchmark suite: ssh2cffi (CPython, PyPy) against ssh2-python, paramiko, plain C and OpenSSH.

Starts one OpenSSH sshd on loopback (tests/servers.py), then runs every
workload in a fresh interpreter per measurement, the implementations in
alternation, ``--rounds`` times; reports the median.  Writes
bench/results/results.{json,md,png}.  Run it through scripts/bench.sh,
which builds everything it needs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from servers import OpenSSHServer  # noqa: E402

MiB = 1024 * 1024
BIG = 256 * MiB
BIG_FILE = "/tmp/ssh2cffi-bench-256M.bin"

SSH2_DRIVER = os.path.join(HERE, "workloads.py")  # ssh2cffi and ssh2-python: one API
PARAMIKO_DRIVER = os.path.join(HERE, "workloads_paramiko.py")
# name -> (interpreter, package, driver script)
PYTHON_IMPLS = {
    "ssh2cffi CPython": (os.path.join(REPO, ".venv/cpython-1.11/bin/python"), "ssh2cffi", SSH2_DRIVER),
    "ssh2cffi PyPy": (os.path.join(REPO, ".venv/pypy-1.11/bin/python"), "ssh2cffi", SSH2_DRIVER),
    "ssh2-python CPython": (os.path.join(REPO, ".venv/bench-ssh2-python/bin/python"), "ssh2", SSH2_DRIVER),
    "paramiko CPython": (os.path.join(REPO, ".venv/bench-paramiko-cpython/bin/python"), "paramiko",
                         PARAMIKO_DRIVER),
    "paramiko PyPy": (os.path.join(REPO, ".venv/bench-paramiko-pypy/bin/python"), "paramiko",
                      PARAMIKO_DRIVER),
}
C_BINARY = os.path.join(REPO, ".deps/bench/raw_libssh2")  # ../shared/bench/raw_libssh2.c
C_ANCHORS = os.path.join(REPO, ".deps/bench/anchors")      # bench/c/anchors.c
# Each C anchor is built twice (scripts/bench.sh): column label -> binary suffix.
C_BUILDS = {"plain C": "", "plain C, ssh2-python's libs": "-ssh2-python-libs"}
ALL_PY = list(PYTHON_IMPLS)
CFFI_ONLY = ["ssh2cffi CPython", "ssh2cffi PyPy"]
SSH2_API = CFFI_ONLY + ["ssh2-python CPython"]  # what parallel-ssh's native client runs on
# The bulk helpers have no ssh2-python counterpart; paramiko's get/put are its own.
BULK = CFFI_ONLY + ["paramiko CPython", "paramiko PyPy"]

# name -> (workload, args, python implementations, C anchor (binary, mode, arg, BUF) or None,
#          OpenSSH sftp command or None, higher is better)
WORKLOADS = {
    "exec stream, 1 KiB reads": ("exec_stream", [BIG, 1024], ALL_PY, (C_BINARY, "exec", BIG, 1024), None, True),
    "exec stream, 32 KiB reads": ("exec_stream", [BIG, 32768], ALL_PY, (C_BINARY, "exec", BIG, 32768), None, True),
    "exec stream, 256 KiB reads": ("exec_stream", [BIG, 262144], ALL_PY, (C_BINARY, "exec", BIG, 262144), None, True),
    "SFTP download, 64 KiB reads": ("sftp_download", [BIG_FILE, 65536], ALL_PY, (C_BINARY, "sftp", BIG_FILE, 65536), None, True),
    "SFTP download, 2 MiB reads": ("sftp_download", [BIG_FILE, 2 * MiB], ALL_PY, (C_BINARY, "sftp", BIG_FILE, 2 * MiB), None, True),
    "SFTP upload, 64 KiB writes": ("sftp_upload", [BIG, 65536], ALL_PY, (C_ANCHORS, "upload", BIG, 65536), None, True),
    "SFTP upload, 1 MiB writes": ("sftp_upload", [BIG, MiB], ALL_PY, (C_ANCHORS, "upload", BIG, MiB), None, True),
    "SFTP.get bulk download": ("sftp_get", [BIG_FILE], BULK, None, "get %s /tmp/ssh2cffi-bench-o" % BIG_FILE, True),
    "SFTP.put bulk upload": ("sftp_put", [BIG_FILE], BULK, None, "put %s /tmp/ssh2cffi-bench-o" % BIG_FILE, True),
    "binding overhead: non-blocking read() on idle channel": ("nb_read_overhead", [1000000], ALL_PY,
                                                               (C_ANCHORS, "nbread", 1000000, 0), None, True),
    "ping-pong 64 B through cat": ("ping_pong", [20000], ALL_PY,
                                    (C_ANCHORS, "pingpong", 20000, 0), None, True),
    "SFTP stat": ("sftp_stat", [20000], ALL_PY, (C_ANCHORS, "stat", 20000, 0), None, True),
    "50 concurrent sessions (threads)": ("many_sessions", [50], ALL_PY, None, None, False),
    "50 concurrent sessions (parallel-ssh, gevent)": ("many_sessions_pssh", [50], SSH2_API,
                                                      None, None, False),
}
DEFAULT_CIPHER_WORKLOADS = ["exec stream, 256 KiB reads", "SFTP download, 2 MiB reads",
                            "SFTP.get bulk download", "SFTP.put bulk upload"]


def run_python(impl: str, workload: str, args: List, server: OpenSSHServer,
               cipher: Optional[str]) -> float:
    python, package, driver = PYTHON_IMPLS[impl]
    cmd = [python, driver, "--package", package,
           "--port", str(server.port), "--key", server.key_paths["id_ed25519"]]
    if cipher:
        cmd += ["--cipher", cipher]
    cmd += [workload] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (impl, workload, out.stderr[-2000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])["value"]


def run_c(binary: str, mode: str, arg, buf: int, server: OpenSSHServer,
          cipher: Optional[str]) -> float:
    env = dict(os.environ, NODELAY="1", BUF=str(buf))
    if cipher:
        env["CIPHER"] = cipher
    out = subprocess.run([binary, str(server.port), server.key_paths["id_ed25519"], mode,
                          str(arg)], capture_output=True, text=True, timeout=600, env=env)
    if out.returncode != 0:
        raise RuntimeError("C %s failed: %s" % (mode, out.stderr))
    return float(out.stdout.split()[0])


def run_openssh(command: str, server: OpenSSHServer, cipher: Optional[str]) -> float:
    cipher_args = ["-c", cipher] if cipher else []
    start = time.perf_counter()
    subprocess.run(["sftp", "-q", "-P", str(server.port), "-i", server.key_paths["id_ed25519"],
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
                   + cipher_args + ["-b", "-", "root@127.0.0.1"], input=command.encode(),
                   check=True, capture_output=True, timeout=600)
    return os.path.getsize(BIG_FILE) / (time.perf_counter() - start) / 1e6


def measure(names: List[str], server: OpenSSHServer, rounds: int, cipher: Optional[str],
            log) -> Dict[str, Dict[str, float]]:
    results: Dict[str, Dict[str, float]] = {}
    for name in names:
        workload, args, impls, c_mode, openssh, _higher = WORKLOADS[name]
        samples: Dict[str, List[float]] = {}
        for _ in range(rounds):  # implementations in alternation, round after round
            for impl in impls:
                if not os.path.exists(PYTHON_IMPLS[impl][0]):
                    continue  # that interpreter was not set up: no column for it
                samples.setdefault(impl, []).append(run_python(impl, workload, args, server, cipher))
            for label, suffix in C_BUILDS.items():
                if c_mode and os.path.exists(c_mode[0] + suffix):
                    samples.setdefault(label, []).append(
                        run_c(c_mode[0] + suffix, *c_mode[1:], server, cipher))
            if openssh:
                samples.setdefault("OpenSSH sftp", []).append(run_openssh(openssh, server, cipher))
        results[name] = {impl: statistics.median(values) for impl, values in samples.items()}
        log("%s: %s" % (name, ", ".join("%s %.4g" % kv for kv in results[name].items())))
    return results


def unit_of(name: str) -> str:
    workload = WORKLOADS[name][0]
    return {"nb_read_overhead": "calls/s", "ping_pong": "trips/s", "sftp_stat": "ops/s",
            "many_sessions": "s (lower is better)",
            "many_sessions_pssh": "s (lower is better)"}.get(workload, "MB/s")


def ratios(row: Dict[str, float], higher: bool) -> Dict[str, str]:
    out = {}
    base = row.get("ssh2-python CPython")
    c = row.get("plain C")
    for impl in CFFI_ONLY:
        if impl not in row:
            continue
        value = row[impl]
        if base:
            out["%s / ssh2-python" % impl] = "%.2fx" % (value / base if higher else base / value)
        if c:
            out["%s / C" % impl] = "%.2fx" % (value / c)
        paramiko = row.get(impl.replace("ssh2cffi", "paramiko"))
        if paramiko:
            out["%s / paramiko same interpreter" % impl] = "%.2fx" % (
                value / paramiko if higher else paramiko / value)
        if "OpenSSH sftp" in row:
            out["%s / OpenSSH" % impl] = "%.2fx" % (value / row["OpenSSH sftp"])
    c_theirs = row.get("plain C, ssh2-python's libs")
    if base and c_theirs:
        out["ssh2-python / C on its libs"] = "%.2fx" % (base / c_theirs)
    return out


def markdown(results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    impls = ALL_PY + list(C_BUILDS) + ["OpenSSH sftp"]
    lines = []
    for config, rows in results.items():
        lines.append("### %s\n" % config)
        lines.append("| workload | unit | " + " | ".join(impls) + " | ratios |")
        lines.append("|---" * (len(impls) + 3) + "|")
        for name, row in rows.items():
            cells = ["%.4g" % row[i] if i in row else "" for i in impls]
            rs = ratios(row, WORKLOADS[name][5])
            lines.append("| %s | %s | %s | %s |" % (name, unit_of(name), " | ".join(cells),
                                                   ", ".join("%s %s" % kv for kv in rs.items())))
        lines.append("")
    return "\n".join(lines)


def rst(results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """The tables for docs/benchmarks.rst: values, then the ratios, per configuration."""
    impls = ALL_PY + list(C_BUILDS) + ["OpenSSH sftp"]

    def list_table(title: str, header: List[str], rows: List[List[str]]) -> List[str]:
        out = [title, "~" * len(title), "", ".. list-table::", "   :header-rows: 1", ""]
        for cells in [header] + rows:
            out.append("   * - " + (cells[0] or ".."))
            out.extend("     - " + (cell or "..") for cell in cells[1:])
        return out + [""]

    lines: List[str] = []
    for config, rows in results.items():
        used = [i for i in impls if any(i in row for row in rows.values())]
        values = [[name, unit_of(name)] + ["%.4g" % row[i] if i in row else "" for i in used]
                  for name, row in rows.items()]
        lines += list_table(config, ["workload", "unit"] + used, values)
        per_row = {name: ratios(row, WORKLOADS[name][5]) for name, row in rows.items()}
        columns = sorted({key for rs in per_row.values() for key in rs}, key=ratio_order)
        lines += list_table(config + ": ratios (higher is better)", ["workload"] + columns,
                            [[name] + [per_row[name].get(c, "") for c in columns]
                             for name in rows])
    return "\n".join(lines)


def ratio_order(key: str) -> tuple:
    """ssh2cffi PyPy's ratios first, then CPython's, then the others."""
    return (0 if key.startswith("ssh2cffi PyPy") else 1 if key.startswith("ssh2cffi") else 2,
            key)


def chart(results: Dict[str, Dict[str, Dict[str, float]]], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["cipher aes128-ctr"]
    names = list(rows)
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(names) + 1.5))
    width = 0.38
    for offset, impl in enumerate(CFFI_ONLY):
        values = []
        for name in names:
            row = rows[name]
            base = row.get("ssh2-python CPython") or row.get("OpenSSH sftp")
            higher = WORKLOADS[name][5]
            values.append((row[impl] / base if higher else base / row[impl]) if base and impl in row else 0)
        ax.barh([i + offset * width for i in range(len(names))], values, height=width, label=impl)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks([i + width / 2 for i in range(len(names))])
    ax.set_yticklabels([name + (" (vs OpenSSH sftp)" if "ssh2-python CPython" not in rows[name]
                                else "") for name in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed relative to ssh2-python on CPython, or to OpenSSH's sftp for the "
                  "bulk helpers (higher is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="workload names (substring match)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--rst-from", metavar="RESULTS_JSON",
                        help="print the docs tables of an earlier run and exit")
    opts = parser.parse_args()
    if opts.rst_from:
        with open(opts.rst_from) as f:
            print(rst(json.load(f)))
        return
    names = [n for n in WORKLOADS if not opts.only or any(o in n for o in opts.only)]
    os.makedirs(opts.out, exist_ok=True)
    if not os.path.exists(BIG_FILE) or os.path.getsize(BIG_FILE) != BIG:
        with open(BIG_FILE, "wb") as f:
            f.write(os.urandom(BIG))
    log = lambda text: print(text, flush=True)  # noqa: E731
    results = {}
    with OpenSSHServer() as server:
        results["cipher aes128-ctr"] = measure(names, server, opts.rounds, "aes128-ctr", log)
        defaults = [n for n in names if n in DEFAULT_CIPHER_WORKLOADS]
        if defaults:
            results["each library's default cipher"] = measure(defaults, server, opts.rounds,
                                                               None, log)
    with open(os.path.join(opts.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    table = markdown(results)
    with open(os.path.join(opts.out, "results.md"), "w") as f:
        f.write(table)
    with open(os.path.join(opts.out, "results.rst"), "w") as f:
        f.write(rst(results))
    chart(results, os.path.join(opts.out, "results.png"))
    print(table)


if __name__ == "__main__":
    main()
