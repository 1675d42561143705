"""Session message callbacks (SSH_MSG_DEBUG, IGNORE, DISCONNECT) and libssh2's
packet read timeout, against real servers.

The asyncssh fixture sends each message on request (its ``debug``, ``ignore``
and ``disconnect`` commands); sshd disconnects by itself after too many failed
logins.  The read-timeout tests make sshd's SFTP server slow for real: it
opens a FIFO, which blocks until the test opens the FIFO's writing end.
"""
import errno
import logging
import os
import time

import pytest

from helpers import (NB_DEADLINE, Connection, connect, logout, needs_libssh2_1_11,
                     only_libssh2_1_10, finish_channel, read_channel, run_on_channel, sshd_login)
from ssh2cffi import exceptions, utils
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session
from ssh2cffi.sftp import LIBSSH2_FXF_READ

SSH_DISCONNECT_PROTOCOL_ERROR = 2
SSH_DISCONNECT_BY_APPLICATION = 11


class Recorder:
    """A callback that records its arguments, and raises ``error`` if given one."""

    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def __call__(self, *args):
        self.calls.append(args)
        if self.error is not None:
            raise self.error


def test_debug_message_reaches_the_callback(asyncssh_conn):
    debug = Recorder()
    asyncssh_conn.session.set_debug_callback(debug)
    output = run_on_channel(asyncssh_conn.session, "debug the server says hello")
    assert output[1] == b"sent\n"
    # asyncssh sends its debug message before the command's output, so the
    # read that returned the output has processed it
    assert debug.calls == [(True, "the server says hello", "en-US")]


def test_ignore_message_reaches_the_callback(asyncssh_conn):
    ignored = Recorder()
    asyncssh_conn.session.set_ignore_callback(ignored)
    output = run_on_channel(asyncssh_conn.session, "ignore padding \u00e9")
    assert output[1] == b"sent\n"
    # asyncssh also sends empty SSH_MSG_IGNOREs of its own (as traffic padding)
    assert ("padding \u00e9".encode(),) in ignored.calls
    assert set(ignored.calls) <= {("padding \u00e9".encode(),), (b"",)}


def test_removed_callback_is_not_called(asyncssh_conn):
    debug = Recorder()
    asyncssh_conn.session.set_debug_callback(debug)
    asyncssh_conn.session.set_debug_callback(None)
    assert run_on_channel(asyncssh_conn.session, "debug unheard")[1] == b"sent\n"
    assert debug.calls == []


@pytest.fixture
def doomed_conn(asyncssh_server):
    """A Connection to asyncssh that the test has the server disconnect: closing
    it afterwards only closes the socket."""
    conn = Connection("asyncssh", asyncssh_server)
    yield conn
    conn.sock.close()


def _read_until_disconnected(session, channel):
    """Read the channel, then ask the server for something: the server's output,
    EOF and SSH_MSG_DISCONNECT may arrive in one read or several, and whichever
    call reads the disconnect raises."""
    assert read_channel(channel) == b"bye\n"
    session.open_session()
    pytest.fail("the session is still connected")


def test_disconnect_reason_and_description_reach_the_callback(doomed_conn):
    goodbye = Recorder()
    doomed_conn.session.set_disconnect_callback(goodbye)
    channel = doomed_conn.session.open_session()
    channel.execute("disconnect 11 down for maintenance")
    with pytest.raises(exceptions.SocketDisconnectError):
        _read_until_disconnected(doomed_conn.session, channel)
    assert goodbye.calls == [(SSH_DISCONNECT_BY_APPLICATION, "down for maintenance", "en-US")]


def test_sshd_says_why_it_disconnects(sshd):
    """sshd ends the connection after MaxAuthTries (6) failed logins, saying so."""
    session, sock = connect(sshd)
    goodbye = Recorder()
    session.set_disconnect_callback(goodbye)
    try:
        for _attempt in range(10):
            try:
                session.userauth_password(sshd_login(sshd), "not the password")
            except exceptions.SocketDisconnectError:
                break
            except exceptions.AuthenticationError:
                continue
        else:
            pytest.fail("sshd never disconnected")
        assert len(goodbye.calls) == 1, goodbye.calls
        reason, description, _language = goodbye.calls[0]
        assert reason == SSH_DISCONNECT_PROTOCOL_ERROR
        assert "Too many authentication failures" in description
    finally:
        logout(session, sock)


def test_exception_in_the_disconnect_callback_is_raised_by_the_failing_read(doomed_conn):
    doomed_conn.session.set_disconnect_callback(Recorder(error=KeyError("from the callback")))
    channel = doomed_conn.session.open_session()
    channel.execute("disconnect 11 bye")
    with pytest.raises(KeyError, match="from the callback") as info:
        _read_until_disconnected(doomed_conn.session, channel)
    # libssh2's own error is not lost either
    assert isinstance(info.value.__context__, exceptions.SocketDisconnectError)


