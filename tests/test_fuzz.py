"""Bad input: every public method called with wrong arguments raises a Python exception.

The calls run in a child interpreter (tests/fuzz_driver.py) per phase and
class group, so a segfault fails one test instead of killing the run, and a
hang fails it through the timeout.  SSH2CFFI_FUZZ_EXAMPLES sets the number
of hypothesis examples per method (default 8; scripts/stress.sh uses more).
"""
import json
import os
import subprocess
import sys

import pytest

from helpers import sshd_login
from servers import AsyncSSHServer

EXAMPLES = int(os.environ.get("SSH2CFFI_FUZZ_EXAMPLES", "8"))
HERE = os.path.dirname(os.path.abspath(__file__))
GROUPS = ("session", "channel", "sftp", "publickey", "agent")
PHASES = ("live", "closed", "disconnected")
#: Seconds a batch may take; a call that waits forever shows as a timeout.
TIMEOUT = 240 + EXAMPLES * 6


@pytest.fixture(scope="module")
def disposable_asyncssh_server():
    """An asyncssh server of this module's own, not the shared asyncssh_server:
    the fuzzed SFTP calls leave files with undecodable names in its directory,
    which other tests list."""
    server = AsyncSSHServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("phase", PHASES)
def test_bad_arguments_raise_python_exceptions(sshd, disposable_asyncssh_server, phase, group):
    env = dict(os.environ, PYTHONPATH=HERE,
               FUZZ_SSHD_HOST=sshd.host, FUZZ_SSHD_PORT=str(sshd.port),
               FUZZ_SSHD_USER=sshd_login(sshd), FUZZ_KEY=sshd.key_paths["id_ed25519"],
               FUZZ_ASYNC_HOST=disposable_asyncssh_server.host,
               FUZZ_ASYNC_PORT=str(disposable_asyncssh_server.port))
    try:
        proc = subprocess.run(
            [sys.executable, os.path.join(HERE, "fuzz_driver.py"), phase, group,
             str(EXAMPLES)], env=env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        last = [line for line in out.splitlines() if line.startswith("CALL ")][-1:]
        pytest.fail("hang: no result after %ds, in %s" % (TIMEOUT, last))
    calls = [line for line in proc.stdout.splitlines() if line.startswith("CALL ")]
    assert proc.returncode == 0, "child died with %d during %s\n%s" % (
        proc.returncode, calls[-1:], proc.stderr[-3000:])
    findings = [json.loads(line[8:]) for line in proc.stdout.splitlines()
                if line.startswith("FINDING ")]
    summary = [json.loads(line[8:]) for line in proc.stdout.splitlines()
               if line.startswith("SUMMARY ")]
    assert summary, proc.stderr[-3000:]
    print("fuzz %s/%s: %d methods, %s" % (phase, group, len(calls), summary[0]))
    assert not findings, "\n".join(json.dumps(f) for f in findings)
    assert summary[0]["calls"] >= len(calls)
