"""Agent and PublicKey against a real OpenSSH ssh-agent and the sshd fixture.

The agents are started by fixtures (``ssh-agent -D -a <socket>``) and loaded
with ``ssh-add``; tests point libssh2 at them through SSH_AUTH_SOCK
(monkeypatched) or ``Agent.set_identity_path``.
"""
import base64
import gc
import os
import pathlib
import subprocess
import weakref

import pytest

from helpers import (SSHAgent, connect, logout, needs_libssh2_1_11, only_libssh2_1_10, run_command,
                     run_python)
from ssh2cffi import agent as agent_module
from ssh2cffi import exceptions
from ssh2cffi.agent import Agent
from ssh2cffi.pkey import PublicKey
from ssh2cffi.session import Session


@pytest.fixture(scope="module")
def ssh_agent(sshd, tmp_path_factory):
    """An agent holding the sshd fixture's id_ed25519 key (authorised there)."""
    agent = SSHAgent(tmp_path_factory.mktemp("agent"), [sshd.key_paths["id_ed25519"]])
    yield agent
    agent.stop()


@pytest.fixture(scope="module")
def stranger_agent(tmp_path_factory):
    """An agent holding a key the sshd fixture does not accept."""
    directory = tmp_path_factory.mktemp("stranger")
    key = str(directory / "stranger")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", key],
                   check=True, stdin=subprocess.DEVNULL)
    agent = SSHAgent(directory, [key])
    yield agent
    agent.stop()


@pytest.fixture(scope="module")
def empty_agent(tmp_path_factory):
    agent = SSHAgent(tmp_path_factory.mktemp("empty"))
    yield agent
    agent.stop()


@pytest.fixture
def use_agent(monkeypatch, ssh_agent):
    monkeypatch.setenv("SSH_AUTH_SOCK", ssh_agent.socket)
    return ssh_agent


def public_blob(path):
    with open(path + ".pub") as pub:
        return base64.b64decode(pub.read().split()[1])


def open_fds():
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


# -- construction ---------------------------------------------------------------------
def test_agent_built_directly_like_ssh2_python():
    session = Session()
    agent = Agent(session)
    assert isinstance(agent, Agent)
    assert agent.get_identity_path() is None
    assert agent.disconnect() == 0  # never connected: nothing to close
    with pytest.raises(TypeError, match="Session"):
        Agent(1)
    del agent, session
    gc.collect()


def test_agent_init_needs_no_connection():
    assert isinstance(Session().agent_init(), Agent)


def test_module_reexports_ssh2_python_agent_exceptions():
    assert agent_module.AgentConnectionError is exceptions.AgentConnectionError
    assert agent_module.AgentAuthenticationError is exceptions.AgentAuthenticationError


# -- authentication ---------------------------------------------------------------------
def test_agent_auth_with_ssh_auth_sock(sshd, use_agent):
    session, sock = connect(sshd)
    assert session.agent_auth(sshd.user) is None
    assert session.userauth_authenticated()
    assert run_command(session, "echo via agent")[0] == b"via agent\n"
    logout(session, sock)


