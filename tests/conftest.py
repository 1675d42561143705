"""Fixtures shared by the test modules: the two servers, and logged-in connections.

Names say which server a fixture talks to: ``sshd_*`` the OpenSSH server,
``asyncssh_*`` the scripted asyncssh server; ``conn`` is parametrized, so a
test that takes it runs once against each.  Sessions log in as
helpers.sshd_login() on sshd (``sshd_root_session``: as root) and as "user"
on asyncssh, with helpers.TIMEOUT_MS set; ``work_conn`` and its two halves add a
fresh work directory (helpers.WorkDirConnection); ``sshd_remote_dir`` is a fresh
directory on the sshd side (this machine) that the login account owns.  A module's
own fixtures use names
of their own (test_sftp's ``sftp_conn``, test_scp's ``sshd_scp_conn``...).
"""
from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import SERVER_KINDS, Connection, WorkDirConnection, sshd_login
from servers import AsyncSSHServer, OpenSSHServer


@pytest.fixture(scope="session")
def sshd():
    """A real OpenSSH server (see servers.OpenSSHServer)."""
    server = OpenSSHServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def asyncssh_server(sshd):
    """The scripted asyncssh server (see servers.AsyncSSHServer).

    Public key auth for user "user" accepts the user keys of the sshd
    fixture, so the same key files work against both servers.
    """
    server = AsyncSSHServer(
        authorized_keys=[path + ".pub" for path in sshd.key_paths.values()])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sshd_conn(sshd):
    """A helpers.Connection to the OpenSSH server, as helpers.sshd_login()."""
    conn = Connection("sshd", sshd)
    yield conn
    conn.close()


@pytest.fixture
def asyncssh_conn(asyncssh_server):
    """A helpers.Connection to the asyncssh server, as "user" (password)."""
    conn = Connection("asyncssh", asyncssh_server)
    yield conn
    conn.close()


@pytest.fixture(params=SERVER_KINDS)
def conn(request):
    """sshd_conn, then asyncssh_conn: the test runs against each server."""
    return request.getfixturevalue(request.param + "_conn")


@pytest.fixture
def sshd_work_conn(sshd):
    """A helpers.WorkDirConnection to the OpenSSH server (a fresh work directory)."""
    conn = WorkDirConnection("sshd", sshd)
    yield conn
    conn.close()


@pytest.fixture
def asyncssh_work_conn(asyncssh_server):
    """A helpers.WorkDirConnection to the asyncssh server."""
    conn = WorkDirConnection("asyncssh", asyncssh_server)
    yield conn
    conn.close()


@pytest.fixture(params=SERVER_KINDS)
def work_conn(request):
    """sshd_work_conn, then asyncssh_work_conn: the test runs against each server."""
    return request.getfixturevalue(request.param + "_work_conn")


@pytest.fixture
def sshd_session(sshd_conn):
    """The Session of sshd_conn."""
    return sshd_conn.session


@pytest.fixture
def asyncssh_session(asyncssh_conn):
    """The Session of asyncssh_conn."""
    return asyncssh_conn.session


@pytest.fixture
def sshd_root_session(sshd):
    """A Session authenticated as root (sshd.user) on the OpenSSH server."""
    conn = Connection("sshd", sshd, user=sshd.user)
    yield conn.session
    conn.close()


@pytest.fixture
def sshd_remote_dir(sshd):
    """A fresh directory for the sshd login account to work in, removed afterwards."""
    path = tempfile.mkdtemp(prefix="work-", dir=sshd.dir)
    entry = pwd.getpwnam(sshd_login(sshd))
    os.chown(path, entry.pw_uid, entry.pw_gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)
