"""Session against the real OpenSSH sshd and the asyncssh server: handshake,
authentication, banners (the server's, and the one we send), host keys and
method preferences (LIBSSH2_METHOD_SIGN_ALGO included), flags, modes,
timeouts, keepalives, errors and disconnect.

Features that need libssh2 >= 1.11.0 are skipped on 1.10, where a test checks
their NotImplementedError instead.
"""
import base64
import hashlib
import os
import re
import socket
import time

import pytest

from helpers import (HAS_LIBSSH2_1_11, connect, login, logout, needs_libssh2_1_11,
                     only_libssh2_1_10, run_command, sshd_login)
from ssh2cffi import error_codes, exceptions, utils
from ssh2cffi.session import (LIBSSH2_FLAG_COMPRESS, LIBSSH2_FLAG_SIGPIPE,
                              LIBSSH2_HOSTKEY_HASH_MD5, LIBSSH2_HOSTKEY_HASH_SHA1,
                              LIBSSH2_HOSTKEY_HASH_SHA256, LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
                              LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_HOSTKEY_TYPE_RSA,
                              LIBSSH2_METHOD_COMP_CS, LIBSSH2_METHOD_CRYPT_CS,
                              LIBSSH2_METHOD_CRYPT_SC,
                              LIBSSH2_METHOD_HOSTKEY, LIBSSH2_METHOD_KEX,
                              LIBSSH2_METHOD_SIGN_ALGO,
                              LIBSSH2_SESSION_BLOCK_INBOUND, LIBSSH2_SESSION_BLOCK_OUTBOUND,
                              FlagType, MethodType, Session)

# -- construction and handshake ------------------------------------------------
def test_session_ignores_constructor_arguments_like_ssh2_python():
    session = Session(1, "two", three=3)
    assert session.sock is None and session.get_blocking() is True


def test_handshake_with_socket_object_and_with_fd(sshd):
    for use_fd in (False, True):
        sock = sshd.connect_socket()
        session = Session()
        assert session.handshake(sock.fileno() if use_fd else sock) == 0
        assert session.sock == (sock.fileno() if use_fd else sock)
        assert session.userauth_authenticated() is False
        logout(session, sock)


def test_handshake_rejects_bad_sockets():
    session = Session()
    with pytest.raises(TypeError, match="sock"):
        session.handshake(None)
    with pytest.raises(TypeError, match="fileno"):
        session.handshake("not a socket")
    with pytest.raises(ValueError):
        session.handshake(-5)


class _FakeSocket:
    def __init__(self, fileno_result):
        self.fileno_result = fileno_result

    def fileno(self):
        return self.fileno_result


@pytest.mark.parametrize("fileno_result", [None, "3", 3.0, object()])
def test_handshake_with_a_fileno_that_is_not_an_int_raises_type_error(fileno_result):
    # ssh2-python: Cython cannot convert fileno()'s result to a C int -> TypeError.
    with pytest.raises(TypeError, match="fileno"):
        Session().handshake(_FakeSocket(fileno_result))


def test_handshake_with_a_closed_sockets_descriptor_raises_value_error():
    # fileno() is an int, but no descriptor: -1 is what a closed socket gives.
    sock = socket.socket()
    sock.close()
    with pytest.raises(ValueError, match="descriptor"):
        Session().handshake(sock)


def test_handshake_with_a_peer_that_is_not_ssh_raises():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()
    peer.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    peer.close()
    session = Session()
    session.set_timeout(5000)
    # "Failed getting banner": libssh2 1.11 reports the peer's hang-up as such
    # (LIBSSH2_ERROR_SOCKET_DISCONNECT), 1.10 as LIBSSH2_ERROR_BANNER_RECV
    expected = (exceptions.SocketDisconnectError if HAS_LIBSSH2_1_11
                else exceptions.BannerRecvError)
    with pytest.raises(expected) as info:
        session.handshake(client)
    assert type(info.value) is expected
    assert info.value.errcode < 0 and str(info.value)
    client.close()
    listener.close()


# -- authentication ----------------------------------------------------------
def test_userauth_list(sshd):
    session, sock = connect(sshd)
    methods = session.userauth_list(sshd.user)
    assert "publickey" in methods and all(isinstance(m, str) for m in methods)
    logout(session, sock)