def test_get_identities_then_userauth_with_identity_path(sshd, ssh_agent, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.set_identity_path(ssh_agent.socket)
    assert agent.get_identity_path() == ssh_agent.socket.encode()
    assert agent.connect() == 0
    keys = agent.get_identities()
    assert len(keys) == 1
    key = keys[0]
    assert isinstance(key, PublicKey)
    assert key.blob == public_blob(sshd.key_paths["id_ed25519"])
    assert key.blob_len == len(key.blob)
    assert key.comment == b"ssh2cffi-test"
    assert isinstance(key.magic, int)
    assert agent.userauth(sshd.user, key) == 0
    assert session.userauth_authenticated()
    assert agent.disconnect() == 0
    assert run_command(session, "echo ok")[0] == b"ok\n"
    logout(session, sock)


def test_identity_path_accepts_str_bytes_pathlike_and_none(ssh_agent):
    agent = Session().agent_init()
    for value in (ssh_agent.socket, ssh_agent.socket.encode(), pathlib.Path(ssh_agent.socket)):
        agent.set_identity_path(value)
        assert agent.get_identity_path() == ssh_agent.socket.encode()
    agent.set_identity_path(None)
    assert agent.get_identity_path() is None
    with pytest.raises(TypeError, match="path"):
        agent.set_identity_path(12)


def test_list_identities_asks_the_agent(use_agent):
    agent = Session().agent_init()
    with pytest.raises(exceptions.AgentListIdentitiesError, match="connect"):
        agent.get_identities()  # not connected yet: ssh2-python's message, plus why
    agent.connect()
    assert agent.list_identities() is None
    assert len(agent.get_identities()) == 1


def test_empty_agent(sshd, empty_agent, monkeypatch):
    monkeypatch.setenv("SSH_AUTH_SOCK", empty_agent.socket)
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.connect()
    assert agent.get_identities() == []
    with pytest.raises(exceptions.AgentAuthenticationError, match="no keys"):
        session.agent_auth(sshd.user)
    assert not session.userauth_authenticated()
    logout(session, sock)


def test_refused_key_raises_agent_authentication_error(sshd, stranger_agent, monkeypatch):
    monkeypatch.setenv("SSH_AUTH_SOCK", stranger_agent.socket)
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.connect()
    key = agent.get_identities()[0]
    with pytest.raises(exceptions.AgentAuthenticationError) as info:
        agent.userauth(sshd.user, key)
    assert sshd.user in str(info.value) and info.value.errcode < 0
    assert isinstance(info.value, exceptions.AuthenticationError)  # ssh2-python's hierarchy
    with pytest.raises(exceptions.AgentAuthenticationError, match="No identities match"):
        session.agent_auth(sshd.user)
    assert not session.userauth_authenticated()
    logout(session, sock)


def test_userauth_rejects_what_is_not_a_listed_key(use_agent):
    agent = Session().agent_init()
    with pytest.raises(TypeError, match="PublicKey"):
        agent.userauth("user", b"blob")
    with pytest.raises(exceptions.AgentAuthenticationError, match="not listed"):
        agent.userauth("user", PublicKey())


# -- no agent -----------------------------------------------------------------------------
def test_no_ssh_auth_sock_raises_a_clear_connection_error(sshd, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    agent = Session().agent_init()
    with pytest.raises(exceptions.AgentConnectionError, match="SSH_AUTH_SOCK") as info:
        agent.connect()
    assert "Unable to connect to agent" in str(info.value)
    session, sock = connect(sshd)
    with pytest.raises(exceptions.AgentConnectionError, match="SSH_AUTH_SOCK"):
        session.agent_auth(sshd.user)
    assert isinstance(info.value, exceptions.AgentError)
    logout(session, sock)


def test_ssh_auth_sock_pointing_nowhere(sshd, tmp_path, monkeypatch):
    nowhere = str(tmp_path / "no-agent-here")
    monkeypatch.setenv("SSH_AUTH_SOCK", nowhere)
    session, sock = connect(sshd)
    with pytest.raises(exceptions.AgentConnectionError) as info:
        session.agent_auth(sshd.user)
    assert nowhere in str(info.value) and "No such file" in str(info.value)
    agent = session.agent_init()
    agent.set_identity_path(str(tmp_path))  # a directory: no socket there either
    with pytest.raises(exceptions.AgentConnectionError, match=str(tmp_path)):
        agent.connect()
    logout(session, sock)


def test_failed_connects_leave_no_descriptor_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "nothing"))
    agent = Session().agent_init()
    before = open_fds()
    for _ in range(20):
        with pytest.raises(exceptions.AgentConnectionError):
            agent.connect()
    assert open_fds() == before


def test_failed_connect_never_closes_a_descriptor_opened_later(tmp_path, monkeypatch):
    # libssh2_agent_connect() that fails keeps its closed descriptor number,
    # and libssh2_agent_free() closes that number again: here, the file.
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "nothing"))
    session = Session()
    agent = session.agent_init()
    with pytest.raises(exceptions.AgentConnectionError):
        agent.connect()
    with open(__file__, "rb") as later:
        del agent, session
        gc.collect()
        os.fstat(later.fileno())  # still ours


def test_replacing_an_agent_after_a_connect_race_keeps_it_usable(use_agent):
    # When the agent vanishes between our check and libssh2's connect, the
    # libssh2 agent is abandoned (it would close a stale descriptor) and
    # replaced; the Agent object goes on working, identity path included.
    agent = Session().agent_init()
    agent.set_identity_path(use_agent.socket)
    agent._abandon_and_replace()
    assert agent.get_identity_path() == use_agent.socket.encode()
    agent.connect()
    assert len(agent.get_identities()) == 1


def test_connecting_twice_reconnects_without_leaking(use_agent):
    agent = Session().agent_init()
    agent.connect()
    opened = open_fds()
    for _ in range(5):
        assert agent.connect() == 0
    assert open_fds() == opened
    assert len(agent.get_identities()) == 1


