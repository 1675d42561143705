"""Threads sharing ONE session: 4 and 16 threads, blocking and non-blocking (issue 15).

Each case runs tests/threads_driver.py in a child interpreter against the
sshd fixture, so a crash fails the test instead of killing the run, and a
hang fails it with every thread's stack (helpers.run_python's watchdog).
The driver checks every byte each thread reads, by channel and by SFTP.

The rounds per thread come from SSH2CFFI_THREAD_ROUNDS: 3 here, 200 in
scripts/stress.sh.
"""
import json
import os

import pytest

from helpers import WorkDirConnection, run_python, sshd_login

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = int(os.environ.get("SSH2CFFI_THREAD_ROUNDS", "3"))
# A generous bound for the slowest case (16 threads, blocking mode, PyPy under
# valgrind-free load): the driver's own per-call deadline (60 s) trips first.
TIMEOUT = 300 + ROUNDS * 6


@pytest.fixture
def workdir(sshd):
    conn = WorkDirConnection("sshd", sshd)
    yield conn
    conn.close()


@pytest.mark.parametrize("threads", [4, 16])
@pytest.mark.parametrize("mode", ["nonblocking", "blocking"])
def test_threads_hammering_one_session(sshd, workdir, mode, threads):
    env = {"SHARED_HOST": sshd.host, "SHARED_PORT": str(sshd.port),
           "SHARED_USER": sshd_login(sshd), "SHARED_KEY": sshd.key_paths["id_ed25519"],
           "SHARED_DIR": workdir.path()}
    code = ("import sys, runpy; sys.argv = [%r, %r, %r, %r]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')"
            % (os.path.join(HERE, "threads_driver.py"), mode, str(threads), str(ROUNDS)))
    proc = run_python(code, timeout=TIMEOUT, env=env)
    summaries = [json.loads(line[8:]) for line in proc.stdout.splitlines()
                 if line.startswith("SUMMARY ")]
    assert proc.returncode == 0 and summaries, (
        "child exited with %d\n%s\n%s" % (proc.returncode, proc.stdout[-2000:],
                                          proc.stderr[-4000:]))
    summary = summaries[0]
    print("shared session: %s" % summary)
    assert summary["problems"] == []
    assert summary["done"] == threads * ROUNDS
    if mode == "nonblocking":
        assert summary["busy_retried"] == 0  # serialised: nobody is turned away
    # Nothing left behind: every thread removed its files.
    assert os.listdir(workdir.local()) == []
