"""PublicKeySystem (the RFC 4819 publickey subsystem) against the asyncssh fixture.

OpenSSH does not offer the subsystem; tests/servers.py's AsyncSSHServer
serves its version 2 (version, add, remove, list) and keeps the keys per
user in ``server.publickeys``.
"""
import base64
import gc
import select

import pytest

from helpers import connect, login, run_python
from ssh2cffi import exceptions
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.publickey import PublicKeyAttribute, PublicKeyList, PublicKeySystem
from ssh2cffi.session import Session


@pytest.fixture
def server(asyncssh_server):
    asyncssh_server.publickeys.clear()
    yield asyncssh_server
    asyncssh_server.publickeys.clear()


@pytest.fixture
def pks(server):
    session, sock, _user = login("asyncssh", server)
    system = session.publickey_init()
    yield system
    session.disconnect()
    sock.close()


@pytest.fixture(scope="module")
def user_keys(sshd):
    """(algorithm, blob) of each of the sshd fixture's user keys: real keys to store."""
    keys = []
    for name in ("id_ed25519", "id_ecdsa", "id_rsa"):
        with open(sshd.key_paths[name] + ".pub") as pub:
            algorithm, blob = pub.read().split()[:2]
        keys.append((algorithm.encode(), base64.b64decode(blob)))
    return keys


def stored(server, user="user"):
    return server.publickeys.get(user, {})


# -- the subsystem ---------------------------------------------------------------------------
def test_publickey_init_and_empty_list(pks):
    assert isinstance(pks, PublicKeySystem)
    assert pks.list_fetch() == []


def test_add_then_list_returns_name_blob_and_attributes(server, pks, user_keys):
    (name, blob), (name2, blob2) = user_keys[:2]
    attrs = [PublicKeyAttribute(b"comment", b"laptop key", 0),
             PublicKeyAttribute(b"command-override", b"echo hi", 1)]
    assert pks.add(name, blob, 0, attrs) == 0
    assert pks.add(name2.decode(), blob2, False, []) == 0  # str name, no attributes
    assert stored(server) == {(name, blob): [(b"comment", b"laptop key"),
                                             (b"command-override", b"echo hi")],
                              (name2, blob2): []}
    keys = pks.list_fetch()
    assert [type(key) for key in keys] == [PublicKeyList, PublicKeyList]
    first, second = keys
    assert (first.name, first.name_len, first.blob, first.blob_len) == (name, len(name), blob,
                                                                         len(blob))
    assert first.num_attrs == 2
    assert [(a.name, a.value, a.mandatory) for a in first.attrs] == [
        (b"comment", b"laptop key", 0), (b"command-override", b"echo hi", 0)]
    assert (second.name, second.blob, second.num_attrs, second.attrs) == (name2, blob2, 0, [])


def test_add_refused_and_overwrite(pks, user_keys):
    name, blob = user_keys[0]
    pks.add(name, blob, 0, [])
    with pytest.raises(exceptions.PublicKeyProtocolError, match="key already present") as info:
        pks.add(name, blob, 0, [])
    assert info.value.errcode == -36
    assert pks.add(name, blob, 1, [PublicKeyAttribute(b"comment", b"new", 0)]) == 0
    assert pks.list_fetch()[0].attrs[0].value == b"new"


def test_remove(server, pks, user_keys):
    for name, blob in user_keys:
        pks.add(name, blob, 0, [])
    name, blob = user_keys[1]
    assert pks.remove(name, blob) == 0
    assert [key.name for key in pks.list_fetch()] == [user_keys[0][0], user_keys[2][0]]
    with pytest.raises(exceptions.PublicKeyProtocolError, match="key not found"):
        pks.remove(name, blob)
    assert len(stored(server)) == 2


def test_a_long_list_arriving_in_many_packets(server, pks):
    # libssh2's own list call loses the keys read before each EAGAIN.
    for index in range(200):
        pks.add(b"ssh-ed25519", b"blob%03d" % index, 0,
                [PublicKeyAttribute(b"comment", b"key %d" % index, 0)])
    keys = pks.list_fetch()
    assert [key.blob for key in keys] == [b"blob%03d" % index for index in range(200)]
    assert keys[199].attrs[0].value == b"key 199"
    assert len(pks.list_fetch()) == 200  # and again, on the same channel


def test_keys_persist_across_sessions(server, pks, user_keys):
    name, blob = user_keys[2]
    pks.add(name, blob, 0, [])
    session, sock, _user = login("asyncssh", server)
    other = session.publickey_init()
    assert [(key.name, key.blob) for key in other.list_fetch()] == [(name, blob)]
    assert other.shutdown() == 0
    session.disconnect()
    sock.close()


