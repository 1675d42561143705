"""Tests of ``ssh2cffi.channel.Channel`` against real servers: exec, reading
and writing, large and non-blocking transfers, pty (terminal size and modes,
resizing) and shell, environment, subsystems, windows, X11 and agent
requests, signals, and use after disconnect.

Every test talks to a real OpenSSH ``sshd`` or to the scripted asyncssh
server (see servers.py); behaviour both servers share is parametrized over
both (the ``conn`` fixture).  The asyncssh server covers what OpenSSH cannot
show (pixel sizes, terminal modes as received).  Nothing is mocked.
"""
from __future__ import annotations

import gc
import hashlib
import os
import re
import select
import time

import pytest

from helpers import (HAS_LIBSSH2_1_11, Connection, finish_channel, login, logout,
                     needs_libssh2_1_11, only_libssh2_1_10, read_channel, run_on_channel,
                     sshd_login)
from servers import _pattern_bytes
from ssh2cffi import exceptions, utils
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session

EAGAIN = LIBSSH2_ERROR_EAGAIN
assert EAGAIN == -37

# Not exported by ssh2-python (nor by ssh2cffi): libssh2.h's values.
LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL = 0
LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE = 1
LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE = 2

BIG = 64 * 1024 * 1024


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def assert_same_bytes(got, expected, what):
    """Byte-exact comparison with a short message (no 64 MiB diffs)."""
    if got == expected:
        return
    limit = min(len(got), len(expected))
    first = next((i for i in range(limit) if got[i] != expected[i]), limit)
    pytest.fail("%s: got %d bytes, expected %d; first difference at offset %d"
                % (what, len(got), len(expected), first))


def sftp_init_reply(chan):
    """Send SSH_FXP_INIT (version 3) on a channel running the sftp subsystem and
    return the server's reply packet (type and payload)."""
    init = b"\x00\x00\x00\x05" + b"\x01" + b"\x00\x00\x00\x03"
    assert chan.write(init) == (len(init), len(init))
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        rc, chunk = chan.read()
        assert rc > 0, "sftp server closed before replying"
        data += chunk
    length = int.from_bytes(data[:4], "big")
    return data[4], data[5:4 + length]


# ---------------------------------------------------------------------------
# exec: output, exit status, exit signal
# ---------------------------------------------------------------------------

def test_exec_stdout(conn):
    chan, out, err = run_on_channel(conn.session, "echo hello world")
    assert out == b"hello world\n"
    assert err == b""
    assert chan.get_exit_status() == 0


def test_exec_stderr(conn):
    chan, out, err = run_on_channel(conn.session, conn.stderr_cmd("oops"))
    assert out == b""
    assert err == b"oops\n"
    assert chan.get_exit_status() == 0


def test_read_stderr_directly(conn):
    chan = conn.session.open_session()
    assert chan.execute(conn.stderr_cmd("to-stderr")) == 0
    assert chan.read_stderr() == (10, b"to-stderr\n")
    assert chan.read_stderr() == (0, b"")
    assert chan.read_stderr(size=10) == (0, b"")
    assert chan.read() == (0, b"")
    finish_channel(chan)


@pytest.mark.parametrize("status", [0, 1, 3, 255])
def test_exit_status(conn, status):
    chan, out, err = run_on_channel(conn.session, "exit %d" % status)
    assert (out, err) == (b"", b"")
    assert chan.get_exit_status() == status


def test_exit_signal_none_for_normal_exit(conn):
    chan, _, _ = run_on_channel(conn.session, "exit 3")
    assert chan.get_exit_status() == 3
    assert chan.get_exit_signal() == (0, None, None, None)
    chan, _, _ = run_on_channel(conn.session, "echo x")
    assert chan.get_exit_signal() == (0, None, None, None)


def test_exit_signal_asyncssh(asyncssh_session):
    # The server sends exit-signal("TERM", core=False, "killed by test", "en").
    # libssh2 (1.10 and 1.11.1 alike) stores only the signal name: its packet
    # parser drops the message and language tag ("TODO: save error message and
    # language tag" in packet.c), and libssh2_channel_get_exit_signal always
    # hands back NULL for both.  So the binding can only return None there.
    chan, out, err = run_on_channel(asyncssh_session, "signal TERM")
    assert out == b"bye\n"
    assert err == b""
    assert chan.get_exit_signal() == (0, b"TERM", None, None)
    # no exit-status was sent: libssh2 reports 0
    assert chan.get_exit_status() == 0


def test_exit_signal_sshd(sshd_session):
    # the shell kills itself: sshd reports exit-signal TERM instead of a status
    chan, out, err = run_on_channel(sshd_session, "kill -TERM $$")
    assert (out, err) == (b"", b"")
    rc, name, message, lang = chan.get_exit_signal()
    assert (rc, name) == (0, b"TERM")
    assert message is None and lang is None
    assert chan.get_exit_status() == 0


# ---------------------------------------------------------------------------
# reading, EOF, closing
# ---------------------------------------------------------------------------

