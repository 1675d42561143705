"""Tests of SCP (``Session.scp_send64/scp_send/scp_recv2/scp_recv``) and of
``FileInfo``/``StatInfo``, against the real OpenSSH ``sshd`` only (the asyncssh
test server runs with ``allow_scp=False``).  Nothing is mocked.

The tests log in as the unprivileged ``ssh2cffi`` account (root when it does
not exist): its shell is /bin/sh with no start-up files, so nothing but scp
itself writes to the channel.

The SCP protocol ends each file with a zero byte from the side that sent it,
answered by a zero byte from the receiver.  libssh2 leaves both to the
application: after the file's data a sender writes ``b"\\0"``, and a receiver
reads the server's ``b"\\0"`` and answers with its own.  Without them OpenSSH's
``scp`` still writes (or sends) the whole file but exits with status 1 and
skips what it does at the end of a file (``-p`` times).
"""
from __future__ import annotations

import gc
import os
import stat
import time

import pytest

from helpers import NB_DEADLINE, WorkDirConnection, digest, file_digest, read_exactly
from ssh2cffi import exceptions
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN, LIBSSH2_ERROR_SCP_PROTOCOL
from ssh2cffi.fileinfo import FileInfo
from ssh2cffi.session import Session
from ssh2cffi.statinfo import StatInfo

EAGAIN = LIBSSH2_ERROR_EAGAIN
SIZES = [0, 1, 65537, 8 * 1024 * 1024]
ATIME, MTIME = 1500000000, 1600000000
ST_FIELDS = ("st_size", "st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_rdev",
             "st_blksize", "st_blocks", "st_atime", "st_mtime", "st_ctime")
# what libssh2 fills in from the scp protocol; the rest stays 0
FILLED = ("st_size", "st_mode", "st_atime", "st_mtime")


@pytest.fixture
def sshd_scp_conn(sshd):
    """A helpers.WorkDirConnection to the OpenSSH server (the asyncssh server
    has no SCP); its ``path()`` names a file both there and on this machine."""
    conn = WorkDirConnection("sshd", sshd, prefix="scp-")
    yield conn
    conn.close()


def send_file(conn, path, data, mode=0o640, mtime=MTIME, atime=ATIME):
    """scp_send64, write the data and the end-of-file byte, then close; returns the channel."""
    chan = conn.session.scp_send64(path, mode, len(data), mtime, atime)
    assert isinstance(chan, Channel)
    assert chan.session is conn.session
    if data:
        rc, written = chan.write(data)
        assert written == len(data)
        assert 0 < rc <= len(data)
    assert chan.write(b"\0") == (1, 1)
    assert chan.send_eof() == 0
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() == 0
    return chan


def finish_recv(chan):
    """After the data: the server's end-of-file byte, our answer, then a clean exit."""
    assert chan.read() == (1, b"\0")
    assert chan.write(b"\0") == (1, 1)
    assert chan.send_eof() == 0
    assert chan.wait_eof() == 0
    assert chan.read() == (0, b"")
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() == 0


def check_info(info, cls, size, mode, mtime, atime):
    assert isinstance(info, cls)
    assert info.st_size == size
    assert info.st_mode == mode        # the permission bits the scp "C" line carries
    assert (info.st_mtime, info.st_atime) == (mtime, atime)
    for field in ST_FIELDS:
        value = getattr(info, field)
        assert isinstance(value, int)
        if field not in FILLED:
            assert value == 0, field


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_scp_send64_then_recv2(sshd_scp_conn, size):
    data = os.urandom(size)
    path = sshd_scp_conn.path("file.bin")
    send_file(sshd_scp_conn, path, data)
    st = os.stat(path)
    assert st.st_size == size
    assert st.st_mode == 0o100640
    assert (st.st_mtime, st.st_atime) == (MTIME, ATIME)    # scp -p applied them
    assert st.st_uid == sshd_scp_conn.uid
    assert file_digest(path) == digest(data)
    # (reading the file moved its atime on: relatime)
    st = os.stat(path)

    result = sshd_scp_conn.session.scp_recv2(path)
    assert isinstance(result, tuple) and len(result) == 2
    chan, info = result
    assert isinstance(chan, Channel)
    assert chan.session is sshd_scp_conn.session
    check_info(info, FileInfo, size, stat.S_IMODE(st.st_mode), MTIME, int(st.st_atime))
    received = read_exactly(chan, info.st_size)
    assert digest(received) == digest(data)
    finish_recv(chan)


@pytest.mark.parametrize("size", [0, 65537])
def test_scp_recv_statinfo(sshd_scp_conn, size):
    data = os.urandom(size)
    path = sshd_scp_conn.path("old-api.bin")
    with open(path, "wb") as fobj:
        fobj.write(data)
    os.chmod(path, 0o604)
    os.utime(path, (ATIME, MTIME))
    chan, info = sshd_scp_conn.session.scp_recv(path)
    assert isinstance(chan, Channel)
    check_info(info, StatInfo, size, 0o604, MTIME, ATIME)
    assert digest(read_exactly(chan, info.st_size, 1000)) == digest(data)
    finish_recv(chan)


