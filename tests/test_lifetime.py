"""Object lifetimes: nothing a program drops, in any order, crashes or hangs.

The risky parts run in a child interpreter (helpers.run_python), so a crash
fails the test instead of killing the run.
"""
import gc
import os

import pytest

from helpers import login, run_python, sshd_login
from ssh2cffi import exceptions

ITERATIONS = int(os.environ.get("SSH2CFFI_LIFETIME_ITERATIONS", "2"))

CHILD_PRELUDE = """
import gc, itertools, os, socket, sys
from ssh2cffi.session import Session

HOST, PORT = os.environ["SSHD_HOST"], int(os.environ["SSHD_PORT"])
USER, KEY = os.environ["SSHD_USER"], os.environ["SSHD_KEY"]

def authenticated_session():
    sock = socket.create_connection((HOST, PORT))
    s = Session()
    s.handshake(sock)
    s.userauth_publickey_fromfile(USER, KEY)
    return s, sock
"""


def child_env(sshd, user=None):
    """Where CHILD_PRELUDE logs in: as ``user``, by default root (sshd.user)."""
    return {"SSHD_HOST": sshd.host, "SSHD_PORT": str(sshd.port),
            "SSHD_USER": user or sshd.user, "SSHD_KEY": sshd.key_paths["id_ed25519"]}


def run_child(sshd, body, timeout=240, user=None):
    """Run CHILD_PRELUDE + ``body`` in a child interpreter; returns its stdout."""
    # the loops grow with ITERATIONS (scripts/stress.sh raises it): so does the bound
    timeout = max(timeout, 60 * ITERATIONS)
    result = run_python(CHILD_PRELUDE + body, timeout=timeout, env=child_env(sshd, user))
    assert result.returncode == 0, "child died (%d): %s" % (result.returncode,
                                                             result.stderr[-3000:])
    return result.stdout


def test_every_drop_order_of_a_session_and_its_channels(sshd):
    out = run_child(sshd, """
orders = 0
for order in itertools.permutations(range(4)):
    for _ in range(%d):
        s, sock = authenticated_session()
        objects = [s] + [s.open_session() for _ in range(3)]
        for index, chan in enumerate(objects[1:]):
            if index != 1:        # one channel never runs anything
                chan.execute("echo %%d" %% index)
        if order[0] == 0:         # sometimes the socket goes first too
            sock.close()
        for position in order:
            objects[position] = None
            gc.collect()
        del s
        gc.collect()
        sock.close()
        orders += 1
print(orders)
""" % ITERATIONS)
    assert int(out) == 24 * ITERATIONS


def test_reference_cycles_collected_in_any_order(sshd):
    out = run_child(sshd, """
for _ in range(%d):
    s, sock = authenticated_session()
    chan = s.open_session()
    chan.execute("echo cycle")
    holder = [s, chan]
    holder.append(holder)       # session and channel inside one cycle
    del s, chan, holder
    gc.collect()
    sock.close()
print("ok")
""" % (ITERATIONS * 20))
    assert out.strip() == "ok"


def test_disconnect_then_drop_everything_in_every_order(sshd):
    out = run_child(sshd, """
count = 0
for order in itertools.permutations(range(3)):
    s, sock = authenticated_session()
    objects = [s, s.open_session(), s.open_session()]
    objects[1].execute("echo x")
    s.disconnect()
    sock.close()
    s = None
    for position in order:
        objects[position] = None
        gc.collect()
    count += 1
print(count)
""")
    assert int(out) == 6


def test_channel_keeps_working_after_the_session_object_is_dropped(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    channel = session.open_session()
    channel.execute("echo still here")
    del session
    gc.collect()
    assert channel.read() == (11, b"still here\n")
    assert channel.session.userauth_authenticated()
    channel.session.disconnect()
    sock.close()


def test_use_after_disconnect_raises_for_every_channel_method(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    channel = session.open_session()
    session.disconnect()
    sock.close()
    for call in (lambda: channel.read(), lambda: channel.write(b"x"), channel.eof,
                 channel.close, channel.wait_closed, channel.get_exit_status,
                 channel.send_eof, lambda: channel.execute("true")):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()


def test_dropping_a_channel_of_a_dead_session_never_touches_a_reused_descriptor(sshd):
    # ssh2-python hangs here: freeing the old channel reads and writes on a
    # descriptor that now belongs to the new connection.
    out = run_child(sshd, """
for _ in range(%d):
    s1, sock1 = authenticated_session()
    old = s1.open_session()
    old.execute("sleep 0")
    fd = sock1.fileno()
    s1.disconnect()
    sock1.close()
    del s1
    s2, sock2 = authenticated_session()   # usually gets the same descriptor number
    s2.set_timeout(10000)
    del old                 # frees the dead session: no I/O, no fcntl on fd
    gc.collect()
    chan = s2.open_session()
    chan.execute("echo fresh")
    assert chan.read() == (6, b"fresh\\n"), "new session disturbed"
    s2.disconnect()
    sock2.close()
print("ok")
""" % (ITERATIONS * 5), timeout=120)
    assert out.strip() == "ok"


def test_session_dropped_without_disconnect_leaves_socket_usable_flags(sshd):
    # After the session is freed, the socket's blocking mode is restored.
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    assert sock.getblocking() is True
    assert os.get_blocking(sock.fileno()) is False  # libssh2 needs non-blocking
    del session
    gc.collect()
    assert os.get_blocking(sock.fileno()) is True
    sock.close()


def test_many_channels_dropped_on_one_session_are_freed(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    for index in range(50):
        channel = session.open_session()
        channel.execute("echo %d" % index)
        assert channel.read()[1] == b"%d\n" % index
        del channel
    gc.collect()
    # The drained frees happen on the next session-level call.
    channel = session.open_session()
    assert len(session._rec._pending) == 0
    channel.close()
    session.disconnect()
    sock.close()


def test_objects_built_without_pointers_are_safe():
    from ssh2cffi.channel import Channel
    from ssh2cffi.session import Session
    for _ in range(100):
        channel = Channel(Session())
        with pytest.raises(exceptions.BadUseError):
            channel.read()
        del channel
    gc.collect()


def test_drop_orders_with_trace_and_x11_callbacks(sshd):
    # A session with trace output (where available) and an X11 callback, its
    # channels, the socket and a logging handler, dropped in every order: libssh2
    # may trace while it frees, after the Session object is gone.
    out = run_child(sshd, """
import logging
logging.basicConfig(level=logging.DEBUG, filename=os.devnull)
for order in itertools.permutations(range(4)):
    sock = socket.create_connection((HOST, PORT))
    s = Session()
    if Session.trace_supported():
        s.set_trace(-1)
    s.handshake(sock)
    s.userauth_publickey_fromfile(USER, KEY)
    s.set_x11_callback(lambda channel, host, port: None)
    chans = [s.open_session(), s.open_session()]
    chans[0].x11_req(0)
    chans[0].execute("echo hi")
    objects = [s, chans[0], chans[1], sock]
    del s, chans
    for position in order:
        if position == 3:
            objects[3].close()
        objects[position] = None
        gc.collect()
gc.collect()
print("ok")
""", user=sshd_login(sshd))
    assert out.strip() == "ok"