def test_non_blocking_calls_return_eagain_until_done(server, user_keys):
    session, sock, _user = login("asyncssh", server)
    pks = session.publickey_init()
    session.set_blocking(False)

    def until_done(call):
        for _ in range(1000):
            result = call()
            if result != LIBSSH2_ERROR_EAGAIN:
                return result
            select.select([sock], [], [], 1)
        raise AssertionError("still EAGAIN")

    name, blob = user_keys[0]
    assert until_done(lambda: pks.add(name, blob, 0, [])) == 0
    for index in range(50):
        assert until_done(lambda: pks.add(b"ssh-rsa", b"%d" % index, 0, [])) == 0
    keys = until_done(pks.list_fetch)
    assert len(keys) == 51 and keys[0].blob == blob
    assert until_done(lambda: pks.remove(name, blob)) == 0
    assert until_done(pks.shutdown) == 0
    session.set_blocking(True)
    session.disconnect()
    sock.close()


def test_shutdown_then_the_session_goes_on(server):
    session, sock, _user = login("asyncssh", server)
    pks = session.publickey_init()
    pks.list_fetch()
    assert pks.shutdown() == 0
    for call in (pks.list_fetch, pks.shutdown, lambda: pks.remove(b"a", b"b"),
                 lambda: pks.add(b"a", b"b", 0, [])):
        with pytest.raises(exceptions.PublicKeyError, match="shut down"):
            call()
    channel = session.open_session()
    channel.execute("echo alive")
    assert channel.read() == (6, b"alive\n")
    session.disconnect()
    sock.close()


def test_shutdown_and_drop_never_double_free(asyncssh_server):
    # libssh2_publickey_shutdown() frees a packet its callers already freed:
    # a crash (abort) after any exchange with the server.  In a child process.
    result = run_python("""
import gc
from servers import AsyncSSHServer
from helpers import login

server = AsyncSSHServer().start()
try:
    for index in range(20):
        session, sock, _user = login("asyncssh", server)
        pks = session.publickey_init()
        pks.add(b"ssh-ed25519", b"blob", 1, [])
        pks.list_fetch()
        if index % 2:
            pks.shutdown()
        del pks
        gc.collect()
        channel = session.open_session()   # drains the queued shutdown
        assert not session._rec._pending
        del channel
        session.disconnect()
        sock.close()
finally:
    server.stop()
print("ok")
""")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_dropped_system_is_shut_down_at_the_next_session_call(server):
    session, sock, _user = login("asyncssh", server)
    pks = session.publickey_init()
    pks.list_fetch()
    del pks
    gc.collect()
    assert len(session._rec._pending) == 1
    channel = session.open_session()
    assert not session._rec._pending
    channel.close()
    session.disconnect()
    sock.close()


# -- failures -----------------------------------------------------------------------------
def test_publickey_init_on_a_server_without_the_subsystem(sshd):
    session, sock = connect(sshd)
    session.userauth_publickey_fromfile(sshd.user, sshd.key_paths["id_ed25519"])
    with pytest.raises(exceptions.PublicKeyInitError) as info:
        session.publickey_init()
    # libssh2 sometimes keeps the server's CHANNEL_FAILURE and sometimes loses
    # it while closing the channel: the two messages differ, both name the cause.
    assert str(info.value).startswith("Unable to start the publickey subsystem")
    assert "refused" in str(info.value) or "CHANNEL_FAILURE" in str(info.value)
    assert info.value.errcode < 0
    assert isinstance(info.value, exceptions.PublicKeyError)
    session.disconnect()
    sock.close()


def test_objects_built_directly():
    system = PublicKeySystem(Session())
    with pytest.raises(exceptions.PublicKeyError, match="publickey_init"):
        system.list_fetch()
    assert system.list_free() is None
    with pytest.raises(TypeError, match="Session"):
        PublicKeySystem(None)
    empty = PublicKeyList(system)
    assert (empty.name, empty.name_len, empty.blob, empty.blob_len, empty.num_attrs,
            empty.attrs) == (None,) * 6
    attr = PublicKeyAttribute(b"comment", "text", True)
    assert (attr.name, attr.name_len, attr.value, attr.value_len, attr.mandatory) == (
        b"comment", 7, b"text", 4, 1)
    with pytest.raises(TypeError, match="name"):
        PublicKeyAttribute(1, b"v", 0)


def test_add_checks_its_attributes(pks):
    with pytest.raises(TypeError, match="PublicKeyAttribute"):
        pks.add(b"ssh-rsa", b"blob", 0, [("comment", "x")])
    assert pks.list_fetch() == []  # nothing was sent


def test_use_after_disconnect_raises(server):
    session, sock, _user = login("asyncssh", server)
    pks = session.publickey_init()
    session.disconnect()
    sock.close()
    for call in (pks.list_fetch, pks.shutdown, lambda: pks.add(b"a", b"b", 0, []),
                 lambda: pks.remove(b"a", b"b")):
        with pytest.raises(exceptions.SocketDisconnectError):
            call()
    with pytest.raises(exceptions.SocketDisconnectError):
        session.publickey_init()
