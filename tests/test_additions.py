"""ssh2cffi's additions beyond ssh2-python (issue 9): terminal size and modes,
SFTP readlink / posix_rename / open_ex_r and readable SFTP statuses, banners,
the signature-algorithm method type, trace output through ``logging``, and
X11 forwarding.

Real servers only: the OpenSSH fixture, and the asyncssh fixture where
OpenSSH cannot produce the case (pixel sizes, terminal modes as received, a
server without the posix-rename extension, an auth banner).  Features that need
libssh2 >= 1.11.0 are skipped on 1.10 with a reason, and a test checks the
NotImplementedError there instead.
"""
from __future__ import annotations

import gc
import logging
import os
import re
import select
import socket
import threading
import time

import pytest

from helpers import DEPS_LIBSSH2_VARIANTS, TEST_VARIANT, connect, login, logout
from ssh2cffi import exceptions, utils
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import (LIBSSH2_METHOD_HOSTKEY, LIBSSH2_METHOD_SIGN_ALGO,
                              LIBSSH2_TRACE_AUTH, LIBSSH2_TRACE_CONN, LIBSSH2_TRACE_KEX,
                              Session)
from ssh2cffi.sftp import (LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_WRITE,
                           LIBSSH2_FXF_TRUNC, LIBSSH2_SFTP_ATTR_PERMISSIONS)
from ssh2cffi.sftp_handle import SFTPAttributes
# The SFTP connection fixtures are test_sftp.py's own, not copies.
from test_sftp import (_finish, asyncssh_conn, make_conn, sshd_conn,  # noqa: F401
                       symlink_status_misread)

HAS_1_11 = utils.version(0x010B00) is not None
needs_1_11 = pytest.mark.skipif(not HAS_1_11, reason="needs libssh2 >= 1.11.0")
only_1_10 = pytest.mark.skipif(HAS_1_11, reason="libssh2 >= 1.11 has the function")
ECHO_OFF = b"\x35\x00\x00\x00\x00\x00"  # RFC 4254 8: ECHO (53) = 0, then TTY_OP_END


@pytest.fixture
def session(sshd):
    session, sock, _user = login("sshd", sshd)
    yield session
    logout(session, sock)


@pytest.fixture
def asession(asyncssh_server):
    session, sock, _user = login("asyncssh", asyncssh_server)
    yield session
    logout(session, sock)


@pytest.fixture(params=["sshd", "asyncssh"])
def conn(request):
    return request.getfixturevalue(request.param + "_conn")


def read_all(channel):
    out = []
    while True:
        size, data = channel.read(65536)
        if size <= 0:
            break
        out.append(data)
    return b"".join(out)


def exec_with_pty(session, command, **pty_args):
    channel = session.open_session()
    assert channel.pty("vt100", **pty_args) == 0
    assert channel.execute(command) == 0
    out = read_all(channel)
    channel.wait_closed()
    return out


# ---------------------------------------------------------------------------
# terminal size and modes
# ---------------------------------------------------------------------------

def test_pty_default_size_is_80x24(session):
    assert exec_with_pty(session, "stty size").strip() == b"24 80"


def test_pty_size_stty_sshd(session):
    out = exec_with_pty(session, "stty size", width=132, height=43, width_px=1056,
                        height_px=688)
    assert out.strip() == b"43 132"


def test_pty_modes_sshd(session):
    assert re.search(rb"(^|\s)echo(\s|$)", exec_with_pty(session, "stty -a"))
    out = exec_with_pty(session, "stty -a", modes=ECHO_OFF)
    assert re.search(rb"(^|\s)-echo(\s|$)", out), out


def _read_until(channel, pattern, seen, deadline=30):
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


