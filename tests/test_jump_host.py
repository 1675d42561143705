"""Sessions running over a channel of another session (``Session.handshake(channel)``):
a jump host without a local port or a thread.

The outer ("jump") session logs in to the sshd fixture (or to asyncssh, whose
connection the tests can drop) and opens ``direct_tcpip`` to the sshd
fixture; the inner session runs its handshake, authentication, exec, SFTP
and SCP through that channel.
"""
import gc
import hashlib
import os
import select
import time

import pytest

from helpers import (NB_DEADLINE, TIMEOUT_MS, login, logout, read_channel, read_exactly,
                     run_command, run_python, sshd_login, until_ready)
from ssh2cffi import exceptions, utils
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import (LIBSSH2_SESSION_BLOCK_INBOUND, LIBSSH2_SESSION_BLOCK_OUTBOUND,
                              Session)
from ssh2cffi.sftp import (LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_TRUNC,
                           LIBSSH2_FXF_WRITE)

MIB = 1 << 20


class Hop:
    """An outer session logged in to ``jump`` and an inner one to the sshd fixture
    through ``outer.direct_tcpip``; close() logs both out."""

    def __init__(self, jump_kind, jump, sshd, blocking=True):
        self.outer, self.sock, _user = login(jump_kind, jump)
        self.channel = self.outer.direct_tcpip(sshd.host, sshd.port)
        assert isinstance(self.channel, Channel)
        self.user = sshd_login(sshd)
        self.inner = Session()
        self.inner.set_timeout(TIMEOUT_MS)
        if not blocking:
            self.inner.set_blocking(False)
        assert self.nb(self.inner.handshake, self.channel) == 0
        assert self.nb(self.inner.userauth_publickey_fromfile, self.user,
                       sshd.key_paths["id_ed25519"]) == 0

    def wait(self):
        """Wait on the outer socket for what the inner session is blocked on
        (its block_directions() speaks of the outer socket: see Session.handshake)."""
        utils.wait_socket(self.sock, self.inner, 1)

    def nb(self, call, *args):
        """``call(*args)``, again after each EAGAIN (non-blocking inner session)."""
        return until_ready(self.sock, self.inner, call, *args)

    def close(self):
        self.inner.set_blocking(True)
        self.inner.disconnect()
        self.channel.close()
        logout(self.outer, self.sock)


@pytest.fixture
def hop(sshd):
    connection = Hop("sshd", sshd, sshd)
    yield connection
    connection.close()