def test_agent_auth_on_a_non_blocking_session_raises_agent_authentication_error(sshd, use_agent):
    # ssh2-python: every identity's libssh2_agent_userauth() returns EAGAIN, so its
    # agent_auth ends with AgentAuthenticationError; callers catch that class (or
    # its base there, AuthenticationError).  Ours says why, and leaves the session usable.
    session, sock = connect(sshd)
    session.set_blocking(False)
    with pytest.raises(exceptions.AgentAuthenticationError, match="blocking session") as info:
        session.agent_auth(sshd.user)
    assert isinstance(info.value, exceptions.AuthenticationError)
    assert not isinstance(info.value, ValueError)
    session.set_blocking(True)
    assert session.agent_auth(sshd.user) is None        # nothing was left half-way
    assert session.userauth_authenticated()
    logout(session, sock)


def test_agent_auth_on_a_non_blocking_session_without_agent_raises_connection_error(
        sshd, monkeypatch):
    # As in ssh2-python, the agent is reached first: no agent is AgentConnectionError.
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    session, sock = connect(sshd)
    session.set_blocking(False)
    with pytest.raises(exceptions.AgentConnectionError):
        session.agent_auth(sshd.user)
    session.set_blocking(True)
    logout(session, sock)


def test_agent_auth_closes_its_agent_connection(sshd, use_agent):
    session, sock = connect(sshd)
    before = open_fds()
    session.agent_auth(sshd.user)
    assert open_fds() == before
    logout(session, sock)


# -- PublicKey lifetimes ----------------------------------------------------------------
def test_public_key_built_directly_is_all_none():
    key = PublicKey()
    assert (key.blob, key.blob_len, key.comment, key.magic) == (None, None, None, None)


def test_public_key_keeps_its_agent_alive(use_agent):
    agent = Session().agent_init()
    agent.connect()
    key = agent.get_identities()[0]
    watch = weakref.ref(agent)
    del agent
    gc.collect()
    assert watch() is not None  # ssh2-python's PublicKey would now dangle
    assert key.comment == b"ssh2cffi-test"
    del key
    gc.collect()
    assert watch() is None


def test_public_key_stays_valid_when_the_agent_lists_again(sshd, use_agent):
    # libssh2 frees the previous identity list on each listing; an older
    # PublicKey still reads its own copy and still authenticates.
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.connect()
    old = agent.get_identities()[0]
    for _ in range(3):
        agent.get_identities()
    assert old.blob == public_blob(sshd.key_paths["id_ed25519"])
    assert agent.userauth(sshd.user, old) == 0
    logout(session, sock)


def test_public_key_of_another_agent_is_matched_by_its_blob(sshd, use_agent):
    first = Session().agent_init()
    first.connect()
    key = first.get_identities()[0]
    session, sock = connect(sshd)
    second = session.agent_init()
    second.connect()
    second.get_identities()
    assert second.userauth(sshd.user, key) == 0
    logout(session, sock)


# -- sessions that are gone ----------------------------------------------------------------
def test_agent_after_disconnect(sshd, use_agent):
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.connect()
    key = agent.get_identities()[0]
    logout(session, sock)
    # libssh2 reaches the agent through the session's socket functions.
    for call in (lambda: agent.userauth(sshd.user, key), agent.get_identities,
                 agent.list_identities, agent.connect):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()
    assert agent.get_identity_path() is None
    assert agent.disconnect() == 0  # closing the agent socket needs no session


def test_agent_dropped_with_its_session_closes_the_agent_socket(sshd, use_agent):
    before = open_fds()
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.connect()
    keys = agent.get_identities()
    session.disconnect()
    del session, agent, keys
    gc.collect()
    sock.close()
    assert open_fds() == before


def test_every_drop_order_of_session_agent_knownhost_listener_publickey(use_agent):
    # Five objects of one session (an asyncssh server that forwards ports and
    # speaks the publickey subsystem), dropped in all 120 orders, with and
    # without a disconnect first, then once more inside a reference cycle.
    result = run_python("""
import gc, itertools, os, time
from servers import AsyncSSHServer
from helpers import login

server = AsyncSSHServer(port_forwarding=True).start()
LINE = b"[127.0.0.1]:2222 ssh-ed25519 " \\
       b"AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
def objects():
    session, sock, _user = login("asyncssh", server)
    agent = session.agent_init()
    agent.connect()
    keys = agent.get_identities()
    known = session.knownhost_init()
    known.readline(LINE)
    entry = known.get()[0]
    listener, port = session.forward_listen_ex(4, "127.0.0.1", 0)
    assert port > 0
    pks = session.publickey_init()
    assert pks.list_fetch() == []
    return sock, [session, agent, known, listener, pks], keys, entry

orders = 0
try:
    objects()  # warm up: imports, the server's first connections
    time.sleep(0.5)
    gc.collect()
    fds = len(os.listdir("/proc/self/fd"))
    for disconnect_first in (False, True):
        for order in itertools.permutations(range(5)):
            sock, objs, keys, entry = objects()
            if disconnect_first:
                objs[0].disconnect()
            for position in order:
                objs[position] = None
                if position == 1:
                    keys = None
                if position == 2:
                    entry = None
                gc.collect()
            sock.close()
            orders += 1
    for _ in range(10):
        sock, objs, keys, entry = objects()
        objs.append(objs)  # a reference cycle holding all five
        del objs, keys, entry
        gc.collect()
        sock.close()
    # (the in-process server closes its ends of the connections asynchronously)
    deadline = time.monotonic() + 10
    while len(os.listdir("/proc/self/fd")) > fds and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) <= fds, "descriptors leaked"
finally:
    server.stop()
print(orders)
""", timeout=600)
    assert result.returncode == 0, "child died (%d): %s" % (result.returncode,
                                                             result.stderr[-3000:])
    assert int(result.stdout) == 240


