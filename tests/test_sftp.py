"""Tests of ``ssh2cffi.sftp`` (SFTP) and ``ssh2cffi.sftp_handle`` (SFTPHandle,
SFTPAttributes, SFTPStatVFS) against real servers.

Every test talks to a real OpenSSH ``sshd`` (internal-sftp, no chroot) or to
the asyncssh server (SFTP chrooted to its own directory); behaviour both
share is parametrized over both.  Both run on this machine, so what a test
does over SFTP is checked with ``os.stat``/``os.readlink`` on the real file.
Nothing is mocked.

Besides ssh2-python's API, ssh2cffi's additions: readlink, posix_rename and
open_ex_r (these two need libssh2 >= 1.11.0; on 1.10 a test checks their
NotImplementedError), readable SFTP statuses, and get/put.

On sshd the tests log in as the unprivileged ``ssh2cffi`` account made by
scripts/setup.sh (root when it does not exist), in a work directory it owns.
The fixtures: ``sftp_conn`` (an SFTPConnection to each server in turn),
``sshd_sftp_conn`` and ``asyncssh_sftp_conn``.
"""
from __future__ import annotations

import gc
import os
import posixpath
import pwd
import select
import signal
import stat
import threading
import time
import weakref

import pytest

from helpers import (HAS_LIBSSH2_1_11, NB_DEADLINE, SERVER_KINDS, WorkDirConnection, digest,
                     file_digest, login, needs_libssh2_1_11, only_libssh2_1_10, run_python)
from ssh2cffi import exceptions
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN, LIBSSH2_ERROR_SFTP_PROTOCOL
from ssh2cffi.session import Session
from ssh2cffi.sftp import (
    LIBSSH2_FXF_APPEND,
    LIBSSH2_FXF_CREAT,
    LIBSSH2_FXF_EXCL,
    LIBSSH2_FXF_READ,
    LIBSSH2_FXF_TRUNC,
    LIBSSH2_FXF_WRITE,
    LIBSSH2_SFTP_ATTR_ACMODTIME,
    LIBSSH2_SFTP_ATTR_PERMISSIONS,
    LIBSSH2_SFTP_ATTR_SIZE,
    LIBSSH2_SFTP_ATTR_UIDGID,
    LIBSSH2_SFTP_S_IFDIR,
    LIBSSH2_SFTP_S_IFLNK,
    LIBSSH2_SFTP_S_IFMT,
    LIBSSH2_SFTP_S_IFREG,
    LIBSSH2_SFTP_ST_NOSUID,
    LIBSSH2_SFTP_ST_RDONLY,
    SFTP,
)
from ssh2cffi.sftp_handle import DEFAULT_READ_SIZE, SFTPAttributes, SFTPHandle, SFTPStatVFS

EAGAIN = LIBSSH2_ERROR_EAGAIN
assert EAGAIN == -37

# SFTP status codes (SFTP.last_error()), libssh2_sftp.h's values.
LIBSSH2_FX_OK = 0
LIBSSH2_FX_EOF = 1
LIBSSH2_FX_NO_SUCH_FILE = 2
LIBSSH2_FX_PERMISSION_DENIED = 3
LIBSSH2_FX_FAILURE = 4
# Not exported by ssh2-python (nor by ssh2cffi): libssh2_sftp.h's value.
LIBSSH2_SFTP_RENAME_OVERWRITE = 1

ALL_ATTRS = (LIBSSH2_SFTP_ATTR_SIZE | LIBSSH2_SFTP_ATTR_UIDGID | LIBSSH2_SFTP_ATTR_PERMISSIONS
             | LIBSSH2_SFTP_ATTR_ACMODTIME)
WRITE_FLAGS = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC

SIZES = [0, 1, 65535, 65536, 65537]
BIG = 64 * 1024 * 1024
NB_WRITE_WINDOW = 4 * 1024 * 1024  # bytes offered to one non-blocking write()
ATIME, MTIME = 1500000000, 1600000000


# ---------------------------------------------------------------------------
# connections and work directories
# ---------------------------------------------------------------------------

class SFTPConnection(WorkDirConnection):
    """A helpers.WorkDirConnection (a logged-in Session and a fresh work
    directory) with an SFTP session, ``sftp``."""

    def __init__(self, kind, server, user=None):
        super().__init__(kind, server, user, prefix="sftp-")
        try:
            self.sftp = self.session.sftp_init()
            assert isinstance(self.sftp, SFTP)
        except BaseException:
            self.close()
            raise


@pytest.fixture
def sshd_sftp_conn(sshd):
    """An SFTPConnection to the OpenSSH server, as helpers.sshd_login()."""
    conn = SFTPConnection("sshd", sshd)
    yield conn
    conn.close()


@pytest.fixture
def asyncssh_sftp_conn(asyncssh_server):
    """An SFTPConnection to the asyncssh server (chrooted to its directory)."""
    conn = SFTPConnection("asyncssh", asyncssh_server)
    yield conn
    conn.close()


@pytest.fixture(params=SERVER_KINDS)
def sftp_conn(request):
    """sshd_sftp_conn, then asyncssh_sftp_conn: the test runs against each server."""
    return request.getfixturevalue(request.param + "_sftp_conn")


@pytest.fixture(scope="module")
def symlink_status_misread(sshd):
    """True when libssh2 takes the request id of a SYMLINK's status reply for the status.

    Debian's backport of the CVE-2025-15661 fix (libssh2 PR #1717), in both the
    1.10.0-3+deb12u1 package and the trixie 1.11.1 source built into .deps/,
    reads the u32 after the packet type as the status code without skipping the
    request id (fixed upstream by PR #1731).  So a SYMLINK that succeeds is
    reported as a failure whose ``last_error()`` is the request id, and one that
    fails on request id 0 is reported as a success.  Probe: the first request of
    a fresh SFTP session (id 0) is a symlink that must fail (the name exists).
    """
    session, sock, _ = login("sshd", sshd)
    try:
        sftp = session.sftp_init()
        try:
            rc = sftp.symlink(sshd.config_path, sshd.config_path)
        except exceptions.SFTPProtocolError:
            return False
        assert rc == 0
        assert os.path.isfile(sshd.config_path) and not os.path.islink(sshd.config_path)
        return True
    finally:
        session.disconnect()
        sock.close()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------



def put_local(path, data, mode=0o644):
    with open(path, "wb") as fobj:
        fobj.write(data)
    os.chmod(path, mode)


def write_remote(conn, name, data, mode=0o644):
    """Create ``name`` with SFTPHandle.write (blocking); returns its SFTP path."""
    path = conn.path(name)
    handle = conn.sftp.open(path, WRITE_FLAGS, mode)
    assert isinstance(handle, SFTPHandle)
    rc, written = handle.write(data)
    assert written == len(data)
    if data:
        assert 0 < rc <= len(data)  # the last chunk's size
    else:
        assert rc == 0
    assert handle.close() == 0
    assert handle.closed is True
    return path


def read_handle(handle, *args, **kwargs):
    """Everything up to EOF with read() (blocking), checking every (rc, data)."""
    chunks = []
    while True:
        rc, data = handle.read(*args, **kwargs)
        assert isinstance(rc, int) and isinstance(data, bytes)
        if rc != len(data):
            pytest.fail("read() returned rc=%d with %d bytes" % (rc, len(data)))
        if rc == 0:
            return b"".join(chunks)
        chunks.append(data)


def iterate_all(handle):
    """Everything up to EOF by iterating (blocking), checking every (rc, data)."""
    chunks = []
    for item in handle:
        assert isinstance(item, tuple) and len(item) == 2
        rc, data = item
        if not 0 < rc == len(data) <= DEFAULT_READ_SIZE:
            pytest.fail("iteration yielded rc=%d with %d bytes" % (rc, len(data)))
        chunks.append(data)
    return b"".join(chunks)


def nb_write(conn, handle, data):
    """Write ``data`` in non-blocking mode; partial writes continue with the rest.

    Returns the (rc, bytes_written) results of every write() call.
    """
    results = []
    sent = 0
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        chunk = data[sent:sent + NB_WRITE_WINDOW]
        rc, written = handle.write(chunk)
        results.append((rc, written))
        assert 0 <= written <= len(chunk)
        sent += written
        if rc == EAGAIN:
            assert written < len(chunk)
            assert time.monotonic() < deadline, "non-blocking write did not finish"
            conn.wait()
            continue
        assert written == len(chunk)
        assert (rc == 0) if not chunk else (0 < rc <= len(chunk))
        if sent == len(data):
            break
    assert sum(written for _, written in results) == len(data)
    return results


def nb_read(conn, handle, size=DEFAULT_READ_SIZE):
    """Everything up to EOF with read() in non-blocking mode."""
    chunks = []
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        rc, data = handle.read(size)
        if rc == EAGAIN:
            assert data == b""
            assert time.monotonic() < deadline, "non-blocking read did not finish"
            conn.wait()
            continue
        assert 0 <= rc == len(data) <= size
        if rc == 0:
            return b"".join(chunks)
        chunks.append(data)


def nb_iterate(conn, handle):
    """Everything up to EOF by iterating in non-blocking mode."""
    chunks = []
    deadline = time.monotonic() + NB_DEADLINE
    for rc, data in handle:
        if rc == EAGAIN:
            assert data == b""
            assert time.monotonic() < deadline, "non-blocking iteration did not finish"
            conn.wait()
            continue
        assert 0 < rc == len(data)
        chunks.append(data)
    return b"".join(chunks)


def nb_close(conn, handle):
    """close() in non-blocking mode: EAGAIN leaves the handle open; returns the EAGAIN count."""
    eagains = 0
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        rc = handle.close()
        if rc != EAGAIN:
            break
        eagains += 1
        assert handle.closed is False
        assert time.monotonic() < deadline, "non-blocking close did not finish"
        conn.wait()
    assert rc == 0
    assert handle.closed is True
    assert handle.close() is None
    return eagains