@pytest.mark.parametrize("key", ["id_ed25519", "id_ecdsa", "id_rsa"])
def test_publickey_fromfile(sshd, key):
    session, sock = connect(sshd)
    assert session.userauth_publickey_fromfile(sshd.user, sshd.key_paths[key]) == 0
    assert session.userauth_authenticated()
    out, _err, status = run_command(session, "echo ok")  # root's shell rc may write to stderr
    assert (out, status) == (b"ok\n", 0)
    logout(session, sock)


@pytest.mark.parametrize("key", ["id_ed25519_pass", "id_rsa_pass"])
def test_publickey_fromfile_with_passphrase_and_public_key(sshd, key):
    session, sock = connect(sshd)
    path = sshd.key_paths[key]
    assert session.userauth_publickey_fromfile(
        sshd.user, path, passphrase=sshd.passphrase, publickey=path + ".pub") == 0
    assert session.userauth_authenticated()
    logout(session, sock)


def test_publickey_fromfile_errors(sshd, tmp_path):
    session, sock = connect(sshd)
    with pytest.raises(exceptions.FileError) as info:
        session.userauth_publickey_fromfile(sshd.user, str(tmp_path / "missing"))
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_FILE
    with pytest.raises(exceptions.FileError) as info:  # the key file cannot be decrypted
        session.userauth_publickey_fromfile(sshd.user, sshd.key_paths["id_rsa_pass"],
                                            passphrase="wrong passphrase")
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_FILE
    assert "wrong passphrase" not in str(info.value)  # secrets never in messages
    with pytest.raises(exceptions.AuthenticationError):
        session.userauth_publickey_fromfile("nosuchuser", sshd.key_paths["id_ed25519"])
    with pytest.raises(TypeError, match="privatekey"):
        session.userauth_publickey_fromfile(sshd.user, 42)
    assert not session.userauth_authenticated()
    logout(session, sock)


def test_publickey_frommemory(sshd):
    for key, passphrase in (("id_ed25519", ""), ("id_ed25519_pass", sshd.passphrase),
                            ("id_rsa_pass", sshd.passphrase)):
        session, sock = connect(sshd)
        with open(sshd.key_paths[key], "rb") as f:
            private = f.read()
        with open(sshd.key_paths[key] + ".pub", "rb") as f:
            public = f.read()
        assert session.userauth_publickey_frommemory(
            sshd.user, private, passphrase=passphrase,
            publickeyfiledata=public if key != "id_ed25519" else None) == 0
        assert session.userauth_authenticated()
        logout(session, sock)


def test_publickey_frommemory_rejects_str_key(sshd):
    session, sock = connect(sshd)
    with pytest.raises(TypeError, match="privatekeyfiledata"):
        session.userauth_publickey_frommemory(sshd.user, "not bytes")
    logout(session, sock)


def test_userauth_publickey_with_sign_callback(sshd):
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key
    with open(sshd.key_paths["id_ed25519"], "rb") as f:
        private_key = load_ssh_private_key(f.read(), password=None)
    with open(sshd.key_paths["id_ed25519"] + ".pub") as f:
        blob = base64.b64decode(f.read().split()[1])
    signed = []

    def sign(data):
        signed.append(data)
        return private_key.sign(data)

    session, sock = connect(sshd)
    assert session.userauth_publickey(sshd.user, blob, sign) == 0
    assert session.userauth_authenticated() and len(signed) == 1
    logout(session, sock)


def test_userauth_publickey_sign_callback_errors_propagate(sshd):
    with open(sshd.key_paths["id_ed25519"] + ".pub") as f:
        blob = base64.b64decode(f.read().split()[1])

    def broken(data):
        raise RuntimeError("signer unavailable")

    session, sock = connect(sshd)
    with pytest.raises(RuntimeError, match="signer unavailable"):
        session.userauth_publickey(sshd.user, blob, broken)
    with pytest.raises(TypeError, match="sign_callback"):
        session.userauth_publickey(sshd.user, blob)
    assert not session.userauth_authenticated()
    logout(session, sock)


def test_password_auth_sshd(sshd):
    assert sshd.password_user, "scripts/setup.sh creates the ssh2cffi user"
    session, sock = connect(sshd)
    assert session.userauth_password(sshd.password_user, sshd.password) == 0
    assert run_command(session, "whoami") == (sshd.password_user.encode() + b"\n", b"", 0)
    logout(session, sock)