def test_scp_send_older_api(sshd_scp_conn):
    data = os.urandom(100000)
    path = sshd_scp_conn.path("send.bin")
    before = time.time()
    chan = sshd_scp_conn.session.scp_send(path, 0o600, len(data))
    assert isinstance(chan, Channel)
    assert chan.write(data)[1] == len(data)
    assert chan.write(b"\0") == (1, 1)
    assert chan.send_eof() == 0
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() == 0
    st = os.stat(path)
    assert st.st_mode == 0o100600
    assert file_digest(path) == digest(data)
    # no times were sent: the file has the time it was written
    assert before - 5 <= st.st_mtime <= time.time() + 5
    st = os.stat(path)
    chan, info = sshd_scp_conn.session.scp_recv2(path)
    check_info(info, FileInfo, len(data), 0o600, int(st.st_mtime), int(st.st_atime))
    assert digest(read_exactly(chan, len(data))) == digest(data)
    finish_recv(chan)


def test_scp_send64_float_times_and_bytes_path(sshd_scp_conn):
    # ssh2-python's tests pass os.stat() floats: they are truncated
    path = sshd_scp_conn.path("floats.bin")
    send_file(sshd_scp_conn, path.encode(), b"abc", 0o644, MTIME + 0.75, ATIME + 0.25)
    st = os.stat(path)
    assert (st.st_mtime, st.st_atime) == (MTIME, ATIME)
    chan, info = sshd_scp_conn.session.scp_recv2(path.encode())
    check_info(info, FileInfo, 3, 0o644, MTIME, ATIME)
    assert read_exactly(chan, 3) == b"abc"
    finish_recv(chan)


def test_scp_send_without_end_byte(sshd_scp_conn):
    # the data all arrives, but scp, still waiting for the zero byte, sees
    # EOF instead and fails (so -p times are not applied)
    data = os.urandom(65537)
    path = sshd_scp_conn.path("no-end.bin")
    chan = sshd_scp_conn.session.scp_send64(path, 0o640, len(data), MTIME, ATIME)
    assert chan.write(data)[1] == len(data)
    assert chan.send_eof() == 0
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() != 0
    assert file_digest(path) == digest(data)
    assert os.stat(path).st_mtime != MTIME


def test_scp_recv_without_answer(sshd_scp_conn):
    data = os.urandom(1000)
    path = sshd_scp_conn.path("no-answer.bin")
    with open(path, "wb") as fobj:
        fobj.write(data)
    chan, info = sshd_scp_conn.session.scp_recv2(path)
    assert read_exactly(chan, info.st_size) == data
    assert chan.read() == (1, b"\0")
    # no answer: scp sees EOF instead and fails
    assert chan.send_eof() == 0
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() != 0
    # the session is fine afterwards
    chan, info = sshd_scp_conn.session.scp_recv2(path)
    assert read_exactly(chan, info.st_size) == data
    finish_recv(chan)


def test_scp_several_files_on_one_session(sshd_scp_conn):
    files = {sshd_scp_conn.path("f%d.bin" % index): os.urandom(index * 1000) for index in range(5)}
    for path, data in files.items():
        send_file(sshd_scp_conn, path, data)
    for path, data in files.items():
        chan, info = sshd_scp_conn.session.scp_recv2(path)
        assert info.st_size == len(data)
        assert read_exactly(chan, info.st_size, 4096) == data
        finish_recv(chan)
        del chan
    gc.collect()