def assert_same(got, expected, what):
    """Byte-exact comparison by sha256 (no 64 MiB diffs in the report)."""
    if got != expected:
        pytest.fail("%s: got %d bytes (sha256 %s), expected %d (sha256 %s)"
                    % (what, len(got), digest(got), len(expected), digest(expected)))


@pytest.fixture(scope="module")
def big_data():
    """64 MiB of random bytes and their sha256."""
    data = os.urandom(BIG)
    return data, digest(data)


# ---------------------------------------------------------------------------
# round trips: SFTPHandle.write, then read() and iteration
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_round_trip_blocking(sftp_conn, size):
    data = os.urandom(size)
    path = write_remote(sftp_conn, "round.bin", data)
    assert os.path.getsize(sftp_conn.local("round.bin")) == size
    assert file_digest(sftp_conn.local("round.bin")) == digest(data)

    handle = sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
    assert isinstance(handle, SFTPHandle)
    assert digest(read_handle(handle)) == digest(data)      # default 2 MiB buffer
    assert handle.read() == (0, b"")                     # EOF stays EOF
    assert handle.close() == 0

    # flags 0 opens for reading too (ssh2-python's tests do that); small reads
    handle = sftp_conn.sftp.open(path, 0, 0)
    assert digest(read_handle(handle, buffer_maxlen=4096)) == digest(data)
    assert handle.close() == 0

    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert iter(handle) is handle
        assert digest(iterate_all(handle)) == digest(data)
        assert list(handle) == []                        # still at EOF
    assert handle.closed is True


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_nonblocking(sftp_conn, size):
    data = os.urandom(size)
    path = sftp_conn.path("round-nb.bin")
    sftp_conn.session.set_blocking(False)
    assert sftp_conn.session.get_blocking() is False

    handle = sftp_conn.nb(sftp_conn.sftp.open, path, WRITE_FLAGS, 0o644)
    assert isinstance(handle, SFTPHandle)
    nb_write(sftp_conn, handle, data)
    nb_close(sftp_conn, handle)
    assert file_digest(sftp_conn.local("round-nb.bin")) == digest(data)

    handle = sftp_conn.nb(sftp_conn.sftp.open, path, LIBSSH2_FXF_READ, 0)
    assert digest(nb_read(sftp_conn, handle)) == digest(data)
    nb_close(sftp_conn, handle)

    handle = sftp_conn.nb(sftp_conn.sftp.open, path, LIBSSH2_FXF_READ, 0)
    assert digest(nb_iterate(sftp_conn, handle)) == digest(data)
    nb_close(sftp_conn, handle)

    # back to blocking: the session and the SFTP session are still in order
    sftp_conn.session.set_blocking(True)
    assert sftp_conn.sftp.stat(path).filesize == size


def test_round_trip_64mib_blocking(sshd_sftp_conn, big_data):
    sftp_conn = sshd_sftp_conn
    data, sha = big_data
    path = write_remote(sftp_conn, "big.bin", data)
    assert file_digest(sftp_conn.local("big.bin")) == sha
    assert sftp_conn.sftp.stat(path).filesize == BIG
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        got = read_handle(handle)
    assert_same(got, data, "64 MiB read()")
    del got
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        got = iterate_all(handle)
    assert_same(got, data, "64 MiB iteration")


def test_round_trip_64mib_nonblocking(sshd_sftp_conn, big_data):
    sftp_conn = sshd_sftp_conn
    data, sha = big_data
    path = sftp_conn.path("big-nb.bin")
    sftp_conn.session.set_blocking(False)
    handle = sftp_conn.nb(sftp_conn.sftp.open, path, WRITE_FLAGS, 0o644)
    # (whether a write() meets EAGAIN depends on timing: on loopback 64 MiB
    # can go out without one; test_nonblocking_partial_write forces them)
    nb_write(sftp_conn, handle, data)
    nb_close(sftp_conn, handle)
    assert file_digest(sftp_conn.local("big-nb.bin")) == sha

    handle = sftp_conn.nb(sftp_conn.sftp.open, path, LIBSSH2_FXF_READ, 0)
    got = nb_read(sftp_conn, handle)
    nb_close(sftp_conn, handle)
    assert_same(got, data, "64 MiB non-blocking read()")
    del got
    handle = sftp_conn.nb(sftp_conn.sftp.open, path, LIBSSH2_FXF_READ, 0)
    got = nb_iterate(sftp_conn, handle)
    nb_close(sftp_conn, handle)
    assert_same(got, data, "64 MiB non-blocking iteration")


class Stall:
    """Keeps the server from reading: sshd's connection processes get SIGSTOP,
    the asyncssh event loop is blocked.  ``resume()`` lets it go on."""

    def __init__(self, conn):
        self.conn = conn
        self.pids = []
        self.release = None

    def stop(self):
        if self.conn.kind == "sshd":
            self.pids = self.conn.server._descendants()
            assert self.pids
            for pid in self.pids:
                os.kill(pid, signal.SIGSTOP)
            deadline = time.monotonic() + 10
            while not all(_stopped(pid) for pid in self.pids):
                assert time.monotonic() < deadline, "sshd did not stop"
                time.sleep(0.001)
        else:
            started, self.release = threading.Event(), threading.Event()

            def block(release=self.release):
                started.set()
                release.wait(60)
            self.conn.server._loop.call_soon_threadsafe(block)
            assert started.wait(10), "the asyncssh event loop did not stop"

    def resume(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.pids = []
        if self.release is not None:
            self.release.set()
            self.release = None


def _stopped(pid):
    try:
        with open("/proc/%d/stat" % pid) as fobj:
            text = fobj.read()
    except OSError:
        return True
    return text[text.rfind(")") + 2:].split()[0] in ("T", "t", "Z", "X")


def test_nonblocking_partial_write(sftp_conn):
    data = os.urandom(8 * 1024 * 1024)       # far more than the 2 MiB channel window
    path = sftp_conn.path("partial.bin")
    sftp_conn.session.set_blocking(False)
    handle = sftp_conn.nb(sftp_conn.sftp.open, path, WRITE_FLAGS, 0o644)
    stall = Stall(sftp_conn)
    stall.stop()
    try:
        # the server acknowledges nothing: the write stops with nothing written
        assert handle.write(data) == (EAGAIN, 0)
        # let the server take in what was sent and acknowledge it ...
        stall.resume()
        assert select.select([sftp_conn.sock], [], [], 10)[0]
        time.sleep(1.0)
        # ... then stop it again: the next write (same data: nothing was
        # written yet) collects those acknowledgements, sends more, and stops
        # part way: rc EAGAIN with the bytes written so far
        stall.stop()
        rc, written = handle.write(data)
        assert rc == EAGAIN
        assert 0 < written < len(data)
    finally:
        stall.resume()
    # go on with the rest
    results = nb_write(sftp_conn, handle, data[written:])
    assert written + sum(count for _, count in results) == len(data)
    nb_close(sftp_conn, handle)
    assert file_digest(sftp_conn.local("partial.bin")) == digest(data)


def test_write_returns_last_chunk_and_total(sftp_conn):
    data = os.urandom(200000)
    with sftp_conn.sftp.open(sftp_conn.path("w.bin"), WRITE_FLAGS, 0o644) as handle:
        rc, written = handle.write(data)
        assert written == len(data)
        assert 0 < rc < len(data)   # several SFTP packets: rc is the last one's size
        assert handle.write(b"") == (0, 0)
        assert handle.write(b"tail") == (4, 4)
    assert file_digest(sftp_conn.local("w.bin")) == digest(data + b"tail")


def test_write_needs_bytes(sftp_conn):
    with sftp_conn.sftp.open(sftp_conn.path("str.bin"), WRITE_FLAGS, 0o644) as handle:
        for value in ("text", bytearray(b"x"), memoryview(b"x"), None, 1):
            with pytest.raises(TypeError):
                handle.write(value)
    assert os.path.getsize(sftp_conn.local("str.bin")) == 0


def test_open_flags_append_and_excl(sftp_conn):
    path = write_remote(sftp_conn, "flags.txt", b"one\n")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_APPEND, 0) as handle:
        assert handle.write(b"two\n") == (4, 4)
    with open(sftp_conn.local("flags.txt"), "rb") as fobj:
        assert fobj.read() == b"one\ntwo\n"
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.open(path, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, 0o644)
    assert info.value.errcode == LIBSSH2_ERROR_SFTP_PROTOCOL
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    # open_ex takes bytes and a length (-1: all of it)
    with sftp_conn.sftp.open_ex(path.encode() + b"junk", len(path), LIBSSH2_FXF_READ, 0,
                                0) as handle:
        assert read_handle(handle) == b"one\ntwo\n"
    with pytest.raises(TypeError):
        sftp_conn.sftp.open_ex(path, -1, LIBSSH2_FXF_READ, 0, 0)


def test_open_missing_file(sftp_conn):
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_OK
    path = sftp_conn.path("missing.bin")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    assert sftp_conn.session.last_errno() == LIBSSH2_ERROR_SFTP_PROTOCOL
    assert path in str(info.value)


