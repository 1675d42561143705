from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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
