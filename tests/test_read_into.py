"""Zero-copy reads (issue 16): ``Channel.read_into``, ``SFTPHandle.read_into`` and
``SFTPHandle`` as a binary file object (``readinto``, ``io.BufferedReader``).

Against both test servers, blocking and non-blocking, byte for byte: the
data read into the caller's buffer is compared with what the server sent
(a digest the server computed, or the file on this machine).
"""
from __future__ import annotations

import io
import mmap
import os
import shutil
import time

import pytest

from helpers import NB_DEADLINE, digest, finish_channel
from servers import _pattern_bytes
from ssh2cffi import exceptions
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.sftp import LIBSSH2_FXF_READ

EAGAIN = LIBSSH2_ERROR_EAGAIN
SIZE = 300_000  # several SSH packets and several SFTP read requests


def remote_file(conn, name, size=SIZE):
    """A file of ``size`` random bytes in the work directory: (remote path, data)."""
    data = os.urandom(size)
    with open(conn.local(name), "wb") as fobj:
        fobj.write(data)
    return conn.path(name), data


def streaming_channel(conn):
    """A channel with SIZE bytes of output: (channel, the bytes it will send)."""
    channel = conn.session.open_session()
    if conn.kind == "asyncssh":
        assert channel.execute("bytes %d" % SIZE) == 0
        return channel, _pattern_bytes(0, SIZE)
    path, data = remote_file(conn, "out.bin")
    assert channel.execute("cat %s" % path) == 0
    return channel, data


def stderr_channel(conn):
    """A channel that writes b"err\\n" to stderr."""
    channel = conn.session.open_session()
    assert channel.execute(conn.stderr_cmd("err")) == 0
    return channel


def read_all_into(channel, buffer, stream_id=0, wait=None):
    """Everything up to EOF of one stream through read_into, copied out of ``buffer``."""
    chunks = []
    deadline = time.monotonic() + NB_DEADLINE
    view = memoryview(buffer).cast("B")
    while True:
        rc, stored = channel.read_into(buffer, stream_id) if stream_id else channel.read_into(buffer)
        if rc == EAGAIN:
            assert stored == 0 and wait is not None
            assert time.monotonic() < deadline, "non-blocking read_into did not finish"
            wait()
            continue
        assert rc == stored and 0 <= stored <= view.nbytes
        if rc == 0:
            return b"".join(chunks)
        chunks.append(bytes(view[:stored]))


# -- Channel.read_into ----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "mmap"])
def test_channel_read_into_is_byte_exact(work_conn, kind):
    buffer = {"bytearray": lambda: bytearray(20_000),
              "memoryview": lambda: memoryview(bytearray(70_000))[5_000:45_000],
              "mmap": lambda: mmap.mmap(-1, 65_536)}[kind]()
    channel, data = streaming_channel(work_conn)
    assert digest(read_all_into(channel, buffer)) == digest(data)
    assert channel.read_into(bytearray(8)) == (0, 0)  # EOF stays EOF
    finish_channel(channel)
    channel = stderr_channel(work_conn)
    assert read_all_into(channel, bytearray(8), stream_id=1) == b"err\n"
    assert channel.read_into(buffer) == (0, 0)
    finish_channel(channel)


def test_channel_read_into_nonblocking(work_conn):
    channel, data = streaming_channel(work_conn)
    errors = stderr_channel(work_conn)
    work_conn.session.set_blocking(False)
    got = read_all_into(channel, bytearray(32_768), wait=work_conn.wait)
    assert digest(got) == digest(data)
    assert read_all_into(errors, bytearray(3), 1, wait=work_conn.wait) == b"err\n"
    work_conn.session.set_blocking(True)
    finish_channel(channel)
    finish_channel(errors)


def test_channel_read_into_mixes_with_read(work_conn):
    channel = work_conn.session.open_session()
    assert channel.execute("echo 0123456789") == 0
    buffer = bytearray(4)
    assert channel.read_into(buffer) == (4, 4) and buffer == b"0123"
    assert channel.read(3) == (3, b"456")
    assert channel.read_into(memoryview(buffer)[1:]) == (3, 3) and buffer == b"0789"
    assert channel.read() == (1, b"\n")
    finish_channel(channel)


def test_channel_read_into_refuses_bad_buffers(work_conn):
    channel = work_conn.session.open_session()
    assert channel.execute("echo abc") == 0
    for bad in (b"abc", memoryview(b"abc"), "abc", 3, None,
                memoryview(bytearray(8))[::2]):
        with pytest.raises(TypeError, match="writable, contiguous bytes-like"):
            channel.read_into(bad)
    with pytest.raises(ValueError, match="empty"):
        channel.read_into(bytearray())
    with pytest.raises(TypeError):
        channel.read_into(bytearray(4), "0")
    # nothing was consumed by the refused calls
    buffer = bytearray(8)
    assert channel.read_into(buffer) == (4, 4) and buffer[:4] == b"abc\n"
    finish_channel(channel)