def test_nonblocking_eagain_while_the_server_is_stalled(sftp_conn):
    """Every call returns EAGAIN (never raises) while the answer cannot come."""
    path = write_remote(sftp_conn, "nb-stall.txt", b"data")
    sftp_conn.session.set_blocking(False)
    stall = Stall(sftp_conn)

    def eagain_then(call, *args):
        stall.stop()
        try:
            assert call(*args) == EAGAIN
            assert call(*args) == EAGAIN      # asking again changes nothing
        finally:
            stall.resume()
        return sftp_conn.nb(call, *args)

    handle = eagain_then(sftp_conn.sftp.open, path, LIBSSH2_FXF_READ, 0)
    assert isinstance(handle, SFTPHandle)
    assert eagain_then(sftp_conn.sftp.stat, path).filesize == 4
    assert isinstance(eagain_then(sftp_conn.sftp.opendir, sftp_conn.remote_root), SFTPHandle)
    assert eagain_then(sftp_conn.sftp.realpath, sftp_conn.remote_root) == sftp_conn.remote_root
    assert eagain_then(handle.fstat).filesize == 4

    stall.stop()
    try:
        assert handle.read() == (EAGAIN, b"")
        assert next(iter(handle)) == (EAGAIN, b"")
    finally:
        stall.resume()
    assert nb_read(sftp_conn, handle) == b"data"

    # close(): EAGAIN leaves the handle open (ssh2-python marks it closed)
    stall.stop()
    try:
        assert handle.close() == EAGAIN
        assert handle.closed is False
    finally:
        stall.resume()
    nb_close(sftp_conn, handle)
    with pytest.raises(exceptions.SFTPHandleError):
        handle.read()


# ---------------------------------------------------------------------------
# bulk transfers: SFTP.get / SFTP.put (ssh2cffi additions)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 65537])
def test_put_get_round_trip(sftp_conn, tmp_path, size):
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    remote = sftp_conn.path("bulk.bin")
    assert sftp_conn.sftp.put(str(source), remote) == size
    assert file_digest(sftp_conn.local("bulk.bin")) == digest(data)
    assert stat.S_IMODE(os.stat(sftp_conn.local("bulk.bin")).st_mode) == 0o644
    target = tmp_path / "target.bin"
    assert sftp_conn.sftp.get(remote, str(target)) == size
    assert file_digest(str(target)) == digest(data)
    # path-like and bytes local paths work too
    assert sftp_conn.sftp.get(remote.encode(), tmp_path / "target2.bin") == size
    assert (tmp_path / "target2.bin").read_bytes() == data
    assert sftp_conn.sftp.put(os.fsencode(str(source)), remote) == size


def test_put_get_64mib(sshd_sftp_conn, tmp_path, big_data):
    sftp_conn = sshd_sftp_conn
    data, sha = big_data
    source = tmp_path / "big-source.bin"
    source.write_bytes(data)
    remote = sftp_conn.path("big-bulk.bin")
    assert sftp_conn.sftp.put(str(source), remote) == BIG
    assert file_digest(sftp_conn.local("big-bulk.bin")) == sha
    target = tmp_path / "big-target.bin"
    assert sftp_conn.sftp.get(remote, str(target)) == BIG
    assert file_digest(str(target)) == sha


def test_put_mode(sftp_conn, tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"secret")
    assert sftp_conn.sftp.put(str(source), sftp_conn.path("m600.txt"), mode=0o600) == 6
    assert os.stat(sftp_conn.local("m600.txt")).st_mode == 0o100600
    assert sftp_conn.sftp.put(str(source), sftp_conn.path("m640.txt"), 0o640) == 6
    assert os.stat(sftp_conn.local("m640.txt")).st_mode == 0o100640
    assert sftp_conn.sftp.stat(sftp_conn.path("m640.txt")).permissions == 0o100640
    # onto an existing file: truncated and rewritten; the mode only applies
    # when the file is created
    put_local(sftp_conn.local("existing.txt"), b"x" * 1000, 0o604)
    if sftp_conn.kind == "sshd":
        os.chown(sftp_conn.local("existing.txt"), sftp_conn.uid, sftp_conn.gid)
    assert sftp_conn.sftp.put(str(source), sftp_conn.path("existing.txt"), mode=0o600) == 6
    with open(sftp_conn.local("existing.txt"), "rb") as fobj:
        assert fobj.read() == b"secret"
    assert os.stat(sftp_conn.local("existing.txt")).st_mode == 0o100604


def test_get_missing_file(sftp_conn, tmp_path):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"precious")
    remote = sftp_conn.path("no-such-file")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.get(remote, str(target))
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    assert remote in str(info.value)
    # the local file is only opened once the remote one is
    assert target.read_bytes() == b"precious"
    # the SFTP session is fine afterwards
    mode = sftp_conn.sftp.stat(sftp_conn.remote_root).permissions
    assert mode & LIBSSH2_SFTP_S_IFMT == LIBSSH2_SFTP_S_IFDIR


def test_get_put_local_errors(sftp_conn, tmp_path):
    remote = write_remote(sftp_conn, "src.txt", b"abc")
    with pytest.raises(FileNotFoundError):
        sftp_conn.sftp.get(remote, str(tmp_path / "no-dir" / "x"))
    with pytest.raises(FileNotFoundError):
        sftp_conn.sftp.put(str(tmp_path / "no-such-local"), sftp_conn.path("never.txt"))
    assert not os.path.exists(sftp_conn.local("never.txt"))
    # no handle was left behind, and the session still works
    assert sftp_conn.sftp.get(remote, str(tmp_path / "ok.txt")) == 3
    assert (tmp_path / "ok.txt").read_bytes() == b"abc"


def test_get_put_nonblocking_raise_valueerror(sftp_conn, tmp_path):
    remote = write_remote(sftp_conn, "nb.txt", b"abc")
    target = tmp_path / "target.txt"
    target.write_bytes(b"untouched")
    sftp_conn.session.set_blocking(False)
    with pytest.raises(ValueError):
        sftp_conn.sftp.get(remote, str(target))
    with pytest.raises(ValueError):
        sftp_conn.sftp.put(str(target), remote)
    assert target.read_bytes() == b"untouched"
    with open(sftp_conn.local("nb.txt"), "rb") as fobj:
        assert fobj.read() == b"abc"
    sftp_conn.session.set_blocking(True)
    assert sftp_conn.sftp.get(remote, str(target)) == 3
    assert target.read_bytes() == b"abc"


# ---------------------------------------------------------------------------
# directories
# ---------------------------------------------------------------------------

def _make_many(conn, count=300):
    directory = conn.path("many")
    assert conn.sftp.mkdir(directory, 0o755) == 0
    names = set()
    for index in range(count):
        name = b"entry-%03d.txt" % index
        path = posixpath.join(directory, name.decode())
        with conn.sftp.open(path, WRITE_FLAGS, 0o644) as handle:
            assert handle.write(name) == (len(name), len(name))
        names.add(name)
    return directory, names


def test_readdir_many_entries(sftp_conn):
    directory, names = _make_many(sftp_conn)
    with sftp_conn.sftp.opendir(directory) as handle:
        assert isinstance(handle, SFTPHandle)
        entries = list(handle.readdir())
    got = [name for _, name, _ in entries]
    assert len(got) == len(names) + 2, "duplicates or missing entries"
    assert set(got) == names | {b".", b".."}
    for rc, name, attrs in entries:
        assert rc == len(name)
        assert isinstance(attrs, SFTPAttributes)
        assert attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS
        if name in (b".", b".."):
            assert attrs.permissions & LIBSSH2_SFTP_S_IFMT == LIBSSH2_SFTP_S_IFDIR
        else:
            assert attrs.permissions == 0o100644
            assert attrs.filesize == len(name)
    # the listing matches the directory on disk
    assert {os.fsencode(n) for n in os.listdir(sftp_conn.local("many"))} == names


def test_readdir_ex_longentry_per_entry(sftp_conn):
    directory, names = _make_many(sftp_conn)
    with sftp_conn.sftp.opendir(directory) as handle:
        entries = list(handle.readdir_ex())
    assert {name for _, name, _, _ in entries} == names | {b".", b".."}
    longentries = [longentry for _, _, longentry, _ in entries]
    # each entry has its own ls -l line (ssh2-python repeats the first one)
    assert len(set(longentries)) == len(entries)
    for rc, name, longentry, attrs in entries:
        assert rc == len(name)
        assert isinstance(longentry, bytes)
        assert longentry.endswith(b" " + name), (name, longentry)
        if name in (b".", b".."):
            assert longentry.startswith(b"d")
        else:
            assert longentry.startswith(b"-rw-r--r--")
            assert attrs.filesize == len(name)


def test_readdir_one_entry_at_a_time(sftp_conn):
    assert sftp_conn.sftp.mkdir(sftp_conn.path("small"), 0o755) == 0
    write_remote(sftp_conn, "small/only.txt", b"1")
    with sftp_conn.sftp.opendir(sftp_conn.path("small")) as handle:
        seen = []
        while True:
            rc, name, attrs = handle._readdir()
            assert isinstance(attrs, SFTPAttributes)
            if rc == 0:
                assert name == b""
                break
            assert rc == len(name)
            seen.append(name)
        assert sorted(seen) == [b".", b"..", b"only.txt"]
        rc, name, _ = handle._readdir()                   # still at the end
        assert (rc, name) == (0, b"")
    with sftp_conn.sftp.opendir(sftp_conn.path("small")) as handle:
        rc, name, longentry, attrs = handle._readdir_ex()
        assert rc == len(name) > 0
        assert longentry.endswith(b" " + name)
        # longentry_maxlen=0: no long entry wanted
        rest = list(handle.readdir_ex(longentry_maxlen=0))
        assert sorted([name] + [e[1] for e in rest]) == [b".", b"..", b"only.txt"]
        assert all(e[2] == b"" for e in rest)


def test_readdir_name_buffer_too_small_raises(sftp_conn):
    assert sftp_conn.sftp.mkdir(sftp_conn.path("long"), 0o755) == 0
    write_remote(sftp_conn, "long/" + "n" * 40, b"")
    with sftp_conn.sftp.opendir(sftp_conn.path("long")) as handle:
        with pytest.raises(exceptions.BufferTooSmallError):
            list(handle.readdir(buffer_maxlen=8))
    with sftp_conn.sftp.opendir(sftp_conn.path("long")) as handle:
        with pytest.raises(exceptions.BufferTooSmallError):
            list(handle.readdir_ex(longentry_maxlen=10))


