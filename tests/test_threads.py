"""Sessions and threads: one session per thread in parallel, and the rule for sharing one.

The rule (ssh2cffi._threads, docs/concurrency.rst): every libssh2 call holds
its session's lock; on a blocking session a second thread gets BadUseError
instead of waiting; on a non-blocking one it waits for the call in progress,
and an operation another thread has half done returns EAGAIN.  The hammering
tests are in test_shared_session.py.
"""
import hashlib
import threading
import time

import pytest

from helpers import WorkDirConnection, login, run_python, sshd_login
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.exceptions import BadUseError
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_WRITE

SIZE = 8 * 1024 * 1024


def stream(sshd, index, results):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    try:
        channel = session.open_session()
        # Each thread gets different data: a thread mixing up buffers would show.
        channel.execute("head -c %d /dev/zero | tr '\\0' '%s'" % (SIZE, chr(ord("a") + index)))
        digest = hashlib.sha256()
        total = 0
        while True:
            size, data = channel.read(65536)
            if size <= 0:
                break
            digest.update(data)
            total += size
        channel.wait_closed()
        results[index] = (total, digest.hexdigest(), channel.get_exit_status())
    finally:
        session.disconnect()
        sock.close()


def test_threads_stream_in_parallel_with_correct_bytes(sshd):
    results = {}
    threads = [threading.Thread(target=stream, args=(sshd, i, results)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results) == list(range(6))
    for index, (total, digest, status) in results.items():
        expected = hashlib.sha256(chr(ord("a") + index).encode() * SIZE).hexdigest()
        assert (total, digest, status) == (SIZE, expected, 0)


def test_calls_release_the_gil(sshd):
    # While one thread sits in a blocking libssh2 read (the remote command
    # sleeps), another thread keeps running Python code.
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    channel = session.open_session()
    channel.execute("sleep 1; echo done")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.01)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        assert channel.read() == (5, b"done\n")
    finally:
        stop.set()
        thread.join()
    assert len(ticks) > 20  # ~100 if the GIL is free during the read; 1 if not
    session.disconnect()
    sock.close()


# -- the session lock (ssh2cffi._threads) -------------------------------------------
# Public methods that call libssh2 without the serialised/operation decorator,
# and why each is safe.  (Channel.read_ex and write_ex take the lock inline;
# they call libssh2 through module-level aliases, which this check does not see.)
UNDECORATED = {
    # Reads of one int field of the session: no I/O, nothing freed.
    ("Session", "block_directions"): "reads one field",
    # The hottest calls take the lock inline (the same code as _threads' wrappers).
    ("Channel", "read_ex"): "takes the lock inline",
    ("Channel", "read"): "is read_ex",
    ("Channel", "write_ex"): "takes the lock inline",
    ("Session", "get_blocking"): "reads one field",
    ("Session", "get_timeout"): "reads one field",
    ("Session", "get_read_timeout"): "reads one field",
    ("Session", "userauth_authenticated"): "reads one field",
    ("Channel", "get_exit_status"): "reads one field",
    # No session: a throwaway session of its own.
    ("Session", "trace_supported"): "uses no session of the caller's",
}


def _libssh2_calling_methods():
    """(class name, method name, function) of public methods whose own body calls libssh2."""
    import ast
    import inspect
    import textwrap

    from ssh2cffi import (agent, agent_forwarding, channel, knownhost, listener, publickey,
                          session, sftp, sftp_handle)
    from ssh2cffi._libssh2 import lib
    lib_functions = {id(getattr(lib, name)) for name in dir(lib)
                     if name.startswith(("libssh2_", "ssh2cffi_"))}
    classes = [session.Session, channel.Channel, sftp.SFTP, sftp_handle.SFTPHandle,
               listener.Listener, agent.Agent, publickey.PublicKeySystem, knownhost.KnownHost,
               agent_forwarding.AgentForwarding]
    for cls in classes:
        for name, member in vars(cls).items():
            function = member.__func__ if isinstance(member, staticmethod) else member
            if name.startswith("_") or not callable(function):
                continue
            unwrapped = inspect.unwrap(function)
            source = textwrap.dedent(inspect.getsource(unwrapped))
            # _lib.libssh2_x(...), or a module-level alias of one (_read_ex = _lib....)
            calls = [node for node in ast.walk(ast.parse(source))
                     if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                         and node.value.id == "_lib"
                         and node.attr.startswith(("libssh2_", "ssh2cffi_")))
                     or (isinstance(node, ast.Name)
                         and id(unwrapped.__globals__.get(node.id)) in lib_functions)]
            if calls:
                yield cls.__name__, name, function


