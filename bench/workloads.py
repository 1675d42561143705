"""One benchmark workload, run in its own interpreter by bench/run.py.

The same code drives ssh2cffi and ssh2-python (the API is the same): the
package is chosen with --package.  Prints one JSON object: the measured value
and its unit.

    python workloads.py --package ssh2cffi --port 2222 --key KEY WORKLOAD [ARG]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import socket
import threading
import time


def connect(pkg, port, key, cipher=None, blocking=True):
    session_mod = importlib.import_module(pkg + ".session")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    session = session_mod.Session()
    if cipher:
        session.method_pref(session_mod.LIBSSH2_METHOD_CRYPT_CS, cipher)
        session.method_pref(session_mod.LIBSSH2_METHOD_CRYPT_SC, cipher)
    session.handshake(sock)
    session.userauth_publickey_fromfile("root", key)
    session.set_blocking(blocking)
    return session, sock


def _read_to_end(read, argument, expected):
    """MB/s of ``read(argument)`` called until its rc is 0 (or negative).

    ``read`` is a read() (``argument``: the size) or a read_into() (``argument``:
    the buffer); both return the byte count as rc.
    """
    got = 0
    start = time.perf_counter()
    while True:
        rc, _data = read(argument)
        if rc <= 0:
            break
        got += rc
    elapsed = time.perf_counter() - start
    assert got == expected, (got, expected)
    return got / elapsed / 1e6, "MB/s"


def exec_stream(pkg, session, size, read_size, into=False):
    """A command's 256 MiB of stdout, read with read(read_size) (or read_into)."""
    channel = session.open_session()
    channel.execute("head -c %d /dev/zero" % size)
    if into:
        result = _read_to_end(channel.read_into, bytearray(read_size), size)
    else:
        result = _read_to_end(channel.read, read_size, size)
    channel.close()
    return result


def exec_stream_into(pkg, session, size, read_size):
    """exec_stream through Channel.read_into (an ssh2cffi addition): one reused buffer."""
    return exec_stream(pkg, session, size, read_size, into=True)


def sftp_download(pkg, session, path, read_size, into=False):
    """A file read through an SFTPHandle with read(read_size) (or read_into)."""
    sftp_mod = importlib.import_module(pkg + ".sftp")
    sftp = session.sftp_init()
    handle = sftp.open(path, sftp_mod.LIBSSH2_FXF_READ, 0)
    if into:
        result = _read_to_end(handle.read_into, bytearray(read_size), os.path.getsize(path))
    else:
        result = _read_to_end(handle.read, read_size, os.path.getsize(path))
    handle.close()
    return result


def sftp_download_into(pkg, session, path, read_size):
    """sftp_download through SFTPHandle.read_into (an ssh2cffi addition)."""
    return sftp_download(pkg, session, path, read_size, into=True)


def sftp_upload(pkg, session, size, write_size):
    sftp_mod = importlib.import_module(pkg + ".sftp")
    sftp = session.sftp_init()
    flags = sftp_mod.LIBSSH2_FXF_WRITE | sftp_mod.LIBSSH2_FXF_CREAT | sftp_mod.LIBSSH2_FXF_TRUNC
    handle = sftp.open("/tmp/ssh2cffi-bench-upload", flags, 0o644)
    chunk = b"\0" * write_size
    sent = 0
    start = time.perf_counter()
    while sent < size:
        rc, written = handle.write(chunk)
        sent += written
    handle.close()
    elapsed = time.perf_counter() - start
    return sent / elapsed / 1e6, "MB/s"


def sftp_get(pkg, session, path):
    sftp = session.sftp_init()
    start = time.perf_counter()
    got = sftp.get(path, "/tmp/ssh2cffi-bench-get")
    elapsed = time.perf_counter() - start
    return got / elapsed / 1e6, "MB/s"


def sftp_put(pkg, session, path):
    sftp = session.sftp_init()
    start = time.perf_counter()
    sent = sftp.put(path, "/tmp/ssh2cffi-bench-put")
    elapsed = time.perf_counter() - start
    return sent / elapsed / 1e6, "MB/s"


def _through_jump_host(pkg, session, port, key):
    """A second session to the same sshd, running over ``session`` (the jump host)
    through a direct-tcpip channel: Session.handshake(channel), an ssh2cffi addition."""
    session_mod = importlib.import_module(pkg + ".session")
    channel = session.direct_tcpip("127.0.0.1", port)
    inner = session_mod.Session()
    cipher = session.methods(session_mod.LIBSSH2_METHOD_CRYPT_SC)
    inner.method_pref(session_mod.LIBSSH2_METHOD_CRYPT_CS, cipher)
    inner.method_pref(session_mod.LIBSSH2_METHOD_CRYPT_SC, cipher)
    inner.handshake(channel)
    inner.userauth_publickey_fromfile("root", key)
    return inner


def sftp_get_via_jump(pkg, session, port, key, path):
    """SFTP.get of ``path`` by a session that runs over ``session``'s channel."""
    return sftp_get(pkg, _through_jump_host(pkg, session, port, key), path)


def sftp_download_via_jump(pkg, session, port, key, path, read_size):
    """sftp_download (read() of read_size) by a session over ``session``'s channel."""
    return sftp_download(pkg, _through_jump_host(pkg, session, port, key), path, read_size)


def exec_stream_via_jump(pkg, session, port, key, size, read_size):
    """exec_stream by a session over ``session``'s channel."""
    return exec_stream(pkg, _through_jump_host(pkg, session, port, key), size, read_size)