def test_readdir_nonblocking(sftp_conn):
    directory, names = _make_many(sftp_conn, 50)
    sftp_conn.session.set_blocking(False)
    handle = sftp_conn.nb(sftp_conn.sftp.opendir, directory)
    assert isinstance(handle, SFTPHandle)
    entries = handle.readdir()
    # while the server cannot answer, the generator yields (EAGAIN, b'', attrs)
    stall = Stall(sftp_conn)
    stall.stop()
    try:
        rc, name, attrs = next(entries)
        assert (rc, name) == (EAGAIN, b"")
        assert isinstance(attrs, SFTPAttributes)
    finally:
        stall.resume()
    got = []
    deadline = time.monotonic() + NB_DEADLINE
    for rc, name, attrs in entries:         # the same generator goes on
        assert isinstance(attrs, SFTPAttributes)
        if rc == EAGAIN:
            assert name == b""
            assert time.monotonic() < deadline
            sftp_conn.wait()
            continue
        assert rc == len(name)
        got.append(name)
    assert sorted(got) == sorted(names | {b".", b".."})
    nb_close(sftp_conn, handle)


def test_opendir_missing_sshd(sshd_sftp_conn):
    sftp_conn = sshd_sftp_conn
    path = sftp_conn.path("no-such-dir")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.opendir(path)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    assert path in str(info.value)


def test_opendir_missing_asyncssh(asyncssh_sftp_conn):
    # asyncssh opens directories lazily: the error comes with the first readdir
    sftp_conn = asyncssh_sftp_conn
    handle = sftp_conn.sftp.opendir(sftp_conn.path("no-such-dir"))
    assert isinstance(handle, SFTPHandle)
    with pytest.raises(exceptions.SFTPProtocolError):
        list(handle.readdir())
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    assert handle.close() == 0


def test_readdir_on_a_file_handle_raises(sftp_conn):
    path = write_remote(sftp_conn, "plain.txt", b"abc")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        # the raw call returns the error code ...
        rc, name, attrs = handle._readdir()
        assert (rc, name) == (LIBSSH2_ERROR_SFTP_PROTOCOL, b"")
        # ... readdir() raises it (ssh2-python stops silently)
        with pytest.raises(exceptions.SFTPProtocolError):
            list(handle.readdir())
        assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
        with pytest.raises(exceptions.SFTPProtocolError):
            list(handle.readdir_ex())
    assert sftp_conn.sftp.stat(path).filesize == 3


def test_iteration_error_raises_sshd(sshd_sftp_conn):
    # OpenSSH opens a directory as a file, and fails reading it (EISDIR)
    sftp_conn = sshd_sftp_conn
    with sftp_conn.sftp.open(sftp_conn.remote_root, LIBSSH2_FXF_READ, 0) as handle:
        with pytest.raises(exceptions.SFTPProtocolError) as info:
            list(handle)
        assert info.value.errcode == LIBSSH2_ERROR_SFTP_PROTOCOL
        assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    with sftp_conn.sftp.open(sftp_conn.remote_root, LIBSSH2_FXF_READ, 0) as handle:
        # read() itself returns the code, as ssh2-python's does
        assert handle.read() == (LIBSSH2_ERROR_SFTP_PROTOCOL, b"")
    assert sftp_conn.sftp.stat(sftp_conn.remote_root).permissions & LIBSSH2_SFTP_S_IFDIR


def test_mkdir_rmdir(sftp_conn):
    path = sftp_conn.path("newdir")
    assert sftp_conn.sftp.mkdir(path, 0o750) == 0
    st = os.stat(sftp_conn.local("newdir"))
    assert st.st_mode == LIBSSH2_SFTP_S_IFDIR | 0o750
    assert st.st_uid == sftp_conn.uid
    attrs = sftp_conn.sftp.stat(path)
    assert attrs.permissions == LIBSSH2_SFTP_S_IFDIR | 0o750
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.mkdir(path, 0o750)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    assert path in str(info.value)
    write_remote(sftp_conn, "newdir/file", b"x")
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.rmdir(path)                       # not empty
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    assert sftp_conn.sftp.unlink(sftp_conn.path("newdir", "file")) == 0
    assert sftp_conn.sftp.rmdir(path) == 0
    assert not os.path.exists(sftp_conn.local("newdir"))
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.rmdir(path)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    # str and bytes paths
    assert sftp_conn.sftp.mkdir(path.encode(), 0o755) == 0
    assert sftp_conn.sftp.rmdir(path.encode()) == 0


def test_unlink(sftp_conn):
    path = write_remote(sftp_conn, "gone.txt", b"bye")
    assert sftp_conn.sftp.unlink(path) == 0
    assert not os.path.exists(sftp_conn.local("gone.txt"))
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.unlink(path)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE == 2
    assert sftp_conn.session.last_errno() == LIBSSH2_ERROR_SFTP_PROTOCOL
    assert info.value.errcode == LIBSSH2_ERROR_SFTP_PROTOCOL
    assert path in str(info.value)
    assert "LIBSSH2_FX_NO_SUCH_FILE" in str(info.value)


# ---------------------------------------------------------------------------
# rename
# ---------------------------------------------------------------------------

def _read_local(conn, name):
    with open(conn.local(name), "rb") as fobj:
        return fobj.read()


def test_rename(sftp_conn):
    old = write_remote(sftp_conn, "old.txt", b"content")
    new = sftp_conn.path("new.txt")
    assert sftp_conn.sftp.rename(old, new) == 0
    assert not os.path.exists(sftp_conn.local("old.txt"))
    assert _read_local(sftp_conn, "new.txt") == b"content"
    # bytes paths
    assert sftp_conn.sftp.rename(new.encode(), old.encode()) == 0
    assert _read_local(sftp_conn, "old.txt") == b"content"
    # a missing source
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.rename(sftp_conn.path("nope.txt"), new)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
    assert sftp_conn.path("nope.txt") in str(info.value)


def test_rename_onto_existing_file_fails(sftp_conn):
    # SFTP v3 has no rename flags, so libssh2 cannot ask for an overwrite:
    # both servers refuse to replace an existing file
    source = write_remote(sftp_conn, "source.txt", b"source")
    dest = write_remote(sftp_conn, "dest.txt", b"dest")
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.rename(source, dest)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.rename_ex(source.encode(), -1, dest.encode(), -1,
                            LIBSSH2_SFTP_RENAME_OVERWRITE)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_FAILURE
    assert _read_local(sftp_conn, "source.txt") == b"source"
    assert _read_local(sftp_conn, "dest.txt") == b"dest"


def test_rename_ex(sftp_conn):
    source = write_remote(sftp_conn, "a.txt", b"a")
    dest = sftp_conn.path("b.txt")
    # lengths select a prefix of the buffers; -1 means all of it
    assert sftp_conn.sftp.rename_ex(source.encode() + b"XYZ", len(source), dest.encode(), -1,
                                    0) == 0
    assert _read_local(sftp_conn, "b.txt") == b"a"
    assert not os.path.exists(sftp_conn.local("a.txt"))
    assert sftp_conn.sftp.rename_ex(dest.encode(), len(dest), source.encode(), len(source),
                               LIBSSH2_SFTP_RENAME_OVERWRITE) == 0
    assert _read_local(sftp_conn, "a.txt") == b"a"
    with pytest.raises(TypeError):
        sftp_conn.sftp.rename_ex(source, -1, dest.encode(), -1, 0)
    with pytest.raises(TypeError):
        sftp_conn.sftp.rename_ex(source.encode(), -1, dest, -1, 0)


# ---------------------------------------------------------------------------
# attributes: stat, lstat, fstat, setstat, fsetstat, fstat_ex
# ---------------------------------------------------------------------------

def _fixture_file(conn, name, data=b"attribute test data", mode=0o640):
    """A file with known mode and times, made over SFTP (so owned by the SFTP user)."""
    path = write_remote(conn, name, data)
    os.chmod(conn.local(name), mode)
    os.utime(conn.local(name), (ATIME, MTIME))
    return path


def _assert_matches_os_stat(attrs, local_path):
    st = os.stat(local_path)
    assert attrs.flags == ALL_ATTRS
    assert attrs.filesize == st.st_size
    assert attrs.permissions == st.st_mode
    assert attrs.uid == st.st_uid
    assert attrs.gid == st.st_gid
    assert attrs.atime == int(st.st_atime)
    assert attrs.mtime == int(st.st_mtime)


def test_stat_lstat_fstat_fields(sftp_conn):
    data = b"attribute test data"
    path = _fixture_file(sftp_conn, "attrs.txt", data)
    local = sftp_conn.local("attrs.txt")
    sftp = sftp_conn.sftp
    for attrs in (sftp.stat(path), sftp.lstat(path), sftp.stat(path.encode())):
        assert isinstance(attrs, SFTPAttributes)
        assert attrs.flags == 15
        assert attrs.filesize == len(data)
        assert attrs.permissions == 0o100640
        assert oct(attrs.permissions) == "0o100640"
        assert attrs.permissions & LIBSSH2_SFTP_S_IFMT == LIBSSH2_SFTP_S_IFREG
        assert (attrs.uid, attrs.gid) == (sftp_conn.uid, sftp_conn.gid)
        assert (attrs.atime, attrs.mtime) == (ATIME, MTIME)
        _assert_matches_os_stat(attrs, local)
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        attrs = handle.fstat()
        _assert_matches_os_stat(attrs, local)
        assert attrs.permissions == 0o100640
        filled = SFTPAttributes()
        assert handle.fstat_ex(filled, 0) == 0
        _assert_matches_os_stat(filled, local)
    # a directory
    attrs = sftp_conn.sftp.stat(sftp_conn.remote_root)
    assert attrs.permissions == LIBSSH2_SFTP_S_IFDIR | 0o755
    assert (attrs.uid, attrs.gid) == (sftp_conn.uid, sftp_conn.gid)
    _assert_matches_os_stat(attrs, sftp_conn.local_root)


