"""Network faults: a dropped, silent or garbling peer raises, within bounded time.

The asyncssh fixture produces the faults on demand (see servers.AsyncSSHServer:
users dropauth/hangauth/garbageauth, commands drop/freeze/garbage/drop-after,
SFTP files dropread*/dropwrite*/freezeread*, and a server whose every
handshake fails); for the real server, sshd's per-connection process is
killed in the middle of a transfer.

Every scenario runs blocking (with set_timeout, so a silent peer raises
Timeout) and non-blocking (EAGAIN is returned at once; the caller's wait
gives up).  Each must end with an exception or an error code the caller can
tell from success: a read loop never ends with (0, b"") as if the data were
complete, and eof() stays False.
"""
import os
import threading
import time

import pytest

from helpers import login, logout
from servers import AsyncSSHServer
from ssh2cffi import exceptions
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_WRITE
from ssh2cffi.utils import wait_socket

#: libssh2's timeout for blocking calls in these tests (milliseconds).
TIMEOUT_MS = 1500
#: Upper bound for any fault to surface (seconds); generous for a loaded machine.
BOUND = 30
MODES = ("blocking", "nonblocking")
#: Each scenario runs this many times (scripts/stress.sh raises it).
ROUNDS = int(os.environ.get("SSH2CFFI_FAULT_ROUNDS", "1"))


@pytest.fixture(params=range(ROUNDS), autouse=True)
def fault_round(request):
    """Repeats every test of this module ROUNDS times."""
    return request.param
#: What a broken connection may raise: the peer went away, the stream broke,
#: or (SSH2Error itself) libssh2's LIBSSH2_ERROR_SOCKET_NONE during the key exchange.
BROKEN = (exceptions.SocketDisconnectError, exceptions.SocketRecvError,
          exceptions.SocketSendError, exceptions.OutOfBoundaryError,
          exceptions.KeyExchangeError, exceptions.SFTPProtocolError,
          exceptions.SSH2Error)


class Silent(Exception):
    """Non-blocking: the peer sent nothing while the caller waited (no hang, no data)."""


def drive(sock, session, mode, call, *args, wait=3.0):
    """``call(*args)``; non-blocking: again after each EAGAIN until it is not, or
    until the peer has said nothing for ``wait`` seconds (raises Silent)."""
    if mode == "blocking":
        return call(*args)
    while True:
        result = call(*args)
        again = (result == LIBSSH2_ERROR_EAGAIN if isinstance(result, int)
                 else isinstance(result, tuple) and result[0] == LIBSSH2_ERROR_EAGAIN)
        if not again:
            return result
        ready = wait_socket(sock, session, wait)
        if ready != 0 and not any(ready):
            raise Silent("no answer for %ss" % wait)


def timed(func):
    """(result or exception, seconds)."""
    start = time.monotonic()
    try:
        outcome = func()
    except Exception as exc:  # the outcome under test
        outcome = exc
    return outcome, time.monotonic() - start


def new_session(server, mode):
    sock = server.connect_socket()
    session = Session()
    session.set_timeout(TIMEOUT_MS)
    if mode == "nonblocking":
        session.set_blocking(False)
    return session, sock


def authed(server, mode):
    session, sock = new_session(server, mode)
    drive(sock, session, mode, session.handshake, sock)
    drive(sock, session, mode, session.userauth_password, "user", "pass")
    return session, sock


def read_all(sock, session, mode, read, size=65536):
    """Read until the call reports the end or fails: (data, final rc or exception)."""
    data = []
    while True:
        try:
            rc, chunk = drive(sock, session, mode, read, size)
        except Exception as exc:
            return b"".join(data), exc
        if rc <= 0:
            return b"".join(data), rc
        data.append(chunk)


def assert_failed(outcome, seconds, allowed, mode):
    """The fault surfaced as an exception of ``allowed`` (or Silent, non-blocking) in time."""
    assert seconds < BOUND, "took %.1fs" % seconds
    if mode == "nonblocking":
        allowed = allowed + (Silent,)
    assert isinstance(outcome, allowed), "got %r" % (outcome,)


# -- handshake -------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["drop", "hang", "garbage"])
def broken_handshake(request):
    server = AsyncSSHServer(handshake_fault=request.param)
    server.start()
    try:
        yield request.param, server
    finally:
        server.stop()


@pytest.mark.parametrize("mode", MODES)
def test_handshake_fault(broken_handshake, mode):
    fault, server = broken_handshake
    session, sock = new_session(server, mode)
    try:
        outcome, seconds = timed(lambda: drive(sock, session, mode, session.handshake, sock))
        expected = (exceptions.Timeout,) if fault == "hang" else BROKEN
        assert_failed(outcome, seconds, expected, mode)
        assert not session.userauth_authenticated()
    finally:
        sock.close()


# -- authentication --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("user", ["dropauth", "hangauth", "garbageauth"])
def test_auth_fault(asyncssh_server, mode, user):
    session, sock = new_session(asyncssh_server, mode)
    try:
        drive(sock, session, mode, session.handshake, sock)
        outcome, seconds = timed(
            lambda: drive(sock, session, mode, session.userauth_password, user, "pass"))
        expected = (exceptions.Timeout,) if user == "hangauth" else BROKEN
        assert_failed(outcome, seconds, expected, mode)
        assert not session.userauth_authenticated()
    finally:
        sock.close()


# -- exec read and write ---------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", ["drop", "freeze", "garbage"])
def test_exec_read_fault(asyncssh_server, mode, command):
    session, sock = authed(asyncssh_server, mode)
    try:
        channel = drive(sock, session, mode, session.open_session)
        drive(sock, session, mode, channel.execute, command)
        (data, end), seconds = timed(lambda: read_all(sock, session, mode, channel.read))
        assert data == b"partial"
        expected = (exceptions.Timeout,) if command == "freeze" else BROKEN
        # never (0, b"") as if the output were complete
        assert_failed(end, seconds, expected, mode)
        assert channel.eof() is False
    finally:
        sock.close()


