"""Port forwarding through the sshd fixture: direct-tcpip and direct-streamlocal
channels to local echo servers, and remote (tcpip-forward) listeners."""
import gc
import os
import select
import socket
import threading
import time

import pytest

from helpers import asyncssh_session, sshd_session
from servers import free_port
from ssh2cffi import exceptions, utils
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.listener import Listener

LIBSSH2_111 = utils.version(0x010B00) is not None
CHUNK = 64 * 1024


class EchoServer:
    """A thread serving ``family`` sockets that sends back everything it receives."""

    def __init__(self, family=socket.AF_INET, address=("127.0.0.1", 0)):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.address = self.sock.getsockname()
        self.peers = []  # where each connection came from
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer)
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def echo():
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def unix_echo(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("unix") / "echo.sock")
    server = EchoServer(socket.AF_UNIX, path)
    os.chmod(path, 0o777)
    yield server
    server.close()


@pytest.fixture
def session(sshd):
    session, sock = sshd_session(sshd)
    yield session
    session.disconnect()
    sock.close()


def read_exactly(channel, size):
    data = b""
    while len(data) < size:
        rc, chunk = channel.read(size - len(data))
        assert rc > 0, "EOF or error after %d of %d bytes" % (len(data), size)
        data += chunk
    return data


def echo_through(channel, rounds=16):
    """Send ``rounds`` distinct 64 KiB chunks and check each comes back."""
    for index in range(rounds):
        chunk = bytes([index % 256]) * CHUNK + os.urandom(16)
        assert channel.write(chunk)[1] == len(chunk)
        assert read_exactly(channel, len(chunk)) == chunk


def recv_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "peer closed"
        data += chunk
    return data


def port_is_closed(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


# -- direct-tcpip ----------------------------------------------------------------------------
def test_direct_tcpip_ex_moves_data_both_ways(session, echo):
    host, port = echo.address
    channel = session.direct_tcpip_ex(host, port, "10.9.8.7", 4242)
    assert isinstance(channel, Channel) and channel.session is session
    echo_through(channel)  # 1 MiB each way, beyond one channel window
    assert channel.send_eof() == 0
    assert channel.read() == (0, b"")  # the echo server closed its side in turn
    assert channel.eof()
    channel.close()
    channel.wait_closed()


def test_direct_tcpip_uses_libssh2s_default_source(session, echo):
    channel = session.direct_tcpip(echo.address[0].encode(), echo.address[1])
    channel.write(b"hello")
    assert read_exactly(channel, 5) == b"hello"
    channel.close()


def test_direct_tcpip_to_a_closed_port_raises_channel_failure(session):
    with pytest.raises(exceptions.ChannelFailure) as info:
        session.direct_tcpip("127.0.0.1", free_port())
    assert "connect failed" in str(info.value) or "open failure" in str(info.value)
    # The session is still fine.
    assert session.open_session().execute("true") == 0


def test_direct_tcpip_argument_types(session):
    with pytest.raises(TypeError, match="host"):
        session.direct_tcpip_ex(None, 1, "127.0.0.1", 22)
    with pytest.raises(TypeError):
        session.direct_tcpip("127.0.0.1", "22")


# -- direct-streamlocal ------------------------------------------------------------------------
@pytest.mark.skipif(not LIBSSH2_111, reason="direct-streamlocal needs libssh2 >= 1.11.0")
def test_direct_streamlocal_ex_to_a_unix_socket(session, unix_echo):
    channel = session.direct_streamlocal_ex(unix_echo.address, "127.0.0.1", 22)
    assert isinstance(channel, Channel)
    echo_through(channel, rounds=4)
    channel.send_eof()
    assert channel.read() == (0, b"")
    channel.close()


@pytest.mark.skipif(not LIBSSH2_111, reason="direct-streamlocal needs libssh2 >= 1.11.0")
def test_direct_streamlocal_ex_to_a_missing_socket(session, tmp_path):
    with pytest.raises(exceptions.ChannelFailure):
        session.direct_streamlocal_ex(str(tmp_path / "nothing.sock"), "127.0.0.1", 22)


def test_direct_streamlocal_is_detected_at_build_time():
    from ssh2cffi._libssh2 import lib
    assert lib.SSH2CFFI_HAS_DIRECT_STREAMLOCAL == (lib.LIBSSH2_VERSION_NUM >= 0x010B00)
    assert bool(lib.SSH2CFFI_HAS_DIRECT_STREAMLOCAL) == LIBSSH2_111


@pytest.mark.skipif(LIBSSH2_111, reason="libssh2 >= 1.11.0 has direct-streamlocal")
def test_direct_streamlocal_ex_names_the_libssh2_it_needs(session, unix_echo):
    with pytest.raises(NotImplementedError, match="libssh2 >= 1.11.0"):
        session.direct_streamlocal_ex(unix_echo.address, "127.0.0.1", 22)


# -- remote forwarding -----------------------------------------------------------------------
def test_forward_listen_ex_accept_and_exchange(session):
    listener, port = session.forward_listen_ex(4, "127.0.0.1", 0)
    assert isinstance(listener, Listener) and port > 0
    client = socket.create_connection(("127.0.0.1", port))
    channel = listener.forward_accept()
    assert isinstance(channel, Channel)
    client.sendall(b"ping" * 1000)
    assert read_exactly(channel, 4000) == b"ping" * 1000
    big = os.urandom(3 * CHUNK)
    for start in range(0, len(big), CHUNK):
        channel.write(big[start:start + CHUNK])
        assert recv_exactly(client, CHUNK) == big[start:start + CHUNK]
    client.shutdown(socket.SHUT_WR)
    assert channel.read() == (0, b"")
    channel.close()
    client.close()
    assert listener.forward_cancel() == 0
    assert port_is_closed(port)


def test_forward_listen_on_a_chosen_port_queues_connections(session):
    port = free_port()
    listener = session.forward_listen(port)
    assert isinstance(listener, Listener)
    clients = []
    for index in range(3):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"client %d" % index)
        clients.append(client)
    channels = [listener.forward_accept() for _ in clients]
    assert sorted(read_exactly(channel, 8) for channel in channels) == [
        b"client 0", b"client 1", b"client 2"]
    for client in clients:
        client.close()
    listener.forward_cancel()