def test_pty_resize_stty_sshd(session):
    channel = session.open_session()
    assert channel.pty("xterm", width=100, height=30) == 0
    assert channel.shell() == 0
    seen = [b""]
    # the marker is split in the command so that the echoed command line
    # itself does not match
    command = b'echo "S""Z:$(stty size):"\n'
    channel.write(command)
    assert _read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"30", b"100")
    assert channel.pty_resize(120, 50) == 0
    channel.write(command)
    assert _read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"50", b"120")
    assert channel.pty_resize(77, 11, 616, 198) == 0
    channel.write(command)
    assert _read_until(channel, rb"SZ:(\d+) (\d+):", seen).groups() == (b"11", b"77")
    channel.write(b"exit\n")
    channel.wait_eof()
    channel.close()
    channel.wait_closed()


def test_pty_pixels_and_modes_asyncssh(asession):
    out = exec_with_pty(asession, "ptyinfo", width=90, height=33, width_px=720, height_px=528,
                        modes=ECHO_OFF)
    assert out.strip() == b"vt100 90 33 720 528 53=0"
    out = exec_with_pty(asession, "ptyinfo")
    assert out.strip() == b"vt100 80 24 0 0 -"


def test_pty_resize_pixels_asyncssh(asession):
    channel = asession.open_session()
    assert channel.pty("xterm") == 0
    assert channel.execute("winch") == 0
    seen = [b""]
    _read_until(channel, rb"ready", seen)
    assert channel.pty_resize(132, 43, 1056, 688) == 0
    assert _read_until(channel, rb"(\d+) (\d+) (\d+) (\d+)", seen).groups() == (
        b"132", b"43", b"1056", b"688")
    read_all(channel)
    channel.wait_closed()


def test_pty_bad_arguments(session):
    channel = session.open_session()
    with pytest.raises(TypeError):
        channel.pty(width="80")
    with pytest.raises(TypeError):
        channel.pty(height=2.5)
    with pytest.raises(ValueError):
        channel.pty(width=-1)
    with pytest.raises(ValueError):
        channel.pty(height_px=2 ** 31)
    with pytest.raises(TypeError):
        channel.pty(modes="echo")
    with pytest.raises(TypeError):
        channel.pty("vt100", 80)  # sizes are keyword-only
    with pytest.raises(TypeError):
        channel.pty_resize("80", 24)
    with pytest.raises(ValueError):
        channel.pty_resize(80, -24)
    with pytest.raises(TypeError):
        channel.pty_resize(True, 24)
    # nothing was sent: the channel still works
    assert channel.pty(width=10, height=5) == 0
    assert channel.execute("stty size") == 0
    assert read_all(channel).strip() == b"5 10"


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
# SFTP: readlink, posix_rename, open_ex_r, readable statuses
# ---------------------------------------------------------------------------

def _link(conn, name, target):
    """Make symlink ``name`` -> ``target`` (relative to the work directory) and
    return the target as the server reports it.  OpenSSH reports the target as
    stored; the chrooted asyncssh server resolves it and names it inside the
    chroot, so it gets an absolute target there."""
    if conn.kind == "sshd":
        os.symlink(target, conn.local(name))
        return target
    os.symlink(conn.local(target), conn.local(name))
    return conn.path(target)


def test_readlink(conn):
    expected = _link(conn, "link", "target.txt")
    assert conn.sftp.readlink(conn.path("link")) == expected
    assert conn.sftp.readlink(conn.path("link").encode()) == expected
    expected = _link(conn, "link2", "sub/other")
    assert conn.sftp.readlink(conn.path("link2")) == expected


def test_readlink_long_target(conn):
    # longer than the first buffer: readlink asks again with more room
    expected = _link(conn, "long", "/".join(["d" * 200] * 15))
    assert len(expected) > 3000
    assert conn.sftp.readlink(conn.path("long")) == expected


