"""SSH agent forwarding (Session.forward_agent, AgentForwarding) against the real sshd.

A real ssh-agent (helpers.SSHAgent) holds the sshd fixture's ed25519 key.
Commands run on the server with agent forwarding requested use it through
the forwarded agent: ``ssh-add -l`` lists the key, and ``ssh`` from the
server logs into a second sshd (``hop2``) that accepts nothing but that
key, which the server itself does not have.  Both on blocking sessions (the
relay waits inside the Channel calls) and on non-blocking ones (the program
waits with AgentForwarding.wait()).  libssh2 >= 1.11.0; on 1.10 the calls
raise NotImplementedError.
"""
from __future__ import annotations

import gc
import hashlib
import logging
import os
import select
import socket
import subprocess
import threading

import pytest

from helpers import (NB_DEADLINE, TIMEOUT_MS, SSHAgent, login, logout, needs_libssh2_1_11,
                     only_libssh2_1_10, read_channel, sshd_login)
from servers import OpenSSHServer
from ssh2cffi import exceptions
from ssh2cffi.agent_forwarding import AgentForwarding
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import Session

# ssh on the server: no host key checks, no prompts, no key files and no
# config file of its own: the only identity it can offer is the agent's.
SSH_HOP = ("ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
           "-o BatchMode=yes -o IdentitiesOnly=no -o IdentityFile=none -o LogLevel=ERROR "
           "-p %d %s@127.0.0.1 echo hop2")


@pytest.fixture
def agent(sshd, tmp_path):
    """An ssh-agent holding the sshd fixture's id_ed25519 key."""
    running = SSHAgent(tmp_path, [sshd.key_paths["id_ed25519"]])
    yield running
    running.stop()