def pattern(seed, size):
    """``size`` bytes that differ with ``seed`` (a byte-exact check catches any mix-up)."""
    block = hashlib.sha256(b"%d" % seed).digest() * (4096 // 32)
    return (block * (size // len(block) + 1))[:size]


# -- blocking -------------------------------------------------------------------------------
def test_exec_over_a_jump_host(hop, sshd):
    out, err, status = run_command(hop.inner, "echo through; echo err >&2; exit 3")
    assert (out, err, status) == (b"through\n", b"err\n", 3)
    # the inner session is a different connection from the outer one
    assert hop.inner.sock is hop.channel
    assert run_command(hop.inner, "echo $SSH_CONNECTION")[0] != \
        run_command(hop.outer, "echo $SSH_CONNECTION")[0]


def test_bulk_exec_output_is_byte_exact(hop):
    channel = hop.inner.open_session()
    channel.execute("head -c %d /dev/urandom | tee /dev/stderr | sha256sum" % (4 * MIB))
    # stderr first: it carries the bulk (stdout is one line, sent at the end)
    data = read_channel(channel, stream_id=1)
    stdout_digest = read_channel(channel).split()[0].decode()
    assert len(data) == 4 * MIB
    assert hashlib.sha256(data).hexdigest() == stdout_digest


def test_sftp_and_scp_over_a_jump_host(hop, sshd_remote_dir):
    sftp = hop.inner.sftp_init()
    data = pattern(1, 3 * MIB + 17)
    path = os.path.join(sshd_remote_dir, "up.bin")
    with sftp.open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0o644) as fh:
        assert fh.write(data)[1] == len(data)
    with open(path, "rb") as local:
        assert local.read() == data
    with sftp.open(path, LIBSSH2_FXF_READ, 0) as fh:
        assert b"".join(chunk for _rc, chunk in fh) == data
    # the C copy loops (SFTP.get/put) call back into Python for every packet
    local_copy = os.path.join(sshd_remote_dir, "local.bin")
    assert sftp.get(path, local_copy) == len(data)
    assert sftp.put(local_copy, path + ".2") == len(data)
    with open(path + ".2", "rb") as local:
        assert local.read() == data
    # SCP
    scp_data = pattern(2, MIB)
    channel = hop.inner.scp_send64(path + ".scp", 0o600, len(scp_data), 0, 0)
    assert channel.write(scp_data)[1] == len(scp_data)
    channel.send_eof()
    channel.wait_eof()
    channel.close()
    channel.wait_closed()
    channel, info = hop.inner.scp_recv2(path + ".scp")
    assert info.st_size == len(scp_data)
    assert read_exactly(channel, len(scp_data)) == scp_data


def test_chain_of_two_jump_hosts(sshd):
    """An inner session over an inner session's channel: three connections, one socket."""
    first = Hop("sshd", sshd, sshd)
    try:
        channel = first.inner.direct_tcpip(sshd.host, sshd.port)
        third = Session()
        third.set_timeout(TIMEOUT_MS)
        assert third.handshake(channel) == 0
        assert third.userauth_publickey_fromfile(first.user, sshd.key_paths["id_ed25519"]) == 0
        assert run_command(third, "echo third")[0] == b"third\n"
        third.disconnect()
        channel.close()
    finally:
        first.close()


# -- non-blocking ------------------------------------------------------------------------------
def test_non_blocking_inner_session(sshd):
    hop = Hop("sshd", sshd, sshd, blocking=False)
    try:
        channel = hop.nb(hop.inner.open_session)
        assert hop.nb(channel.execute, "head -c %d /dev/zero; echo done" % MIB) == 0
        received = bytearray()
        while True:
            rc, data = channel.read()
            if rc == LIBSSH2_ERROR_EAGAIN:
                hop.wait()
                continue
            if rc == 0:
                break
            received += data
        assert received == b"\0" * MIB + b"done\n"
        assert hop.nb(channel.close) == 0
    finally:
        hop.close()


def _download(hop, sftp, path, size):
    """A generator: reads ``path`` on a non-blocking inner session, yielding at
    each EAGAIN; returns the data."""
    while True:
        handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
        if handle != LIBSSH2_ERROR_EAGAIN:
            break
        yield
    data = bytearray()
    while True:
        rc, chunk = handle.read(256 * 1024)
        if rc == LIBSSH2_ERROR_EAGAIN:
            yield
            continue
        if rc == 0:
            break
        data += chunk
    while handle.close() == LIBSSH2_ERROR_EAGAIN:
        yield
    return bytes(data)


def _upload(sftp, path, data):
    """A generator: writes ``data`` to ``path``, yielding at each EAGAIN."""
    flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
    while True:
        handle = sftp.open(path, flags, 0o644)
        if handle != LIBSSH2_ERROR_EAGAIN:
            break
        yield
    view = memoryview(data)
    while view:
        rc, written = handle.write(view[:1024 * 1024].tobytes())
        view = view[written:]
        if rc == LIBSSH2_ERROR_EAGAIN:
            yield
    while handle.close() == LIBSSH2_ERROR_EAGAIN:
        yield
    return len(data)


def test_four_inner_sessions_over_one_outer_session_in_one_thread(sshd, sshd_remote_dir):
    """Each inner session uploads 8 MiB and downloads another 8 MiB, all interleaved
    in one thread: non-blocking, waiting on the one outer socket."""
    outer, sock, _user = login("sshd", sshd)
    user = sshd_login(sshd)
    inners, channels = [], []
    try:
        for _ in range(4):
            channel = outer.direct_tcpip(sshd.host, sshd.port)
            inner = Session()
            inner.set_timeout(TIMEOUT_MS)
            assert inner.handshake(channel) == 0
            assert inner.userauth_publickey_fromfile(user, sshd.key_paths["id_ed25519"]) == 0
            inner.set_blocking(False)
            inners.append(inner)
            channels.append(channel)
        outer.set_blocking(False)  # the outer session too: only the loop below waits
        tasks = {}
        expected = {}
        def sftp_session(inner):
            sftp = inner.sftp_init()
            while sftp == LIBSSH2_ERROR_EAGAIN:
                select.select([sock], [], [], 1)
                sftp = inner.sftp_init()
            return sftp

        for index, inner in enumerate(inners):
            source = os.path.join(sshd_remote_dir, "source-%d" % index)
            with open(source, "wb") as local:
                local.write(pattern(10 + index, 8 * MIB))
            expected[("down", index)] = pattern(10 + index, 8 * MIB)
            expected[("up", index)] = pattern(20 + index, 8 * MIB)
            # an SFTP session per transfer: libssh2 keeps one state per kind of
            # request in an SFTP session, so two interleaved open() calls on one
            # would mix up (the second call resumes the first one's request)
            tasks[("down", index)] = (inner, _download(None, sftp_session(inner), source,
                                                       8 * MIB))
            tasks[("up", index)] = (inner, _upload(sftp_session(inner),
                                                   os.path.join(sshd_remote_dir, "up-%d" % index),
                                                   expected[("up", index)]))
        results = {}
        deadline = time.monotonic() + NB_DEADLINE
        while tasks:
            assert time.monotonic() < deadline, "transfers stalled: %r" % sorted(tasks)
            for key, (inner, task) in list(tasks.items()):
                try:
                    next(task)
                except StopIteration as done:
                    results[key] = done.value
                    del tasks[key]
            # wait only when every session waits for the socket; 0 means the outer
            # session already holds data for one of them
            waits = [inner.block_directions() for inner, _task in tasks.values()]
            if waits and all(waits):
                union = 0
                for directions in waits:
                    union |= directions
                select.select([sock] if union & LIBSSH2_SESSION_BLOCK_INBOUND else [],
                              [sock] if union & LIBSSH2_SESSION_BLOCK_OUTBOUND else [], [], 1)
        for index in range(4):
            assert results[("down", index)] == expected[("down", index)]
            assert results[("up", index)] == 8 * MIB
            with open(os.path.join(sshd_remote_dir, "up-%d" % index), "rb") as uploaded:
                assert uploaded.read() == expected[("up", index)]
    finally:
        outer.set_blocking(True)
        for inner, channel in zip(inners, channels):
            inner.set_blocking(True)
            inner.disconnect()
            channel.close()
        logout(outer, sock)


# -- failures and lifetimes ------------------------------------------------------------------
def test_outer_connection_dropped_mid_transfer_raises(asyncssh_server, sshd, sshd_remote_dir):
    """asyncssh is the jump host; its "drop" command aborts the outer connection."""
    hop = Hop("asyncssh", asyncssh_server, sshd)
    try:
        path = os.path.join(sshd_remote_dir, "big")
        with open(path, "wb") as local:
            local.write(pattern(3, 16 * MIB))
        sftp = hop.inner.sftp_init()
        handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
        assert handle.read(65536)[0] > 0
        dropper = hop.outer.open_session()
        dropper.execute("drop")
        started = time.monotonic()
        with pytest.raises((exceptions.SocketDisconnectError, exceptions.SocketRecvError,
                            exceptions.SocketSendError)) as info:
            buffer = bytearray(65536)
            while True:  # read_into raises (read() returns errors as ssh2-python does)
                rc, _count = handle.read_into(buffer)
                assert rc > 0, "the transfer ended without an error (%d)" % rc
        # well within the sessions' timeouts: the drop is noticed, not waited out
        assert not isinstance(info.value, exceptions.Timeout)
        assert time.monotonic() - started < TIMEOUT_MS / 1000
    finally:
        hop.sock.close()


def test_closed_outer_channel_fails_the_inner_session(hop):
    hop.channel.close()
    with pytest.raises((exceptions.SocketSendError, exceptions.SocketRecvError,
                        exceptions.SocketDisconnectError)):
        hop.inner.open_session()
    hop.channel = hop.outer.open_session()  # for close()


def test_handshake_refuses_bad_channels(sshd):
    outer, sock, _user = login("sshd", sshd)
    try:
        with pytest.raises(ValueError, match="own channels"):
            outer.handshake(outer.open_session())
        closed = outer.direct_tcpip(sshd.host, sshd.port)
        closed.close()
        with pytest.raises(exceptions.SSH2Error):
            Session().handshake(closed)
        inner = Session()
        assert inner.handshake(outer.direct_tcpip(sshd.host, sshd.port)) == 0
        with pytest.raises(exceptions.BadUseError, match="another channel"):
            inner.handshake(outer.direct_tcpip(sshd.host, sshd.port))
        inner.disconnect()
    finally:
        logout(outer, sock)


DROP_ORDERS = r"""
import gc, itertools, sys
sys.path.insert(0, %(tests)r)
from servers import OpenSSHServer
from helpers import login, sshd_login
from ssh2cffi.session import Session

with OpenSSHServer() as sshd:
    for order in itertools.permutations(("outer", "channel", "inner", "inner_channel")):
        outer, sock, user = login("sshd", sshd)
        objects = {"outer": outer}
        objects["channel"] = outer.direct_tcpip(sshd.host, sshd.port)
        inner = Session()
        inner.handshake(objects["channel"])
        inner.userauth_publickey_fromfile(user, sshd.key_paths["id_ed25519"])
        objects["inner"] = inner
        objects["inner_channel"] = inner.open_session()
        objects["inner_channel"].execute("echo hi")
        del outer, inner
        for name in order:
            del objects[name]
            gc.collect()
        sock.close()
    print("ok")
"""


def test_dropping_sessions_and_channels_in_any_order_never_crashes():
    tests = os.path.dirname(os.path.abspath(__file__))
    result = run_python(DROP_ORDERS % {"tests": tests})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"


def test_inner_session_keeps_its_outer_channel_and_session_alive(sshd):
    outer, sock, _user = login("sshd", sshd)
    inner = Session()
    inner.set_timeout(TIMEOUT_MS)
    inner.handshake(outer.direct_tcpip(sshd.host, sshd.port))
    inner.userauth_publickey_fromfile(sshd_login(sshd), sshd.key_paths["id_ed25519"])
    del outer
    gc.collect()
    assert run_command(inner, "echo alive")[0] == b"alive\n"
    inner.disconnect()
    sock.close()