# -- signing -------------------------------------------------------------------------------
def _ssh_strings(blob):
    """The SSH strings (uint32 length, bytes) a key blob is made of."""
    fields = []
    while blob:
        length = int.from_bytes(blob[:4], "big")
        fields.append(blob[4:4 + length])
        blob = blob[4 + length:]
    return fields


@pytest.fixture(scope="module")
def signing_agent(sshd, tmp_path_factory):
    """An agent holding the sshd fixture's ed25519 and ECDSA keys."""
    agent = SSHAgent(tmp_path_factory.mktemp("signing"),
                     [sshd.key_paths["id_ed25519"], sshd.key_paths["id_ecdsa"]])
    yield agent
    agent.stop()


def _signing_identities(sshd, signing_agent):
    session, sock = connect(sshd)
    agent = session.agent_init()
    agent.set_identity_path(signing_agent.socket)
    agent.connect()
    keys = {_ssh_strings(key.blob)[0]: key for key in agent.get_identities()}
    return session, sock, agent, keys


@needs_libssh2_1_11
def test_agent_signs_with_ed25519_and_the_signature_verifies(sshd, signing_agent):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    session, sock, agent, keys = _signing_identities(sshd, signing_agent)
    try:
        key = keys[b"ssh-ed25519"]
        data = b"challenge \x00\xff" * 100
        signature = agent.sign(key, data)
        assert isinstance(signature, bytes) and len(signature) == 64
        Ed25519PublicKey.from_public_bytes(_ssh_strings(key.blob)[1]).verify(signature, data)
        # a str payload is signed as its UTF-8 bytes
        Ed25519PublicKey.from_public_bytes(_ssh_strings(key.blob)[1]).verify(
            agent.sign(key, "h\u00e9llo"), "h\u00e9llo".encode())
    finally:
        agent.disconnect()
        logout(session, sock)


@needs_libssh2_1_11
def test_agent_signs_with_ecdsa_and_the_signature_verifies(sshd, signing_agent):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    session, sock, agent, keys = _signing_identities(sshd, signing_agent)
    try:
        key = keys[b"ecdsa-sha2-nistp256"]
        data = b"payload to sign"
        signature = agent.sign(key, data)
        # the blob is mpint r, mpint s (RFC 5656 section 3.1.2)
        r, s = (int.from_bytes(part, "big") for part in _ssh_strings(signature))
        _curve, point = _ssh_strings(key.blob)[1:]
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        public.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    finally:
        agent.disconnect()
        logout(session, sock)


@needs_libssh2_1_11
def test_agent_sign_refuses_bad_arguments_and_a_disconnected_agent(sshd, signing_agent):
    session, sock, agent, keys = _signing_identities(sshd, signing_agent)
    try:
        key = keys[b"ssh-ed25519"]
        with pytest.raises(TypeError, match="pkey"):
            agent.sign(b"not a key", b"data")
        with pytest.raises(TypeError, match="data"):
            agent.sign(key, 42)
        with pytest.raises(exceptions.AgentError, match="not listed"):
            agent.sign(PublicKey(), b"data")
        agent.disconnect()
        with pytest.raises(exceptions.AgentError, match="not connected"):
            agent.sign(key, b"data")
    finally:
        logout(session, sock)
    with pytest.raises(exceptions.SocketDisconnectError):
        agent.sign(key, b"data")


@only_libssh2_1_10
def test_agent_sign_needs_1_11(sshd, signing_agent):
    session, sock, agent, keys = _signing_identities(sshd, signing_agent)
    try:
        with pytest.raises(NotImplementedError, match=r"Agent\.sign.*1\.11\.0"):
            agent.sign(keys[b"ssh-ed25519"], b"data")
    finally:
        agent.disconnect()
        logout(session, sock)
