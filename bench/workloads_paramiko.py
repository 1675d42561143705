"""The benchmark workloads through paramiko, run in its own interpreter by bench/run.py.

paramiko's API is not ssh2-python's, so it gets its own driver; every workload
does the same work as its namesake in workloads.py and prints the same JSON.

    python workloads_paramiko.py --port 2222 --key KEY WORKLOAD [ARG]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import time

import paramiko

from workloads import in_threads  # the same thread harness as ssh2cffi's rows


def connect(port, key, cipher=None):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(sock)
    if cipher:
        transport.get_security_options().ciphers = (cipher,)
    transport.start_client()
    transport.auth_publickey("root", paramiko.Ed25519Key.from_private_key_file(key))
    return transport


def exec_stream(transport, size, read_size):
    channel = transport.open_session()
    channel.exec_command("head -c %d /dev/zero" % size)
    got = 0
    start = time.perf_counter()
    while True:
        data = channel.recv(read_size)
        if not data:
            break
        got += len(data)
    elapsed = time.perf_counter() - start
    assert got == size, (got, size)
    channel.close()
    return got / elapsed / 1e6, "MB/s"


def sftp_download(transport, path, read_size):
    sftp = paramiko.SFTPClient.from_transport(transport)
    got = 0
    start = time.perf_counter()
    with sftp.open(path, "rb") as handle:
        while True:
            data = handle.read(read_size)
            if not data:
                break
            got += len(data)
    elapsed = time.perf_counter() - start
    assert got == os.path.getsize(path), got
    return got / elapsed / 1e6, "MB/s"


def sftp_upload(transport, size, write_size):
    sftp = paramiko.SFTPClient.from_transport(transport)
    chunk = b"\0" * write_size
    sent = 0
    start = time.perf_counter()
    with sftp.open("/tmp/ssh2cffi-bench-upload", "wb") as handle:
        # Pipelined, as libssh2's sftp_write is: without it every 32 KiB
        # request waits for its reply and paramiko would be measured at
        # its worst, not at what its users get.
        handle.set_pipelined(True)
        while sent < size:
            handle.write(chunk)
            sent += len(chunk)
    elapsed = time.perf_counter() - start
    return sent / elapsed / 1e6, "MB/s"


def sftp_get(transport, path):
    sftp = paramiko.SFTPClient.from_transport(transport)
    start = time.perf_counter()
    sftp.get(path, "/tmp/ssh2cffi-bench-get")
    elapsed = time.perf_counter() - start
    return os.path.getsize(path) / elapsed / 1e6, "MB/s"


def sftp_put(transport, path):
    sftp = paramiko.SFTPClient.from_transport(transport)
    start = time.perf_counter()
    sftp.put(path, "/tmp/ssh2cffi-bench-put")
    elapsed = time.perf_counter() - start
    return os.path.getsize(path) / elapsed / 1e6, "MB/s"


def nb_read_overhead(transport, calls):
    """Non-blocking recv() on an idle channel: paramiko raises socket.timeout each time."""
    channel = transport.open_session()
    channel.exec_command("sleep 60")
    channel.setblocking(False)
    recv = channel.recv

    def loop(count):
        for _ in range(count):
            try:
                recv(1024)
            except socket.timeout:
                pass

    loop(min(calls, 100000))  # warm up (the PyPy JIT)
    start = time.perf_counter()
    loop(calls)
    elapsed = time.perf_counter() - start
    return calls / elapsed, "calls/s"


def ping_pong(transport, trips):
    channel = transport.open_session()
    channel.exec_command("cat")
    message = b"x" * 64
    for phase in ("warmup", "measure"):
        count = trips if phase == "measure" else max(trips // 10, 10)
        start = time.perf_counter()
        for _ in range(count):
            channel.sendall(message)
            got = 0
            while got < 64:
                got += len(channel.recv(64 - got))
        elapsed = time.perf_counter() - start
    return trips / elapsed, "trips/s"


def sftp_stat(transport, ops):
    sftp = paramiko.SFTPClient.from_transport(transport)
    for _ in range(max(ops // 10, 10)):
        sftp.stat("/tmp")
    start = time.perf_counter()
    for _ in range(ops):
        sftp.stat("/tmp")
    elapsed = time.perf_counter() - start
    return ops / elapsed, "ops/s"


def many_sessions(port, key, count):
    """``count`` threads, each connecting, authenticating and running a command."""
    def one(index):
        transport = connect(port, key)
        channel = transport.open_session()
        channel.exec_command("echo %d" % index)
        data = b""
        while True:
            piece = channel.recv(1024)
            if not piece:
                break
            data += piece
        assert data == b"%d\n" % index, data
        channel.close()
        transport.close()

    return in_threads(count, one), "s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", default="paramiko")  # accepted for run.py's sake
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cipher")
    parser.add_argument("workload")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()
    numbers = [int(a) if a.isdigit() else a for a in opts.args]
    if opts.workload == "many_sessions":
        value, unit = many_sessions(opts.port, opts.key, *numbers)
        print(json.dumps({"value": value, "unit": unit}))
        return
    transport = connect(opts.port, opts.key, opts.cipher)
    value, unit = globals()[opts.workload](transport, *numbers)
    cipher = transport.remote_cipher
    transport.close()
    print(json.dumps({"value": value, "unit": unit, "cipher": cipher}))


if __name__ == "__main__":
    main()