def test_read_at_eof_returns_zero_and_empty(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo abc") == 0
    assert chan.read() == (4, b"abc\n")
    for _ in range(3):
        assert chan.read() == (0, b"")
    assert chan.eof() is True
    assert chan.read_stderr() == (0, b"")
    finish_channel(chan)
    assert chan.read() == (0, b"")


def test_eof_false_until_output_read(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo abc") == 0
    assert chan.eof() is False
    assert read_channel(chan) == b"abc\n"
    assert chan.eof() is True


def test_read_keywords(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo 0123456789") == 0
    assert chan.read(size=3) == (3, b"012")
    assert chan.read_ex(size=4, stream_id=0) == (4, b"3456")
    assert chan.read_ex(size=100) == (4, b"789\n")
    assert chan.read(size=1024) == (0, b"")
    finish_channel(chan)

    chan = conn.session.open_session()
    assert chan.execute(conn.stderr_cmd("err")) == 0
    assert chan.read_ex(size=2, stream_id=1) == (2, b"er")
    assert chan.read_stderr(size=5) == (2, b"r\n")
    assert chan.read_ex(stream_id=1) == (0, b"")
    finish_channel(chan)


def test_read_one_byte_at_a_time(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo hello") == 0
    got = []
    while True:
        rc, data = chan.read(1)
        if rc == 0:
            break
        assert rc == 1 and len(data) == 1
        got.append(data)
    assert b"".join(got) == b"hello\n"


def test_read_size_zero(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo hi") == 0
    assert chan.read(0) == (0, b"")  # first call: before any read buffer exists
    assert chan.read() == (3, b"hi\n")
    assert chan.read(size=0) == (0, b"")
    finish_channel(chan)


def test_read_buffer_grows_and_shrinks(conn):
    # the channel reuses one read buffer; sizes up and down must stay exact
    chan = conn.session.open_session()
    assert chan.execute("bytes 100000" if conn.kind == "asyncssh"
                        else "head -c 100000 /dev/zero | tr '\\0' 'x'") == 0
    expected = (_pattern_bytes(0, 100000) if conn.kind == "asyncssh" else b"x" * 100000)
    got = []
    sizes = [1, 50000, 7, 1024, 3, 65536, 2]
    index = 0
    while True:
        size = sizes[index % len(sizes)]
        index += 1
        rc, data = chan.read(size)
        assert rc == len(data) <= size
        if rc == 0:
            break
        got.append(data)
    assert_same_bytes(b"".join(got), expected, "reads of varying sizes")


def test_wait_eof_close_wait_closed(conn):
    chan = conn.session.open_session()
    assert chan.execute("exit 0") == 0
    assert chan.wait_eof() == 0
    assert chan.eof() is True
    assert chan.close() == 0
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() == 0
    # closing again is harmless
    assert chan.close() == 0


def test_close_before_output_is_read(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo unread") == 0
    assert chan.close() == 0
    # libssh2 refuses wait_closed() before the remote EOF has been seen
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    # the session is still fine
    _, out, _ = run_on_channel(conn.session, "echo next")
    assert out == b"next\n"


def test_many_channels_sequential_and_concurrent(conn):
    for i in range(20):
        _, out, _ = run_on_channel(conn.session, "echo %d" % i)
        assert out == b"%d\n" % i
    chans = []
    for i in range(8):
        chan = conn.session.open_session()
        assert chan.execute("echo c%d" % i) == 0
        chans.append(chan)
    for i, chan in reversed(list(enumerate(chans))):
        assert read_channel(chan) == b"c%d\n" % i
        finish_channel(chan)
    del chans
    gc.collect()
    _, out, _ = run_on_channel(conn.session, "echo after-gc")
    assert out == b"after-gc\n"


# ---------------------------------------------------------------------------
# stdin
# ---------------------------------------------------------------------------

def test_write_and_read_back(conn):
    chan = conn.session.open_session()
    assert chan.execute("cat") == 0
    assert chan.write("h\u00e9llo\n") == (7, 7)
    assert chan.write(b"raw \x00\xff bytes\n") == (13, 13)
    assert chan.write(b"") == (0, 0)
    assert chan.write("") == (0, 0)
    assert chan.write_ex(0, b"via write_ex\n") == (13, 13)
    assert chan.write_ex(0, "str via write_ex\n") == (17, 17)
    assert chan.write(buf=b"kw\n") == (3, 3)
    assert chan.send_eof() == 0
    out = read_channel(chan)
    assert out == ("h\u00e9llo\n".encode("utf-8") + b"raw \x00\xff bytes\n"
                   + b"via write_ex\nstr via write_ex\nkw\n")
    finish_channel(chan)
    assert chan.get_exit_status() == 0


def test_write_large_blocking(conn):
    # 3 MiB is more than the 2 MiB window: write() must loop over window
    # adjustments; cat needs reading meanwhile, so write in pieces
    data = os.urandom(3 * 1024 * 1024)
    chan = conn.session.open_session()
    assert chan.execute("cat") == 0
    got = []
    piece = 256 * 1024
    for start in range(0, len(data), piece):
        chunk = data[start:start + piece]
        rc, written = chan.write(chunk)
        assert written == len(chunk)
        assert 0 < rc <= len(chunk)  # rc is the size of the last chunk libssh2 sent
        while chan.poll_channel_read(0):
            rc, out = chan.read(65536)
            assert rc == len(out) > 0
            got.append(out)
    assert chan.send_eof() == 0
    got.append(read_channel(chan))
    assert_same_bytes(b"".join(got), data, "cat echo of 3 MiB")
    finish_channel(chan)


def test_write_stderr_sshd(sshd_session):
    # OpenSSH accepts (and discards) extended data sent to a session channel.
    # (asyncssh treats it as a protocol error and drops the connection.)
    chan = sshd_session.open_session()
    assert chan.execute("cat") == 0
    rc, written = chan.write_stderr(b"to server stderr")
    assert rc > 0
    assert (rc, written) == (16, 16)
    rc, written = chan.write_stderr("str \u00e9")
    assert (rc, written) == (6, 6)
    assert chan.write_ex(1, b"ext") == (3, 3)
    assert chan.write(b"stdin still works\n") == (18, 18)
    assert chan.send_eof() == 0
    assert read_channel(chan) == b"stdin still works\n"
    assert read_channel(chan, stream_id=1) == b""
    finish_channel(chan)
    assert chan.get_exit_status() == 0


def test_write_after_send_eof_raises(conn):
    chan = conn.session.open_session()
    assert chan.execute("cat") == 0
    assert chan.send_eof() == 0
    # libssh2 refuses with LIBSSH2_ERROR_CHANNEL_EOF_SENT, before sending anything
    with pytest.raises(exceptions.ChannelEOFSentError) as info:
        chan.write(b"too late")
    assert type(info.value) is exceptions.ChannelEOFSentError
    assert read_channel(chan) == b""


# ---------------------------------------------------------------------------
# large transfers
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_random(sshd):
    """64 MiB of random data in a file the sshd user can cat, with its sha256."""
    data = os.urandom(BIG)
    path = os.path.join(sshd.dir, "channel-big.bin")  # removed with the server
    with open(path, "wb") as fobj:
        fobj.write(data)
    os.chmod(path, 0o644)
    yield path, data, hashlib.sha256(data).hexdigest()
    os.unlink(path)


@pytest.fixture(scope="module")
def big_pattern():
    """What the asyncssh ``bytes 67108864`` command sends, with its sha256."""
    data = _pattern_bytes(0, BIG)
    return data, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [1024, 256 * 1024], ids=["1KiB", "256KiB"])
def test_64mib_output_byte_exact(conn, size, request):
    if conn.kind == "sshd":
        path, expected, digest = request.getfixturevalue("big_random")
        command = "cat %s" % path
    else:
        expected, digest = request.getfixturevalue("big_pattern")
        command = "bytes %d" % BIG
    chan = conn.session.open_session()
    assert chan.execute(command) == 0
    chunks = []
    sha = hashlib.sha256()
    total = 0
    read = chan.read
    while True:
        rc, data = read(size)
        if rc == 0:
            break
        if rc != len(data) or rc > size:
            pytest.fail("read(%d) returned rc=%d with %d bytes" % (size, rc, len(data)))
        sha.update(data)
        total += rc
        chunks.append(data)
    assert total == BIG
    assert sha.hexdigest() == digest
    assert_same_bytes(b"".join(chunks), expected, "64 MiB output")
    assert chan.eof() is True
    finish_channel(chan)
    assert chan.get_exit_status() == 0


# ---------------------------------------------------------------------------
# non-blocking mode
# ---------------------------------------------------------------------------

def test_nonblocking_read_returns_eagain_until_data(conn):
    conn.session.set_blocking(False)
    chan = conn.nb(conn.session.open_session)
    assert isinstance(chan, Channel)
    command = "sleep 0.5" if conn.kind == "asyncssh" else "sleep 0.5; echo late"
    rc = conn.nb(chan.execute, command)
    assert rc == 0
    # the command sleeps: nothing can have arrived yet
    assert chan.read() == (EAGAIN, b"")
    assert chan.read_stderr() == (EAGAIN, b"")
    assert chan.read_ex(size=10, stream_id=0) == (EAGAIN, b"")
    assert chan.eof() is False
    assert conn.session.block_directions() & 1  # LIBSSH2_SESSION_BLOCK_INBOUND
    got = []
    eagains = 0
    deadline = time.monotonic() + 20
    while True:
        rc, data = chan.read()
        if rc == EAGAIN:
            assert data == b""
            eagains += 1
            assert time.monotonic() < deadline
            utils.wait_socket(conn.sock, conn.session, 1)
            continue
        assert rc == len(data)
        if rc == 0:
            break
        got.append(data)
    assert eagains >= 1
    assert chan.eof() is True
    assert b"".join(got) == (b"" if conn.kind == "asyncssh" else b"late\n")
    assert conn.nb(chan.close) == 0
    assert conn.nb(chan.wait_closed) == 0
    assert chan.get_exit_status() == 0


def test_nonblocking_1mib_byte_exact(conn, request):
    size = 1024 * 1024
    if conn.kind == "sshd":
        path, data, _ = request.getfixturevalue("big_random")
        command = "head -c %d %s" % (size, path)
        expected = data[:size]
    else:
        command = "bytes %d" % size
        expected = _pattern_bytes(0, size)
    conn.session.set_blocking(False)
    assert conn.session.get_blocking() is False
    chan = conn.nb(conn.session.open_session)
    assert isinstance(chan, Channel)
    assert conn.nb(chan.execute, command) == 0
    chunks = []
    eagains = 0
    deadline = time.monotonic() + 30
    while True:
        rc, data = chan.read(32 * 1024)
        if rc == EAGAIN:
            assert data == b""
            eagains += 1
            assert time.monotonic() < deadline
            utils.wait_socket(conn.sock, conn.session, 1)
            continue
        assert rc == len(data)
        if rc == 0:
            break
        chunks.append(data)
    # (whether any read met EAGAIN depends on timing: the data may stream in
    # faster than it is read; test_nonblocking_read_returns_eagain_until_data
    # checks EAGAIN deterministically)
    assert_same_bytes(b"".join(chunks), expected, "1 MiB non-blocking")
    assert conn.nb(chan.wait_eof) == 0
    assert conn.nb(chan.close) == 0
    assert conn.nb(chan.wait_closed) == 0
    assert chan.get_exit_status() == 0


def test_nonblocking_large_write(conn):
    data = os.urandom(8 * 1024 * 1024)  # far more than both 2 MiB windows
    session, sock = conn.session, conn.sock
    session.set_blocking(False)
    chan = conn.nb(session.open_session)
    assert isinstance(chan, Channel)
    assert conn.nb(chan.execute, "cat") == 0
    sent = 0
    pending, pending_at = data, 0
    write_results = []
    received = []
    eof_sent = False
    deadline = time.monotonic() + 60
    while True:
        progress = False
        if sent < len(data):
            if pending_at != sent:
                pending, pending_at = data[sent:], sent
            rc, written = chan.write(pending)
            write_results.append((rc, written))
            assert 0 <= written <= len(pending)
            if rc == EAGAIN:
                assert written < len(pending)
            else:
                assert written == len(pending) and 0 < rc <= written
            sent += written
            progress = written > 0
        elif not eof_sent:
            rc = chan.send_eof()
            if rc != EAGAIN:
                assert rc == 0
                eof_sent = True
                progress = True
        rc, out = chan.read(256 * 1024)
        while rc > 0:
            received.append(out)
            progress = True
            rc, out = chan.read(256 * 1024)
        if rc == 0 and eof_sent:
            assert chan.eof() is True
            break
        assert rc in (0, EAGAIN)
        assert time.monotonic() < deadline, "non-blocking cat of 8 MiB did not finish"
        if not progress:
            # wait for either direction: the write may be blocked on the
            # socket, the read on incoming data
            select.select([sock], [sock] if sent < len(data) else [], [], 0.5)
    assert sent == len(data)
    # the write could not complete in one go: there were partial writes
    partial = [written for rc, written in write_results if rc == EAGAIN]
    assert partial, "no write returned EAGAIN"
    assert any(written > 0 for written in partial)
    assert sum(written for _, written in write_results) == len(data)
    assert_same_bytes(b"".join(received), data, "8 MiB echoed by cat")
    assert conn.nb(chan.close) == 0
    assert conn.nb(chan.wait_closed) == 0
    assert chan.get_exit_status() == 0


def test_nonblocking_open_session_eagain(conn):
    # open_session() returns the int EAGAIN, never raises, until the channel
    # is open
    conn.session.set_blocking(False)
    results = []
    deadline = time.monotonic() + 20
    while True:
        chan = conn.session.open_session()
        results.append(chan)
        if not isinstance(chan, int):
            break
        assert chan == EAGAIN
        assert time.monotonic() < deadline
        utils.wait_socket(conn.sock, conn.session, 1)
    assert isinstance(results[-1], Channel)
    assert all(result == EAGAIN for result in results[:-1])
    conn.session.set_blocking(True)
    chan = results[-1]
    assert chan.execute("echo back to blocking") == 0
    assert read_channel(chan) == b"back to blocking\n"


# ---------------------------------------------------------------------------
# pty and shell
# ---------------------------------------------------------------------------

def test_pty_asyncssh(asyncssh_session):
    chan = asyncssh_session.open_session()
    assert chan.pty() == 0
    assert chan.execute("pty") == 0
    assert read_channel(chan) == b"vt100 80 24\n"
    finish_channel(chan)

    chan = asyncssh_session.open_session()
    assert chan.pty("xterm") == 0
    assert chan.execute("pty") == 0
    assert read_channel(chan) == b"xterm 80 24\n"
    finish_channel(chan)

    chan = asyncssh_session.open_session()
    assert chan.pty(term=b"xterm-256color") == 0
    assert chan.execute("pty") == 0
    assert read_channel(chan) == b"xterm-256color 80 24\n"
    finish_channel(chan)

    _, out, _ = run_on_channel(asyncssh_session, "pty")
    assert out == b"nopty\n"


def test_pty_sshd(sshd_session):
    chan = sshd_session.open_session()
    assert chan.pty("xterm") == 0
    assert chan.execute("echo $TERM; tty; stty size") == 0
    lines = read_channel(chan).split(b"\r\n")  # the pty turns \n into \r\n
    assert lines[0] == b"xterm"
    assert lines[1].startswith(b"/dev/pts/")
    assert lines[2] == b"24 80"
    finish_channel(chan)
    # without a pty
    _, out, _ = run_on_channel(sshd_session, "tty; echo $TERM")
    assert out.splitlines()[0] == b"not a tty"


def test_shell_asyncssh(asyncssh_session):
    chan = asyncssh_session.open_session()
    assert chan.shell() == 0
    assert chan.write("hello\n") == (6, 6)
    got = b""
    while not got.endswith(b"\n"):
        rc, data = chan.read()
        assert rc > 0
        got += data
    assert got == b"> hello\n"
    assert chan.write(b"second line\nexit\n") == (17, 17)
    assert read_channel(chan) == b"> second line\n"
    finish_channel(chan)
    assert chan.get_exit_status() == 0


def test_shell_sshd(sshd_session):
    chan = sshd_session.open_session()
    assert chan.shell() == 0
    assert chan.write("echo $((6*7))\nexit\n") == (19, 19)
    out = read_channel(chan)
    assert b"42" in out.split()
    finish_channel(chan)
    assert chan.get_exit_status() == 0


def test_pty_shell_sshd(sshd_session):
    chan = sshd_session.open_session()
    assert chan.pty() == 0
    assert chan.shell() == 0
    assert chan.write("echo $((6*7))\nexit 5\n") == (21, 21)
    out = read_channel(chan)
    assert b"42\r\n" in out
    finish_channel(chan)
    assert chan.get_exit_status() == 5


def test_process_startup(conn):
    chan = conn.session.open_session()
    assert chan.process_startup(b"exec", b"echo hi") == 0
    assert read_channel(chan) == b"hi\n"
    finish_channel(chan)
    chan = conn.session.open_session()
    assert chan.process_startup("exec", message="echo str args") == 0
    assert read_channel(chan) == b"str args\n"
    finish_channel(chan)


def test_process_startup_shell_without_message(asyncssh_session):
    chan = asyncssh_session.open_session()
    assert chan.process_startup(b"shell") == 0
    assert chan.write(b"x\nexit\n") == (7, 7)
    assert read_channel(chan) == b"> x\n"
    finish_channel(chan)


# ---------------------------------------------------------------------------
# terminal size and modes
# ---------------------------------------------------------------------------

ECHO_OFF = b"\x35\x00\x00\x00\x00\x00"  # RFC 4254 8: ECHO (53) = 0, then TTY_OP_END


def exec_with_pty(session, command, **pty_args):
    """Run ``command`` with a vt100 pty (``pty_args``: its size and modes); its output."""
    channel = session.open_session()
    assert channel.pty("vt100", **pty_args) == 0
    assert channel.execute(command) == 0
    out = read_channel(channel)
    channel.wait_closed()
    return out


def read_until(channel, pattern, seen, deadline=30):
    """Read from ``channel`` (blocking, with the session timeout) until the
    regular expression matches the output after offset len(seen[0])."""
    start = len(seen[0])
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        match = re.search(pattern, seen[0][start:])
        if match:
            return match
        size, data = channel.read(4096)
        assert size > 0, "the shell ended: %r" % seen[0]
        seen[0] += data
    raise AssertionError("no %r in %r" % (pattern, seen[0]))


def test_pty_default_size_is_80x24(sshd_session):
    assert exec_with_pty(sshd_session, "stty size").strip() == b"24 80"


def test_pty_size_stty_sshd(sshd_session):
    out = exec_with_pty(sshd_session, "stty size", width=132, height=43, width_px=1056,
                        height_px=688)
    assert out.strip() == b"43 132"


def test_pty_modes_sshd(sshd_session):
    assert re.search(rb"(^|\s)echo(\s|$)", exec_with_pty(sshd_session, "stty -a"))
    out = exec_with_pty(sshd_session, "stty -a", modes=ECHO_OFF)
    assert re.search(rb"(^|\s)-echo(\s|$)", out), out


def test_pty_resize_stty_sshd(sshd_session):
    channel = sshd_session.open_session()
    assert channel.pty("xterm", width=100, height=30) == 0
    assert channel.shell() == 0
    seen = [b""]
    # the marker is split in the command so that the echoed command line
    # itself does not match
    command = b'echo "S""Z:$(stty size):"\n'
    channel.write(command)
    assert read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"30", b"100")
    assert channel.pty_resize(120, 50) == 0
    channel.write(command)
    assert read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"50", b"120")
    assert channel.pty_resize(77, 11, 616, 198) == 0
    channel.write(command)
    assert read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"11", b"77")
    channel.write(b"exit\n")
    channel.wait_eof()
    channel.close()
    channel.wait_closed()


def test_pty_pixels_and_modes_asyncssh(asyncssh_session):
    # OpenSSH's stty cannot show pixel sizes, nor the modes as received
    out = exec_with_pty(asyncssh_session, "ptyinfo", width=90, height=33, width_px=720,
                        height_px=528, modes=ECHO_OFF)
    assert out.strip() == b"vt100 90 33 720 528 53=0"
    out = exec_with_pty(asyncssh_session, "ptyinfo")
    assert out.strip() == b"vt100 80 24 0 0 -"


def test_pty_resize_pixels_asyncssh(asyncssh_session):
    channel = asyncssh_session.open_session()
    assert channel.pty("xterm") == 0
    assert channel.execute("winch") == 0
    seen = [b""]
    read_until(channel, rb"ready", seen)
    assert channel.pty_resize(132, 43, 1056, 688) == 0
    assert read_until(channel, rb"(\d+) (\d+) (\d+) (\d+)", seen).groups() == (
        b"132", b"43", b"1056", b"688")
    read_channel(channel)
    channel.wait_closed()


def test_pty_bad_arguments(sshd_session):
    channel = sshd_session.open_session()
    with pytest.raises(TypeError):
        channel.pty(width="80")
    # Integers follow the one rule of ssh2cffi._ints (as Cython's C ints of
    # ssh2-python): a float is truncated, but None and str are refused.
    with pytest.raises(TypeError, match="height"):
        channel.pty(height=None)
    with pytest.raises(ValueError, match="width must be at least 0"):
        channel.pty(width=-1)
    with pytest.raises(OverflowError, match="height_px"):
        channel.pty(height_px=2 ** 31)
    with pytest.raises(TypeError):
        channel.pty(modes="echo")
    with pytest.raises(TypeError):
        channel.pty("vt100", 80)  # sizes are keyword-only
    with pytest.raises(TypeError):
        channel.pty_resize("80", 24)
    with pytest.raises(ValueError):
        channel.pty_resize(80, -24)
    with pytest.raises(TypeError, match="width"):
        channel.pty_resize(None, 24)
    # nothing was sent: the channel still works
    assert channel.pty(width=10, height=5) == 0
    assert channel.execute("stty size") == 0
    assert read_channel(channel).strip() == b"5 10"


def test_pty_resize_after_disconnect_raises(sshd):
    session, sock, _user = login("sshd", sshd)
    channel = session.open_session()
    channel.pty()
    logout(session, sock)
    with pytest.raises(exceptions.SocketDisconnectError):
        channel.pty_resize(100, 40)
    with pytest.raises(exceptions.SocketDisconnectError):
        channel.pty(width=100)


# ---------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------

def test_setenv_sshd(sshd_session):
    chan = sshd_session.open_session()
    assert chan.setenv("SSH2CFFI_X", "v") == 0
    assert chan.setenv(b"SSH2CFFI_B", b"bytes value") == 0
    assert chan.setenv(varname="SSH2CFFI_U", value="h\u00e9llo") == 0
    assert chan.execute('echo "$SSH2CFFI_X|$SSH2CFFI_B|$SSH2CFFI_U"') == 0
    assert read_channel(chan) == b"v|bytes value|h\xc3\xa9llo\n"
    finish_channel(chan)


def test_setenv_not_accepted_sshd(sshd_session):
    chan = sshd_session.open_session()
    with pytest.raises(exceptions.ChannelRequestDenied) as info:
        chan.setenv("NOT_ACCEPTED_BY_SSHD", "x")
    assert isinstance(info.value, exceptions.ChannelError)
    assert isinstance(info.value, exceptions.SSH2Error)
    # the channel is still usable after a denied request
    assert chan.execute('echo "[$NOT_ACCEPTED_BY_SSHD]"') == 0
    assert read_channel(chan) == b"[]\n"
    finish_channel(chan)


def test_setenv_asyncssh(asyncssh_session):
    chan = asyncssh_session.open_session()
    assert chan.setenv("FOO", "bar") == 0
    assert chan.execute("env FOO") == 0
    assert read_channel(chan) == b"bar\n"
    finish_channel(chan)
    _, out, _ = run_on_channel(asyncssh_session, "env FOO")
    assert out == b"unset\n"


# ---------------------------------------------------------------------------
# subsystems
# ---------------------------------------------------------------------------

def test_subsystem_sftp(conn):
    chan = conn.session.open_session()
    assert chan.subsystem("sftp") == 0
    msg_type, payload = sftp_init_reply(chan)
    assert msg_type == 2  # SSH_FXP_VERSION
    assert int.from_bytes(payload[:4], "big") == 3
    assert chan.send_eof() == 0
    assert chan.close() == 0
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0


def test_subsystem_sftp_bytes(sshd_session):
    chan = sshd_session.open_session()
    assert chan.subsystem(subsystem=b"sftp") == 0
    assert sftp_init_reply(chan)[0] == 2


def test_unknown_subsystem_refused(conn):
    chan = conn.session.open_session()
    with pytest.raises(exceptions.ChannelRequestDenied) as info:
        chan.subsystem("no-such-subsystem")
    # both servers answer CHANNEL_FAILURE to the request: libssh2 reports it
    # as LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED
    assert type(info.value) is exceptions.ChannelRequestDenied
    assert isinstance(info.value, exceptions.ChannelError)
    assert "REQUEST_DENIED" in str(info.value)
    # libssh2 allows one exec/shell/subsystem request per channel, even a failed one
    with pytest.raises(exceptions.BadUseError):
        chan.execute("echo ok")
    # the session is fine
    _, out, _ = run_on_channel(conn.session, "echo ok")
    assert out == b"ok\n"


# ---------------------------------------------------------------------------
# flush, windows, extended data, polling
# ---------------------------------------------------------------------------

def test_flush(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo flushed") == 0
    assert chan.wait_eof() == 0  # all data is queued in libssh2 now
    assert chan.flush() == 8  # the number of bytes discarded
    assert chan.read() == (0, b"")
    assert chan.flush() == 0
    assert chan.flush_ex(0) == 0
    assert chan.flush_stderr() == 0

    chan = conn.session.open_session()
    assert chan.execute(conn.stderr_cmd("errdata")) == 0
    assert chan.wait_eof() == 0
    assert chan.flush_stderr() == 8
    assert chan.read_stderr() == (0, b"")

    chan = conn.session.open_session()
    assert chan.execute(conn.stderr_cmd("err")) == 0
    assert chan.wait_eof() == 0
    assert chan.flush_ex(stream_id=1) == 4
    assert chan.read_stderr() == (0, b"")


def test_windows(conn):
    chan = conn.session.open_session()
    for value in (chan.window_read(), chan.window_read_ex(0, 0)):
        assert type(value) is int and value > 0
    assert chan.window_read_ex(read_avail=1, window_size_initial=1) == chan.window_read()
    # OpenSSH opens session channels with a zero window until a command runs
    assert chan.window_write() >= 0
    assert chan.window_write_ex(0) == chan.window_write()
    before = chan.window_read()
    # small and not forced: queued, the window stays as it is
    assert chan.receive_window_adjust2(10, False) == 0
    assert chan.window_read() == before
    # forced: the window grows by exactly the adjustment
    rc = chan.receive_window_adjust2(4096, True)
    assert rc >= 0
    # (the queued 10 bytes go out with it)
    assert chan.window_read() == before + 10 + 4096
    assert chan.execute("cat") == 0
    assert chan.write(b"x") == (1, 1)  # waits for the server's window
    assert chan.read() == (1, b"x")
    for value in (chan.window_write(), chan.window_write_ex(0),
                  chan.window_write_ex(window_size_initial=5)):
        assert type(value) is int and value > 0
    assert chan.window_write_ex(0) == chan.window_write()
    assert chan.send_eof() == 0
    assert read_channel(chan) == b""
    finish_channel(chan)


def test_handle_extended_data2_merge(conn):
    chan = conn.session.open_session()
    assert chan.handle_extended_data2(LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE) == 0
    assert chan.execute(conn.stderr_cmd("merged")) == 0
    assert read_channel(chan) == b"merged\n"
    assert chan.read_stderr() == (0, b"")
    finish_channel(chan)


def test_handle_extended_data2_merge_sshd_both_streams(sshd_session):
    chan = sshd_session.open_session()
    assert chan.handle_extended_data2(ignore_mode=LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE) == 0
    assert chan.execute("echo out; echo err >&2") == 0
    assert sorted(read_channel(chan).splitlines()) == [b"err", b"out"]
    finish_channel(chan)


def test_handle_extended_data2_ignore_and_normal(conn):
    chan = conn.session.open_session()
    assert chan.handle_extended_data2(LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE) == 0
    assert chan.execute(conn.stderr_cmd("dropped")) == 0
    assert read_channel(chan) == b""
    assert chan.read_stderr() == (0, b"")
    finish_channel(chan)

    chan = conn.session.open_session()
    assert chan.handle_extended_data2(LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL) == 0
    assert chan.execute(conn.stderr_cmd("kept")) == 0
    assert read_channel(chan) == b""
    assert read_channel(chan, stream_id=1) == b"kept\n"
    finish_channel(chan)


def test_poll_channel_read(conn):
    chan = conn.session.open_session()
    assert chan.poll_channel_read(0) in (0, 1)
    assert chan.execute("echo polled") == 0
    assert chan.wait_eof() == 0  # the data packet is queued now
    assert chan.poll_channel_read(0) == 1
    assert chan.read(1) == (1, b"p")
    assert chan.poll_channel_read(0) == 1  # the rest of the packet
    assert read_channel(chan) == b"olled\n"
    assert chan.poll_channel_read(0) == 0
    assert chan.poll_channel_read(extended=1) == 0

    chan = conn.session.open_session()
    assert chan.execute(conn.stderr_cmd("e")) == 0
    assert chan.wait_eof() == 0
    assert chan.poll_channel_read(1) == 1
    assert read_channel(chan, stream_id=1) == b"e\n"
    assert chan.poll_channel_read(1) == 0


# ---------------------------------------------------------------------------
# X11, agent forwarding, signals
# ---------------------------------------------------------------------------

def test_x11_req_sshd(sshd_session):
    # the sshd fixture has X11Forwarding yes: sshd accepts and sets DISPLAY.
    # sshd's xauth may write to stderr ("~/.Xauthority does not exist" in a
    # fresh home): it is read too, since libssh2_channel_eof() stays false
    # while any stream of the channel has unread data.
    chan = sshd_session.open_session()
    assert chan.x11_req(0) == 0
    assert chan.execute("echo $DISPLAY") == 0
    assert read_channel(chan).startswith(b"localhost:")
    read_channel(chan, stream_id=1)
    finish_channel(chan)

    chan = sshd_session.open_session()
    assert chan.x11_req_ex(0, b"MIT-MAGIC-COOKIE-1", b"0123456789abcdef" * 2, 0) == 0
    assert chan.execute("echo $DISPLAY") == 0
    assert read_channel(chan).startswith(b"localhost:")
    read_channel(chan, stream_id=1)
    finish_channel(chan)


def test_x11_req_asyncssh_refused(asyncssh_session):
    chan = asyncssh_session.open_session()
    with pytest.raises(exceptions.ChannelRequestDenied):
        chan.x11_req(screen_number=0)
    assert chan.execute("echo fine") == 0
    assert read_channel(chan) == b"fine\n"


def test_request_auth_agent(conn):
    # Both servers accept the request even though this client has no agent;
    # sshd then creates an agent socket and exports SSH_AUTH_SOCK.
    chan = conn.session.open_session()
    assert chan.request_auth_agent() == 0
    if conn.kind == "sshd":
        assert chan.execute("echo $SSH_AUTH_SOCK") == 0
        out = read_channel(chan)
        assert out.startswith(b"/") and b"agent" in out
    else:
        assert chan.execute("echo agent") == 0
        assert read_channel(chan) == b"agent\n"
    finish_channel(chan)


@only_libssh2_1_10
def test_signal_needs_libssh2_1_11(conn):
    chan = conn.session.open_session()
    assert chan.execute("echo x") == 0
    with pytest.raises(NotImplementedError) as info:
        chan.signal("TERM")
    assert "1.11" in str(info.value)
    with pytest.raises(NotImplementedError):
        chan.signal(signame=b"KILL")
    assert read_channel(chan) == b"x\n"


@needs_libssh2_1_11
def test_signal_asyncssh(asyncssh_session):
    # asyncssh delivers the signal to the `cat` command's stdin reader as
    # SignalReceived, which the test server reports on stderr with status 1
    chan = asyncssh_session.open_session()
    assert chan.execute("cat") == 0
    assert chan.write(b"before\n") == (7, 7)
    assert chan.read() == (7, b"before\n")
    assert chan.signal("TERM") == 0
    assert read_channel(chan) == b""
    err = read_channel(chan, stream_id=1)
    assert b"SignalReceived" in err and b"TERM" in err
    finish_channel(chan)
    assert chan.get_exit_status() == 1


@needs_libssh2_1_11
def test_signal_sshd(sshd_session, sshd):
    if sshd_login(sshd) == "root":
        pytest.skip("OpenSSH ignores channel signals for root")
    chan = sshd_session.open_session()
    assert chan.execute("echo started; sleep 20; echo done") == 0
    assert chan.read() == (8, b"started\n")
    assert chan.signal(b"TERM") == 0
    assert read_channel(chan) == b""  # killed before "done"
    finish_channel(chan)
    assert chan.get_exit_signal() == (0, b"TERM", None, None)


@needs_libssh2_1_11
def test_signal_sshd_root(sshd_root_session):
    # OpenSSH accepts the request for root but may ignore it ("session
    # signalling requires privilege separation")
    chan = sshd_root_session.open_session()
    assert chan.execute("sleep 0.5; echo done") == 0
    assert chan.signal("TERM") == 0
    assert chan.signal(signame="INT") == 0
    assert read_channel(chan) in (b"", b"done\n")
    finish_channel(chan)


def test_exec_as_root(sshd_root_session, sshd):
    chan, out, _ = run_on_channel(sshd_root_session, "id -u; echo $USER")
    assert out == b"0\n%s\n" % sshd.user.encode()
    assert chan.get_exit_status() == 0


# ---------------------------------------------------------------------------
# object model
# ---------------------------------------------------------------------------

def test_channel_session_property(conn):
    chan = conn.session.open_session()
    assert chan.session is conn.session
    with pytest.raises(AttributeError):
        chan.session = Session()
    with pytest.raises(AttributeError):
        chan.some_new_attribute = 1


def _all_calls():
    """(name, call) for every Channel method, with valid arguments."""
    return [
        ("pty", lambda c: c.pty()),
        ("execute", lambda c: c.execute("echo x")),
        ("subsystem", lambda c: c.subsystem("sftp")),
        ("shell", lambda c: c.shell()),
        ("process_startup", lambda c: c.process_startup(b"exec", b"echo x")),
        ("setenv", lambda c: c.setenv("SSH2CFFI_X", "v")),
        ("request_auth_agent", lambda c: c.request_auth_agent()),
        ("x11_req", lambda c: c.x11_req(0)),
        ("x11_req_ex", lambda c: c.x11_req_ex(0, b"MIT-MAGIC-COOKIE-1", b"00", 0)),
        ("read", lambda c: c.read()),
        ("read_ex", lambda c: c.read_ex(10, 0)),
        ("read_stderr", lambda c: c.read_stderr()),
        ("eof", lambda c: c.eof()),
        ("poll_channel_read", lambda c: c.poll_channel_read(0)),
        ("write", lambda c: c.write(b"x")),
        ("write_empty", lambda c: c.write(b"")),
        ("write_ex", lambda c: c.write_ex(0, b"x")),
        ("write_stderr", lambda c: c.write_stderr(b"x")),
        ("flush", lambda c: c.flush()),
        ("flush_ex", lambda c: c.flush_ex(0)),
        ("flush_stderr", lambda c: c.flush_stderr()),
        ("send_eof", lambda c: c.send_eof()),
        ("wait_eof", lambda c: c.wait_eof()),
        ("close", lambda c: c.close()),
        ("wait_closed", lambda c: c.wait_closed()),
        ("get_exit_status", lambda c: c.get_exit_status()),
        ("get_exit_signal", lambda c: c.get_exit_signal()),
        ("window_read", lambda c: c.window_read()),
        ("window_read_ex", lambda c: c.window_read_ex(0, 0)),
        ("window_write", lambda c: c.window_write()),
        ("window_write_ex", lambda c: c.window_write_ex(0)),
        ("receive_window_adjust2", lambda c: c.receive_window_adjust2(100, True)),
        ("handle_extended_data2", lambda c: c.handle_extended_data2(0)),
        ("signal", lambda c: c.signal("TERM")),
    ]


def _expect_error(call, chan, cls):
    """``call(chan)`` raises ``cls``; signal() on libssh2 < 1.11 raises
    NotImplementedError before looking at the channel."""
    name, func = call
    expected = NotImplementedError if name == "signal" and not HAS_LIBSSH2_1_11 else cls
    with pytest.raises(expected):
        func(chan)


def test_channel_built_directly_raises_bad_use():
    # as ssh2-python allows: Channel(session) wraps no libssh2 channel
    for session in (Session(),):
        chan = Channel(session)
        assert chan.session is session
        for call in _all_calls():
            _expect_error(call, chan, exceptions.BadUseError)
        with chan as entered:  # __exit__ must not raise either
            assert entered is chan
        del chan
        gc.collect()


def test_channel_built_directly_on_connected_session(sshd_session):
    chan = Channel(sshd_session)
    assert chan.session is sshd_session
    for call in _all_calls():
        _expect_error(call, chan, exceptions.BadUseError)
    del chan
    gc.collect()
    _, out, _ = run_on_channel(sshd_session, "echo still fine")
    assert out == b"still fine\n"


def test_channel_constructor_type_checks():
    with pytest.raises(TypeError):
        Channel(123)
    with pytest.raises(TypeError):
        Channel(None)
    with pytest.raises(TypeError):
        Channel()


def test_context_manager(conn):
    with conn.session.open_session() as chan:
        assert isinstance(chan, Channel)
        assert chan.execute("echo in context") == 0
        assert read_channel(chan) == b"in context\n"
    # __exit__ closed the channel
    assert chan.eof() is True
    assert chan.read() == (0, b"")
    assert chan.wait_closed() == 0
    assert chan.get_exit_status() == 0


def test_context_manager_exception_propagates(conn):
    with pytest.raises(KeyError):
        with conn.session.open_session() as chan:
            assert chan.execute("cat") == 0
            raise KeyError("boom")
    # closed by __exit__; libssh2 wants the remote EOF before wait_closed()
    assert chan.wait_eof() == 0
    assert chan.wait_closed() == 0
    _, out, _ = run_on_channel(conn.session, "echo after")
    assert out == b"after\n"


# ---------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------

def test_bad_arguments(conn):
    chan = conn.session.open_session()
    with pytest.raises(TypeError):
        chan.read(size="x")
    with pytest.raises(TypeError):
        chan.read(None)
    with pytest.raises(TypeError):
        chan.read_ex(size="x", stream_id=0)
    with pytest.raises(TypeError):
        chan.read_stderr("1")
    with pytest.raises((OverflowError, ValueError)):
        chan.read(-1)
    with pytest.raises((OverflowError, ValueError)):
        chan.read_ex(size=-5)
    with pytest.raises(TypeError):
        chan.execute(123)
    with pytest.raises(TypeError):
        chan.execute(None)
    with pytest.raises(TypeError):
        chan.write(123)
    with pytest.raises(TypeError):
        chan.write(None)
    with pytest.raises(TypeError):
        chan.write_ex(0, 1.5)
    with pytest.raises(TypeError):
        chan.write_stderr(object())
    with pytest.raises(TypeError):
        chan.setenv(None, "x")
    with pytest.raises(TypeError):
        chan.setenv("SSH2CFFI_X", 7)
    with pytest.raises(TypeError):
        chan.pty(123)
    with pytest.raises(TypeError):
        chan.subsystem(None)
    with pytest.raises(TypeError):
        chan.process_startup(None)
    with pytest.raises(TypeError):
        chan.signal(15)
    # the channel is unharmed by all of the above
    assert chan.execute("echo unharmed") == 0
    assert read_channel(chan) == b"unharmed\n"
    # a negative read size after the read buffer exists
    with pytest.raises((OverflowError, ValueError)):
        chan.read(-1)
    finish_channel(chan)


# ---------------------------------------------------------------------------
# after disconnect
# ---------------------------------------------------------------------------

def test_methods_after_disconnect_raise(conn):
    session = conn.session
    idle = session.open_session()
    busy = session.open_session()
    assert busy.execute("cat") == 0
    assert busy.write(b"abc") == (3, 3)
    done, out, _ = run_on_channel(session, "echo done")
    assert out == b"done\n"
    assert session.disconnect() == 0
    for chan in (idle, busy, done):
        for call in _all_calls():
            _expect_error(call, chan, exceptions.SocketDisconnectError)
        assert chan.session is session
    # leaving a with-block after disconnect does not raise
    with busy:
        pass
    with pytest.raises(exceptions.SocketDisconnectError):
        session.open_session()
    del idle, busy, done
    gc.collect()


def test_disconnect_then_drop_channel_does_not_hang(conn):
    # the channel is freed after its session disconnected and its socket was
    # closed: nothing may touch the (possibly reused) file descriptor
    chan = conn.session.open_session()
    assert chan.execute("cat") == 0
    assert conn.session.disconnect() == 0
    conn.sock.close()
    del chan
    gc.collect()
    other = Connection(conn.kind, conn.server)
    try:
        _, out, _ = run_on_channel(other.session, "echo new connection")
        assert out == b"new connection\n"
    finally:
        other.close()