def test_password_auth_asyncssh_and_wrong_password(asyncssh_server):
    session, sock = connect(asyncssh_server)
    with pytest.raises(exceptions.AuthenticationError) as info:
        session.userauth_password("user", "wrong-password")
    assert "Authentication failed" in str(info.value)
    assert "wrong-password" not in str(info.value)
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_AUTHENTICATION_FAILED
    assert "Authentication failed" in session.last_error()
    assert session.last_errno() == error_codes.LIBSSH2_ERROR_AUTHENTICATION_FAILED
    assert session.userauth_password(b"user", b"pass") == 0
    logout(session, sock)


def test_keyboard_interactive_callback_two_prompts(asyncssh_server):
    calls = []

    def answer(name, instruction, prompts):
        calls.append((name, instruction, prompts))
        return ["pass" if p.startswith("Password") else b"1234" for p in prompts]

    session, sock = connect(asyncssh_server)
    assert session.userauth_keyboardinteractive_callback("kbd", answer) == 0
    assert session.userauth_authenticated()
    assert session._kbd_callback is None
    name, instruction, prompts = calls[0]
    assert isinstance(name, bytes) and isinstance(instruction, bytes)
    assert prompts == ["Password: ", "Code: "]
    logout(session, sock)


def test_keyboard_interactive_password(asyncssh_server):
    session, sock = connect(asyncssh_server)
    assert session.userauth_keyboardinteractive("kbd1", "pass") == 0
    assert session.userauth_authenticated()
    logout(session, sock)


def test_keyboard_interactive_failures(asyncssh_server):
    session, sock = connect(asyncssh_server)
    with pytest.raises(exceptions.AuthenticationError):
        session.userauth_keyboardinteractive("kbd1", "wrong")

    def raises(name, instruction, prompts):
        raise KeyError("no answer")

    with pytest.raises(KeyError):
        session.userauth_keyboardinteractive_callback("kbd1", raises)
    with pytest.raises(ValueError, match="answers"):
        session.userauth_keyboardinteractive_callback("kbd", lambda n, i, p: ["pass"])
    with pytest.raises(TypeError):
        session.userauth_keyboardinteractive_callback("kbd1", "not callable")
    assert not session.userauth_authenticated()
    logout(session, sock)


def test_hostbased_auth_refused(sshd):
    # libssh2 cannot sign a host-based request with an ed25519 key: it gives
    # up with -1 (LIBSSH2_ERROR_SOCKET_NONE, raised as SSH2Error itself) before
    # asking the server (test_hostbased.py has the server's side)
    session, sock = connect(sshd)
    with pytest.raises(exceptions.SSH2Error) as info:
        session.userauth_hostbased_fromfile(sshd.user, sshd.key_paths["id_ed25519"],
                                            "localhost")
    assert type(info.value) is exceptions.SSH2Error
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_SOCKET_NONE
    assert not session.userauth_authenticated()
    logout(session, sock)


# -- banners ------------------------------------------------------------------------------
@needs_libssh2_1_11
def test_userauth_banner_asyncssh(asyncssh_server):
    # (OpenSSH sends no banner unless configured to: the asyncssh server does)
    session, sock = connect(asyncssh_server)
    try:
        assert session.userauth_banner() is None  # nothing asked yet
        assert "password" in session.userauth_list("user")
        assert session.userauth_banner() == asyncssh_server.banner
        assert session.userauth_password("user", "pass") == 0
        assert session.userauth_banner() == asyncssh_server.banner
    finally:
        logout(session, sock)


@needs_libssh2_1_11
def test_userauth_banner_none_from_sshd(sshd):
    session, sock = connect(sshd)
    try:
        assert session.userauth_list("nobody") is not None
        assert session.userauth_banner() is None
    finally:
        logout(session, sock)


@only_libssh2_1_10
def test_userauth_banner_needs_1_11(asyncssh_server):
    session, sock = connect(asyncssh_server)
    try:
        session.userauth_list("user")
        with pytest.raises(NotImplementedError, match=r"libssh2 >= 1\.11\.0"):
            session.userauth_banner()
    finally:
        logout(session, sock)