def test_cancelled_listener_raises_instead_of_touching_freed_memory(session):
    listener, port = session.forward_listen_ex(1, "127.0.0.1", 0)
    assert listener.forward_cancel() == 0
    for call in (listener.forward_accept, listener.forward_cancel):
        with pytest.raises(exceptions.BadUseError, match="cancelled"):
            call()


def test_forward_accept_non_blocking_and_with_timeout(session):
    listener, port = session.forward_listen_ex(1, "127.0.0.1", 0)
    session.set_blocking(False)
    assert listener.forward_accept() == LIBSSH2_ERROR_EAGAIN
    session.set_blocking(True)
    session.set_timeout(300)
    with pytest.raises(exceptions.Timeout):
        listener.forward_accept()
    session.set_timeout(0)
    listener.forward_cancel()


def test_non_blocking_forwarding_calls_return_eagain_until_done(sshd, echo):
    session, sock = sshd_session(sshd)
    session.set_blocking(False)

    def until_done(call, is_eagain=lambda result: result == LIBSSH2_ERROR_EAGAIN):
        results = []
        for _ in range(1000):
            results.append(call())
            if not is_eagain(results[-1]):
                return results
            select.select([sock], [], [], 1)
        raise AssertionError("still EAGAIN")

    results = until_done(lambda: session.forward_listen_ex(2, "127.0.0.1", 0),
                         lambda result: result == (LIBSSH2_ERROR_EAGAIN, 0))
    # Every call before the last would block; how many there are depends on
    # how fast the server answers (none when the reply is already buffered).
    assert all(result == (LIBSSH2_ERROR_EAGAIN, 0) for result in results[:-1])
    listener, port = results[-1]
    assert isinstance(listener, Listener) and port > 0
    results = until_done(lambda: session.direct_tcpip(*echo.address))
    assert all(result == LIBSSH2_ERROR_EAGAIN for result in results[:-1])
    assert isinstance(results[-1], Channel)
    client = socket.create_connection(("127.0.0.1", port))
    accepted = until_done(listener.forward_accept)[-1]
    assert isinstance(accepted, Channel)
    client.close()
    assert until_done(listener.forward_cancel)[-1] == 0
    session.set_blocking(True)
    session.disconnect()
    sock.close()


def test_dropped_listener_is_cancelled_at_the_next_session_call(session):
    listener, port = session.forward_listen_ex(1, "127.0.0.1", 0)
    del listener
    gc.collect()
    assert len(session._rec._pending) == 1
    channel = session.open_session()
    assert not session._rec._pending
    channel.close()
    assert port_is_closed(port)


def test_listener_built_directly_is_safe(session):
    listener = Listener(session)
    with pytest.raises(exceptions.BadUseError, match="forward_listen"):
        listener.forward_accept()
    with pytest.raises(TypeError, match="Session"):
        Listener(object())


def test_forwarding_refused_by_the_server(asyncssh_server):
    # The asyncssh fixture refuses tcpip-forward requests.
    session, sock = asyncssh_session(asyncssh_server)
    with pytest.raises(exceptions.RequestDeniedError) as info:
        session.forward_listen_ex(1, "127.0.0.1", 0)
    assert "forward" in str(info.value)
    session.disconnect()
    sock.close()


# -- sessions that are gone ----------------------------------------------------------------------
def test_use_after_disconnect_raises(sshd, echo):
    session, sock = sshd_session(sshd)
    listener, port = session.forward_listen_ex(1, "127.0.0.1", 0)
    channel = session.direct_tcpip(*echo.address)
    session.disconnect()
    sock.close()
    for call in (listener.forward_accept, listener.forward_cancel, channel.read,
                 lambda: session.direct_tcpip(*echo.address),
                 lambda: session.forward_listen(free_port()),
                 lambda: session.forward_listen_ex(1)):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()
