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
from typing import Dict, List, NamedTuple, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from driver import run_workload  # noqa: E402
from servers import OpenSSHServer  # noqa: E402

MiB = 1024 * 1024
BIG = 256 * MiB
BIG_FILE = "/tmp/ssh2cffi-bench-256M.bin"

SSH2_DRIVER = os.path.join(HERE, "workloads.py")  # ssh2cffi and ssh2-python: one API
PARAMIKO_DRIVER = os.path.join(HERE, "workloads_paramiko.py")
# Debian 13's interpreters run in the root of scripts/debian13.sh (it shares
# /tmp and the network with this machine, so the server and the keys are the same).
IN_DEBIAN13 = [os.path.join(REPO, "scripts", "debian13.sh")]


class Impl(NamedTuple):
    python: str             # the interpreter of its virtualenv
    package: str            # what the driver imports
    driver: str
    prefix: List[str] = []  # the command it runs under (the Debian 13 root)


def venv_python(name: str) -> str:
    return os.path.join(REPO, ".venv", name, "bin", "python")


PYTHON_IMPLS = {
    # Debian 12: libssh2 1.11.1 from .deps (ssh2cffi), ssh2-python's wheel (its own 1.11.1)
    "ssh2cffi CPython 3.11": Impl(venv_python("cpython-1.11"), "ssh2cffi", SSH2_DRIVER),
    "ssh2cffi PyPy 3.9": Impl(venv_python("pypy-1.11"), "ssh2cffi", SSH2_DRIVER),
    "ssh2-python CPython 3.11": Impl(venv_python("ssh2-python-cpython3.11"), "ssh2", SSH2_DRIVER),
    # Debian 13: its libssh2 1.11.1 (ssh2cffi); ssh2-python's cp313 and pp311 wheels
    "ssh2cffi PyPy 3.11": Impl(venv_python("pypy3.11-1.11"), "ssh2cffi", SSH2_DRIVER, IN_DEBIAN13),
    "ssh2-python PyPy 3.11": Impl(venv_python("ssh2-python-pypy3.11"), "ssh2", SSH2_DRIVER,
                                  IN_DEBIAN13),
    "ssh2cffi CPython 3.13": Impl(venv_python("cpython3.13-1.11"), "ssh2cffi", SSH2_DRIVER,
                                  IN_DEBIAN13),
    "ssh2-python CPython 3.13": Impl(venv_python("ssh2-python-cpython3.13"), "ssh2",
                                     SSH2_DRIVER, IN_DEBIAN13),
    "paramiko CPython 3.11": Impl(venv_python("bench-paramiko-cpython"), "paramiko", PARAMIKO_DRIVER),
    "paramiko PyPy 3.9": Impl(venv_python("bench-paramiko-pypy"), "paramiko", PARAMIKO_DRIVER),
}
C_ANCHORS = os.path.join(REPO, ".deps/bench/anchors")      # bench/c/anchors.c
# The C anchors are built three times (scripts/bench.sh): column label -> (binary suffix,
# the command it runs under).
C_BUILDS = {"plain C": ("", []),
            "plain C, ssh2-python's libs": ("-ssh2-python-libs", []),
            "plain C, Debian 13": ("-debian13", IN_DEBIAN13)}
ALL_PY = list(PYTHON_IMPLS)
CFFI_ONLY = [name for name, impl in PYTHON_IMPLS.items() if impl.package == "ssh2cffi"]
SSH2_API = [name for name, impl in PYTHON_IMPLS.items() if impl.package != "paramiko"]
# The bulk helpers have no ssh2-python counterpart; paramiko's get/put are its own.
BULK = [name for name in ALL_PY if not name.startswith("ssh2-python")]
# What each ssh2cffi column is compared with: ssh2-python on CPython 3.11 (the
# baseline of every table), ssh2-python on the same interpreter, and plain C on
# the same libssh2.
BASELINE = "ssh2-python CPython 3.11"
SAME_INTERPRETER = {"ssh2cffi CPython 3.11": ("ssh2-python CPython 3.11", "plain C"),
                    "ssh2cffi PyPy 3.9": (None, "plain C"),
                    "ssh2cffi PyPy 3.11": ("ssh2-python PyPy 3.11", "plain C, Debian 13"),
                    "ssh2cffi CPython 3.13": ("ssh2-python CPython 3.13", "plain C, Debian 13")}