def sshd_log_after(sshd, offset, needle, deadline=10):
    """The sshd log from byte ``offset`` on, once it contains ``needle``
    (sshd writes it asynchronously) or ``deadline`` seconds have passed."""
    end = time.monotonic() + deadline
    while True:
        with open(sshd.log_path, "rb") as fobj:
            fobj.seek(offset)
            text = fobj.read().decode("utf-8", "replace")
        if needle in text or time.monotonic() > end:
            return text
        time.sleep(0.05)


def test_banner_set_is_what_the_server_sees(sshd):
    marker = "ssh2cffi_issue9_%d" % os.getpid()
    offset = os.path.getsize(sshd.log_path)
    session = Session()
    assert session.banner_get() is None  # before the handshake
    assert session.banner_set("SSH-2.0-" + marker) == 0
    sock = sshd.connect_socket()
    try:
        session.handshake(sock)
        assert session.banner_get().startswith("SSH-2.0-OpenSSH_")
        session.userauth_publickey_fromfile(sshd_login(sshd), sshd.key_paths["id_ed25519"])
        assert session.userauth_authenticated()
    finally:
        logout(session, sock)
    assert "remote software version " + marker in sshd_log_after(sshd, offset, marker)


def test_banner_set_bad_arguments():
    session = Session()
    for bad in ("hello", "SSH-2.0-", "SSH-1.99-x", "SSH-2.0-a\r\nb", "SSH-2.0-" + "x" * 300):
        with pytest.raises(ValueError):
            session.banner_set(bad)
    with pytest.raises(ValueError):
        session.banner_set("SSH-2.0-a\0b")
    with pytest.raises(TypeError):
        session.banner_set(22)
    assert session.banner_set(b"SSH-2.0-bytes_ok") == 0


# -- host key and algorithms ------------------------------------------------------
def server_host_key_blob(sshd, kind):
    with open(sshd.host_key_pub[kind]) as f:
        return base64.b64decode(f.read().split()[1])


def test_hostkey_and_hashes_match_the_servers_key(sshd):
    session, sock = connect(sshd)
    key, key_type = session.hostkey()
    kind = {LIBSSH2_HOSTKEY_TYPE_ED25519: "ed25519", LIBSSH2_HOSTKEY_TYPE_ECDSA_256: "ecdsa",
            LIBSSH2_HOSTKEY_TYPE_RSA: "rsa"}[key_type]
    assert key == server_host_key_blob(sshd, kind)
    assert session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_MD5) == hashlib.md5(key).digest()
    assert session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA1) == hashlib.sha1(key).digest()
    assert session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA256) == hashlib.sha256(key).digest()
    with pytest.raises(ValueError):
        session.hostkey_hash(99)
    logout(session, sock)


def test_hostkey_before_handshake():
    session = Session()
    with pytest.raises(exceptions.SessionHostKeyError):
        session.hostkey()
    assert session.hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA256) is None


