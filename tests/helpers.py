"""Helpers shared by the test modules (their fixtures are in conftest.py).

- Logging in: connect() (handshake only), login() (authenticated, with a
  timeout) and logout(); a Connection object holds a logged-in session and its
  socket, a WorkDirConnection adds a fresh directory the login account owns.
- Channels: read_channel() (one stream up to EOF), read_exactly(),
  finish_channel(), run_on_channel() and run_command().
- Non-blocking calls: until_ready().
- Which libssh2: HAS_LIBSSH2_1_11 and the needs_libssh2_1_11 and
  only_libssh2_1_10 marks.
- Child interpreters: run_python().  Digests: digest(), file_digest().
  An ssh-agent process: SSHAgent.

Child interpreters started by run_python() import this module too.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from ssh2cffi import utils
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session

#: The variant of scripts/test.sh this run is (see scripts/setup.sh), or None.
TEST_VARIANT = os.environ.get("SSH2CFFI_TEST_VARIANT")
#: The variants built against the libssh2 1.11.1 of .deps/, which
#: scripts/build-libssh2.sh builds with debug logging (trace output).  The others
#: use a Debian package's libssh2 (1.10.0, or Debian 13's 1.11.1), built without.
DEPS_LIBSSH2_VARIANTS = ("cpython-1.11", "pypy-1.11")

#: The servers a test parametrized over both runs against, as Connection.kind.
SERVER_KINDS = ("sshd", "asyncssh")

#: No blocking call of a test may hang the run: sessions get this timeout.
TIMEOUT_MS = 30000
#: Seconds a non-blocking retry loop may take before the test fails.
NB_DEADLINE = 60

#: Whether the libssh2 loaded is 1.11.0 or later (several functions are new there).
HAS_LIBSSH2_1_11 = utils.version(0x010B00) is not None
needs_libssh2_1_11 = pytest.mark.skipif(not HAS_LIBSSH2_1_11, reason="needs libssh2 >= 1.11.0")
#: For the tests that check the NotImplementedError of a function libssh2 1.10 lacks.
only_libssh2_1_10 = pytest.mark.skipif(HAS_LIBSSH2_1_11,
                                       reason="libssh2 >= 1.11 has the function")


# ---------------------------------------------------------------------------
# logging in
# ---------------------------------------------------------------------------

def sshd_login(server):
    """The account the sshd tests log in as.

    The fixture's AuthorizedKeysFile serves every account, so the same key
    logs in the unprivileged ``ssh2cffi`` user made by scripts/setup.sh.  It is
    preferred to root: its shell is /bin/sh with no start-up files, whereas
    root's ~/.bashrc may print to stderr (pyenv rehash races with other root
    logins), and OpenSSH ignores channel signals for root.
    """
    return server.password_user or server.user


def connect(server):
    """A Session that completed its handshake with ``server`` (not authenticated,
    no timeout set); returns (session, sock)."""
    sock = server.connect_socket()
    session = Session()
    session.handshake(sock)
    return session, sock


def login(kind, server, user=None, key="id_ed25519"):
    """An authenticated Session with a timeout: ``(session, sock, user)``.

    ``kind`` is "sshd" (auth with the user key ``key`` as ``user``, by default
    sshd_login(); pass ``server.user`` for root) or "asyncssh" (password auth
    as "user").
    """
    sock = server.connect_socket()
    session = Session()
    session.set_timeout(TIMEOUT_MS)
    try:
        assert session.handshake(sock) == 0
        if kind == "sshd":
            user = user or sshd_login(server)
            assert session.userauth_publickey_fromfile(user, server.key_paths[key]) == 0
        else:
            user = "user"
            assert session.userauth_password("user", "pass") == 0
        assert session.userauth_authenticated()
    except BaseException:
        sock.close()
        raise
    return session, sock, user


def logout(session, sock):
    """Disconnect (in blocking mode, so it completes) and close the socket."""
    try:
        session.set_blocking(True)
        session.disconnect()
    finally:
        sock.close()


class Connection:
    """A Session logged in with login() on one of the test servers, and its socket.

    ``kind`` is "sshd" or "asyncssh", ``user`` the account logged in;
    close() logs out.  The conn, sshd_conn and asyncssh_conn fixtures
    (conftest.py) hand these out.
    """

    def __init__(self, kind, server, user=None):
        self.kind = kind
        self.server = server
        self.session, self.sock, self.user = login(kind, server, user)

    @property
    def uid(self):
        """The owner of the files made over this connection: the login account
        on sshd; on asyncssh, this process (the server runs in it)."""
        return pwd.getpwnam(self.user).pw_uid if self.kind == "sshd" else os.getuid()

    @property
    def gid(self):
        return pwd.getpwnam(self.user).pw_gid if self.kind == "sshd" else os.getgid()

    def stderr_cmd(self, text):
        """A command printing ``text`` and a newline to stderr."""
        if self.kind == "sshd":
            return "echo %s >&2" % text
        return "stderr %s" % text

    def wait(self):
        """Wait (up to a second) until the socket is ready in the direction libssh2 blocks on."""
        utils.wait_socket(self.sock, self.session, 1)

    def nb(self, call, *args):
        """``call(*args)`` until it stops returning EAGAIN (non-blocking mode)."""
        return until_ready(self.sock, self.session, call, *args)

    def close(self):
        logout(self.session, self.sock)


class WorkDirConnection(Connection):
    """A Connection and a fresh work directory the login account owns; close()
    also removes the directory.

    ``local(*names)`` is an entry's path on this machine, ``path(*names)`` the
    same entry as the server names it: on sshd the two are the same; the
    asyncssh server's SFTP is chrooted to its directory (``server.dir``).
    """

    def __init__(self, kind, server, user=None, prefix="work-"):
        super().__init__(kind, server, user)
        try:
            self.local_root = tempfile.mkdtemp(prefix=prefix, dir=server.dir)
            os.chmod(self.local_root, 0o755)
            if kind == "sshd":
                os.chown(self.local_root, self.uid, self.gid)
        except BaseException:
            super().close()
            raise
        if kind == "sshd":
            self.remote_root = self.local_root
        else:
            self.remote_root = "/" + os.path.basename(self.local_root)

    def local(self, *names):
        return os.path.join(self.local_root, *names)

    def path(self, *names):
        return posixpath.join(self.remote_root, *names)

    def close(self):
        try:
            super().close()
        finally:
            shutil.rmtree(self.local_root, ignore_errors=True)


# ---------------------------------------------------------------------------
# channels
# ---------------------------------------------------------------------------

def read_channel(channel, size=65536, stream_id=0):
    """Everything on one stream of ``channel`` up to EOF (blocking), checking
    every (rc, data) result."""
    chunks = []
    while True:
        rc, data = channel.read_ex(size, stream_id)
        assert isinstance(rc, int) and isinstance(data, bytes)
        assert rc == len(data)
        assert 0 <= rc <= size
        if rc == 0:
            return b"".join(chunks)
        chunks.append(data)


def read_exactly(channel, size, chunk=65536):
    """Exactly ``size`` bytes from ``channel`` (blocking), at most ``chunk`` per read."""
    chunks = []
    got = 0
    while got < size:
        rc, data = channel.read(min(chunk, size - got))
        assert rc > 0, "EOF or error (%d) after %d of %d bytes" % (rc, got, size)
        assert rc == len(data)
        chunks.append(data)
        got += rc
    return b"".join(chunks)


def finish_channel(channel):
    """wait_eof, close, wait_closed (blocking): each returns 0."""
    assert channel.wait_eof() == 0
    assert channel.eof() is True
    assert channel.close() == 0
    assert channel.wait_closed() == 0


def run_on_channel(session, command):
    """Run ``command`` on a new channel; returns (channel, stdout, stderr) once
    the channel is closed."""
    from ssh2cffi.channel import Channel

    channel = session.open_session()
    assert isinstance(channel, Channel)
    assert channel.execute(command) == 0
    out = read_channel(channel)
    err = read_channel(channel, stream_id=1)
    finish_channel(channel)
    return channel, out, err


def run_command(session, command):
    """Run ``command``; returns (stdout, stderr, exit status)."""
    channel, out, err = run_on_channel(session, command)
    return out, err, channel.get_exit_status()


# ---------------------------------------------------------------------------
# non-blocking mode
# ---------------------------------------------------------------------------

def until_ready(sock, session, call, *args):
    """Call ``call(*args)`` until it stops returning EAGAIN (non-blocking mode),
    waiting on the socket in between; fails the test after NB_DEADLINE seconds."""
    deadline = time.monotonic() + NB_DEADLINE
    while True:
        result = call(*args)
        if not (isinstance(result, int) and result == LIBSSH2_ERROR_EAGAIN):
            return result
        assert time.monotonic() < deadline, "%r kept returning EAGAIN" % (call,)
        utils.wait_socket(sock, session, 1)


# ---------------------------------------------------------------------------
# processes and data
# ---------------------------------------------------------------------------

def run_python(code, timeout=120, env=None, watchdog=True):
    """Run ``code`` in a fresh interpreter (this one's), so a crash fails a test
    instead of killing the run.  Returns the CompletedProcess.

    With ``watchdog``, a child still running 10 s before ``timeout`` prints
    every thread's stack to its stderr and exits (faulthandler), so a hang
    fails the test with the place it hung, instead of a bare TimeoutExpired.
    Programs that fork must go without: CPython's faulthandler timer thread
    does not survive fork(), and a forked child then hangs at exit waiting
    for it.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    full_env = dict(os.environ, PYTHONPATH=here)
    full_env.update(env or {})
    prologue = ("import faulthandler; faulthandler.dump_traceback_later(%d, exit=True)\n"
                % max(timeout - 10, 1)) if watchdog else ""
    return subprocess.run([sys.executable, "-c", prologue + textwrap.dedent(code)],
                          env=full_env, capture_output=True, text=True, timeout=timeout)


class SSHAgent:
    """An ``ssh-agent`` process on its own socket, holding the given key files."""

    def __init__(self, directory, keys=()):
        self.socket = os.path.join(str(directory), "agent.sock")
        self.proc = subprocess.Popen(["ssh-agent", "-D", "-a", self.socket],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        # The socket file appears at bind(), a moment before listen(): wait
        # until a connection succeeds, not only for the file.
        while not self._accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ssh-agent did not start: %s"
                                   % self.proc.stderr.read().decode(errors="replace"))
            time.sleep(0.02)
        env = dict(os.environ, SSH_AUTH_SOCK=self.socket)
        for key in keys:
            subprocess.run(["ssh-add", "-q", key], env=env, check=True,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)

    def _accepts(self):
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(self.socket)
        except OSError:
            return False
        finally:
            probe.close()
        return True

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def digest(data):
    """The sha256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path):
    """The sha256 hex digest of a local file, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with open(path, "rb") as fobj:
        for block in iter(lambda: fobj.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