def test_readlink_of_a_file_raises(conn, symlink_status_misread):
    with open(conn.local("plain"), "w") as fobj:
        fobj.write("x")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        conn.sftp.readlink(conn.path("plain"))
    assert conn.path("plain") in str(info.value)
    if not symlink_status_misread:
        # OpenSSH says FAILURE, asyncssh a more precise status: never OK
        assert conn.sftp.last_error() != 0
    with pytest.raises(exceptions.SFTPProtocolError):
        conn.sftp.readlink(conn.path("missing"))


def test_sftp_additions_non_blocking(conn):
    # EAGAIN is returned, not raised; calling again finishes the request
    expected = _link(conn, "link", "target.txt")
    with open(conn.local("a"), "w") as fobj:
        fobj.write("data")
    conn.session.set_blocking(False)
    try:
        assert conn.nb(conn.sftp.readlink, conn.path("link")) == expected
        if HAS_1_11:
            assert conn.nb(conn.sftp.posix_rename, conn.path("a"), conn.path("b")) == 0
            handle = conn.nb(conn.sftp.open_ex_r, conn.path("b"), LIBSSH2_FXF_READ, 0)
            while True:  # read() returns (EAGAIN, b"") rather than EAGAIN
                result = handle.read()
                if result[0] != LIBSSH2_ERROR_EAGAIN:
                    break
                conn.wait()
            assert result == (4, b"data")
            assert conn.nb(handle.close) == 0
    finally:
        conn.session.set_blocking(True)


def test_readlink_bad_arguments(sshd_conn):
    with pytest.raises(TypeError):
        sshd_conn.sftp.readlink(3)