def test_stat_missing(sftp_conn):
    for call in (sftp_conn.sftp.stat, sftp_conn.sftp.lstat):
        with pytest.raises(exceptions.SFTPProtocolError) as info:
            call(sftp_conn.path("missing"))
        assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE
        assert sftp_conn.path("missing") in str(info.value)


def test_setstat_permissions_and_times(sftp_conn):
    path = _fixture_file(sftp_conn, "set.txt")
    local = sftp_conn.local("set.txt")
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS
    attrs.permissions = 0o600
    assert sftp_conn.sftp.setstat(path, attrs) == 0
    assert os.stat(local).st_mode == 0o100600
    assert (int(os.stat(local).st_atime), int(os.stat(local).st_mtime)) == (ATIME, MTIME)

    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_ACMODTIME
    attrs.atime, attrs.mtime = 1234567890, 1300000000
    assert sftp_conn.sftp.setstat(path, attrs) == 0
    st = os.stat(local)
    assert (st.st_atime, st.st_mtime) == (1234567890, 1300000000)
    assert st.st_mode == 0o100600                      # untouched: not in flags

    # fields not named in flags are ignored
    attrs = SFTPAttributes()
    attrs.flags = 0
    attrs.permissions, attrs.mtime = 0o777, 5
    assert sftp_conn.sftp.setstat(path, attrs) == 0
    st = os.stat(local)
    assert (st.st_mode, st.st_mtime) == (0o100600, 1300000000)

    # size truncates (or extends)
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_SIZE
    attrs.filesize = 4
    assert sftp_conn.sftp.setstat(path, attrs) == 0
    assert _read_local(sftp_conn, "set.txt") == b"attr"

    # what stat() returns can be applied to another file
    other = write_remote(sftp_conn, "other.txt", b"zz")
    source = sftp_conn.sftp.stat(path)
    before = repr(source)
    assert sftp_conn.sftp.setstat(other, source) == 0
    copied = sftp_conn.sftp.stat(other)
    _assert_matches_os_stat(copied, sftp_conn.local("other.txt"))
    assert (copied.filesize, copied.permissions, copied.atime, copied.mtime) == (
        4, 0o100600, source.atime, source.mtime)
    # setstat leaves its argument alone (libssh2 zeroes the struct it is
    # given), so the same attributes can go to a third file
    assert repr(source) == before
    third = write_remote(sftp_conn, "third.txt", b"abcdefgh")
    assert sftp_conn.sftp.setstat(third, source) == 0
    assert _read_local(sftp_conn, "third.txt") == b"abcd"
    assert os.stat(sftp_conn.local("third.txt")).st_mode == 0o100600

    with pytest.raises(TypeError):
        sftp_conn.sftp.setstat(path, None)
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.setstat(sftp_conn.path("missing"), attrs)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE


def test_fsetstat_and_fstat_ex_apply(sftp_conn):
    path = _fixture_file(sftp_conn, "fset.txt")
    local = sftp_conn.local("fset.txt")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ | LIBSSH2_FXF_WRITE, 0) as handle:
        attrs = SFTPAttributes()
        attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS | LIBSSH2_SFTP_ATTR_ACMODTIME
        attrs.permissions = 0o604
        attrs.atime, attrs.mtime = 1111111111, 1222222222
        assert handle.fsetstat(attrs) == 0
        st = os.stat(local)
        assert st.st_mode == 0o100604
        assert (st.st_atime, st.st_mtime) == (1111111111, 1222222222)
        assert handle.fstat().permissions == 0o100604

        attrs = SFTPAttributes()
        attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS
        attrs.permissions = 0o640
        assert handle.fstat_ex(attrs, 1) == 0            # setstat=1 applies
        assert os.stat(local).st_mode == 0o100640
        filled = SFTPAttributes()
        assert handle.fstat_ex(filled, 0) == 0           # setstat=0 fills
        assert filled.permissions == 0o100640
        assert filled.mtime == 1222222222
        with pytest.raises(TypeError):
            handle.fsetstat(object())
        with pytest.raises(TypeError):
            handle.fstat_ex(None, 0)


def test_setstat_owner_asyncssh(asyncssh_sftp_conn):
    # the asyncssh server runs as root: chown works
    sftp_conn = asyncssh_sftp_conn
    path = _fixture_file(sftp_conn, "owner.txt")
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_UIDGID
    attrs.uid, attrs.gid = 4242, 4343
    assert sftp_conn.sftp.setstat(path, attrs) == 0
    st = os.stat(sftp_conn.local("owner.txt"))
    assert (st.st_uid, st.st_gid) == (4242, 4343)
    got = sftp_conn.sftp.stat(path)
    assert (got.uid, got.gid) == (4242, 4343)


# ---------------------------------------------------------------------------
# permissions: an unprivileged user (sshd)
# ---------------------------------------------------------------------------

@pytest.fixture
def unprivileged_sftp_conn(sshd):
    if not sshd.password_user:
        pytest.skip("the ssh2cffi account does not exist (run scripts/setup.sh)")
    conn = SFTPConnection("sshd", sshd, sshd.password_user)
    yield conn
    conn.close()


def test_permission_denied(unprivileged_sftp_conn):
    sftp_conn = unprivileged_sftp_conn
    assert sftp_conn.user != "root"
    secret = sftp_conn.local("root-only.txt")
    put_local(secret, b"root's secret", 0o600)      # made by root (this process)
    assert os.stat(secret).st_uid == 0
    path = sftp_conn.path("root-only.txt")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_PERMISSION_DENIED == 3
    assert path in str(info.value)
    assert "LIBSSH2_FX_PERMISSION_DENIED" in str(info.value)
    # stat needs no read permission
    assert sftp_conn.sftp.stat(path).permissions == 0o100600
    # not the owner: no chmod, no chown
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS
    attrs.permissions = 0o644
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.setstat(path, attrs)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_PERMISSION_DENIED
    own = write_remote(sftp_conn, "mine.txt", b"x")
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_UIDGID
    attrs.uid = attrs.gid = 0
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.setstat(own, attrs)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_PERMISSION_DENIED
    assert os.stat(sftp_conn.local("mine.txt")).st_uid == sftp_conn.uid
    # a directory owned by root: nothing can be created in it
    os.mkdir(sftp_conn.local("root-dir"), 0o755)
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.open(sftp_conn.path("root-dir", "new.txt"), WRITE_FLAGS, 0o644)
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_PERMISSION_DENIED
    assert os.listdir(sftp_conn.local("root-dir")) == []


# ---------------------------------------------------------------------------
# SFTPAttributes and SFTPStatVFS objects
# ---------------------------------------------------------------------------

ATTR_FIELDS = ("flags", "filesize", "uid", "gid", "permissions", "atime", "mtime")
STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                  "f_ffree", "f_favail", "f_fsid", "f_flag", "f_namemax")


def test_sftp_attributes_fields():
    attrs = SFTPAttributes()
    for field in ATTR_FIELDS:
        assert getattr(attrs, field) == 0
    for value, field in enumerate(ATTR_FIELDS, 1):
        setattr(attrs, field, value * 1000)
    for value, field in enumerate(ATTR_FIELDS, 1):
        assert getattr(attrs, field) == value * 1000
    attrs.filesize = 2 ** 64 - 1
    assert attrs.filesize == 2 ** 64 - 1
    attrs.mtime = 2 ** 32 - 1
    assert attrs.mtime == 2 ** 32 - 1
    with pytest.raises(AttributeError):
        attrs.no_such_field = 1


@pytest.mark.parametrize("field", ATTR_FIELDS)
def test_sftp_attributes_coercion(field):
    attrs = SFTPAttributes()
    setattr(attrs, field, 7)
    with pytest.raises(OverflowError):
        setattr(attrs, field, -1)
    with pytest.raises(TypeError):
        setattr(attrs, field, "5")
    with pytest.raises(TypeError):
        setattr(attrs, field, None)
    with pytest.raises(OverflowError):
        setattr(attrs, field, 2 ** 64)
    assert getattr(attrs, field) == 7                  # failed sets change nothing
    setattr(attrs, field, 1.9)                         # floats are truncated
    assert getattr(attrs, field) == 1
    setattr(attrs, field, 12345.99)
    assert getattr(attrs, field) == 12345
    assert isinstance(getattr(attrs, field), int)


def test_sftp_statvfs_object():
    statvfs = SFTPStatVFS(None)
    for field in STATVFS_FIELDS:
        assert getattr(statvfs, field) == 0
        with pytest.raises(AttributeError):
            setattr(statvfs, field, 1)
        assert getattr(SFTPStatVFS, field).__doc__
    with pytest.raises(TypeError):
        SFTPStatVFS()


def _check_statvfs(statvfs, local_dir, kind):
    assert isinstance(statvfs, SFTPStatVFS)
    local = os.statvfs(local_dir)
    for field in ("f_bsize", "f_frsize", "f_blocks", "f_files", "f_namemax"):
        assert getattr(statvfs, field) > 0, field
        assert getattr(statvfs, field) == getattr(local, field), field
    assert 0 < statvfs.f_bavail <= statvfs.f_bfree <= statvfs.f_blocks
    assert 0 < statvfs.f_favail <= statvfs.f_files
    assert 0 < statvfs.f_ffree <= statvfs.f_files
    # libssh2 keeps only the two flags SFTP defines
    assert statvfs.f_flag & ~(LIBSSH2_SFTP_ST_RDONLY | LIBSSH2_SFTP_ST_NOSUID) == 0
    assert statvfs.f_flag == local.f_flag & (LIBSSH2_SFTP_ST_RDONLY | LIBSSH2_SFTP_ST_NOSUID)
    if kind == "sshd" and hasattr(local, "f_fsid"):
        assert statvfs.f_fsid == local.f_fsid