def test_exception_in_the_debug_callback_is_raised_by_the_next_call(asyncssh_conn, caplog):
    """The call that processed the message returns its own result; the next call
    on the session or one of its objects raises the exception, once."""
    session = asyncssh_conn.session
    session.set_debug_callback(Recorder(error=ValueError("bad debug")))
    channel = session.open_session()
    raised = []
    output = b""
    with caplog.at_level(logging.ERROR, logger="ssh2cffi"):
        channel.execute("debug boom")  # the message may arrive during this call
        while True:
            try:
                rc, data = channel.read()
            except ValueError as exc:
                raised.append(exc)
                continue
            if rc == 0:
                break
            output += data
    assert [str(exc) for exc in raised] == ["bad debug"]
    assert output == b"sent\n"  # no data lost
    assert "debug callback raised" in caplog.text
    finish_channel(channel)
    assert run_on_channel(session, "echo after")[1] == b"after\n"


def test_callback_setters_reject_what_is_not_callable():
    session = Session()
    for setter in (session.set_debug_callback, session.set_ignore_callback,
                   session.set_disconnect_callback):
        with pytest.raises(TypeError, match="callable"):
            setter("not callable")
        setter(None)


# -- read timeout ------------------------------------------------------------------------

@pytest.fixture
def slow_fifo(sshd):
    """A FIFO in a directory the sshd login user can read: opening it over SFTP
    blocks sshd's SFTP server until ``release()`` opens the writing end."""
    path = os.path.join(sshd.dir, "slow-%d.fifo" % os.getpid())
    os.mkfifo(path, 0o666)
    os.chmod(path, 0o666)

    def release():
        """Open (and close) the writing end once the server is waiting in open().
        True when the server was waiting; False when it is not (yet)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # no reader yet
                return False
            raise
        os.close(fd)
        return True

    yield path, release
    os.unlink(path)


def _open_non_blocking(conn, sftp, path, release_after=None, release=None):
    """sftp.open(path) on a non-blocking session until it stops returning EAGAIN;
    after ``release_after`` seconds, release the server's open()."""
    started = time.monotonic()
    while True:
        handle = sftp.open(path, LIBSSH2_FXF_READ, 0)
        if handle != LIBSSH2_ERROR_EAGAIN:
            return handle, time.monotonic() - started
        elapsed = time.monotonic() - started
        assert elapsed < NB_DEADLINE, "open kept returning EAGAIN"
        if release_after is not None and elapsed >= release_after:
            release()
        utils.wait_socket(conn.sock, conn.session, 0.2)


@needs_libssh2_1_11
def test_read_timeout_default_and_setting(sshd_conn):
    session = sshd_conn.session
    assert session.get_read_timeout() == 60
    session.set_read_timeout(5)
    assert session.get_read_timeout() == 5
    session.set_read_timeout(0)  # libssh2's default again
    assert session.get_read_timeout() == 60
    with pytest.raises(ValueError):
        session.set_read_timeout(-1)
    with pytest.raises(TypeError):
        session.set_read_timeout("5")


@needs_libssh2_1_11
def test_short_read_timeout_fails_a_slow_sftp_reply(sshd_conn, slow_fifo):
    path, release = slow_fifo
    session = sshd_conn.session
    sftp = session.sftp_init()
    session.set_read_timeout(1)
    session.set_blocking(False)
    try:
        with pytest.raises(exceptions.Timeout):
            _open_non_blocking(sshd_conn, sftp, path)
    finally:
        # let the server finish its open() so the connection closes cleanly
        deadline = time.monotonic() + NB_DEADLINE
        while not release():
            assert time.monotonic() < deadline, "the server never opened the FIFO"
            time.sleep(0.01)


@needs_libssh2_1_11
def test_longer_read_timeout_lets_a_slow_sftp_reply_arrive(sshd_conn, slow_fifo):
    """The server answers after 3 s: with a 1 s read timeout this fails (above),
    with 30 s it succeeds."""
    path, release = slow_fifo
    session = sshd_conn.session
    sftp = session.sftp_init()
    session.set_read_timeout(30)
    session.set_blocking(False)
    handle, elapsed = _open_non_blocking(sshd_conn, sftp, path, release_after=3,
                                         release=release)
    assert elapsed >= 3
    assert sshd_conn.nb(handle.close) == 0


@only_libssh2_1_10
def test_read_timeout_needs_1_11():
    session = Session()
    with pytest.raises(NotImplementedError, match=r"set_read_timeout.*1\.11\.0"):
        session.set_read_timeout(5)
    with pytest.raises(NotImplementedError, match=r"get_read_timeout.*1\.11\.0"):
        session.get_read_timeout()