def test_channel_read_into_after_close_and_disconnect(sshd_work_conn):
    channel = sshd_work_conn.session.open_session()
    assert channel.execute("echo abc") == 0
    assert read_all_into(channel, bytearray(8)) == b"abc\n"
    finish_channel(channel)
    assert channel.read_into(bytearray(8)) == (0, 0)
    sshd_work_conn.session.disconnect()
    with pytest.raises(exceptions.SocketDisconnectError):
        channel.read_into(bytearray(8))


# -- SFTPHandle.read_into ---------------------------------------------------------------

def test_sftp_read_into_is_byte_exact(work_conn):
    path, data = remote_file(work_conn, "file.bin")
    sftp = work_conn.session.sftp_init()
    buffer = bytearray(64 * 1024)
    view = memoryview(buffer)
    chunks = []
    with sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        while True:
            rc, stored = handle.read_into(buffer)
            assert rc == stored
            if rc == 0:
                break
            chunks.append(bytes(view[:stored]))
        assert handle.read_into(buffer) == (0, 0)
    assert digest(b"".join(chunks)) == digest(data)


def test_sftp_read_into_nonblocking(work_conn):
    path, data = remote_file(work_conn, "file.bin")
    sftp = work_conn.session.sftp_init()
    handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
    work_conn.session.set_blocking(False)
    target = mmap.mmap(-1, SIZE + 100)
    offset = 0
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        rc, stored = handle.read_into(memoryview(target)[offset:offset + 50_000])
        if rc == EAGAIN:
            assert stored == 0 and time.monotonic() < deadline
            work_conn.wait()
            continue
        if rc == 0:
            break
        offset += stored
    assert offset == SIZE and digest(target[:offset]) == digest(data)
    assert work_conn.nb(handle.close) == 0
    work_conn.session.set_blocking(True)


def test_sftp_read_into_raises_errors_and_refuses_bad_buffers(work_conn):
    sftp = work_conn.session.sftp_init()
    directory = sftp.opendir(work_conn.path())
    with pytest.raises(exceptions.SFTPProtocolError):
        directory.read_into(bytearray(100))  # a directory handle cannot be read
    directory.close()
    path, _data = remote_file(work_conn, "small.bin", 10)
    handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
    with pytest.raises(TypeError, match="writable"):
        handle.read_into(b"0123456789")
    with pytest.raises(ValueError, match="empty"):
        handle.read_into(bytearray())
    handle.close()
    with pytest.raises(exceptions.SFTPHandleError):
        handle.read_into(bytearray(10))


# -- SFTPHandle as a binary file object -----------------------------------------------

def test_buffered_reader_over_a_handle(work_conn):
    lines = b"".join(b"line %d\n" % number for number in range(20_000))
    with open(work_conn.local("lines.txt"), "wb") as fobj:
        fobj.write(lines)
    sftp = work_conn.session.sftp_init()
    with io.BufferedReader(sftp.open(work_conn.path("lines.txt"), LIBSSH2_FXF_READ, 0)) as reader:
        assert reader.readline() == b"line 0\n"
        assert reader.read(7) == b"line 1\n"
        copy = io.BytesIO()
        shutil.copyfileobj(reader, copy, 5000)
        assert copy.getvalue() == lines[14:]
        assert reader.read(10) == b""
        handle = reader.raw
    assert handle.closed and reader.closed  # closing the reader closed the handle


def test_handle_file_protocol_methods(work_conn):
    path, data = remote_file(work_conn, "file.bin")
    sftp = work_conn.session.sftp_init()
    handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
    assert (handle.readable(), handle.writable(), handle.seekable()) == (True, False, False)
    buffer = bytearray(1000)
    assert handle.readinto(bytearray()) == 0
    assert handle.readinto(buffer) == 1000 and buffer == data[:1000]
    assert handle.readall() == data[1000:]
    assert handle.readinto(buffer) == 0 and handle.readall() == b""
    handle.flush()
    handle.close()
    assert handle.readable() is False
    with pytest.raises(exceptions.SFTPHandleError):
        handle.flush()
    with pytest.raises(exceptions.SFTPHandleError):
        handle.readinto(buffer)


def test_handle_readinto_nonblocking_returns_none_while_waiting(work_conn):
    path, data = remote_file(work_conn, "file.bin")
    sftp = work_conn.session.sftp_init()
    handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
    work_conn.session.set_blocking(False)
    buffer = bytearray(40_000)
    got = bytearray()
    waits = 0
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        stored = handle.readinto(buffer)
        if stored is None:
            waits += 1
            assert time.monotonic() < deadline
            work_conn.wait()
            continue
        if stored == 0:
            break
        got += buffer[:stored]
    assert waits > 0  # the first read of an SFTP file always waits for the reply
    assert digest(bytes(got)) == digest(data)
    assert work_conn.nb(handle.close) == 0
    work_conn.session.set_blocking(True)