def test_sftp_error_names_the_status_and_its_meaning(conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        conn.sftp.open(conn.path("missing"), LIBSSH2_FXF_READ, 0)
    text = str(info.value)
    assert "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)" in text
    assert repr(conn.path("missing")) in text
    assert conn.sftp.last_error() == 2
    assert conn.sftp.last_error_text() == "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)"


@needs_1_11
def test_posix_rename_replaces_the_destination(conn):
    for name, text in (("a", "first"), ("b", "second")):
        with open(conn.local(name), "w") as fobj:
            fobj.write(text)
    assert conn.sftp.posix_rename(conn.path("a"), conn.path("b")) == 0
    assert not os.path.exists(conn.local("a"))
    with open(conn.local("b")) as fobj:
        assert fobj.read() == "first"


@needs_1_11
def test_posix_rename_missing_source(conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        conn.sftp.posix_rename(conn.path("missing"), conn.path("b"))
    assert "LIBSSH2_FX_NO_SUCH_FILE" in str(info.value)
    assert conn.sftp.last_error() == 2


@needs_1_11
def test_posix_rename_server_without_the_extension(asyncssh_server, monkeypatch):
    # The in-process asyncssh server, told not to announce the extension in
    # its SFTP VERSION reply (libssh2 reads the announcement at sftp_init).
    import asyncssh.sftp

    handler = asyncssh.sftp.SFTPServerHandler
    monkeypatch.setattr(handler, "_extensions", [
        ext for ext in handler._extensions if ext[0] != b"posix-rename@openssh.com"])
    conn = make_conn("asyncssh", asyncssh_server)
    try:
        with open(conn.local("a"), "w") as fobj:
            fobj.write("x")
        with pytest.raises(exceptions.SFTPProtocolError) as info:
            conn.sftp.posix_rename(conn.path("a"), conn.path("b"))
        assert "does not offer the posix-rename@openssh.com extension" in str(info.value)
        assert os.path.exists(conn.local("a"))
        # the SFTP session is still usable
        assert conn.sftp.rename(conn.path("a"), conn.path("b")) == 0
    finally:
        _finish(conn)


@only_1_10
def test_posix_rename_and_open_ex_r_need_1_11(sshd_conn):
    with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0.*1\.10"):
        sshd_conn.sftp.posix_rename(sshd_conn.path("a"), sshd_conn.path("b"))
    with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0"):
        sshd_conn.sftp.open_ex_r(sshd_conn.path("a"), LIBSSH2_FXF_READ, 0)


@needs_1_11
def test_open_ex_r_creates_and_reads(conn):
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS
    flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
    with conn.sftp.open_ex_r(conn.path("new"), flags, 0o640, attrs=attrs) as handle:
        assert handle.write(b"hello")[1] == 5
    assert attrs.flags == LIBSSH2_SFTP_ATTR_PERMISSIONS  # left as it was
    assert os.stat(conn.local("new")).st_mode & 0o777 == 0o640
    with conn.sftp.open_ex_r(conn.path("new"), LIBSSH2_FXF_READ, 0) as handle:
        assert handle.read() == (5, b"hello")
    handle = conn.sftp.open_ex_r(conn.local_root if conn.kind == "sshd"
                                 else conn.remote_root, 0, 0, open_type=1)
    names = sorted(entry[1] for entry in handle.readdir())
    assert b"new" in names
    handle.close()


@needs_1_11
def test_open_ex_r_reports_the_status(conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        conn.sftp.open_ex_r(conn.path("missing"), LIBSSH2_FXF_READ, 0)
    assert "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)" in str(info.value)
    assert conn.sftp.last_error() == 2


def test_open_ex_r_bad_arguments(sshd_conn):
    sftp = sshd_conn.sftp
    with pytest.raises(TypeError):
        sftp.open_ex_r(sshd_conn.path("x"), LIBSSH2_FXF_READ, 0, attrs="attrs")
    with pytest.raises(ValueError):
        sftp.open_ex_r(sshd_conn.path("x"), LIBSSH2_FXF_READ, 0, open_type=7)
    with pytest.raises(TypeError):
        sftp.open_ex_r(sshd_conn.path("x"), "r", 0)
    with pytest.raises(TypeError):
        sftp.open_ex_r(None, LIBSSH2_FXF_READ, 0)


def test_sftp_additions_after_disconnect_raise(sshd):
    conn = make_conn("sshd", sshd)
    sftp = conn.sftp
    _finish(conn)
    calls = [lambda: sftp.readlink("/x"), sftp.last_error_text]
    if HAS_1_11:
        calls += [lambda: sftp.posix_rename("/a", "/b"),
                  lambda: sftp.open_ex_r("/a", LIBSSH2_FXF_READ, 0)]
    for call in calls:
        with pytest.raises(exceptions.SocketDisconnectError):
            call()


# ---------------------------------------------------------------------------
# banners
# ---------------------------------------------------------------------------

@needs_1_11
def test_userauth_banner_asyncssh(asyncssh_server):
    session, sock = connect(asyncssh_server)
    try:
        assert session.userauth_banner() is None  # nothing asked yet
        assert "password" in session.userauth_list("user")
        assert session.userauth_banner() == asyncssh_server.banner
        assert session.userauth_password("user", "pass") == 0
        assert session.userauth_banner() == asyncssh_server.banner
    finally:
        logout(session, sock)


@needs_1_11
def test_userauth_banner_none_from_sshd(sshd):
    session, sock = connect(sshd)
    try:
        assert session.userauth_list("nobody") is not None
        assert session.userauth_banner() is None
    finally:
        logout(session, sock)


@only_1_10
def test_userauth_banner_needs_1_11(asyncssh_server):
    session, sock = connect(asyncssh_server)
    try:
        session.userauth_list("user")
        with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0"):
            session.userauth_banner()
    finally:
        logout(session, sock)


def _log_after(sshd, offset, needle, deadline=10):
    """The sshd log from byte ``offset`` on, once it contains ``needle``."""
    end = time.monotonic() + deadline
    while True:
        with open(sshd.log_path, "rb") as fobj:
            fobj.seek(offset)
            text = fobj.read().decode("utf-8", "replace")
        if needle in text or time.monotonic() > end:
            return text
        time.sleep(0.05)


def test_banner_set_is_what_the_server_sees(sshd):
    marker = "ssh2cffi_issue9_%d" % os.getpid()
    offset = os.path.getsize(sshd.log_path)
    session = Session()
    assert session.banner_get() is None  # before the handshake
    assert session.banner_set("SSH-2.0-" + marker) == 0
    sock = sshd.connect_socket()
    try:
        session.handshake(sock)
        assert session.banner_get().startswith("SSH-2.0-OpenSSH_")
        session.userauth_publickey_fromfile(sshd.password_user or sshd.user,
                                            sshd.key_paths["id_ed25519"])
        assert session.userauth_authenticated()
    finally:
        logout(session, sock)
    assert "remote software version " + marker in _log_after(sshd, offset, marker)


def test_banner_set_bad_arguments():
    session = Session()
    for bad in ("hello", "SSH-2.0-", "SSH-1.99-x", "SSH-2.0-a\r\nb", "SSH-2.0-" + "x" * 300):
        with pytest.raises(ValueError):
            session.banner_set(bad)
    with pytest.raises(ValueError):
        session.banner_set("SSH-2.0-a\0b")
    with pytest.raises(TypeError):
        session.banner_set(22)
    assert session.banner_set(b"SSH-2.0-bytes_ok") == 0


# ---------------------------------------------------------------------------
# LIBSSH2_METHOD_SIGN_ALGO
# ---------------------------------------------------------------------------

@needs_1_11
@pytest.mark.parametrize("algorithm", ["rsa-sha2-256", "rsa-sha2-512"])
def test_sign_algo_preference_sshd(sshd, algorithm):
    user = sshd.password_user or sshd.user
    offset = os.path.getsize(sshd.log_path)
    session = Session()
    session.set_timeout(30000)
    assert session.method_pref(LIBSSH2_METHOD_SIGN_ALGO, algorithm) == 0
    sock = sshd.connect_socket()
    try:
        session.handshake(sock)
        assert session.userauth_publickey_fromfile(user, sshd.key_paths["id_rsa"]) == 0
        assert session.userauth_authenticated()
        # libssh2 keeps no negotiated value or list for this type
        assert session.methods(LIBSSH2_METHOD_SIGN_ALGO) is None
        assert session.supported_algs(LIBSSH2_METHOD_SIGN_ALGO) == []
    finally:
        logout(session, sock)
    log = _log_after(sshd, offset, "Accepted publickey")
    # sshd (LogLevel DEBUG1) names the signature algorithm of each attempt:
    # "userauth_pubkey: publickey test pkalg rsa-sha2-256 pkblob RSA SHA256:..."
    assert set(re.findall(r"pkalg (\S+)", log)) == {algorithm}, log[-3000:]


@only_1_10
def test_sign_algo_needs_1_11():
    session = Session()
    for call in (lambda: session.method_pref(LIBSSH2_METHOD_SIGN_ALGO, "rsa-sha2-256"),
                 lambda: session.methods(LIBSSH2_METHOD_SIGN_ALGO),
                 lambda: session.supported_algs(LIBSSH2_METHOD_SIGN_ALGO)):
        with pytest.raises(NotImplementedError, match=r"LIBSSH2_METHOD_SIGN_ALGO.*1\.11\.0"):
            call()
    # the other method types are unaffected
    assert session.supported_algs(LIBSSH2_METHOD_HOSTKEY)


# ---------------------------------------------------------------------------
# trace output -> logging
# ---------------------------------------------------------------------------

class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def trace_records():
    logger = logging.getLogger("ssh2cffi.trace")
    handler = _Records()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_trace_supported_matches_the_build():
    # .deps' libssh2 1.11.1 is built with debug logging; Debian's packages are not.
    if TEST_VARIANT is None:
        assert Session.trace_supported() in (True, False)
    else:
        assert Session.trace_supported() is (TEST_VARIANT in DEPS_LIBSSH2_VARIANTS)


@pytest.mark.skipif(not Session.trace_supported(),
                    reason="libssh2 built without debug logging (trace output)")
def test_trace_goes_to_logging_per_session(sshd, trace_records):
    traced = Session()
    quiet = Session()
    traced.set_timeout(30000)
    traced.set_trace(LIBSSH2_TRACE_KEX | LIBSSH2_TRACE_AUTH)
    socks = []
    try:
        for session in (traced, quiet):
            sock = sshd.connect_socket()
            socks.append(sock)
            session.handshake(sock)
            session.userauth_publickey_fromfile(sshd.password_user or sshd.user,
                                                sshd.key_paths["id_ed25519"])
        assert trace_records, "no trace lines were logged"
        assert all(record.session is traced for record in trace_records)
        assert all(record.levelno == logging.DEBUG for record in trace_records)
        texts = [record.getMessage() for record in trace_records]
        assert any("Key Ex" in text for text in texts), texts[:5]
        assert any("Userauth" in text for text in texts), texts[:5]
        assert not any("Conn:" in text for text in texts)  # not asked for
        # off again: a channel produces no lines
        del trace_records[:]
        traced.set_trace(0)
        channel = traced.open_session()
        channel.execute("true")
        read_all(channel)
        channel.wait_closed()
        assert trace_records == []
        # and on for connection messages only
        traced.set_trace(LIBSSH2_TRACE_CONN)
        channel = traced.open_session()
        channel.execute("true")
        read_all(channel)
        channel.wait_closed()
        assert trace_records and all("Conn" in r.getMessage() for r in trace_records)
    finally:
        for session, sock in zip((traced, quiet), socks):
            logout(session, sock)


@pytest.mark.skipif(not Session.trace_supported(),
                    reason="libssh2 built without debug logging (trace output)")
def test_trace_callback_errors_stay_in_python(sshd, trace_records):
    # A filter that raises inside logger.debug(): the callback must swallow it
    # (nothing may cross into libssh2), and the session keeps working.
    class Boom(logging.Filter):
        def filter(self, record):
            raise RuntimeError("filter failure")

    logger = logging.getLogger("ssh2cffi.trace")
    boom = Boom()
    logger.addFilter(boom)
    try:
        session, sock, _user = login("sshd", sshd)
        session.set_trace(-1)
        channel = session.open_session()
        channel.execute("echo ok")
        assert read_all(channel) == b"ok\n"
        channel.wait_closed()
        logout(session, sock)
    finally:
        logger.removeFilter(boom)


@pytest.mark.skipif(not Session.trace_supported(),
                    reason="libssh2 built without debug logging (trace output)")
def test_traced_session_dropped_without_disconnect(sshd, trace_records):
    # libssh2 traces while it frees the session; by then the Session object
    # is gone, and the lines are dropped instead of reaching freed state.
    for _ in range(3):
        session, sock, _user = login("sshd", sshd)
        session.set_trace(-1)
        channel = session.open_session()
        del session, channel
        gc.collect()
        sock.close()
    gc.collect()
    assert all(record.session is not None for record in trace_records)


@pytest.mark.skipif(Session.trace_supported(), reason="libssh2 has trace output")
def test_set_trace_without_debug_logging_says_so():
    session = Session()
    with pytest.raises(NotImplementedError, match="without debug logging"):
        session.set_trace(LIBSSH2_TRACE_KEX)
    session.set_trace(0)  # turning it off is always fine


def test_set_trace_bad_arguments():
    session = Session()
    with pytest.raises(TypeError):
        session.set_trace("all")
    with pytest.raises(ValueError):
        session.set_trace(2 ** 40)


# ---------------------------------------------------------------------------
# X11 forwarding
# ---------------------------------------------------------------------------

# Run on the server: connect to $DISPLAY (sshd's X11 listener), send a
# greeting, print the display and what the "X server" answered.
# It writes a line to stderr first, as sshd's xauth does on a fresh home
# directory: the pump must read stderr too before the channel reports EOF.
X11_CLIENT = r'''
import os, socket, sys
sys.stderr.write("x11 client starting\n")
display = os.environ.get("DISPLAY", "")
number = int(display.rsplit(":", 1)[1].split(".")[0])
sock = socket.create_connection(("127.0.0.1", 6000 + number), timeout=20)
sock.sendall(b"hello-x11")
reply = b""
while True:
    try:
        chunk = sock.recv(4096)
    except OSError:  # refused (reset) or unanswered (timeout)
        break
    if not chunk:
        break
    reply += chunk
print(display, reply.decode() or "<nothing>")
'''


class FakeXServer:
    """A loopback TCP listener standing in for the local X display: for each
    connection it reads the 9-byte greeting and answers ``welcome:<greeting>``."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.greetings = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(60)
        try:
            conn, _addr = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            data = b""
            while len(data) < 9:
                chunk = conn.recv(9 - len(data))
                if not chunk:
                    break
                data += chunk
            self.greetings.append(data)
            conn.sendall(b"welcome:" + data)

    def close(self):
        self.listener.close()
        self.thread.join(5)


def _pump_x11(session, sock, exec_channel, x11_channels, xserver_port, deadline=60):
    """Serve forwarded X11 channels (non-blocking session) until the command ends:
    each channel is joined to a new connection to the fake X server."""
    output = errors = b""
    pairs = []  # [channel, local socket, open?]
    end = time.monotonic() + deadline
    session.set_blocking(False)
    try:
        while time.monotonic() < end:
            size, data = exec_channel.read()
            if size > 0:
                output += data
            # stderr too: libssh2_channel_eof() says "not yet" while any unread
            # data of the channel is queued, stderr included.  (sshd's xauth writes
            # "file ~/.Xauthority does not exist" there on a fresh home directory.)
            err_size, err_data = exec_channel.read_stderr()
            if err_size > 0:
                errors += err_data
            if size == 0 and err_size == 0 and exec_channel.eof():
                break
            while len(pairs) < len(x11_channels):
                local = socket.create_connection(("127.0.0.1", xserver_port))
                local.setblocking(False)
                pairs.append([x11_channels[len(pairs)], local, True])
            for pair in pairs:
                channel, local, is_open = pair
                if not is_open:
                    continue
                size, data = channel.read()
                if size > 0:
                    local.sendall(data)
                try:
                    answer = local.recv(4096)
                except BlockingIOError:
                    continue
                if answer:
                    while True:
                        rc, written = channel.write(answer)
                        answer = answer[written:]
                        if not answer:
                            break
                        select.select([sock], [sock], [], 1)
                else:  # the X server hung up: so does the forwarded client
                    while channel.send_eof() == LIBSSH2_ERROR_EAGAIN:
                        select.select([sock], [sock], [], 1)
                    while channel.close() == LIBSSH2_ERROR_EAGAIN:
                        select.select([sock], [sock], [], 1)
                    local.close()
                    pair[2] = False
            select.select([sock], [], [], 0.05)
        else:
            raise AssertionError("the X11 client did not finish: %r, stderr %r"
                                 % (output, errors))
    finally:
        session.set_blocking(True)
        for _channel, local, _is_open in pairs:
            local.close()
    return output


def test_x11_forwarding_end_to_end_sshd(sshd):
    xserver = FakeXServer()
    session, sock, _user = login("sshd", sshd)
    x11_channels = []
    calls = []

    def on_x11(channel, host, port):
        calls.append((host, port))
        x11_channels.append(channel)

    try:
        session.set_x11_callback(on_x11)
        channel = session.open_session()
        assert channel.x11_req(0) == 0
        assert channel.execute("/usr/bin/python3 -c '%s'" % X11_CLIENT) == 0
        output = _pump_x11(session, sock, channel, x11_channels, xserver.port)
        channel.wait_closed()
        assert channel.get_exit_status() == 0, output
        display, reply = output.decode().split()
        assert re.fullmatch(r"localhost:\d+\.0", display)
        assert reply == "welcome:hello-x11"
        assert xserver.greetings == [b"hello-x11"]
        assert len(calls) == 1
        assert calls[0][0] == "127.0.0.1" and isinstance(calls[0][1], int)
        assert x11_channels[0].session is session
    finally:
        logout(session, sock)
        xserver.close()


def test_x11_refused_without_callback_sshd(sshd):
    # set, then removed: libssh2 refuses the forwarded connection and the
    # remote client reads nothing
    session, sock, _user = login("sshd", sshd)
    try:
        session.set_x11_callback(lambda channel, host, port: None)
        session.set_x11_callback(None)
        channel = session.open_session()
        assert channel.x11_req(0) == 0
        assert channel.execute("/usr/bin/python3 -c '%s'" % X11_CLIENT) == 0
        output = read_all(channel)
        channel.wait_closed()
        assert output.decode().split()[1] == "<nothing>"
    finally:
        logout(session, sock)


def test_x11_callback_that_raises_is_logged(sshd, caplog):
    session, sock, _user = login("sshd", sshd)

    def broken(channel, host, port):
        raise RuntimeError("broken X11 handler")

    try:
        session.set_x11_callback(broken)
        channel = session.open_session()
        assert channel.x11_req(0) == 0
        with caplog.at_level(logging.ERROR, logger="ssh2cffi"):
            # nobody serves the channel: the client gives up after 3 seconds
            client = X11_CLIENT.replace("timeout=20", "timeout=3")
            assert channel.execute("/usr/bin/python3 -c '%s'" % client) == 0
            output = read_all(channel)
            channel.wait_closed()
        assert any("X11 callback raised" in r.getMessage() and r.exc_info
                   for r in caplog.records), output
        # the session still works
        channel = session.open_session()
        channel.execute("echo ok")
        assert read_all(channel) == b"ok\n"
    finally:
        logout(session, sock)


def test_set_x11_callback_bad_argument():
    with pytest.raises(TypeError):
        Session().set_x11_callback("not callable")


# ---------------------------------------------------------------------------
# lifetimes: callbacks set, objects dropped in any order (child interpreter)
# ---------------------------------------------------------------------------

def test_drop_orders_with_trace_and_x11_callbacks(sshd):
    # A session with trace output (where available) and an X11 callback, its
    # channels, the socket and a logging handler, dropped in every order: libssh2
    # may trace while it frees, after the Session object is gone.
    from helpers import run_python

    body = """
import gc, itertools, logging, os, socket
from ssh2cffi.session import Session

logging.basicConfig(level=logging.DEBUG, filename=os.devnull)
HOST, PORT = os.environ["SSHD_HOST"], int(os.environ["SSHD_PORT"])
USER, KEY = os.environ["SSHD_USER"], os.environ["SSHD_KEY"]
for order in itertools.permutations(range(4)):
    sock = socket.create_connection((HOST, PORT))
    s = Session()
    if Session.trace_supported():
        s.set_trace(-1)
    s.handshake(sock)
    s.userauth_publickey_fromfile(USER, KEY)
    s.set_x11_callback(lambda channel, host, port: None)
    chans = [s.open_session(), s.open_session()]
    chans[0].x11_req(0)
    chans[0].execute("echo hi")
    objects = [s, chans[0], chans[1], sock]
    del s, chans
    for position in order:
        if position == 3:
            objects[3].close()
        objects[position] = None
        gc.collect()
gc.collect()
print("ok")
"""
    env = {"SSHD_HOST": sshd.host, "SSHD_PORT": str(sshd.port),
           "SSHD_USER": sshd.password_user or sshd.user,
           "SSHD_KEY": sshd.key_paths["id_ed25519"]}
    result = run_python(body, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