@pytest.mark.parametrize("algorithm, key_type", [
    ("ssh-ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519),
    ("ecdsa-sha2-nistp256", LIBSSH2_HOSTKEY_TYPE_ECDSA_256),
])
def test_method_pref_selects_host_key_algorithm(sshd, algorithm, key_type):
    sock = sshd.connect_socket()
    session = Session()
    assert session.method_pref(LIBSSH2_METHOD_HOSTKEY, algorithm) == 0
    session.handshake(sock)
    assert session.methods(LIBSSH2_METHOD_HOSTKEY) == algorithm
    assert session.hostkey()[1] == key_type
    logout(session, sock)


def test_methods_and_cipher_preference(sshd):
    session = Session()
    assert session.methods(LIBSSH2_METHOD_KEX) is None  # before the handshake
    # Both directions: libssh2 1.11.1 fails (ctr) or even crashes (gcm) when
    # the two directions negotiate different kinds of cipher.
    session.method_pref(LIBSSH2_METHOD_CRYPT_CS, "aes128-ctr")
    session.method_pref(LIBSSH2_METHOD_CRYPT_SC, "aes128-ctr")
    sock = sshd.connect_socket()
    session.handshake(sock)
    assert session.methods(LIBSSH2_METHOD_CRYPT_CS) == "aes128-ctr"
    assert session.methods(LIBSSH2_METHOD_KEX) in session.supported_algs(LIBSSH2_METHOD_KEX)
    logout(session, sock)


def test_method_pref_errors():
    session = Session()
    with pytest.raises(exceptions.MethodNotSupported):
        session.method_pref(LIBSSH2_METHOD_CRYPT_CS, "no-such-cipher")
    with pytest.raises(TypeError, match="MethodType"):
        session.method_pref(2, "aes128-ctr")
    with pytest.raises(TypeError, match="MethodType"):
        session.supported_algs("kex")
    assert repr(MethodType(3)) == "MethodType(3)"
    with pytest.raises(AttributeError):
        MethodType(1).value


def test_supported_algs():
    session = Session()
    kex = session.supported_algs(LIBSSH2_METHOD_KEX)
    assert "curve25519-sha256" in kex
    assert session.supported_algs(LIBSSH2_METHOD_COMP_CS) == ["none"]


def test_compression_flag(sshd):
    session = Session()
    session.flag(LIBSSH2_FLAG_COMPRESS)
    assert "zlib" in session.supported_algs(LIBSSH2_METHOD_COMP_CS)
    sock = sshd.connect_socket()
    session.handshake(sock)
    session.userauth_publickey_fromfile(sshd.user, sshd.key_paths["id_ed25519"])
    assert session.methods(LIBSSH2_METHOD_COMP_CS) in ("zlib", "zlib@openssh.com")
    out, _, status = run_command(session, "head -c 200000 /dev/zero")
    assert out == b"\0" * 200000 and status == 0
    logout(session, sock)


def test_flag_accepts_only_sigpipe_and_compress():
    session = Session()
    assert session.flag(LIBSSH2_FLAG_SIGPIPE) is None
    assert session.flag(LIBSSH2_FLAG_SIGPIPE, enabled=False) is None
    with pytest.raises(ValueError):
        session.flag(FlagType(1))  # same value as SIGPIPE, but not the object
    with pytest.raises(TypeError):
        session.flag(1)


@needs_libssh2_1_11
@pytest.mark.parametrize("algorithm", ["rsa-sha2-256", "rsa-sha2-512"])
def test_sign_algo_preference_sshd(sshd, algorithm):
    offset = os.path.getsize(sshd.log_path)
    session = Session()
    session.set_timeout(30000)
    assert session.method_pref(LIBSSH2_METHOD_SIGN_ALGO, algorithm) == 0
    sock = sshd.connect_socket()
    try:
        session.handshake(sock)
        assert session.userauth_publickey_fromfile(sshd_login(sshd),
                                                   sshd.key_paths["id_rsa"]) == 0
        assert session.userauth_authenticated()
        # libssh2 keeps no negotiated value or list for this type
        assert session.methods(LIBSSH2_METHOD_SIGN_ALGO) is None
        assert session.supported_algs(LIBSSH2_METHOD_SIGN_ALGO) == []
    finally:
        logout(session, sock)
    log = sshd_log_after(sshd, offset, "Accepted publickey")
    # sshd (LogLevel DEBUG1) names the signature algorithm of each attempt:
    # "userauth_pubkey: publickey test pkalg rsa-sha2-256 pkblob RSA SHA256:..."
    assert set(re.findall(r"pkalg (\S+)", log)) == {algorithm}, log[-3000:]


@only_libssh2_1_10
def test_sign_algo_needs_1_11():
    session = Session()
    for call in (lambda: session.method_pref(LIBSSH2_METHOD_SIGN_ALGO, "rsa-sha2-256"),
                 lambda: session.methods(LIBSSH2_METHOD_SIGN_ALGO),
                 lambda: session.supported_algs(LIBSSH2_METHOD_SIGN_ALGO)):
        with pytest.raises(NotImplementedError, match=r"LIBSSH2_METHOD_SIGN_ALGO.*1\.11\.0"):
            call()
    # the other method types are unaffected
    assert session.supported_algs(LIBSSH2_METHOD_HOSTKEY)


# -- modes, timeouts, keepalive ---------------------------------------------------------
def test_blocking_and_timeout_settings():
    session = Session()
    session.set_blocking(False)
    assert session.get_blocking() is False
    session.set_blocking(1)
    assert session.get_blocking() is True
    session.set_timeout(1500.7)
    assert session.get_timeout() == 1500
    session.set_timeout(0)
    assert session.get_timeout() == 0


def test_timeout_raises_on_a_server_that_stops_answering(asyncssh_server):
    session, sock, _user = login("asyncssh", asyncssh_server)
    channel = session.open_session()
    channel.execute("hang")
    session.set_timeout(300)
    start = time.monotonic()
    with pytest.raises(exceptions.Timeout):
        channel.read()
    assert time.monotonic() - start < 10
    logout(session, sock)


def test_non_blocking_handshake_and_block_directions(sshd):
    sock = sshd.connect_socket()
    session = Session()
    session.set_blocking(False)
    seen_eagain = False
    while True:
        rc = session.handshake(sock)
        if rc != error_codes.LIBSSH2_ERROR_EAGAIN:
            break
        seen_eagain = True
        directions = session.block_directions()
        assert directions & (LIBSSH2_SESSION_BLOCK_INBOUND | LIBSSH2_SESSION_BLOCK_OUTBOUND)
        utils.wait_socket(sock, session, timeout=5)
    assert rc == 0 and seen_eagain
    while True:
        rc = session.userauth_publickey_fromfile(sshd.user, sshd.key_paths["id_ed25519"])
        if rc != error_codes.LIBSSH2_ERROR_EAGAIN:
            break
        utils.wait_socket(sock, session, timeout=5)
    assert rc == 0 and session.userauth_authenticated()
    while session.disconnect() == error_codes.LIBSSH2_ERROR_EAGAIN:
        utils.wait_socket(sock, session, timeout=5)
    sock.close()


def test_userauth_list_returns_none_when_it_would_block(sshd):
    sock = sshd.connect_socket()
    session = Session()
    session.handshake(sock)
    session.set_blocking(False)
    result = session.userauth_list(sshd.user)
    while result is None and session.last_errno() == error_codes.LIBSSH2_ERROR_EAGAIN:
        utils.wait_socket(sock, session, timeout=5)
        result = session.userauth_list(sshd.user)
    assert "publickey" in result
    sock.close()


def test_keepalive(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    session.keepalive_config(True, 60)
    assert 55 <= session.keepalive_send() <= 60
    session.keepalive_config(False, 0)
    assert session.keepalive_send() == 0
    with pytest.raises(OverflowError):
        session.keepalive_config(True, -1)
    logout(session, sock)


def test_keepalive_send_without_connection_raises():
    session = Session()
    session.keepalive_config(True, 5)
    with pytest.raises(exceptions.SocketSendError):
        session.keepalive_send()


# -- errors ---------------------------------------------------------------------------
def test_last_error_and_set_last_error():
    session = Session()
    assert session.last_error() == "" and session.last_errno() == 0
    assert session.set_last_error(255, "custom failure") == 255
    assert session.last_error() == "custom failure"
    assert session.last_errno() == 255


def test_open_session_before_auth_raises(sshd):
    # OpenSSH ignores a channel request before authentication (until its
    # LoginGraceTime): with a timeout set, the call ends with Timeout.
    session, sock = connect(sshd)
    session.set_timeout(500)
    with pytest.raises(exceptions.Timeout) as info:
        session.open_session()
    assert "LIBSSH2_ERROR_TIMEOUT" in str(info.value)
    logout(session, sock)


# -- disconnect and context manager --------------------------------------------------------
def test_disconnect_is_idempotent_and_blocks_further_io(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    assert session.disconnect() == 0
    assert session.disconnect() == 0
    with pytest.raises(exceptions.SocketDisconnectError):
        session.open_session()
    with pytest.raises(exceptions.SocketDisconnectError):
        session.keepalive_send()
    assert Session().disconnect() == 0  # never connected
    sock.close()


def test_context_manager_disconnects(sshd):
    sock = sshd.connect_socket()
    with Session() as session:
        session.handshake(sock)
        session.userauth_publickey_fromfile(sshd.user, sshd.key_paths["id_ed25519"])
        channel = session.open_session()
    with pytest.raises(exceptions.SocketDisconnectError):
        channel.execute("true")
    sock.close()


def test_sock_is_read_only():
    session = Session()
    with pytest.raises(AttributeError):
        session.sock = 3
    with pytest.raises(AttributeError):
        session.unknown_attribute = 1
