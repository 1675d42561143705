"""Small helpers shared by the test modules: connected, authenticated sessions."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from ssh2cffi.session import Session


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