def test_statvfs(sftp_conn):
    root = sftp_conn.server.dir if sftp_conn.kind == "asyncssh" else "/"
    _check_statvfs(sftp_conn.sftp.statvfs("/"), root, sftp_conn.kind)
    _check_statvfs(sftp_conn.sftp.statvfs(sftp_conn.remote_root.encode()), sftp_conn.local_root,
                   sftp_conn.kind)
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.statvfs(sftp_conn.path("missing"))
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE


def test_fstatvfs(sftp_conn):
    path = write_remote(sftp_conn, "vfs.txt", b"x")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        _check_statvfs(handle.fstatvfs(), sftp_conn.local_root, sftp_conn.kind)


# ---------------------------------------------------------------------------
# symlinks and realpath
# ---------------------------------------------------------------------------

def test_lstat_and_stat_of_a_symlink(sftp_conn):
    path = write_remote(sftp_conn, "target.txt", b"12345")
    os.symlink("target.txt", sftp_conn.local("link"))
    link = sftp_conn.path("link")
    attrs = sftp_conn.sftp.lstat(link)
    assert attrs.permissions & LIBSSH2_SFTP_S_IFMT == LIBSSH2_SFTP_S_IFLNK
    assert attrs.permissions == 0o120777
    assert attrs.filesize == len("target.txt")
    assert attrs.permissions == os.lstat(sftp_conn.local("link")).st_mode
    attrs = sftp_conn.sftp.stat(link)
    assert attrs.permissions == 0o100644
    assert attrs.filesize == 5
    _assert_matches_os_stat(attrs, sftp_conn.local("target.txt"))
    # realpath resolves the link
    assert sftp_conn.sftp.realpath(link) == path
    # a dangling link: lstat works, stat does not
    os.symlink("nowhere", sftp_conn.local("dangling"))
    assert sftp_conn.sftp.lstat(sftp_conn.path("dangling")).filesize == len("nowhere")
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.stat(sftp_conn.path("dangling"))
    assert sftp_conn.sftp.last_error() == LIBSSH2_FX_NO_SUCH_FILE


def test_symlink(sftp_conn, symlink_status_misread):
    existing = write_remote(sftp_conn, "existing.txt", b"pointed at")
    newlink = sftp_conn.path("newlink")
    sftp = sftp_conn.session.sftp_init()     # a fresh SFTP session: request ids from 0
    assert sftp.stat(existing).filesize == 10             # request 0
    # OpenSSH takes SSH_FXP_SYMLINK's two paths in the opposite order to the
    # SFTP draft (target first, then the new link), and libssh2 sends
    # symlink(path, target) as given; asyncssh follows the draft
    if sftp_conn.kind == "sshd":
        args = (existing, newlink)
    else:
        args = (newlink, existing)
    if symlink_status_misread:
        with pytest.raises(exceptions.SFTPProtocolError):
            sftp.symlink(*args)                           # request 1
        assert sftp.last_error() == 1                     # the request id
    else:
        assert sftp.symlink(*args) == 0
    # either way, the link was made: newlink -> existing
    assert os.path.islink(sftp_conn.local("newlink"))
    assert not os.path.islink(sftp_conn.local("existing.txt"))
    if sftp_conn.kind == "sshd":
        assert os.readlink(sftp_conn.local("newlink")) == existing
    else:  # asyncssh maps the chrooted target to the real path
        assert os.readlink(sftp_conn.local("newlink")) == sftp_conn.local("existing.txt")
    assert sftp.lstat(newlink).permissions == 0o120777
    assert sftp.stat(newlink).filesize == 10


def test_symlink_onto_existing_name_fails_sshd(sshd_sftp_conn, symlink_status_misread):
    sftp_conn = sshd_sftp_conn
    existing = write_remote(sftp_conn, "a.txt", b"a")
    other = write_remote(sftp_conn, "b.txt", b"b")
    sftp = sftp_conn.session.sftp_init()
    assert sftp.stat(existing).filesize == 1              # request 0
    # refused by the server (the name exists); with the misread status the
    # request id (1) comes back as the status, also an error
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp.symlink(existing, other)
    if not symlink_status_misread:
        assert sftp.last_error() == LIBSSH2_FX_FAILURE
    assert not os.path.islink(sftp_conn.local("b.txt"))
    assert _read_local(sftp_conn, "b.txt") == b"b"


def test_realpath(sftp_conn):
    if sftp_conn.kind == "sshd":
        home = pwd.getpwnam(sftp_conn.user).pw_dir
    else:
        home = "/"          # chrooted
    assert sftp_conn.sftp.realpath(".") == home
    assert sftp_conn.sftp.realpath(b".") == home
    assert isinstance(sftp_conn.sftp.realpath("."), str)
    assert sftp_conn.sftp.mkdir(sftp_conn.path("sub"), 0o755) == 0
    assert sftp_conn.sftp.realpath(sftp_conn.path("sub", "..")) == sftp_conn.remote_root
    assert sftp_conn.sftp.realpath(sftp_conn.remote_root + "//sub/./") == sftp_conn.path("sub")


def test_realpath_of_a_missing_path_raises(sftp_conn):
    if sftp_conn.kind != "sshd":
        pytest.skip("asyncssh resolves paths without looking at the file system")
    # OpenSSH answers with a status; Debian's libssh2 1.10 misreads it as an
    # empty path, which must still raise rather than return "".
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.realpath(sftp_conn.path("missing", "deeper"))
    assert "missing" in str(info.value)


def test_realpath_buffer_too_small(sftp_conn):
    with pytest.raises(exceptions.BufferTooSmallError) as info:
        sftp_conn.sftp.realpath(".", max_len=0)
    assert info.value.errcode == -38
    assert not str(info.value).startswith(" ")
    assert "'.'" in str(info.value)
    # too short for the answer
    with pytest.raises(exceptions.BufferTooSmallError):
        sftp_conn.sftp.realpath(sftp_conn.remote_root, 3)
    # exactly long enough: the answer and its NUL
    root = sftp_conn.remote_root
    assert sftp_conn.sftp.realpath(root, max_len=len(root) + 1) == root
    with pytest.raises(exceptions.BufferTooSmallError):
        sftp_conn.sftp.realpath(root, max_len=len(root))


# ---------------------------------------------------------------------------
# ssh2cffi's additions: readlink, posix_rename, open_ex_r, readable statuses
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


def test_readlink(sftp_conn):
    expected = _link(sftp_conn, "link", "target.txt")
    assert sftp_conn.sftp.readlink(sftp_conn.path("link")) == expected
    assert sftp_conn.sftp.readlink(sftp_conn.path("link").encode()) == expected
    expected = _link(sftp_conn, "link2", "sub/other")
    assert sftp_conn.sftp.readlink(sftp_conn.path("link2")) == expected


def test_readlink_long_target(sftp_conn):
    # longer than the first buffer: readlink asks again with more room
    expected = _link(sftp_conn, "long", "/".join(["d" * 200] * 15))
    assert len(expected) > 3000
    assert sftp_conn.sftp.readlink(sftp_conn.path("long")) == expected


def test_readlink_of_a_file_raises(sftp_conn, symlink_status_misread):
    with open(sftp_conn.local("plain"), "w") as fobj:
        fobj.write("x")
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.readlink(sftp_conn.path("plain"))
    assert sftp_conn.path("plain") in str(info.value)
    if not symlink_status_misread:
        # OpenSSH says FAILURE, asyncssh a more precise status: never OK
        assert sftp_conn.sftp.last_error() != 0
    with pytest.raises(exceptions.SFTPProtocolError):
        sftp_conn.sftp.readlink(sftp_conn.path("missing"))


def test_sftp_additions_non_blocking(sftp_conn):
    # EAGAIN is returned, not raised; calling again finishes the request
    expected = _link(sftp_conn, "link", "target.txt")
    with open(sftp_conn.local("a"), "w") as fobj:
        fobj.write("data")
    sftp_conn.session.set_blocking(False)
    try:
        assert sftp_conn.nb(sftp_conn.sftp.readlink, sftp_conn.path("link")) == expected
        if HAS_LIBSSH2_1_11:
            assert sftp_conn.nb(sftp_conn.sftp.posix_rename, sftp_conn.path("a"),
                                sftp_conn.path("b")) == 0
            handle = sftp_conn.nb(sftp_conn.sftp.open_ex_r, sftp_conn.path("b"),
                                  LIBSSH2_FXF_READ, 0)
            while True:  # read() returns (EAGAIN, b"") rather than EAGAIN
                result = handle.read()
                if result[0] != LIBSSH2_ERROR_EAGAIN:
                    break
                sftp_conn.wait()
            assert result == (4, b"data")
            assert sftp_conn.nb(handle.close) == 0
    finally:
        sftp_conn.session.set_blocking(True)


def test_readlink_bad_arguments(sshd_sftp_conn):
    with pytest.raises(TypeError):
        sshd_sftp_conn.sftp.readlink(3)