def test_scp_nonblocking(sshd_scp_conn):
    data = os.urandom(1024 * 1024)
    path = sshd_scp_conn.path("nb.bin")
    sshd_scp_conn.session.set_blocking(False)
    chan = sshd_scp_conn.nb(sshd_scp_conn.session.scp_send64, path, 0o640, len(data), MTIME, ATIME)
    assert isinstance(chan, Channel)
    sent = 0
    deadline = time.monotonic() + NB_DEADLINE
    payload = data + b"\0"
    while sent < len(payload):
        rc, written = chan.write(payload[sent:])
        sent += written
        if rc == EAGAIN:
            assert time.monotonic() < deadline
            sshd_scp_conn.wait()
    for call in (chan.send_eof, chan.wait_eof, chan.wait_closed):
        assert sshd_scp_conn.nb(call) == 0
    assert chan.get_exit_status() == 0
    assert os.stat(path).st_atime == ATIME
    assert file_digest(path) == digest(data)
    atime = int(os.stat(path).st_atime)

    result = sshd_scp_conn.nb(sshd_scp_conn.session.scp_recv2, path)
    chan, info = result
    check_info(info, FileInfo, len(data), 0o640, MTIME, atime)
    chunks, got = [], 0
    while got < len(data):
        rc, chunk = chan.read(min(65536, len(data) - got))
        if rc == EAGAIN:
            assert time.monotonic() < deadline
            sshd_scp_conn.wait()
            continue
        assert rc == len(chunk) > 0
        chunks.append(chunk)
        got += rc
    assert digest(b"".join(chunks)) == digest(data)
    sshd_scp_conn.session.set_blocking(True)
    finish_recv(chan)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_scp_recv2_missing_file(sshd_scp_conn):
    path = sshd_scp_conn.path("missing.bin")
    with pytest.raises(exceptions.SCPProtocolError) as info:
        sshd_scp_conn.session.scp_recv2(path)
    assert info.value.errcode == LIBSSH2_ERROR_SCP_PROTOCOL
    assert sshd_scp_conn.session.last_errno() == LIBSSH2_ERROR_SCP_PROTOCOL
    with pytest.raises(exceptions.SCPProtocolError):
        sshd_scp_conn.session.scp_recv(path)
    # the session goes on
    send_file(sshd_scp_conn, path, b"now it exists")
    chan, info = sshd_scp_conn.session.scp_recv2(path)
    assert read_exactly(chan, info.st_size) == b"now it exists"
    finish_recv(chan)


def test_scp_recv2_directory_fails(sshd_scp_conn):
    with pytest.raises(exceptions.SCPProtocolError):
        sshd_scp_conn.session.scp_recv2(sshd_scp_conn.remote_root)


def test_scp_send64_into_missing_directory(sshd_scp_conn):
    with pytest.raises(exceptions.SCPProtocolError) as info:
        sshd_scp_conn.session.scp_send64(sshd_scp_conn.path("no-dir/file"), 0o644, 1, MTIME, ATIME)
    assert info.value.errcode == LIBSSH2_ERROR_SCP_PROTOCOL
    with pytest.raises(exceptions.SCPProtocolError):
        sshd_scp_conn.session.scp_send(sshd_scp_conn.path("no-dir/file"), 0o644, 1)
    assert not os.path.exists(sshd_scp_conn.path("no-dir"))


def test_scp_permission_denied(sshd_scp_conn):
    if sshd_scp_conn.user == "root":
        pytest.skip("needs the unprivileged ssh2cffi account")
    secret = sshd_scp_conn.path("secret")
    with open(secret, "wb") as fobj:
        fobj.write(b"root only")
    os.chmod(secret, 0o600)                  # owned by root (this process)
    with pytest.raises(exceptions.SCPProtocolError):
        sshd_scp_conn.session.scp_recv2(secret)
    os.mkdir(sshd_scp_conn.path("root-dir"), 0o755)
    with pytest.raises(exceptions.SCPProtocolError):
        sshd_scp_conn.session.scp_send64(sshd_scp_conn.path("root-dir/file"), 0o644, 1, 0, 0)


def test_scp_arguments(sshd_scp_conn):
    with pytest.raises(TypeError):
        sshd_scp_conn.session.scp_recv2(None)
    with pytest.raises(TypeError):
        sshd_scp_conn.session.scp_send64(sshd_scp_conn.path("x"), None, 1, 0, 0)
    assert not os.path.exists(sshd_scp_conn.path("x"))


def test_scp_after_disconnect(sshd_scp_conn):
    path = sshd_scp_conn.path("disc.bin")
    send_file(sshd_scp_conn, path, b"x")
    assert sshd_scp_conn.session.disconnect() == 0
    for call in (lambda: sshd_scp_conn.session.scp_recv2(path),
                 lambda: sshd_scp_conn.session.scp_recv(path),
                 lambda: sshd_scp_conn.session.scp_send64(path, 0o644, 1, 0, 0),
                 lambda: sshd_scp_conn.session.scp_send(path, 0o644, 1)):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()


def test_scp_without_session():
    # no connection: libssh2 fails to send the channel-open request
    session = Session()
    with pytest.raises(exceptions.SocketSendError):
        session.scp_recv2("/etc/hostname")
    with pytest.raises(exceptions.SocketSendError):
        session.scp_send64("/tmp/x", 0o644, 1, 0, 0)


# ---------------------------------------------------------------------------
# FileInfo / StatInfo objects
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [FileInfo, StatInfo])
def test_info_built_directly_is_zero(cls):
    info = cls()
    for field in ST_FIELDS:
        value = getattr(info, field)
        assert value == 0 and isinstance(value, int), field
        with pytest.raises(AttributeError):
            setattr(info, field, 1)
    with pytest.raises(AttributeError):
        info.other = 1
    with pytest.raises(TypeError):
        cls(1)
    text = repr(info)
    assert text.startswith(cls.__name__)
    assert all("%s=0" % field in text for field in ST_FIELDS)
