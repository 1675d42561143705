"""Secrets stay secret; the first documented example verifies the server's host key.

Failures are forced with a distinctive secret (password, passphrase, key
material) and every text a program may print or log is scanned for it:
str() and repr() of the exception and its args, the session's last_error(),
the reprs of the objects involved, and what the logging module recorded.
"""
import gc
import logging
import os
import re
import subprocess
import sys

import pytest

from helpers import HAS_LIBSSH2_1_11, connect, logout, sshd_login
from ssh2cffi import exceptions

SECRET = "Zq7-s3cr3t-\u00e9-XYZZY-4242"
SECRET_BYTES = SECRET.encode()


def unusable_key_error(key=None):
    """What userauth_publickey_frommemory raises for key data it cannot use:
    ``key`` (a key of the sshd fixture) with a wrong passphrase, or (None) data
    that is no key.  libssh2 1.11 says LIBSSH2_ERROR_FILE for all of them;
    1.10 parses the data itself and fails differently by key format."""
    if HAS_LIBSSH2_1_11:
        return exceptions.FileError
    if key == "id_ed25519_pass":
        return exceptions.KeyfileAuthFailedError  # "Private key unpack failed"
    return exceptions.ProtocolError  # "Error parsing PEM"


def texts_of(exc, *objects):
    """Every text a program could show about ``exc`` and ``objects``."""
    found = [str(exc), repr(exc)] + [repr(arg) for arg in exc.args]
    found += [str(getattr(exc, name, "")) for name in ("errcode", "entry")]
    found += [repr(obj) for obj in objects]
    for obj in objects:
        last_error = getattr(obj, "last_error", None)
        if callable(last_error):
            try:
                found.append(repr(last_error()))
            except exceptions.SSH2Error as err:
                found.append(str(err))
    return found


def assert_secret_absent(texts, secret=SECRET):
    for text in texts:
        for needle in (secret, secret.encode().hex(), repr(secret.encode())[2:-1]):
            assert needle not in text, "secret leaked in %r" % text


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_wrong_password_is_not_in_errors_reprs_or_logs(sshd, logs):
    session, sock = connect(sshd)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            session.userauth_password(sshd_login(sshd), SECRET)
        assert_secret_absent(texts_of(info.value, session))
        assert_secret_absent([record.getMessage() for record in logs.records])
    finally:
        sock.close()


def test_keyboard_interactive_answer_is_not_in_errors(asyncssh_server):
    session, sock = connect(asyncssh_server)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            session.userauth_keyboardinteractive("kbd", SECRET)
        assert_secret_absent(texts_of(info.value, session))
    finally:
        sock.close()


def test_wrong_passphrase_from_file_is_not_in_errors(sshd, logs):
    session, sock = connect(sshd)
    try:
        with pytest.raises(exceptions.FileError) as info:  # the key cannot be decrypted
            session.userauth_publickey_fromfile(sshd_login(sshd),
                                                sshd.key_paths["id_ed25519_pass"],
                                                passphrase=SECRET)
        assert_secret_absent(texts_of(info.value, session))
        assert_secret_absent([record.getMessage() for record in logs.records])
    finally:
        sock.close()


def key_material(path):
    """The base64 body lines of a private key file (the secret part)."""
    with open(path) as fobj:
        return [line.strip() for line in fobj
                if line.strip() and not line.startswith("-----")]


@pytest.mark.parametrize("key", ["id_ed25519_pass", "id_rsa_pass"])
def test_wrong_passphrase_from_memory_leaks_neither_passphrase_nor_key(sshd, key):
    with open(sshd.key_paths[key], "rb") as fobj:
        data = fobj.read()
    session, sock = connect(sshd)
    try:
        with pytest.raises(unusable_key_error(key)) as info:
            session.userauth_publickey_frommemory(sshd_login(sshd), data, passphrase=SECRET)
        assert type(info.value) is unusable_key_error(key)
        texts = texts_of(info.value, session)
        assert_secret_absent(texts)
        for line in key_material(sshd.key_paths[key]):
            for text in texts:
                assert line[:24] not in text
    finally:
        sock.close()


def test_unusable_key_material_is_not_echoed_in_errors(sshd):
    # a "key" that is the secret itself, and a real key cut short
    with open(sshd.key_paths["id_ecdsa"], "rb") as fobj:
        truncated = fobj.read()[:300]
    session, sock = connect(sshd)
    try:
        for data in (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + SECRET_BYTES + b"\n",
                     truncated):
            with pytest.raises(unusable_key_error()) as info:
                session.userauth_publickey_frommemory(sshd_login(sshd), data)
            assert type(info.value) is unusable_key_error()
            texts = texts_of(info.value, session)
            assert_secret_absent(texts)
            # a stretch of the key's body: long enough not to turn up by chance (the
            # secret "key" leaves only "4242" here, which an object's address in a
            # repr() can contain; the secret itself is checked just above)
            body = re.sub(rb"-----[^-]*-----|\s", b"", data)[20:60].decode(errors="replace")
            if len(body) >= 16:
                assert all(body not in text for text in texts)
    finally:
        sock.close()