def test_every_method_calling_libssh2_holds_the_session_lock():
    unguarded = [(cls, name) for cls, name, function in _libssh2_calling_methods()
                 if not getattr(function, "serialised", False)
                 and (cls, name) not in UNDECORATED]
    assert unguarded == [], "add @_serialised or @_operation(...) (see _threads)"
    found = {(cls, name) for cls, name, _ in _libssh2_calling_methods()}
    assert set(UNDECORATED) <= found  # no stale entries


def test_blocked_reader_never_deadlocks_a_writer(sshd):
    # The deadlock the rule prevents: thread A waits in a blocking read for
    # output that only the main thread's write would produce.  Were the
    # write to wait for A's lock, both would wait forever; it raises instead,
    # at once, and works once A is out.
    session, sock, _user = login("sshd", sshd)
    channel = session.open_session()
    channel.execute("sleep 2; echo first; cat")
    results = []
    reading = threading.Event()

    def reader_body():
        reading.set()
        results.append(channel.read())

    reader = threading.Thread(target=reader_body)
    reader.start()
    reading.wait(10)
    refused = None
    deadline = time.monotonic() + 1.5  # the output comes 2 s after execute()
    while refused is None and time.monotonic() < deadline:
        try:
            channel.write(b"")  # nothing to send: only whether the call gets in
        except BadUseError as exc:
            refused = exc
        time.sleep(0.005)
    reader.join(10)
    assert not reader.is_alive()
    assert refused is not None and "in use by another thread" in str(refused)
    assert results == [(6, b"first\n")]
    assert channel.write(b"echoed\n") == (7, 7)
    channel.send_eof()
    assert channel.read() == (7, b"echoed\n")
    session.disconnect()
    sock.close()


@pytest.fixture
def nonblocking_sftp(sshd):
    conn = WorkDirConnection("sshd", sshd)
    sftp = conn.session.sftp_init()
    for name, size in (("a", 1), ("b", 2)):
        handle = sftp.open(conn.path(name), LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT, 0o600)
        handle.write(b"x" * size)
        handle.close()
    conn.session.set_blocking(False)
    yield conn, sftp
    conn.close()


def test_half_done_operation_is_not_resumed_by_another_thread(nonblocking_sftp):
    # libssh2 keeps a half-done stat() in the SFTP session: without the rule,
    # thread B's stat("b") would complete thread A's stat("a") and return
    # A's attributes.  Here B gets EAGAIN until A has finished.
    conn, sftp = nonblocking_sftp
    for _attempt in range(500):  # on loopback the answer is sometimes there at once
        first = sftp.stat(conn.path("a"))  # main thread = A
        if first == LIBSSH2_ERROR_EAGAIN:
            break
        assert first.filesize == 1  # done in one call: try again
    else:
        pytest.skip("stat() never returned EAGAIN on its first call")
    conn.wait()  # A's answer is on its way; B must not take it
    seen = []
    other = threading.Thread(target=lambda: seen.extend(
        sftp.stat(conn.path("b")) for _ in range(5)))
    other.start()
    other.join(10)
    assert seen == [LIBSSH2_ERROR_EAGAIN] * 5
    assert conn.nb(sftp.stat, conn.path("a")).filesize == 1
    results = []
    other = threading.Thread(target=lambda: results.append(conn.nb(sftp.stat, conn.path("b"))))
    other.start()
    other.join(30)
    assert results[0].filesize == 2


FORK_WHILE_HELD = """
import os, socket, threading
from ssh2cffi.exceptions import BadUseError
from ssh2cffi.session import Session
sock = socket.create_connection((%r, %d))
session = Session()
session.handshake(sock)
session.userauth_publickey_fromfile(%r, %r)
channel = session.open_session()
channel.execute("sleep 2; echo late")
inside = threading.Event()
def reader():
    inside.set()
    print("reader got", channel.read(), flush=True)
thread = threading.Thread(target=reader)
thread.start()
inside.wait()
import time; time.sleep(0.3)  # the reader is now blocked inside libssh2, holding the lock
pid = os.fork()
if pid == 0:
    import signal; signal.alarm(20)
    try:
        session.open_session()
    except BadUseError as exc:
        os._exit(0 if "belongs to process" in str(exc) else 3)
    os._exit(4)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status), flush=True)
thread.join()
"""


def test_fork_while_another_thread_holds_the_session(sshd):
    # The child inherits the lock as held by a thread it does not have; an
    # inherited session gets a fresh lock, so the call raises, never hangs.
    code = FORK_WHILE_HELD % (sshd.host, sshd.port, sshd_login(sshd),
                              sshd.key_paths["id_ed25519"])
    result = run_python(code, timeout=60, watchdog=False)
    assert result.returncode == 0, result.stderr[-3000:]
    # (in either order: a child slower than the 2 s the output takes prints last)
    assert sorted(result.stdout.splitlines()) == ["child 0", "reader got (5, b'late\\n')"]
