"""Forwarding through the sshd fixture: direct-tcpip and direct-streamlocal
channels to local echo servers, remote (tcpip-forward) listeners, and X11
forwarding to a fake X server.

The port forwarding tests log in as root (``sshd_root_session``): the unix
sockets they reach live in pytest's temporary directories, which only root
may enter.
"""
import gc
import logging
import os
import re
import select
import socket
import threading
import time

import pytest

from helpers import HAS_LIBSSH2_1_11, login, logout, read_channel, read_exactly
from servers import free_port
from ssh2cffi import exceptions
from ssh2cffi.channel import Channel
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.listener import Listener
from ssh2cffi.session import Session

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
def test_direct_tcpip_ex_moves_data_both_ways(sshd_root_session, echo):
    host, port = echo.address
    channel = sshd_root_session.direct_tcpip_ex(host, port, "10.9.8.7", 4242)
    assert isinstance(channel, Channel) and channel.session is sshd_root_session
    echo_through(channel)  # 1 MiB each way, beyond one channel window
    assert channel.send_eof() == 0
    assert channel.read() == (0, b"")  # the echo server closed its side in turn
    assert channel.eof()
    channel.close()
    channel.wait_closed()


def test_direct_tcpip_uses_libssh2s_default_source(sshd_root_session, echo):
    channel = sshd_root_session.direct_tcpip(echo.address[0].encode(), echo.address[1])
    channel.write(b"hello")
    assert read_exactly(channel, 5) == b"hello"
    channel.close()


def test_direct_tcpip_to_a_closed_port_raises_channel_failure(sshd_root_session):
    with pytest.raises(exceptions.ChannelFailure) as info:
        sshd_root_session.direct_tcpip("127.0.0.1", free_port())
    assert "connect failed" in str(info.value) or "open failure" in str(info.value)
    # The session is still fine.
    assert sshd_root_session.open_session().execute("true") == 0


def test_direct_tcpip_argument_types(sshd_root_session):
    with pytest.raises(TypeError, match="host"):
        sshd_root_session.direct_tcpip_ex(None, 1, "127.0.0.1", 22)
    with pytest.raises(TypeError):
        sshd_root_session.direct_tcpip("127.0.0.1", "22")


# -- direct-streamlocal ------------------------------------------------------------------------
@pytest.mark.skipif(not HAS_LIBSSH2_1_11, reason="direct-streamlocal needs libssh2 >= 1.11.0")
def test_direct_streamlocal_ex_to_a_unix_socket(sshd_root_session, unix_echo):
    channel = sshd_root_session.direct_streamlocal_ex(unix_echo.address, "127.0.0.1", 22)
    assert isinstance(channel, Channel)
    echo_through(channel, rounds=4)
    channel.send_eof()
    assert channel.read() == (0, b"")
    channel.close()


@pytest.mark.skipif(not HAS_LIBSSH2_1_11, reason="direct-streamlocal needs libssh2 >= 1.11.0")
def test_direct_streamlocal_ex_to_a_missing_socket(sshd_root_session, tmp_path):
    with pytest.raises(exceptions.ChannelFailure):
        sshd_root_session.direct_streamlocal_ex(str(tmp_path / "nothing.sock"), "127.0.0.1",
                                                22)


def test_direct_streamlocal_is_detected_at_build_time():
    from ssh2cffi._libssh2 import lib
    assert lib.SSH2CFFI_HAS_DIRECT_STREAMLOCAL == (lib.LIBSSH2_VERSION_NUM >= 0x010B00)
    assert bool(lib.SSH2CFFI_HAS_DIRECT_STREAMLOCAL) == HAS_LIBSSH2_1_11


@pytest.mark.skipif(HAS_LIBSSH2_1_11, reason="libssh2 >= 1.11.0 has direct-streamlocal")
def test_direct_streamlocal_ex_names_the_libssh2_it_needs(sshd_root_session, unix_echo):
    with pytest.raises(NotImplementedError, match="libssh2 >= 1.11.0"):
        sshd_root_session.direct_streamlocal_ex(unix_echo.address, "127.0.0.1", 22)


# -- remote forwarding -----------------------------------------------------------------------
def test_forward_listen_ex_accept_and_exchange(sshd_root_session):
    listener, port = sshd_root_session.forward_listen_ex(4, "127.0.0.1", 0)
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


def test_forward_listen_on_a_chosen_port_queues_connections(sshd_root_session):
    port = free_port()
    listener = sshd_root_session.forward_listen(port)
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


def test_cancelled_listener_raises_instead_of_touching_freed_memory(sshd_root_session):
    listener, port = sshd_root_session.forward_listen_ex(1, "127.0.0.1", 0)
    assert listener.forward_cancel() == 0
    for call in (listener.forward_accept, listener.forward_cancel):
        with pytest.raises(exceptions.BadUseError, match="cancelled"):
            call()


def test_forward_accept_non_blocking_and_with_timeout(sshd_root_session):
    listener, port = sshd_root_session.forward_listen_ex(1, "127.0.0.1", 0)
    sshd_root_session.set_blocking(False)
    assert listener.forward_accept() == LIBSSH2_ERROR_EAGAIN
    sshd_root_session.set_blocking(True)
    sshd_root_session.set_timeout(300)
    with pytest.raises(exceptions.Timeout):
        listener.forward_accept()
    sshd_root_session.set_timeout(0)
    listener.forward_cancel()


def test_non_blocking_forwarding_calls_return_eagain_until_done(sshd, echo):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
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


def test_dropped_listener_is_cancelled_at_the_next_session_call(sshd_root_session):
    listener, port = sshd_root_session.forward_listen_ex(1, "127.0.0.1", 0)
    del listener
    gc.collect()
    assert len(sshd_root_session._rec._pending) == 1
    channel = sshd_root_session.open_session()
    assert not sshd_root_session._rec._pending
    channel.close()
    assert port_is_closed(port)


def test_listener_built_directly_is_safe(sshd_root_session):
    listener = Listener(sshd_root_session)
    with pytest.raises(exceptions.BadUseError, match="forward_listen"):
        listener.forward_accept()
    with pytest.raises(TypeError, match="Session"):
        Listener(object())


def test_forwarding_refused_by_the_server(asyncssh_server):
    # The asyncssh fixture refuses tcpip-forward requests.
    session, sock, _user = login("asyncssh", asyncssh_server)
    with pytest.raises(exceptions.RequestDeniedError) as info:
        session.forward_listen_ex(1, "127.0.0.1", 0)
    assert "forward" in str(info.value)
    session.disconnect()
    sock.close()


# -- X11 forwarding ------------------------------------------------------------------------------
# Run on the server: connect to $DISPLAY (sshd's X11 listener), send a
# greeting, print the display and what the "X server" answered.
# It writes a line to stderr first, as sshd's xauth does on a fresh home
# directory: the pump must read stderr too before the channel reports EOF.
X11_CLIENT = r"""
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
"""


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
        output = read_channel(channel)
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
            output = read_channel(channel)
            channel.wait_closed()
        assert any("X11 callback raised" in r.getMessage() and r.exc_info
                   for r in caplog.records), output
        # the session still works
        channel = session.open_session()
        channel.execute("echo ok")
        assert read_channel(channel) == b"ok\n"
    finally:
        logout(session, sock)


def test_set_x11_callback_bad_argument():
    with pytest.raises(TypeError):
        Session().set_x11_callback("not callable")


# -- sessions that are gone ----------------------------------------------------------------------
def test_use_after_disconnect_raises(sshd, echo):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
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