# Workload arguments filled in at run time: the sshd's port and the key file
# (the jump-host workloads open a second session to the same sshd).
PORT, KEY = "<port>", "<key>"


class ViaJump(str):
    """An OpenSSH sftp batch command to run through a jump host (``sftp -J``), the
    same sshd serving as both hops."""


# name -> (workload, args, python implementations, C anchor (mode, arg, BUF) or None,
#          OpenSSH sftp command (a ViaJump for sftp -J) or None, higher is better)
WORKLOADS = {
    "exec stream, 1 KiB reads": ("exec_stream", [BIG, 1024], ALL_PY, ("exec", BIG, 1024), None, True),
    "exec stream, 32 KiB reads": ("exec_stream", [BIG, 32768], ALL_PY, ("exec", BIG, 32768), None, True),
    "exec stream, 64 KiB reads": ("exec_stream", [BIG, 65536], ALL_PY, ("exec", BIG, 65536), None, True),
    "exec stream, 256 KiB reads": ("exec_stream", [BIG, 262144], ALL_PY, ("exec", BIG, 262144), None, True),
    "exec stream, 64 KiB read_into": ("exec_stream_into", [BIG, 65536], CFFI_ONLY, None, None, True),
    "SFTP download, 64 KiB reads": ("sftp_download", [BIG_FILE, 65536], ALL_PY,
                                    ("download", BIG_FILE, 65536), None, True),
    "SFTP download, 2 MiB reads": ("sftp_download", [BIG_FILE, 2 * MiB], ALL_PY,
                                   ("download", BIG_FILE, 2 * MiB), None, True),
    "SFTP download, 64 KiB read_into": ("sftp_download_into", [BIG_FILE, 65536], CFFI_ONLY, None,
                                        None, True),
    "SFTP download, 2 MiB read_into": ("sftp_download_into", [BIG_FILE, 2 * MiB], CFFI_ONLY, None,
                                       None, True),
    "SFTP upload, 64 KiB writes": ("sftp_upload", [BIG, 65536], ALL_PY, ("upload", BIG, 65536), None, True),
    "SFTP upload, 1 MiB writes": ("sftp_upload", [BIG, MiB], ALL_PY, ("upload", BIG, MiB), None, True),
    "SFTP.get bulk download": ("sftp_get", [BIG_FILE], BULK, None, "get %s /tmp/ssh2cffi-bench-o" % BIG_FILE, True),
    "SFTP.put bulk upload": ("sftp_put", [BIG_FILE], BULK, None, "put %s /tmp/ssh2cffi-bench-o" % BIG_FILE, True),
    "SFTP.get through a jump host": ("sftp_get_via_jump", [PORT, KEY, BIG_FILE], CFFI_ONLY, None,
                                     ViaJump("get %s /tmp/ssh2cffi-bench-o" % BIG_FILE), True),
    "SFTP download through a jump host, 2 MiB reads": (
        "sftp_download_via_jump", [PORT, KEY, BIG_FILE, 2 * MiB], CFFI_ONLY, None, None, True),
    "exec stream through a jump host, 256 KiB reads": (
        "exec_stream_via_jump", [PORT, KEY, BIG, 262144], CFFI_ONLY, None, None, True),
    "binding overhead: non-blocking read() on idle channel": ("nb_read_overhead", [1000000], ALL_PY,
                                                               ("nbread", 1000000, 0), None, True),
    "trivial call: Session.block_directions()": ("block_directions", [5000000], SSH2_API,
                                                 ("blockdir", 5000000, 0), None, True),
    "trivial call under the session lock: Channel.eof()": ("channel_eof", [2000000], SSH2_API,
                                                          None, None, True),
    "ping-pong 64 B through cat": ("ping_pong", [20000], ALL_PY, ("pingpong", 20000, 0), None, True),
    "SFTP stat": ("sftp_stat", [20000], ALL_PY, ("stat", 20000, 0), None, True),
    "50 concurrent sessions (threads)": ("many_sessions", [50], ALL_PY, None, None, False),
    "50 concurrent sessions (parallel-ssh, gevent)": ("many_sessions_pssh", [50], SSH2_API,
                                                      None, None, False),
    "parallel-ssh, 10 hosts x 1 MB of base64 lines, every line read": (
        "many_sessions_pssh_output", [10, 1000000], SSH2_API, None, None, False),
}
DEFAULT_CIPHER_WORKLOADS = ["exec stream, 256 KiB reads", "SFTP download, 2 MiB reads",
                            "SFTP.get bulk download", "SFTP.put bulk upload"]


