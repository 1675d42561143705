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

Each kind of fault has the exact exception classes it may raise (below), as
observed over many runs on libssh2 1.10 and 1.11; an error code an SFTP call
returns counts as the class it maps to.
"""
import os
import threading
import time

import pytest

from helpers import login, logout
from servers import AsyncSSHServer
from ssh2cffi import exceptions, utils
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_WRITE

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


# -- what each fault raises (exact classes) --------------------------------------------------

#: The peer hangs up while we wait for its next packet: recv() finds the
#: connection closed (LIBSSH2_ERROR_SOCKET_RECV).
DROPPED_WHILE_READING = (exceptions.SocketRecvError,)
#: The peer goes away while data flows both ways: our writes (exec stdin, an
#: SFTP write), or a long read, during which libssh2 keeps sending too (window
#: adjustments, SFTP read requests).  Whichever socket call libssh2 makes first
#: after the drop meets it: send() fails (SocketSendError) or recv() finds the
#: connection closed (SocketRecvError).  The drop races our I/O, so both occur.
DROPPED_MID_TRANSFER = (exceptions.SocketSendError, exceptions.SocketRecvError)
#: Bytes that are no SSH packet: the packet length read from them is out of
#: bounds (LIBSSH2_ERROR_OUT_OF_BOUNDARY).
GARBLED = (exceptions.OutOfBoundaryError,)
#: A key exchange the peer breaks off or garbles: libssh2 gives up with
#: "Unable to exchange encryption keys" and -1 (LIBSSH2_ERROR_SOCKET_NONE), which
#: is SSH2Error itself.
BROKEN_KEY_EXCHANGE = (exceptions.SSH2Error,)


class Silent(Exception):
    """Non-blocking: the peer sent nothing while the caller waited (no hang, no data)."""


def silent_peer(mode):
    """What a peer that stops answering raises: libssh2's timeout (blocking),
    or Silent when the caller's wait gives up (non-blocking)."""
    return (exceptions.Timeout,) if mode == "blocking" else (Silent,)


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
        ready = utils.wait_socket(sock, session, wait)
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


def read_until_end_or_error(sock, session, mode, read, size=65536):
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


def as_exception(outcome):
    """An error code returned (SFTPHandle calls return them, as ssh2-python's do)
    as the exception it maps to; anything else unchanged."""
    if isinstance(outcome, int) and outcome < 0 and outcome != LIBSSH2_ERROR_EAGAIN:
        try:
            utils.handle_error_codes(outcome)
        except exceptions.SSH2Error as exc:
            return exc
    return outcome


def assert_failed(outcome, seconds, allowed):
    """The fault surfaced in time as an exception of exactly one of the classes
    ``allowed`` (not a subclass: SSH2Error is the base of them all)."""
    assert seconds < BOUND, "took %.1fs" % seconds
    assert type(outcome) in allowed, "got %r, expected one of %r" % (outcome, allowed)


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
        expected = silent_peer(mode) if fault == "hang" else BROKEN_KEY_EXCHANGE
        assert_failed(outcome, seconds, expected)
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
        expected = {"dropauth": DROPPED_WHILE_READING, "garbageauth": GARBLED,
                    "hangauth": silent_peer(mode)}[user]
        assert_failed(outcome, seconds, expected)
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
        (data, end), seconds = timed(
            lambda: read_until_end_or_error(sock, session, mode, channel.read))
        assert data == b"partial"
        expected = {"drop": DROPPED_WHILE_READING, "garbage": GARBLED,
                    "freeze": silent_peer(mode)}[command]
        # never (0, b"") as if the output were complete
        assert_failed(end, seconds, expected)
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
        assert_failed(outcome, seconds, DROPPED_MID_TRANSFER)
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
        (data, end), seconds = timed(
            lambda: read_until_end_or_error(sock, session, mode, handle.read))
        assert len(data) < SFTP_SIZE
        # SFTPHandle.read returns a negative rc (as ssh2-python) rather than
        # raising; never 0 as if the file were complete.  libssh2 keeps sending
        # read requests while it reads, so a drop is met sending or receiving.
        expected = DROPPED_MID_TRANSFER if name == "dropread" else silent_peer(mode)
        assert_failed(as_exception(end), seconds, expected)
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
        assert_failed(as_exception(outcome), seconds, DROPPED_MID_TRANSFER)
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
        (data, end), seconds = timed(
            lambda: read_until_end_or_error(sock, session, mode, channel.read))
        timer.join()
        assert len(data) > 0
        # the connection closes with the process: the peer is gone, not silent
        assert_failed(end, seconds, DROPPED_MID_TRANSFER)
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
        (data, end), seconds = timed(
            lambda: read_until_end_or_error(sock, session, mode, handle.read))
        timer.join()
        # the connection closes with the process: the peer is gone, not silent
        assert_failed(as_exception(end), seconds, DROPPED_MID_TRANSFER)
    finally:
        sock.close()


def test_a_session_after_a_fault_still_cleans_up(asyncssh_server):
    # After a dropped connection, disconnect() and dropping everything neither
    # hang nor crash, and the next session works.
    session, sock = authed(asyncssh_server, "blocking")
    channel = session.open_session()
    channel.execute("drop")
    with pytest.raises(DROPPED_WHILE_READING) as info:
        while channel.read()[0] > 0:
            pass
    assert type(info.value) in DROPPED_WHILE_READING
    outcome, seconds = timed(session.disconnect)
    assert seconds < BOUND
    del channel, session
    sock.close()
    session, sock, _user = login("asyncssh", asyncssh_server)
    logout(session, sock)

