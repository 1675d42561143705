"""Many threads hammering ONE session, run in a child interpreter (test_shared_session.py).

``python threads_driver.py MODE THREADS ROUNDS`` logs in to the sshd named
by the environment (SHARED_HOST, SHARED_PORT, SHARED_USER, SHARED_KEY,
SHARED_DIR: a remote directory the user may write) and puts the session in
MODE, "blocking" or "nonblocking".  One SFTP session is opened on it, then
THREADS threads share both.  Each thread, ROUNDS times:

* opens a channel, runs a command whose output is unique to the thread and
  round (about 20 KB), reads all of it and checks it byte for byte, and
  checks the exit status;
* writes a file of its own by SFTP (about 10 KB of seeded random bytes),
  stats it, reads it back, checks it byte for byte, and removes it;
* calls ``block_directions()`` in between, as parallel-ssh does;

while one more thread calls ``block_directions()`` in a loop until they finish.

What each mode must show (ssh2cffi's rule, see docs/concurrency.rst):

* nonblocking: calls are serialised; nothing raises.  A call returns EAGAIN,
  and the thread waits on the socket; the wait has a short timeout because
  another thread's call may read this thread's data off the socket.
* blocking: a call made while another thread is inside the session raises
  ``BadUseError`` at once, before entering libssh2; the thread retries it.
  No other exception is allowed.

A crash kills the child, a hang trips the parent's timeout.  The child prints
``SUMMARY {json}`` (rounds done, BadUseErrors retried, the first problems)
and exits 0 only when every thread finished every round with exact data.
"""
from __future__ import annotations

import json
import os
import random
import select
import socket
import sys
import threading
import time

from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.exceptions import BadUseError
from ssh2cffi.session import (LIBSSH2_SESSION_BLOCK_INBOUND, LIBSSH2_SESSION_BLOCK_OUTBOUND,
                              Session)
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_TRUNC, LIBSSH2_FXF_WRITE

CALL_DEADLINE = 60.0  # seconds one call may keep returning EAGAIN or BadUseError
BUSY_TEXTS = ("in use by another thread", "half done")
OUTPUT_SIZE = 20000
FILE_SIZE = 10000


class Shared:
    """The session, its socket and SFTP session, and how to call them in this mode."""

    def __init__(self, mode: str) -> None:
        self.blocking = mode == "blocking"
        self.sock = socket.create_connection((os.environ["SHARED_HOST"],
                                              int(os.environ["SHARED_PORT"])))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.session = Session()
        self.session.set_timeout(30000)
        self.session.handshake(self.sock)
        self.session.userauth_publickey_fromfile(os.environ["SHARED_USER"],
                                                 os.environ["SHARED_KEY"])
        self.sftp = self.session.sftp_init()
        self.session.set_blocking(self.blocking)
        self.busy = 0  # BadUseErrors retried (blocking mode)
        self.count_lock = threading.Lock()

    def call(self, function, *args):
        """``function(*args)``, repeated while it would block or the session is busy."""
        deadline = time.monotonic() + CALL_DEADLINE
        while True:
            try:
                result = function(*args)
            except BadUseError as exc:
                if not (self.blocking and any(text in str(exc) for text in BUSY_TEXTS)):
                    raise
                with self.count_lock:
                    self.busy += 1
                self._check_deadline(deadline, function)
                time.sleep(random.uniform(0, 0.002))
                continue
            rc = result[0] if type(result) is tuple else result
            if not (type(rc) is int and rc == LIBSSH2_ERROR_EAGAIN):
                return result
            assert not self.blocking, "%r returned EAGAIN on a blocking session" % (function,)
            self._check_deadline(deadline, function)
            self.wait()

    def wait(self) -> None:
        """Wait for the socket as block_directions() says, at most 50 ms (see module doc)."""
        directions = self.session.block_directions()
        readers = [self.sock] if directions & LIBSSH2_SESSION_BLOCK_INBOUND else []
        writers = [self.sock] if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND else []
        if readers or writers:
            select.select(readers, writers, [], 0.05)
        else:
            time.sleep(0.001)

    @staticmethod
    def _check_deadline(deadline: float, function) -> None:
        if time.monotonic() > deadline:
            raise AssertionError("%r made no progress for %.0f s" % (function, CALL_DEADLINE))


def run_command(shared: Shared, index: int, round_: int) -> None:
    letter = "abcdefghijklmnopqrstuvwxyz"[index % 26]
    tag = "t%d-r%d:" % (index, round_)
    expected = tag.encode() + letter.encode() * OUTPUT_SIZE
    channel = shared.call(shared.session.open_session)
    shared.call(channel.execute, "printf '%s'; head -c %d /dev/zero | tr '\\0' '%s'"
                % (tag, OUTPUT_SIZE, letter))
    chunks = []
    while True:
        size, data = shared.call(channel.read, 8192)
        if size == 0:
            break
        chunks.append(data)
        shared.session.block_directions()
    shared.call(channel.wait_eof)
    shared.call(channel.close)
    shared.call(channel.wait_closed)
    status = shared.call(channel.get_exit_status)
    output = b"".join(chunks)
    assert output == expected, "thread %d round %d: %d bytes, not the %d expected" % (
        index, round_, len(output), len(expected))
    assert status == 0, "exit status %r" % (status,)


def move_file(shared: Shared, index: int, round_: int) -> None:
    path = "%s/t%d-r%d" % (os.environ["SHARED_DIR"], index, round_)
    data = random.Random(index * 100003 + round_).randbytes(FILE_SIZE)
    handle = shared.call(shared.sftp.open, path,
                         LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0o600)
    rest = data
    while rest:
        rc, written = shared.call(handle.write, rest)
        rest = rest[written:]
    shared.call(handle.close)
    attrs = shared.call(shared.sftp.stat, path)
    assert attrs.filesize == FILE_SIZE, "stat says %d bytes" % attrs.filesize
    handle = shared.call(shared.sftp.open, path, LIBSSH2_FXF_READ, 0)
    chunks = []
    while True:
        size, chunk = shared.call(handle.read, 4096)
        if size == 0:
            break
        assert size > 0, "SFTP read returned %d" % size
        chunks.append(chunk)
    shared.call(handle.close)
    assert b"".join(chunks) == data, "thread %d round %d: SFTP data differs" % (index, round_)
    shared.call(shared.sftp.unlink, path)


def main() -> int:
    mode, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    shared = Shared(mode)
    done = [0] * threads
    problems = []
    finished = threading.Event()

    def worker(index: int) -> None:
        try:
            for round_ in range(rounds):
                run_command(shared, index, round_)
                move_file(shared, index, round_)
                done[index] += 1
        except BaseException as exc:  # reported, and fails the run
            problems.append("thread %d: %s: %s" % (index, type(exc).__name__, exc))

    def poller() -> None:
        calls = 0
        while not finished.is_set():
            shared.session.block_directions()
            calls += 1
            if calls % 1000 == 0:
                time.sleep(0)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    polling = threading.Thread(target=poller)
    polling.start()
    started = time.monotonic()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    finished.set()
    polling.join()
    elapsed = time.monotonic() - started
    shared.session.set_blocking(True)
    shared.session.disconnect()
    shared.sock.close()
    summary = {"mode": mode, "threads": threads, "rounds": rounds, "done": sum(done),
               "busy_retried": shared.busy, "seconds": round(elapsed, 2),
               "problems": problems[:5]}
    print("SUMMARY " + json.dumps(summary))
    return 0 if not problems and sum(done) == threads * rounds else 1


if __name__ == "__main__":
    sys.exit(main())