def holders_of(obj):
    """The ssh2cffi objects (and containers inside them) referring to ``obj``."""
    found = []
    for referrer in gc.get_referrers(obj):
        module = getattr(type(referrer), "__module__", "") or ""
        if module.startswith("ssh2cffi"):
            found.append(referrer)
        elif isinstance(referrer, (dict, list, tuple)):
            for outer in gc.get_referrers(referrer):
                if (getattr(type(outer), "__module__", "") or "").startswith("ssh2cffi"):
                    found.append(outer)
    return found


@pytest.mark.parametrize("outcome", ["accepted", "refused"])
def test_frommemory_keeps_no_copy_of_the_key(sshd, outcome):
    """After userauth_publickey_frommemory returns (or raises), no ssh2cffi
    object refers to the key bytes, and (CPython) their reference count is
    back where it was."""
    with open(sshd.key_paths["id_ed25519"], "rb") as fobj:
        key = fobj.read()
    key = bytes(bytearray(key))  # our own object, referenced only here
    session, sock = connect(sshd)
    try:
        gc.collect()
        refcount = sys.getrefcount(key) if hasattr(sys, "getrefcount") else None
        user = sshd_login(sshd) if outcome == "accepted" else "nobody-%d" % os.getpid()
        try:
            session.userauth_publickey_frommemory(user, key)
        except exceptions.AuthenticationError as exc:  # the account does not exist
            assert outcome == "refused"
            exc.__traceback__ = None  # the caller's frames, not ours, would hold it
            del exc
        else:
            assert outcome == "accepted" and session.userauth_authenticated()
        gc.collect()
        assert holders_of(key) == []
        if refcount is not None and sys.implementation.name == "cpython":
            assert sys.getrefcount(key) == refcount
        for name in ("_callbacks", "_rec", "_sock", "_kbd_callback_ref"):
            value = getattr(session, name, None)
            assert value is not key
    finally:
        if outcome == "accepted":
            logout(session, sock)
        else:
            sock.close()


# -- the first documented example verifies the host key ------------------------------------

def first_example(path):
    """The first ``::`` code block of a reStructuredText file, dedented."""
    with open(path) as fobj:
        text = fobj.read()
    block = text.split("::\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def run_first_example(sshd, tmp_path, known_hosts_lines):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text("".join(known_hosts_lines))
    code = first_example(os.path.join(DOCS, "quickstart.rst"))
    assert "checkp(" in code and "known_hosts" in code  # the check is in the example
    code = (code.replace('"server.example", 22', '"%s", %d' % (sshd.host, sshd.port))
                .replace('"me"', repr(sshd_login(sshd)))
                .replace('"/home/me/.ssh/id_ed25519"', repr(sshd.key_paths["id_ed25519"]))
                .replace('"uname -a"', '"echo example ran"'))
    env = dict(os.environ, HOME=str(home))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def host_lines(sshd, name=None):
    """known_hosts lines for the fixture's host keys (under another ``name``, if given)."""
    name = name or "[%s]:%d" % (sshd.host, sshd.port)
    lines = []
    for pub in sshd.host_key_pub.values():
        with open(pub) as fobj:
            kind, blob = fobj.read().split()[:2]
        lines.append("%s %s %s\n" % (name, kind, blob))
    return lines


def test_quickstart_example_connects_to_a_known_host(sshd, tmp_path):
    result = run_first_example(sshd, tmp_path, host_lines(sshd))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "example ran" in result.stdout


def test_quickstart_example_refuses_a_host_with_another_key(sshd, tmp_path):
    # the known key of every type is someone else's (the user keys stand in)
    lines = []
    for name in ("id_ed25519", "id_ecdsa", "id_rsa"):
        with open(sshd.key_paths[name] + ".pub") as fobj:
            kind, blob = fobj.read().split()[:2]
        lines.append("[%s]:%d %s %s\n" % (sshd.host, sshd.port, kind, blob))
    result = run_first_example(sshd, tmp_path, lines)
    assert result.returncode != 0
    assert "KnownHostCheckMisMatchError" in result.stderr
    assert "example ran" not in result.stdout


def test_quickstart_example_refuses_an_unknown_host(sshd, tmp_path):
    result = run_first_example(sshd, tmp_path, host_lines(sshd, "otherhost"))
    assert result.returncode != 0
    assert "KnownHostCheckNotFoundError" in result.stderr