def nb_read_overhead(pkg, session, calls):
    """Non-blocking read() on an idle channel: every call returns EAGAIN."""
    channel = session.open_session()
    channel.execute("sleep 60")
    session.set_blocking(False)
    read = channel.read
    eagain = importlib.import_module(pkg + ".error_codes").LIBSSH2_ERROR_EAGAIN
    for _ in range(min(calls, 100000)):  # warm up (the PyPy JIT)
        read()
    start = time.perf_counter()
    for _ in range(calls):
        rc, _data = read()
    elapsed = time.perf_counter() - start
    assert rc == eagain, rc
    return calls / elapsed, "calls/s"


def _calls_per_second(call, calls):
    """Calls of ``call()`` per second, after a warm-up (the PyPy JIT)."""
    for _ in range(min(calls, 100000)):
        call()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    elapsed = time.perf_counter() - start
    return calls / elapsed, "calls/s"


def block_directions(pkg, session, calls):
    """The trivial call parallel-ssh makes most often (before every wait on the socket)."""
    return _calls_per_second(session.block_directions, calls)


def channel_eof(pkg, session, calls):
    """A trivial call that takes the session lock in ssh2cffi (through its decorator)."""
    channel = session.open_session()
    channel.execute("sleep 60")
    session.set_blocking(False)
    return _calls_per_second(channel.eof, calls)


def ping_pong(pkg, session, trips):
    channel = session.open_session()
    channel.execute("cat")
    message = b"x" * 64
    for phase in ("warmup", "measure"):
        count = trips if phase == "measure" else max(trips // 10, 10)
        start = time.perf_counter()
        for _ in range(count):
            channel.write(message)
            got = 0
            while got < 64:
                rc, data = channel.read(64 - got)
                got += rc
        elapsed = time.perf_counter() - start
    return trips / elapsed, "trips/s"


def sftp_stat(pkg, session, ops):
    sftp = session.sftp_init()
    for _ in range(max(ops // 10, 10)):
        sftp.stat("/tmp")
    start = time.perf_counter()
    for _ in range(ops):
        sftp.stat("/tmp")
    elapsed = time.perf_counter() - start
    return ops / elapsed, "ops/s"


def in_threads(count, one):
    """Run ``one(index)`` in ``count`` threads at once; the wall time, in seconds.

    Shared with workloads_paramiko.py: the many-sessions rows time the same harness.
    """
    errors = []

    def guarded(index):
        try:
            one(index)
        except Exception as exc:  # reported after the run
            errors.append(exc)

    start = time.perf_counter()
    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    assert not errors, errors[:3]
    return elapsed


def many_sessions(pkg, port, key, count):
    """``count`` threads, each connecting, authenticating and running a command."""
    def one(index):
        session, sock = connect(pkg, port, key)
        channel = session.open_session()
        channel.execute("echo %d" % index)
        rc, data = channel.read()
        assert data == b"%d\n" % index, data
        channel.close()
        session.disconnect()
        sock.close()

    return in_threads(count, one), "s"


def many_sessions_pssh(pkg, port, key, count):
    """parallel-ssh's gevent client: ``count`` sessions to the one server, one command each."""
    if pkg == "ssh2cffi":
        importlib.import_module("ssh2cffi.compat").register()  # pssh imports ssh2.*
    from pssh.clients.native import ParallelSSHClient

    start = time.perf_counter()
    client = ParallelSSHClient(["127.0.0.1"] * count, port=port, user="root", pkey=key,
                               pool_size=count, num_retries=1)
    output = client.run_command("echo ok")
    client.join(output)
    lines = [list(host_output.stdout) for host_output in output]
    elapsed = time.perf_counter() - start
    assert lines == [["ok"]] * count, lines[:3]
    assert [host_output.exit_code for host_output in output] == [0] * count
    return elapsed, "s"


def many_sessions_pssh_output(pkg, port, key, count, size):
    """parallel-ssh: ``count`` hosts each print ``size`` bytes as base64 lines, every line read.

    Real output, read the way parallel-ssh's users read it (host after host, line
    by line): each line goes through ``ssh2.utils.find_eol``.
    """
    if pkg == "ssh2cffi":
        importlib.import_module("ssh2cffi.compat").register()  # pssh imports ssh2.*
    from pssh.clients.native import ParallelSSHClient

    start = time.perf_counter()
    client = ParallelSSHClient(["127.0.0.1"] * count, port=port, user="root", pkey=key,
                               pool_size=count, num_retries=1)
    output = client.run_command("head -c %d /dev/zero | base64" % size)
    lines = [sum(1 for _line in host_output.stdout) for host_output in output]
    client.join(output)
    elapsed = time.perf_counter() - start
    expected = -(-4 * -(-size // 3) // 76)     # base64 wraps its output at 76 columns
    assert lines == [expected] * count, (lines[:3], expected)
    return elapsed, "s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", default="ssh2cffi")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cipher")
    parser.add_argument("--warm", action="store_true",
                        help="run the workload once untimed first, in the same process "
                             "(a process in its steady state: JIT compiled, memory touched)")
    parser.add_argument("workload")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()
    pkg = opts.package
    numbers = [int(a) if a.isdigit() else a for a in opts.args]
    result = {}
    if opts.workload.startswith("many_sessions"):
        value, unit = globals()[opts.workload](pkg, opts.port, opts.key, *numbers)
    else:
        session, sock = connect(pkg, opts.port, opts.key, opts.cipher)
        if opts.warm:
            globals()[opts.workload](pkg, session, *numbers)
        value, unit = globals()[opts.workload](pkg, session, *numbers)
        result["cipher"] = session.methods(
            importlib.import_module(pkg + ".session").LIBSSH2_METHOD_CRYPT_SC)
    # What the process cost the kernel: its peak memory and its page faults
    # (bench/pypy_reads.py reads these).
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(value=value, unit=unit, max_rss_mib=round(usage.ru_maxrss / 1024, 1),
                  page_faults=usage.ru_minflt)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