def test_sftp_error_names_the_status_and_its_meaning(sftp_conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.open(sftp_conn.path("missing"), LIBSSH2_FXF_READ, 0)
    text = str(info.value)
    assert "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)" in text
    assert repr(sftp_conn.path("missing")) in text
    assert sftp_conn.sftp.last_error() == 2
    assert sftp_conn.sftp.last_error_text() == "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)"


@needs_libssh2_1_11
def test_posix_rename_replaces_the_destination(sftp_conn):
    for name, text in (("a", "first"), ("b", "second")):
        with open(sftp_conn.local(name), "w") as fobj:
            fobj.write(text)
    assert sftp_conn.sftp.posix_rename(sftp_conn.path("a"), sftp_conn.path("b")) == 0
    assert not os.path.exists(sftp_conn.local("a"))
    with open(sftp_conn.local("b")) as fobj:
        assert fobj.read() == "first"


@needs_libssh2_1_11
def test_posix_rename_missing_source(sftp_conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.posix_rename(sftp_conn.path("missing"), sftp_conn.path("b"))
    assert "LIBSSH2_FX_NO_SUCH_FILE" in str(info.value)
    assert sftp_conn.sftp.last_error() == 2


@needs_libssh2_1_11
def test_posix_rename_server_without_the_extension(asyncssh_server, monkeypatch):
    # The in-process asyncssh server, told not to announce the extension in
    # its SFTP VERSION reply (libssh2 reads the announcement at sftp_init).
    import asyncssh.sftp

    handler = asyncssh.sftp.SFTPServerHandler
    monkeypatch.setattr(handler, "_extensions", [
        ext for ext in handler._extensions if ext[0] != b"posix-rename@openssh.com"])
    conn = SFTPConnection("asyncssh", asyncssh_server)
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
        conn.close()


@only_libssh2_1_10
def test_posix_rename_and_open_ex_r_need_1_11(sshd_sftp_conn):
    with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0.*1\.10"):
        sshd_sftp_conn.sftp.posix_rename(sshd_sftp_conn.path("a"), sshd_sftp_conn.path("b"))
    with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0"):
        sshd_sftp_conn.sftp.open_ex_r(sshd_sftp_conn.path("a"), LIBSSH2_FXF_READ, 0)


@needs_libssh2_1_11
def test_open_ex_r_creates_and_reads(sftp_conn):
    attrs = SFTPAttributes()
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS
    flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
    with sftp_conn.sftp.open_ex_r(sftp_conn.path("new"), flags, 0o640, attrs=attrs) as handle:
        assert handle.write(b"hello")[1] == 5
    assert attrs.flags == LIBSSH2_SFTP_ATTR_PERMISSIONS  # left as it was
    assert os.stat(sftp_conn.local("new")).st_mode & 0o777 == 0o640
    with sftp_conn.sftp.open_ex_r(sftp_conn.path("new"), LIBSSH2_FXF_READ, 0) as handle:
        assert handle.read() == (5, b"hello")
    handle = sftp_conn.sftp.open_ex_r(sftp_conn.local_root if sftp_conn.kind == "sshd"
                                      else sftp_conn.remote_root, 0, 0, open_type=1)
    names = sorted(entry[1] for entry in handle.readdir())
    assert b"new" in names
    handle.close()


@needs_libssh2_1_11
def test_open_ex_r_reports_the_status(sftp_conn):
    with pytest.raises(exceptions.SFTPProtocolError) as info:
        sftp_conn.sftp.open_ex_r(sftp_conn.path("missing"), LIBSSH2_FXF_READ, 0)
    assert "LIBSSH2_FX_NO_SUCH_FILE (2, no such file)" in str(info.value)
    assert sftp_conn.sftp.last_error() == 2


def test_open_ex_r_bad_arguments(sshd_sftp_conn):
    sftp = sshd_sftp_conn.sftp
    with pytest.raises(TypeError):
        sftp.open_ex_r(sshd_sftp_conn.path("x"), LIBSSH2_FXF_READ, 0, attrs="attrs")
    with pytest.raises(ValueError):
        sftp.open_ex_r(sshd_sftp_conn.path("x"), LIBSSH2_FXF_READ, 0, open_type=7)
    with pytest.raises(TypeError):
        sftp.open_ex_r(sshd_sftp_conn.path("x"), "r", 0)
    with pytest.raises(TypeError):
        sftp.open_ex_r(None, LIBSSH2_FXF_READ, 0)


def test_sftp_additions_after_disconnect_raise(sshd):
    conn = SFTPConnection("sshd", sshd)
    sftp = conn.sftp
    conn.close()
    calls = [lambda: sftp.readlink("/x"), sftp.last_error_text]
    if HAS_LIBSSH2_1_11:
        calls += [lambda: sftp.posix_rename("/a", "/b"),
                  lambda: sftp.open_ex_r("/a", LIBSSH2_FXF_READ, 0)]
    for call in calls:
        with pytest.raises(exceptions.SocketDisconnectError):
            call()


# ---------------------------------------------------------------------------
# positions
# ---------------------------------------------------------------------------

def test_seek_tell_rewind(sftp_conn):
    data = bytes(range(100))
    path = write_remote(sftp_conn, "pos.bin", data)
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert handle.tell() == 0
        assert handle.tell64() == 0
        assert handle.read(10) == (10, data[:10])
        assert handle.tell() == 10
        assert handle.seek(50) is None
        assert handle.tell() == 50
        assert handle.read(5) == (5, data[50:55])
        assert handle.tell64() == 55
        assert handle.seek64(90) is None
        assert handle.tell64() == 90
        assert read_handle(handle) == data[90:]
        assert handle.tell() == 100
        assert handle.rewind() is None
        assert handle.tell() == 0
        assert handle.read(3) == (3, data[:3])
        assert handle.tell64() == 3
        handle.seek(1000)                 # past the end: EOF
        assert handle.read() == (0, b"")
        handle.seek64(5 * 2 ** 30)
        assert handle.tell64() == 5 * 2 ** 30 == 5368709120   # not truncated
        assert handle.tell() == 5 * 2 ** 30
        assert handle.read() == (0, b"")
        handle.seek64(2 ** 63)
        assert handle.tell64() == 2 ** 63
        for bad in (-1, 2 ** 64):
            with pytest.raises(OverflowError):
                handle.seek(bad)
            with pytest.raises(OverflowError):
                handle.seek64(bad)
        with pytest.raises(TypeError):
            handle.seek("1")
        handle.seek(0)
        assert handle.read(4) == (4, data[:4])


def test_write_at_offset(sftp_conn):
    path = write_remote(sftp_conn, "patch.bin", b"a" * 10)
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_WRITE, 0) as handle:
        handle.seek64(4)
        assert handle.write(b"XY") == (2, 2)
        assert handle.tell64() == 6
        handle.seek(12)                   # a hole is filled with zeros
        assert handle.write(b"Z") == (1, 1)
    assert _read_local(sftp_conn, "patch.bin") == b"aaaaXYaaaa\0\0Z"


# ---------------------------------------------------------------------------
# handle life: iteration, context manager, close
# ---------------------------------------------------------------------------

def test_iteration_yields_chunks(sftp_conn):
    data = os.urandom(5 * 1024 * 1024)         # more than one 2 MiB read
    path = write_remote(sftp_conn, "chunks.bin", data)
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        chunks = list(handle)
    assert len(chunks) >= 3
    for rc, chunk in chunks:
        assert isinstance(rc, int) and isinstance(chunk, bytes)
        assert 0 < rc == len(chunk) <= DEFAULT_READ_SIZE == 2 * 1024 * 1024
    assert digest(b"".join(chunk for _, chunk in chunks)) == digest(data)


def test_context_manager_closes(sftp_conn):
    path = write_remote(sftp_conn, "ctx.txt", b"ctx")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert handle.closed is False
        assert handle.read() == (3, b"ctx")
    assert handle.closed is True
    # an exception inside the block propagates, and the handle is closed
    with pytest.raises(KeyError):
        with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
            raise KeyError("boom")
    assert handle.closed is True
    # leaving the block after an explicit close is fine
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert handle.close() == 0
    assert handle.closed is True
    with sftp_conn.sftp.opendir(sftp_conn.remote_root) as handle:
        pass
    assert handle.closed is True


def test_close_twice_returns_none(sftp_conn):
    path = write_remote(sftp_conn, "close.txt", b"x")
    handle = sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
    assert handle.closed is False
    assert handle.close() == 0
    assert handle.closed is True
    assert handle.close() is None
    assert handle.close() is None
    with pytest.raises(AttributeError):
        handle.closed = False


def _every_handle_call(handle):
    attrs = SFTPAttributes()
    return {
        "read": lambda: handle.read(),
        "read(size)": lambda: handle.read(10),
        "write": lambda: handle.write(b"x"),
        "seek": lambda: handle.seek(0),
        "seek64": lambda: handle.seek64(0),
        "tell": handle.tell,
        "tell64": handle.tell64,
        "rewind": handle.rewind,
        "fstat": handle.fstat,
        "fstat_ex": lambda: handle.fstat_ex(attrs, 0),
        "fsetstat": lambda: handle.fsetstat(attrs),
        "fstatvfs": handle.fstatvfs,
        "fsync": handle.fsync,
        "next": lambda: next(handle),
        "iteration": lambda: list(handle),
        "_readdir": handle._readdir,
        "_readdir_ex": handle._readdir_ex,
        "readdir": lambda: next(handle.readdir()),
        "readdir_ex": lambda: next(handle.readdir_ex()),
    }


def test_any_call_after_close_raises(sftp_conn):
    path = write_remote(sftp_conn, "closed.txt", b"data")
    handles = [sftp_conn.sftp.open(path, LIBSSH2_FXF_READ | LIBSSH2_FXF_WRITE, 0),
               sftp_conn.sftp.opendir(sftp_conn.remote_root)]
    for handle in handles:
        assert handle.close() == 0
        for name, call in _every_handle_call(handle).items():
            with pytest.raises(exceptions.SFTPHandleError):
                call()
                pytest.fail("%s() on a closed handle did not raise" % name)
        assert handle.close() is None
        with handle:
            pass
    # the SFTP session is unharmed
    assert sftp_conn.sftp.stat(path).filesize == 4


def test_fsync(sftp_conn):
    path = sftp_conn.path("sync.txt")
    with sftp_conn.sftp.open(path, WRITE_FLAGS, 0o644) as handle:
        assert handle.write(b"synced") == (6, 6)
        assert handle.fsync() == 0
        assert _read_local(sftp_conn, "sync.txt") == b"synced"


# ---------------------------------------------------------------------------
# objects built directly
# ---------------------------------------------------------------------------

def test_sftphandle_built_directly():
    handle = SFTPHandle()
    assert handle.closed is False
    for name, call in _every_handle_call(handle).items():
        with pytest.raises(exceptions.SFTPHandleError):
            call()
            pytest.fail("%s() did not raise" % name)
    with pytest.raises(exceptions.SFTPHandleError):
        handle.close()
    with handle:             # leaving a with block needs no close
        pass
    with pytest.raises(TypeError):
        SFTPHandle(1)
    sftp = SFTP(Session())
    handle = SFTPHandle(sftp)
    with pytest.raises(exceptions.SFTPHandleError):
        handle.read()
    del handle, sftp
    gc.collect()


def test_sftp_built_directly():
    session = Session()
    sftp = SFTP(session)
    assert sftp.session is session
    calls = {
        "open": lambda: sftp.open("/x", LIBSSH2_FXF_READ, 0),
        "open_ex": lambda: sftp.open_ex(b"/x", -1, LIBSSH2_FXF_READ, 0, 0),
        "opendir": lambda: sftp.opendir("/"),
        "stat": lambda: sftp.stat("/"),
        "lstat": lambda: sftp.lstat("/"),
        "setstat": lambda: sftp.setstat("/", SFTPAttributes()),
        "statvfs": lambda: sftp.statvfs("/"),
        "rename": lambda: sftp.rename("/a", "/b"),
        "rename_ex": lambda: sftp.rename_ex(b"/a", -1, b"/b", -1, 0),
        "unlink": lambda: sftp.unlink("/a"),
        "mkdir": lambda: sftp.mkdir("/a", 0o755),
        "rmdir": lambda: sftp.rmdir("/a"),
        "symlink": lambda: sftp.symlink("/a", "/b"),
        "realpath": lambda: sftp.realpath("."),
        "last_error": sftp.last_error,
        "get_channel": sftp.get_channel,
    }
    for name, call in calls.items():
        # SFTPError itself (no libssh2 call is made), not one of its subclasses
        with pytest.raises(exceptions.SFTPError) as info:
            call()
            pytest.fail("%s() did not raise" % name)
        assert type(info.value) is exceptions.SFTPError, name
    for bad in (1, None, "session"):
        with pytest.raises(TypeError):
            SFTP(bad)
    with pytest.raises(AttributeError):
        sftp.session = Session()
    sftp = session = None   # (not del: the lambdas above still name them)
    gc.collect()


def test_sftp_session_property(sftp_conn):
    assert sftp_conn.sftp.session is sftp_conn.session
    with pytest.raises(AttributeError):
        sftp_conn.sftp.session = None


# ---------------------------------------------------------------------------
# lifetimes
# ---------------------------------------------------------------------------

def test_handle_keeps_sftp_alive(sftp_conn):
    sftp = sftp_conn.session.sftp_init()
    handle = sftp.open(sftp_conn.path("alive.txt"), WRITE_FLAGS | LIBSSH2_FXF_READ, 0o644)
    dirhandle = sftp.opendir(sftp_conn.remote_root)
    ref = weakref.ref(sftp)
    del sftp
    gc.collect()
    assert ref() is not None                  # the handles hold it
    assert handle.write(b"still works") == (11, 11)
    assert handle.fstat().filesize == 11
    handle.rewind()
    assert read_handle(handle) == b"still works"
    assert b"alive.txt" in {name for _, name, _ in dirhandle.readdir()}
    assert handle.close() == 0
    assert dirhandle.close() == 0
    del handle, dirhandle
    gc.collect()
    assert ref() is None
    # the session goes on; a new SFTP session works
    assert sftp_conn.sftp.stat(sftp_conn.path("alive.txt")).filesize == 11
    assert isinstance(sftp_conn.session.sftp_init(), SFTP)


def test_dropped_handles_are_freed(sftp_conn):
    path = write_remote(sftp_conn, "drop.txt", b"x")
    for _ in range(50):
        handle = sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
        assert handle.read() == (1, b"x")
        del handle                            # never closed explicitly
    gc.collect()
    assert sftp_conn.sftp.stat(path).filesize == 1
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert handle.read() == (1, b"x")


def test_use_after_disconnect_raises(sftp_conn):
    path = write_remote(sftp_conn, "disc.txt", b"data")
    handle = sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0)
    dirhandle = sftp_conn.sftp.opendir(sftp_conn.remote_root)
    readdir = dirhandle.readdir()
    assert next(readdir)[0] > 0
    channel = sftp_conn.sftp.get_channel()
    assert sftp_conn.session.disconnect() == 0
    sftp_calls = {
        "open": lambda: sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0),
        "opendir": lambda: sftp_conn.sftp.opendir(sftp_conn.remote_root),
        "stat": lambda: sftp_conn.sftp.stat(path),
        "lstat": lambda: sftp_conn.sftp.lstat(path),
        "setstat": lambda: sftp_conn.sftp.setstat(path, SFTPAttributes()),
        "statvfs": lambda: sftp_conn.sftp.statvfs("/"),
        "unlink": lambda: sftp_conn.sftp.unlink(path),
        "rename": lambda: sftp_conn.sftp.rename(path, path + ".x"),
        "mkdir": lambda: sftp_conn.sftp.mkdir(path + ".d", 0o755),
        "rmdir": lambda: sftp_conn.sftp.rmdir(path + ".d"),
        "symlink": lambda: sftp_conn.sftp.symlink(path, path + ".l"),
        "realpath": lambda: sftp_conn.sftp.realpath("."),
        "last_error": sftp_conn.sftp.last_error,
        "get_channel": sftp_conn.sftp.get_channel,
        "get": lambda: sftp_conn.sftp.get(path, os.devnull),
        "sftp_init": sftp_conn.session.sftp_init,
    }
    handle_calls = _every_handle_call(handle)
    handle_calls["close"] = handle.close
    handle_calls["readdir (started)"] = lambda: next(readdir)
    handle_calls["dir close"] = dirhandle.close
    for name, call in list(sftp_calls.items()) + list(handle_calls.items()):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()
            pytest.fail("%s() after disconnect did not raise" % name)
    with pytest.raises(exceptions.SocketDisconnectError):
        channel.read()
    assert handle.closed is False
    with handle:            # nothing to close any more: no error
        pass
    assert os.path.exists(sftp_conn.local("disc.txt"))
    handle = dirhandle = readdir = channel = None   # (not del: the lambdas name them)
    gc.collect()