class SlowAgent:
    """A Unix socket in front of a real agent that passes each answer on
    ``delay`` seconds late (an agent that asks its user, a slow signer), so the
    relay cannot get the answer by luck within the step that sent the request:
    it has to wait for the agent socket."""

    def __init__(self, directory, target, delay):
        self.socket = os.path.join(str(directory), "slow-agent.sock")
        self.target, self.delay = target, delay
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.socket)
        self.listener.listen(8)
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed by stop()
                return
            thread = threading.Thread(target=self._pipe, args=(client,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _pipe(self, client):
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(self.target)
        upward = threading.Thread(target=self._up, args=(client, upstream), daemon=True)
        upward.start()
        with client, upstream:
            for answer in iter(lambda: upstream.recv(65536), b""):
                stop = threading.Event()
                stop.wait(self.delay)  # the slowness being simulated
                client.sendall(answer)
            upward.join(30)

    @staticmethod
    def _up(client, upstream):
        try:
            for request in iter(lambda: client.recv(65536), b""):
                upstream.sendall(request)
            upstream.shutdown(socket.SHUT_WR)
        except OSError:  # the client reset its end: the downward pipe sees it too
            pass

    def stop(self):
        self.listener.close()


@pytest.fixture
def slow_agent(agent, tmp_path):
    """``agent`` behind a SlowAgent answering 0.3 s late."""
    slow = SlowAgent(tmp_path, agent.socket, 0.3)
    yield slow
    slow.stop()


@pytest.fixture(scope="module")
def hop2(sshd):
    """A second sshd on loopback that accepts only the agent's key (the first
    sshd's id_ed25519), appended to its own authorized keys."""
    server = OpenSSHServer(extra_addresses=())
    server.start()
    try:
        with open(sshd.key_paths["id_ed25519"] + ".pub") as pub, \
                open(server.authorized_keys_path, "w") as keys:
            keys.write(pub.read())
        yield server
    finally:
        server.stop()


@pytest.fixture
def conn(sshd):
    """(session, sock) logged in to the sshd fixture (blocking, with a timeout)."""
    session, sock, _user = login("sshd", sshd)
    yield session, sock
    logout(session, sock)


# What ssh-add -l says when its agent connection is closed without an answer.
AGENT_FAILED = b"error fetching identities: communication with agent failed\n"


def failed_cleanly(result):
    """Whether ``ssh-add -l`` ended because its agent connection was closed:
    it read the close (exit 1), or the close came before it wrote its request
    and the write killed it (SIGPIPE: 128 + 13)."""
    return result in ((b"", AGENT_FAILED, 1), (b"", b"", 141))


def fingerprint(pub_path):
    """ssh-keygen's SHA256 fingerprint of a public key file."""
    out = subprocess.run(["ssh-keygen", "-lf", pub_path], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return out.split()[1]


def settle(forwarding):
    """Relay until every forwarded connection has ended (they end a step or
    two after the remote program closed its agent connection)."""
    for _attempt in range(NB_DEADLINE * 100):
        forwarding.process()
        if not forwarding.sockets():
            return
        forwarding.wait(1)
    raise AssertionError("forwarded connections still open: %r" % forwarding)


def open_fd_count():
    """The process's open file descriptors, once the objects waiting for
    collection have closed theirs (PyPy may need more than one collection
    to run every finaliser)."""
    for _round in range(3):
        gc.collect()
    return len(os.listdir("/proc/self/fd"))


# -- running commands --------------------------------------------------------------------

def start(session, command, request=True):
    """A channel running ``command`` (blocking calls), agent forwarding requested on it."""
    channel = session.open_session()
    if request:
        assert channel.request_auth_agent() == 0
    assert channel.execute(command) == 0
    return channel


def run_blocking(session, command, request=True):
    """(stdout, stderr, exit status) of ``command`` on a blocking session."""
    channel = start(session, command, request)
    out = read_channel(channel)
    err = read_channel(channel, stream_id=1)
    assert channel.wait_eof() == 0
    assert channel.close() == 0
    assert channel.wait_closed() == 0
    return out, err, channel.get_exit_status()


def until_done(forwarding, call, *args):
    """``call(*args)`` on a non-blocking session until it stops returning EAGAIN,
    waiting with forwarding.wait() in between."""
    for _attempt in range(NB_DEADLINE * 100):
        result = call(*args)
        rc = result[0] if isinstance(result, tuple) else result
        if rc != LIBSSH2_ERROR_EAGAIN:
            return result
        forwarding.wait(1)
    raise AssertionError("%r kept returning EAGAIN" % (call,))


def run_nonblocking(session, forwarding, command, request=True):
    """(stdout, stderr, exit status) of ``command``, the session non-blocking
    from the channel's open on, the program waiting with forwarding.wait()."""
    session.set_blocking(False)
    try:
        channel = until_done(forwarding, session.open_session)
        if request:
            assert until_done(forwarding, channel.request_auth_agent) == 0
        assert until_done(forwarding, channel.execute, command) == 0
        streams = {0: [], 1: []}
        open_streams = {0, 1}
        for _attempt in range(NB_DEADLINE * 100):
            waiting = False
            for stream in sorted(open_streams):
                rc, data = channel.read_ex(65536, stream)
                if rc == LIBSSH2_ERROR_EAGAIN:
                    waiting = True
                elif rc == 0:
                    open_streams.discard(stream)
                else:
                    streams[stream].append(data)
            if not open_streams:
                break
            if waiting:
                forwarding.wait(1)
        else:
            raise AssertionError("the command did not finish: %r" % (streams,))
        assert until_done(forwarding, channel.close) == 0
        assert until_done(forwarding, channel.wait_closed) == 0
        return b"".join(streams[0]), b"".join(streams[1]), channel.get_exit_status()
    finally:
        session.set_blocking(True)


# -- through the forwarded agent -----------------------------------------------------------

@needs_libssh2_1_11
def test_ssh_add_lists_the_local_key_on_a_blocking_session(sshd, agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    assert isinstance(forwarding, AgentForwarding)
    out, err, status = run_blocking(session, "ssh-add -l")
    assert (status, err) == (0, b"")
    lines = out.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].split()[1] == fingerprint(sshd.key_paths["id_ed25519"] + ".pub")
    assert forwarding.close() == 0


@needs_libssh2_1_11
def test_ssh_add_lists_the_local_key_on_a_non_blocking_session(sshd, agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    expected = fingerprint(sshd.key_paths["id_ed25519"] + ".pub")
    out, err, status = run_nonblocking(session, forwarding, "ssh-add -l; ssh-add -l")
    assert (status, err) == (0, b"")
    assert [line.split()[1] for line in out.decode().splitlines()] == [expected, expected]
    session.set_blocking(False)
    assert until_done(forwarding, forwarding.close) == 0


@needs_libssh2_1_11
@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "non-blocking"])
def test_a_slow_agent_is_waited_for(sshd, slow_agent, conn, blocking):
    # The relay waits on the agent socket: on a blocking session inside the
    # read, on a non-blocking one in forwarding.wait().
    session, _sock = conn
    forwarding = session.forward_agent(slow_agent.socket)
    if blocking:
        out, err, status = run_blocking(session, "ssh-add -l")
    else:
        out, err, status = run_nonblocking(session, forwarding, "ssh-add -l")
    assert (status, err) == (0, b"")
    assert out.split()[1].decode() == fingerprint(sshd.key_paths["id_ed25519"] + ".pub")


@needs_libssh2_1_11
def test_forward_agent_defaults_to_ssh_auth_sock(sshd, agent, conn, monkeypatch):
    session, _sock = conn
    monkeypatch.setenv("SSH_AUTH_SOCK", agent.socket)
    forwarding = session.forward_agent()
    assert forwarding.path == agent.socket
    out, _err, status = run_blocking(session, "ssh-add -l")
    assert status == 0 and b"ssh2cffi-test" in out


@needs_libssh2_1_11
def test_second_hop_with_the_forwarded_key_on_a_blocking_session(hop2, agent, conn):
    session, _sock = conn
    session.forward_agent(agent.socket)
    command = SSH_HOP % (hop2.port, sshd_login(hop2))
    out, err, status = run_blocking(session, command)
    assert (out, err, status) == (b"hop2\n", b"", 0)
    # Without the forwarded agent the same ssh has no key hop2 accepts.
    out, err, status = run_blocking(session, "env -u SSH_AUTH_SOCK " + command, request=False)
    assert status == 255 and out == b""
    assert b"Permission denied" in err


@needs_libssh2_1_11
def test_second_hop_with_the_forwarded_key_on_a_non_blocking_session(hop2, agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    command = SSH_HOP % (hop2.port, sshd_login(hop2))
    assert run_nonblocking(session, forwarding, command) == (b"hop2\n", b"", 0)


@needs_libssh2_1_11
@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "non-blocking"])
def test_forwarding_on_a_session_over_a_jump_host(sshd, hop2, agent, blocking):
    # The inner session runs over outer.direct_tcpip(): the relay waits on the
    # outer socket, as Session.block_directions() says.
    outer, sock, _user = login("sshd", sshd)
    inner = Session()
    try:
        inner.set_timeout(TIMEOUT_MS)
        assert inner.handshake(outer.direct_tcpip(sshd.host, sshd.port)) == 0
        assert inner.userauth_publickey_fromfile(sshd_login(sshd),
                                                 sshd.key_paths["id_ed25519"]) == 0
        forwarding = inner.forward_agent(agent.socket)
        command = SSH_HOP % (hop2.port, sshd_login(hop2))
        if blocking:
            result = run_blocking(inner, command)
        else:
            result = run_nonblocking(inner, forwarding, command)
        assert result == (b"hop2\n", b"", 0)
        inner.set_blocking(True)
        assert forwarding.close() == 0
    finally:
        inner.set_blocking(True)
        inner.disconnect()
        logout(outer, sock)


@needs_libssh2_1_11
def test_later_channels_of_the_connection_get_the_agent_too(sshd, agent, conn):
    # OpenSSH grants agent forwarding once per connection and refuses a second
    # request; the commands started afterwards have SSH_AUTH_SOCK all the same.
    session, _sock = conn
    session.forward_agent(agent.socket)
    assert run_blocking(session, "ssh-add -l")[2] == 0
    channel = session.open_session()
    with pytest.raises(exceptions.ChannelRequestDenied):
        channel.request_auth_agent()
    assert run_blocking(session, "ssh-add -l", request=False)[2] == 0


@needs_libssh2_1_11
def test_bulk_data_passes_intact_while_forwarding(sshd, agent, conn):
    # The program's own writes and reads go through the relay's waiting:
    # 4 MiB in and their digest back, the remote cat also asking the agent.
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    payload = os.urandom(4 * 1024 * 1024)
    channel = start(session, "ssh-add -l >&2; sha256sum")
    written = 0
    while written < len(payload):
        rc, count = channel.write(payload[written:written + 1000000])
        assert rc > 0
        written += count
    assert channel.send_eof() == 0
    assert read_channel(channel).split()[0].decode() == hashlib.sha256(payload).hexdigest()
    assert b"ssh2cffi-test" in read_channel(channel, stream_id=1)
    channel.wait_closed()
    assert channel.get_exit_status() == 0
    assert forwarding.close() == 0


@needs_libssh2_1_11
def test_nonblocking_writes_resume_where_they_stopped(sshd, agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    payload = os.urandom(2 * 1024 * 1024)
    channel = start(session, "ssh-add -l >/dev/null && sha256sum")
    session.set_blocking(False)
    try:
        sent = 0
        for _attempt in range(NB_DEADLINE * 1000):
            if sent == len(payload):
                break
            rc, count = channel.write(payload[sent:])
            sent += count
            if rc == LIBSSH2_ERROR_EAGAIN:
                forwarding.wait(1)
        assert sent == len(payload)
        assert until_done(forwarding, channel.send_eof) == 0
        out = b""
        while True:
            rc, data = until_done(forwarding, channel.read)
            if rc == 0:
                break
            out += data
    finally:
        session.set_blocking(True)
    assert out.split()[0].decode() == hashlib.sha256(payload).hexdigest()


# -- the callback form -------------------------------------------------------------------------

# The agent protocol: uint32 length, message type; 11 asks for the identities,
# 12 answers with a uint32 count of them.
REQUEST_IDENTITIES = b"\0\0\0\x01\x0b"
NO_IDENTITIES = b"\0\0\0\x05\x0c\0\0\0\0"


@needs_libssh2_1_11
def test_callback_gets_each_forwarded_channel(conn):
    # The program serves the agent protocol itself: the forwarded channel
    # carries ssh-add's request, and the answer "no identities" reaches it.
    session, sock = conn
    channels = []
    session.set_agent_forwarding_callback(channels.append)
    channel = start(session, "ssh-add -l; echo rc=$?")
    session.set_blocking(False)
    output = b""
    requests = {}  # what each agent channel carried so far
    try:
        for _attempt in range(NB_DEADLINE * 100):
            rc, data = channel.read()
            if rc == 0:
                break
            if rc > 0:
                output += data
            for index, agent_channel in enumerate(channels):
                request = requests.setdefault(index, b"")
                if len(request) == len(REQUEST_IDENTITIES):
                    continue  # answered
                arc, data = agent_channel.read()
                if arc > 0:
                    request = requests[index] = request + data
                if request == REQUEST_IDENTITIES:
                    assert agent_channel.write(NO_IDENTITIES) == (len(NO_IDENTITIES),
                                                                  len(NO_IDENTITIES))
            if rc == LIBSSH2_ERROR_EAGAIN:
                select.select([sock], [], [], 0.05)
        else:
            raise AssertionError("ssh-add did not finish: %r" % output)
    finally:
        session.set_blocking(True)
    assert output == b"The agent has no identities.\nrc=1\n"
    assert requests == {0: REQUEST_IDENTITIES}
    assert isinstance(channels[0], Channel) and channels[0].session is session


@needs_libssh2_1_11
def test_callback_exception_is_raised_by_the_next_call(conn, caplog):
    session, sock = conn

    def broken(channel):
        raise RuntimeError("broken agent callback")

    session.set_agent_forwarding_callback(broken)
    channel = start(session, "ssh-add -l; echo done")
    session.set_blocking(False)
    try:
        with caplog.at_level(logging.ERROR, logger="ssh2cffi"):
            with pytest.raises(RuntimeError, match="broken agent callback"):
                for _attempt in range(NB_DEADLINE * 100):
                    # the callback runs inside a read; the read after it raises
                    assert channel.read() == (LIBSSH2_ERROR_EAGAIN, b"")
                    select.select([sock], [], [], 0.05)
    finally:
        session.set_blocking(True)
    assert "the agent forwarding callback raised RuntimeError" in caplog.text


@needs_libssh2_1_11
def test_removed_callback_refuses_forwarded_connections(conn):
    session, _sock = conn
    session.set_agent_forwarding_callback(lambda channel: None)
    session.set_agent_forwarding_callback(None)
    assert failed_cleanly(run_blocking(session, "ssh-add -l"))


# -- failures: no agent, an agent that hangs up -------------------------------------------------

@needs_libssh2_1_11
def test_missing_agent_socket_fails_the_remote_command_cleanly(conn, tmp_path, caplog):
    session, _sock = conn
    missing = str(tmp_path / "no-agent.sock")
    forwarding = session.forward_agent(missing)
    with caplog.at_level(logging.WARNING, logger="ssh2cffi"):
        assert failed_cleanly(run_blocking(session, "ssh-add -l"))
    assert "cannot connect to the agent at %s" % missing in caplog.text
    assert forwarding.close() == 0


@needs_libssh2_1_11
def test_stopped_agent_fails_later_requests(sshd, agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    assert run_blocking(session, "ssh-add -l")[2] == 0
    agent.stop()
    assert failed_cleanly(run_blocking(session, "ssh-add -l", request=False))
    assert forwarding.close() == 0


@needs_libssh2_1_11
def test_agent_that_hangs_up_fails_the_request(conn, tmp_path):
    # A Unix socket server that reads the request and closes without answering.
    path = str(tmp_path / "rude.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(60)  # the thread ends even if nothing connects
    requests = []

    def serve():
        peer, _ = listener.accept()
        with peer:
            request = b""
            while len(request) < len(REQUEST_IDENTITIES):  # it may come in pieces
                piece = peer.recv(1024)
                if not piece:
                    break
                request += piece
            requests.append(request)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    session, _sock = conn
    forwarding = session.forward_agent(path)
    try:
        result = run_blocking(session, "ssh-add -l")
    finally:
        server.join(30)
        listener.close()
    assert requests == [REQUEST_IDENTITIES]
    assert result == (b"", AGENT_FAILED, 1)
    assert forwarding.close() == 0


# -- lifetimes ------------------------------------------------------------------------------------

@needs_libssh2_1_11
def test_agent_sockets_are_closed_no_descriptor_leaks(agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    before = open_fd_count()
    for index in range(5):
        assert run_blocking(session, "ssh-add -l; ssh-add -l", request=index == 0)[2] == 0
    # A connection that ended after the last waiting call is finished by the next
    # steps (the agent hangs up once it sees the remote end's EOF).
    settle(forwarding)
    assert forwarding.sockets() == []
    assert open_fd_count() == before
    assert forwarding.close() == 0
    assert open_fd_count() == before


@needs_libssh2_1_11
def test_close_ends_open_connections(agent, conn):
    # A remote client holding its agent connection open: close() closes it
    # and the client sees the agent go away.
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    before = open_fd_count()
    script = ("import os, socket; s = socket.socket(socket.AF_UNIX); "
              "s.connect(os.environ['SSH_AUTH_SOCK']); print('connected', flush=True); "
              "print('closed' if s.recv(1) == b'' else 'data', flush=True)")
    channel = start(session, "python3 -c \"%s\"" % script)
    assert channel.read() == (10, b"connected\n")
    forwarding.process()
    assert len(forwarding.sockets()) == 1
    assert open_fd_count() == before + 1
    assert forwarding.close() == 0
    assert open_fd_count() == before
    assert read_channel(channel) == b"closed\n"
    assert repr(forwarding).endswith("closed, 0 connection(s)>")


@needs_libssh2_1_11
def test_calls_after_close_raise_and_close_is_idempotent(agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    assert forwarding.close() == 0
    assert forwarding.close() == 0
    for call in (forwarding.process, forwarding.wait, forwarding.sockets):
        with pytest.raises(exceptions.BadUseError, match="closed"):
            call()
    # The session forwards again with a new one (and the callback form is free again).
    again = session.forward_agent(agent.socket)
    out, _err, status = run_blocking(session, "ssh-add -l")
    assert status == 0 and b"ssh2cffi-test" in out
    assert again.close() == 0
    session.set_agent_forwarding_callback(None)


@needs_libssh2_1_11
def test_disconnected_session_first(agent, sshd):
    session, sock, _user = login("sshd", sshd)
    forwarding = session.forward_agent(agent.socket)
    before = open_fd_count()
    channel = start(session, "python3 -c \"import os, socket; s = socket.socket(socket.AF_UNIX); "
                    "s.connect(os.environ['SSH_AUTH_SOCK']); print('connected', flush=True); "
                    "s.recv(1)\"")
    assert channel.read() == (10, b"connected\n")
    forwarding.process()
    assert open_fd_count() == before + 1
    session.disconnect()
    assert open_fd_count() == before  # the agent socket went with the session
    for call in (forwarding.process, forwarding.wait, forwarding.sockets):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()
    assert forwarding.close() == 0
    with pytest.raises(exceptions.SocketDisconnectError):
        session.forward_agent(agent.socket)
    sock.close()


@needs_libssh2_1_11
def test_dropped_session_first(agent, sshd):
    # The forwarding keeps its session (as a Channel does) and works on;
    # once both are dropped, nothing is left open.
    before = open_fd_count()
    session, sock, _user = login("sshd", sshd)
    forwarding = session.forward_agent(agent.socket)
    channel = start(session, "ssh-add -l")
    del session
    gc.collect()
    assert b"ssh2cffi-test" in read_channel(channel)
    forwarding.process()
    del channel, forwarding
    gc.collect()
    sock.close()
    assert open_fd_count() == before


@needs_libssh2_1_11
def test_one_forwarding_per_session(agent, conn):
    session, _sock = conn
    forwarding = session.forward_agent(agent.socket)
    with pytest.raises(exceptions.BadUseError, match="already"):
        session.forward_agent(agent.socket)
    with pytest.raises(exceptions.BadUseError, match="close"):
        session.set_agent_forwarding_callback(lambda channel: None)
    assert forwarding.close() == 0
    session.set_agent_forwarding_callback(lambda channel: None)
    with pytest.raises(exceptions.BadUseError, match="already"):
        session.forward_agent(agent.socket)


@needs_libssh2_1_11
def test_blocking_wait_honours_the_session_timeout(agent, conn):
    session, _sock = conn
    session.forward_agent(agent.socket)
    channel = start(session, "sleep 5; echo late")
    session.set_timeout(300)
    with pytest.raises(exceptions.Timeout, match="Timed out waiting on socket"):
        channel.read()


# -- arguments -------------------------------------------------------------------------------------

@needs_libssh2_1_11
def test_bad_arguments(conn, monkeypatch, tmp_path):
    session, _sock = conn
    with pytest.raises(TypeError):
        session.forward_agent(42)
    with pytest.raises(ValueError, match="empty"):
        session.forward_agent("")
    with pytest.raises(ValueError, match="NUL"):
        session.forward_agent("/tmp/a\0b")
    with pytest.raises(ValueError, match="at most"):
        session.forward_agent("/" + "x" * 200)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(exceptions.AgentConnectionError, match="SSH_AUTH_SOCK"):
        session.forward_agent()
    with pytest.raises(TypeError):
        session.set_agent_forwarding_callback(42)
    with pytest.raises(TypeError, match="Session.forward_agent"):
        AgentForwarding(session)
    forwarding = session.forward_agent(tmp_path / "agent.sock")  # os.PathLike
    assert forwarding.path == str(tmp_path / "agent.sock")
    for timeout in ("1", True, [1]):
        with pytest.raises(TypeError):
            forwarding.wait(timeout)
    with pytest.raises(ValueError):
        forwarding.wait(-1)
    assert forwarding.process() is False
    assert forwarding.close() == 0


@only_libssh2_1_10
def test_needs_libssh2_1_11(conn):
    session, _sock = conn
    for call in (session.forward_agent, lambda: session.set_agent_forwarding_callback(None)):
        with pytest.raises(NotImplementedError, match=r"needs libssh2 >= 1\.11\.0"):
            call()


@only_libssh2_1_10
def test_libssh2_1_10_never_answers_a_forwarded_agent_channel(conn):
    # What docs/agent-forwarding.rst warns of: libssh2 1.10 neither accepts nor
    # refuses the server's auth-agent channel, so the remote ssh-add waits for
    # it, and a read waiting for its output runs into the session timeout.
    session, _sock = conn
    channel = start(session, "ssh-add -l; echo never")
    session.set_timeout(1000)
    with pytest.raises(exceptions.Timeout):
        channel.read()
