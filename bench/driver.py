"""Run one workload of bench/workloads.py in a child interpreter: the one helper
of run.py, lock_cost.py and pypy_reads.py."""
from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS_PY = os.path.join(HERE, "workloads.py")


def run_workload(python: str, package: str, server: Any, workload: str, args: Sequence[object],
                 *, driver: str = WORKLOADS_PY, prefix: Sequence[str] = (),
                 cipher: Optional[str] = None, warm: bool = False,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
                 label: str = "") -> Dict[str, Any]:
    """The JSON object the driver prints (``value``, ``unit``...) for ``workload(*args)``.

    ``prefix`` is the command the interpreter runs under (scripts/debian13.sh),
    ``server`` a tests/servers.py OpenSSHServer.  A failed run raises
    RuntimeError with the end of its stderr.
    """
    cmd: List[str] = list(prefix) + [python, driver, "--package", package,
                                     "--port", str(server.port),
                                     "--key", server.key_paths["id_ed25519"]]
    if cipher:
        cmd += ["--cipher", cipher]
    if warm:
        cmd.append("--warm")
    cmd += [workload] + [str(arg) for arg in args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (label or python, workload, out.stderr[-2000:]))
    result: Dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result
