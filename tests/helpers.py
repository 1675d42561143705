"""Small helpers shared by the test modules: connected, authenticated sessions."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from ssh2cffi.session import Session

#: The variant of scripts/test.sh this run is (see scripts/setup.sh), or None.
TEST_VARIANT = os.environ.get("SSH2CFFI_TEST_VARIANT")
#: The variants built against the libssh2 1.11.1 of .deps/, which
#: scripts/build-libssh2.sh builds with debug logging (trace output).  The others
#: use a Debian package's libssh2 (1.10.0, or Debian 13's 1.11.1), built without.
DEPS_LIBSSH2_VARIANTS = ("cpython-1.11", "pypy-1.11")


def connect(server):
    """A Session that completed its handshake with ``server``; returns (session, sock)."""
    sock = server.connect_socket()
    session = Session()
    session.handshake(sock)
    return session, sock


def sshd_session(sshd, key="id_ed25519"):
    """A Session authenticated to the OpenSSH fixture with a user key."""
    session, sock = connect(sshd)
    session.userauth_publickey_fromfile(sshd.user, sshd.key_paths[key])
    return session, sock


def asyncssh_session(server):
    """A Session authenticated to the asyncssh fixture with a password."""
    session, sock = connect(server)
    session.userauth_password("user", "pass")
    return session, sock


def run_command(session, command):
    """Run ``command``; returns (stdout, stderr, exit status)."""
    channel = session.open_session()
    channel.execute(command)
    out, err = [], []
    for reader, sink in ((channel.read, out), (channel.read_stderr, err)):
        while True:
            size, data = reader(65536)
            if size <= 0:
                break
            sink.append(data)
    channel.wait_closed()
    return b"".join(out), b"".join(err), channel.get_exit_status()


def run_python(code, timeout=120, env=None):
    """Run ``code`` in a fresh interpreter (this one's), so a crash fails a test
    instead of killing the run.  Returns the CompletedProcess."""
    here = os.path.dirname(os.path.abspath(__file__))
    full_env = dict(os.environ, PYTHONPATH=here)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                          capture_output=True, text=True, timeout=timeout)


#: No blocking call of a test may hang the run: sessions get this timeout.
TIMEOUT_MS = 30000
#: Seconds a non-blocking retry loop may take before the test fails.
NB_DEADLINE = 60


def sshd_login(server):
    """The account the sshd tests log in as.

    The fixture's AuthorizedKeysFile serves every account, so the same key
    logs in the unprivileged ``ssh2cffi`` user made by scripts/setup.sh.  It is
    preferred to root: its shell is /bin/sh with no start-up files, whereas
    root's ~/.bashrc may print to stderr (pyenv rehash races with other root
    logins), and OpenSSH ignores channel signals for root.
    """
    return server.password_user or server.user


def login(kind, server, user=None):
    """An authenticated Session with a timeout: ``(session, sock, user)``.

    ``kind`` is "sshd" (key auth as ``user`` or sshd_login()) or "asyncssh"
    (password auth as "user").
    """
    sock = server.connect_socket()
    session = Session()
    session.set_timeout(TIMEOUT_MS)
    try:
        assert session.handshake(sock) == 0
        if kind == "sshd":
            user = user or sshd_login(server)
            assert session.userauth_publickey_fromfile(user, server.key_paths["id_ed25519"]) == 0
        else:
            user = "user"
            assert session.userauth_password("user", "pass") == 0
        assert session.userauth_authenticated()
    except BaseException:
        sock.close()
        raise
    return session, sock, user


def until_ready(sock, session, call, *args):
    """Call ``call(*args)`` until it stops returning EAGAIN (non-blocking mode),
    waiting on the socket in between; fails the test after NB_DEADLINE seconds."""
    import time

    from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
    from ssh2cffi.utils import wait_socket

    deadline = time.monotonic() + NB_DEADLINE
    while True:
        result = call(*args)
        if not (isinstance(result, int) and result == LIBSSH2_ERROR_EAGAIN):
            return result
        assert time.monotonic() < deadline, "%r kept returning EAGAIN" % (call,)
        wait_socket(sock, session, 1)


def logout(session, sock):
    """Disconnect (in blocking mode, so it completes) and close the socket."""
    try:
        session.set_blocking(True)
        session.disconnect()
    finally:
        sock.close()


def digest(data):
    """The sha256 hex digest of ``data``."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def file_digest(path):
    """The sha256 hex digest of a local file, read in 1 MiB blocks."""
    import hashlib

    sha = hashlib.sha256()
    with open(path, "rb") as fobj:
        for block in iter(lambda: fobj.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