def run_python(impl: str, workload: str, args: List, server: OpenSSHServer,
               cipher: Optional[str]) -> float:
    python, package, driver, prefix = PYTHON_IMPLS[impl]
    filled = {PORT: server.port, KEY: server.key_paths["id_ed25519"]}
    args = [filled.get(arg, arg) if isinstance(arg, str) else arg for arg in args]
    return run_workload(python, package, server, workload, args, driver=driver, prefix=prefix,
                        cipher=cipher, label=impl)["value"]


def run_c(binary: str, prefix: List[str], mode: str, arg, buf: int, server: OpenSSHServer,
          cipher: Optional[str]) -> float:
    # Settings as arguments of env(1): scripts/debian13.sh passes no environment in.
    settings = ["NODELAY=1", "BUF=%d" % buf] + (["CIPHER=" + cipher] if cipher else [])
    out = subprocess.run(prefix + ["env"] + settings + [binary, str(server.port),
                                                        server.key_paths["id_ed25519"], mode,
                                                        str(arg)],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("C %s failed: %s" % (mode, out.stderr))
    return float(out.stdout.split()[0])


def run_openssh(command: str, server: OpenSSHServer, cipher: Optional[str]) -> float:
    # Options in a config file: with -J, ssh hands -F on to the jump connection,
    # so both hops use the same key and cipher (-c would set the last hop's only).
    config = os.path.join(server.dir, "bench_ssh_config")
    with open(config, "w") as f:
        f.write("Host *\n  IdentityFile %s\n  StrictHostKeyChecking no\n"
                "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n%s"
                % (server.key_paths["id_ed25519"], "  Ciphers %s\n" % cipher if cipher else ""))
    # ssh refuses a jump host spelled like the target ("jumphost loop"): the
    # same sshd, through another of its loopback addresses
    jump = (["-J", "root@%s:%d" % (server.addresses[-1], server.port)]
            if isinstance(command, ViaJump) else [])
    start = time.perf_counter()
    subprocess.run(["sftp", "-q", "-F", config, "-P", str(server.port)] + jump
                   + ["-b", "-", "root@127.0.0.1"], input=command.encode(),
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
            for label, (suffix, prefix) in C_BUILDS.items():
                if c_mode and os.path.exists(C_ANCHORS + suffix):
                    samples.setdefault(label, []).append(
                        run_c(C_ANCHORS + suffix, prefix, *c_mode, server, cipher))
            if openssh:
                samples.setdefault("OpenSSH sftp", []).append(run_openssh(openssh, server, cipher))
        results[name] = {impl: statistics.median(values) for impl, values in samples.items()}
        log("%s: %s" % (name, ", ".join("%s %.4g" % kv for kv in results[name].items())))
    return results


def unit_of(name: str) -> str:
    workload = WORKLOADS[name][0]
    return {"nb_read_overhead": "calls/s", "block_directions": "calls/s", "channel_eof": "calls/s",
            "ping_pong": "trips/s", "sftp_stat": "ops/s",
            "many_sessions": "s (lower is better)",
            "many_sessions_pssh": "s (lower is better)",
            "many_sessions_pssh_output": "s (lower is better)"}.get(workload, "MB/s")


def ratios(row: Dict[str, float], higher: bool) -> Dict[str, str]:
    def times(value: float) -> str:
        return ("%.2fx" if value >= 0.1 else "%.2gx") % value

    def ratio(value: float, other: float) -> str:
        return times(value / other if higher else other / value)

    out = {}
    base = row.get(BASELINE)
    for impl in CFFI_ONLY:
        if impl not in row:
            continue
        value = row[impl]
        same_ssh2_python, c_build = SAME_INTERPRETER[impl]
        if base:
            out["%s / %s" % (impl, BASELINE)] = ratio(value, base)
        if same_ssh2_python and same_ssh2_python != BASELINE and row.get(same_ssh2_python):
            out["%s / %s" % (impl, same_ssh2_python)] = ratio(value, row[same_ssh2_python])
        if row.get(c_build):
            out["%s / %s" % (impl, c_build)] = times(value / row[c_build])
        paramiko = row.get(impl.replace("ssh2cffi", "paramiko"))
        if paramiko:
            out["%s / paramiko same interpreter" % impl] = ratio(value, paramiko)
        if "OpenSSH sftp" in row:
            out["%s / OpenSSH" % impl] = times(value / row["OpenSSH sftp"])
    c_theirs = row.get("plain C, ssh2-python's libs")
    if base and c_theirs:
        out["ssh2-python CPython 3.11 / C on its libs"] = times(base / c_theirs)
    return out


# ssh2-python has no read_into: those rows' ratios compare with ssh2-python's
# read() of the same size (and plain C's), from the row measured in the same run.
COMPARED_WITH_ROW = {"exec stream, 64 KiB read_into": "exec stream, 64 KiB reads",
                     "SFTP download, 64 KiB read_into": "SFTP download, 64 KiB reads",
                     "SFTP download, 2 MiB read_into": "SFTP download, 2 MiB reads"}


def row_ratios(name: str, rows: Dict[str, Dict[str, float]]) -> Dict[str, str]:
    row = dict(rows[name])
    for impl, value in rows.get(COMPARED_WITH_ROW.get(name, ""), {}).items():
        if not impl.startswith(("ssh2cffi", "paramiko")):
            row.setdefault(impl, value)
    return ratios(row, WORKLOADS[name][5])


def markdown(results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    impls = ALL_PY + list(C_BUILDS) + ["OpenSSH sftp"]
    lines = []
    for config, rows in results.items():
        lines.append("### %s\n" % config)
        lines.append("| workload | unit | " + " | ".join(impls) + " | ratios |")
        lines.append("|---" * (len(impls) + 3) + "|")
        for name, row in rows.items():
            cells = ["%.4g" % row[i] if i in row else "" for i in impls]
            rs = row_ratios(name, rows)
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
        per_row = {name: row_ratios(name, rows) for name in rows}
        columns = sorted({key for rs in per_row.values() for key in rs}, key=ratio_order)
        lines += list_table(config + ": ratios (higher is better)", ["workload"] + columns,
                            [[name] + [per_row[name].get(c, "") for c in columns]
                             for name in rows])
    return "\n".join(lines)


def ratio_order(key: str) -> tuple:
    """ssh2cffi PyPy 3.11's ratios first, then the other ssh2cffi columns, then the rest."""
    return (0 if key.startswith("ssh2cffi PyPy 3.11") else 1 if key.startswith("ssh2cffi") else 2,
            key)


def chart(results: Dict[str, Dict[str, Dict[str, float]]], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["cipher aes128-ctr"]
    names = list(rows)
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(names) + 1.5))
    width = 0.8 / len(CFFI_ONLY)
    for offset, impl in enumerate(CFFI_ONLY):
        values = []
        for name in names:
            row = rows[name]
            base = row.get(BASELINE) or row.get("OpenSSH sftp")
            higher = WORKLOADS[name][5]
            values.append((row[impl] / base if higher else base / row[impl]) if base and impl in row else 0)
        ax.barh([i + offset * width for i in range(len(names))], values, height=width, label=impl)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks([i + width * (len(CFFI_ONLY) - 1) / 2 for i in range(len(names))])
    ax.set_yticklabels([name + (" (vs OpenSSH sftp)" if BASELINE not in rows[name]
                                else "") for name in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed relative to ssh2-python on CPython 3.11, or to OpenSSH's sftp for the "
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
