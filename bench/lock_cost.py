"""What a change to ssh2cffi's Python code costs per call: two revisions, one interpreter.

    python bench/lock_cost.py --python .venv/cpython-1.11/bin/python --baseline REV

runs the per-call workloads of bench/workloads.py (non-blocking read() returning
EAGAIN, block_directions(), Channel.eof()) with the ssh2cffi installed in that
interpreter's virtualenv ("current": install the working tree first with
scripts/setup.sh) and with the Python files of revision REV ("baseline"), in
alternation, ``--rounds`` times, and prints the medians and their ratio.  Both
use the installed compiled extension, so REV must have the same ffi/ and
build_ffi.py as the working tree (checked).  Written to measure the session
lock of issue 15; it serves any pure-Python change.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from driver import run_workload  # noqa: E402
from servers import OpenSSHServer  # noqa: E402

WORKLOADS = [("nb_read_overhead", 1000000, "non-blocking read() returning EAGAIN"),
             ("block_directions", 5000000, "Session.block_directions()"),
             ("channel_eof", 1000000, "Channel.eof()")]


def baseline_tree(python: str, revision: str, into: str) -> str:
    """A directory holding REV's ssh2cffi Python files and the installed extension."""
    changed = subprocess.run(["git", "-C", REPO, "diff", "--quiet", revision, "--",
                              "ffi", "build_ffi.py"])
    if changed.returncode != 0:
        sys.exit("%s has other C code than the working tree: this comparison needs the same"
                 % revision)
    archive = subprocess.run(["git", "-C", REPO, "archive", revision, "src/ssh2cffi"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    installed = subprocess.run(
        [python, "-c", "import os, ssh2cffi; print(os.path.dirname(ssh2cffi.__file__))"],
        check=True, capture_output=True, text=True, cwd="/").stdout.strip()
    package = os.path.join(into, "src", "ssh2cffi")
    for extension in glob.glob(os.path.join(installed, "_libssh2*.so")):
        shutil.copy(extension, package)
    return os.path.dirname(package)


def measure(python: str, path: str, workload: str, calls: int, server: OpenSSHServer) -> float:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    return run_workload(python, "ssh2cffi", server, workload, [calls], env=env,
                        cwd="/")["value"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--baseline", required=True, help="a git revision")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    opts.python = os.path.abspath(opts.python)  # the workloads run from /
    with tempfile.TemporaryDirectory() as scratch, OpenSSHServer() as server:
        old = baseline_tree(opts.python, opts.baseline, scratch)
        for workload, calls, label in WORKLOADS:
            values = {"baseline": [], "current": []}
            for _ in range(opts.rounds):
                values["baseline"].append(measure(opts.python, old, workload, calls, server))
                values["current"].append(measure(opts.python, "", workload, calls, server))
            before = statistics.median(values["baseline"])
            after = statistics.median(values["current"])
            print("%-40s baseline %6.2f M/s  current %6.2f M/s  ratio %.2f  "
                  "(%.0f ns -> %.0f ns per call)"
                  % (label, before / 1e6, after / 1e6, after / before, 1e9 / before, 1e9 / after),
                  flush=True)


if __name__ == "__main__":
    main()