def test_get_channel(sftp_conn):
    channel = sftp_conn.sftp.get_channel()
    assert isinstance(channel, Channel)
    assert channel.session is sftp_conn.session
    assert channel.window_read() > 0
    again = sftp_conn.sftp.get_channel()
    assert isinstance(again, Channel) and again.session is sftp_conn.session
    # the channel belongs to the SFTP session: dropping the wrapper frees nothing
    del channel, again
    gc.collect()
    path = write_remote(sftp_conn, "chan.txt", b"still here")
    with sftp_conn.sftp.open(path, LIBSSH2_FXF_READ, 0) as handle:
        assert handle.read() == (10, b"still here")


DROP_ORDER_CHILD = r"""
import gc, itertools, os, socket, sys
from ssh2cffi.session import Session
from ssh2cffi.sftp import LIBSSH2_FXF_READ

HOST, PORT = os.environ["SSHD_HOST"], int(os.environ["SSHD_PORT"])
USER, KEY, PATH = os.environ["SSHD_USER"], os.environ["SSHD_KEY"], os.environ["SFTP_FILE"]
SIZE = int(os.environ["SFTP_SIZE"])

def check(objects):
    # every object still held works
    session, sftp = objects[0], objects[1]
    if session is not None:
        assert session.userauth_authenticated()
    if sftp is not None:
        assert sftp.stat(PATH).filesize == SIZE
    for handle in objects[2:]:
        if handle is not None:
            assert handle.fstat().filesize == SIZE
            rc, data = handle.read(1)
            assert rc == 1 and len(data) == 1

orders = 0
for order in itertools.permutations(range(5)):
    sock = socket.create_connection((HOST, PORT))
    session = Session()
    session.handshake(sock)
    session.userauth_publickey_fromfile(USER, KEY)
    sftp = session.sftp_init()
    objects = [session, sftp] + [sftp.open(PATH, LIBSSH2_FXF_READ, 0) for _ in range(3)]
    del session, sftp
    for position in order:
        objects[position] = None
        gc.collect()
        check(objects)
    gc.collect()
    sock.close()
    orders += 1
print("orders", orders)
"""


def test_every_drop_order_of_session_sftp_and_handles(sshd_sftp_conn):
    sftp_conn = sshd_sftp_conn
    data = os.urandom(4096)
    path = write_remote(sftp_conn, "drop-order.bin", data)
    result = run_python(DROP_ORDER_CHILD, timeout=240, env={
        "SSHD_HOST": sftp_conn.server.host, "SSHD_PORT": str(sftp_conn.server.port),
        "SSHD_USER": sftp_conn.user, "SSHD_KEY": sftp_conn.server.key_paths["id_ed25519"],
        "SFTP_FILE": path, "SFTP_SIZE": str(len(data))})
    assert result.returncode == 0, "child died (%d): %s" % (result.returncode,
                                                             result.stderr[-3000:])
    assert result.stdout.split() == ["orders", "120"]