@pytest.mark.parametrize("mode", MODES)
def test_exec_write_fault(asyncssh_server, mode):
    session, sock = authed(asyncssh_server, mode)
    try:
        channel = drive(sock, session, mode, session.open_session)
        drive(sock, session, mode, channel.execute, "drop-after 100000")
        payload = b"w" * (8 << 20)
        sent = [0]

        def write_all():
            while sent[0] < len(payload):
                rc, count = drive(sock, session, mode, channel.write, payload[sent[0]:])
                sent[0] += count
            return sent[0]

        outcome, seconds = timed(write_all)
        assert_failed(outcome, seconds, BROKEN, mode)
        assert sent[0] < len(payload)  # never reported as all written
    finally:
        sock.close()


# -- SFTP read and write ---------------------------------------------------------------------

SFTP_SIZE = 3 << 20


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["dropread", "freezeread"])
def test_sftp_read_fault(asyncssh_server, mode, name):
    filename = "%s-%s.bin" % (name, mode)
    with open(os.path.join(asyncssh_server.dir, filename), "wb") as fobj:
        fobj.write(b"r" * SFTP_SIZE)
    session, sock = authed(asyncssh_server, mode)
    try:
        sftp = drive(sock, session, mode, session.sftp_init)
        handle = drive(sock, session, mode, sftp.open, filename, LIBSSH2_FXF_READ, 0)
        (data, end), seconds = timed(lambda: read_all(sock, session, mode, handle.read))
        assert len(data) < SFTP_SIZE
        assert seconds < BOUND
        # SFTPHandle.read returns a negative rc (as ssh2-python) rather than raising
        if isinstance(end, int):
            assert end < 0 and end != LIBSSH2_ERROR_EAGAIN, "read loop ended with rc %d" % end
        else:
            expected = (exceptions.Timeout,) if name == "freezeread" else BROKEN
            assert_failed(end, seconds, expected, mode)
    finally:
        sock.close()


@pytest.mark.parametrize("mode", MODES)
def test_sftp_write_fault(asyncssh_server, mode):
    session, sock = authed(asyncssh_server, mode)
    try:
        sftp = drive(sock, session, mode, session.sftp_init)
        handle = drive(sock, session, mode, sftp.open, "dropwrite-%s.bin" % mode,
                       LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT, 0o644)
        payload = b"s" * (8 << 20)
        sent = [0]

        def write_all():
            while sent[0] < len(payload):
                rc, count = drive(sock, session, mode, handle.write, payload[sent[0]:])
                if rc < 0 and rc != LIBSSH2_ERROR_EAGAIN:
                    return rc
                sent[0] += count
            return sent[0]

        outcome, seconds = timed(write_all)
        if isinstance(outcome, int) and outcome < 0:
            outcome = exceptions.SSH2Error("rc %d" % outcome)
        assert_failed(outcome, seconds, BROKEN, mode)
        assert sent[0] < len(payload)
    finally:
        sock.close()


# -- the real server: its per-connection process killed --------------------------------------

def kill_soon(sshd, delay=0.3):
    """Kill sshd's per-connection processes ``delay`` seconds from now."""
    timer = threading.Timer(delay, sshd.kill_connections)
    timer.start()
    return timer


@pytest.mark.parametrize("mode", MODES)
def test_sshd_killed_mid_exec_read(sshd, mode):
    session, sock, _user = login("sshd", sshd)
    session.set_timeout(TIMEOUT_MS * 4)
    try:
        channel = session.open_session()
        # more output than the test reads before the kill (never ends by itself)
        channel.execute("cat /dev/zero")
        assert channel.read(1)[0] == 1  # the command runs
        if mode == "nonblocking":
            session.set_blocking(False)
        timer = kill_soon(sshd)
        (data, end), seconds = timed(lambda: read_all(sock, session, mode, channel.read))
        timer.join()
        assert len(data) > 0
        assert_failed(end, seconds, BROKEN + (exceptions.Timeout,), mode)
    finally:
        sock.close()


@pytest.mark.parametrize("mode", MODES)
def test_sshd_killed_mid_sftp_read(sshd, mode):
    session, sock, _user = login("sshd", sshd)
    session.set_timeout(TIMEOUT_MS * 4)
    try:
        sftp = session.sftp_init()
        handle = sftp.open("/dev/zero", LIBSSH2_FXF_READ, 0)  # endless
        assert handle.read(10)[0] == 10
        if mode == "nonblocking":
            session.set_blocking(False)
        timer = kill_soon(sshd)
        (data, end), seconds = timed(lambda: read_all(sock, session, mode, handle.read))
        timer.join()
        assert seconds < BOUND
        if isinstance(end, int):
            assert end < 0 and end != LIBSSH2_ERROR_EAGAIN, "read loop ended with rc %d" % end
        else:
            assert_failed(end, seconds, BROKEN + (exceptions.Timeout,), mode)
    finally:
        sock.close()


def test_a_session_after_a_fault_still_cleans_up(asyncssh_server):
    # After a dropped connection, disconnect() and dropping everything neither
    # hang nor crash, and the next session works.
    session, sock = authed(asyncssh_server, "blocking")
    channel = session.open_session()
    channel.execute("drop")
    with pytest.raises(BROKEN):
        while channel.read()[0] > 0:
            pass
    outcome, seconds = timed(session.disconnect)
    assert seconds < BOUND
    del channel, session
    sock.close()
    session, sock, _user = login("asyncssh", asyncssh_server)
    logout(session, sock)

