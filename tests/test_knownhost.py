"""KnownHost and KnownHostEntry with real OpenSSH known_hosts files.

The files come from ``ssh-keyscan`` against the sshd fixture (a non-default
port, so hosts read ``[127.0.0.1]:PORT``), plain and hashed with
``ssh-keygen -H``; files we write are checked with ``ssh-keygen -F``.
"""
import base64
import gc
import pathlib
import shutil
import subprocess
import weakref

import pytest

from helpers import connect
from ssh2cffi import exceptions
from ssh2cffi import knownhost as knownhost_module
from ssh2cffi.knownhost import (LIBSSH2_KNOWNHOST_KEY_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ED25519,
                                LIBSSH2_KNOWNHOST_KEY_MASK, LIBSSH2_KNOWNHOST_KEY_SHIFT,
                                LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEYENC_BASE64,
                                LIBSSH2_KNOWNHOST_KEYENC_RAW, LIBSSH2_KNOWNHOST_TYPE_MASK,
                                LIBSSH2_KNOWNHOST_TYPE_PLAIN, LIBSSH2_KNOWNHOST_TYPE_SHA1,
                                KnownHost, KnownHostEntry)
from ssh2cffi.session import (LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_HOSTKEY_TYPE_ED25519,
                              LIBSSH2_HOSTKEY_TYPE_RSA, Session)

# Session.hostkey() type -> known-host key type, and the sshd fixture's user key
# of the same type (a well-formed key that is *not* the host's).
KEY_TYPES = {LIBSSH2_HOSTKEY_TYPE_ECDSA_256: (LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "id_ecdsa"),
             LIBSSH2_HOSTKEY_TYPE_ED25519: (LIBSSH2_KNOWNHOST_KEY_ED25519, "id_ed25519"),
             LIBSSH2_HOSTKEY_TYPE_RSA: (LIBSSH2_KNOWNHOST_KEY_SSHRSA, "id_rsa")}
PLAIN_RAW = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW
# The key used by ssh2-python's own test-suite: base64 text given as a raw key.
SSH2_PYTHON_KEY = (b"AAAAB3NzaC1yc2EAAAABIwAAAQEAxacIa5+3xbfETKwLFTMg1KBOQi4XR/Kz2rRqLRhy"
                   b"BNg1Dok56qA2d5l3O/uTOthWy4K8qfpVIzL8/pxdehc4gtC2gbpiBTJn4ofyS2PmXFV2f"
                   b"Ceshk5x554l2AgIObz1G1SEAw3x09xd/+2dfQgv7NJ7PPzDHkD+ifS9sncFo6AWTmS6/7"
                   b"gX9QGrh1y3AGziMnMGWkD+sF7u/Mgr9g7794wBzGryzLLpSmbVKdQ4yM4TLodUeAL2aY"
                   b"UiiO8qLK+AIox/nWSd4uixsYuhdyqCdxEQPPkHIieLUsTiMcMQDiAZEkUvyU0lv37bzq"
                   b"sM4yhqnTxpKJD9xD7XkMKENZ6d7Q==")


@pytest.fixture(scope="module")
def known_hosts(sshd, tmp_path_factory):
    """(plain file, hashed file, the scanned lines) for the sshd fixture's host keys."""
    directory = tmp_path_factory.mktemp("known_hosts")
    scan = subprocess.run(["ssh-keyscan", "-p", str(sshd.port), sshd.host],
                          capture_output=True, check=True, timeout=60)
    lines = [line for line in scan.stdout.splitlines(keepends=True)
             if line.strip() and not line.startswith(b"#")]
    assert len(lines) == 3, scan  # ed25519, ecdsa and rsa host keys
    plain = directory / "known_hosts"
    plain.write_bytes(b"".join(lines))
    hashed = directory / "known_hosts_hashed"
    shutil.copy(plain, hashed)
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(hashed)], check=True,
                   capture_output=True)
    assert all(line.startswith(b"|1|") for line in hashed.read_bytes().splitlines())
    return plain, hashed, lines


@pytest.fixture
def server_key(sshd):
    """(session, sock, host key blob, known-host typemask for it) of a fresh connection."""
    session, sock = connect(sshd)
    key, key_type = session.hostkey()
    yield session, sock, key, PLAIN_RAW | KEY_TYPES[key_type][0]
    session.disconnect()
    sock.close()


def host_of(sshd):
    return "[%s]:%d" % (sshd.host, sshd.port)


def other_key(sshd, typemask):
    """A well-formed key of the same type as the host key, that is not the host key."""
    name = next(user_key for known_type, user_key in KEY_TYPES.values()
                if known_type == typemask & LIBSSH2_KNOWNHOST_KEY_MASK)
    with open(sshd.key_paths[name] + ".pub") as pub:
        return base64.b64decode(pub.read().split()[1])


def ssh_keygen_finds(path, host):
    """OpenSSH's own lookup of ``host`` in the known_hosts file ``path``."""
    found = subprocess.run(["ssh-keygen", "-F", host, "-f", str(path)], capture_output=True)
    return found.returncode == 0 and b"found: line" in found.stdout


# -- constants and construction ----------------------------------------------------------
def test_constants_have_libssh2_values():
    assert LIBSSH2_KNOWNHOST_TYPE_MASK == 0xFFFF
    assert (LIBSSH2_KNOWNHOST_TYPE_PLAIN, LIBSSH2_KNOWNHOST_TYPE_SHA1) == (1, 2)
    assert LIBSSH2_KNOWNHOST_KEYENC_RAW == 1 << 16 and LIBSSH2_KNOWNHOST_KEYENC_BASE64 == 2 << 16
    assert LIBSSH2_KNOWNHOST_KEY_SHIFT == 18
    assert LIBSSH2_KNOWNHOST_KEY_ED25519 == 7 << LIBSSH2_KNOWNHOST_KEY_SHIFT
    names = [name for name in dir(knownhost_module) if name.startswith("LIBSSH2_KNOWNHOST_")]
    assert len(names) == 17


def test_knownhost_init_needs_no_connection():
    session = Session()
    kh = session.knownhost_init()
    assert isinstance(kh, KnownHost) and kh.get() == []
    assert KnownHost(session).get() == []  # built directly: a real, empty collection
    with pytest.raises(TypeError, match="Session"):
        KnownHost("session")


def test_entry_built_directly_is_all_none():
    entry = KnownHostEntry()
    assert (entry.name, entry.key, entry.magic, entry.typemask) == (None, None, None, None)
    assert repr(entry) == str(entry) == "Known host entry for host: None"
    with pytest.raises(exceptions.KnownHostDeleteError, match="built directly"):
        Session().knownhost_init().delete(entry)


# -- reading OpenSSH files ------------------------------------------------------------------
def test_readfile_of_ssh_keyscan_output(sshd, known_hosts):
    plain, _hashed, lines = known_hosts
    kh = Session().knownhost_init()
    assert kh.readfile(str(plain)) == 3
    entries = kh.get()
    assert len(entries) == 3
    for entry, line in zip(entries, lines):
        host, _key_type, key_text = line.split()
        assert entry.name == host == host_of(sshd).encode()
        assert base64.b64encode(entry.key) == key_text
        assert entry.typemask & LIBSSH2_KNOWNHOST_TYPE_MASK == LIBSSH2_KNOWNHOST_TYPE_PLAIN
        assert entry.typemask & LIBSSH2_KNOWNHOST_KEYENC_BASE64
        assert isinstance(entry.magic, int)
        assert repr(entry) == "Known host entry for host: %r" % (host,)
    types = {entry.typemask & LIBSSH2_KNOWNHOST_KEY_MASK for entry in entries}
    assert types == {LIBSSH2_KNOWNHOST_KEY_ED25519, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
                     LIBSSH2_KNOWNHOST_KEY_SSHRSA}


def test_readfile_accepts_str_bytes_and_pathlike(known_hosts):
    plain = known_hosts[0]
    for name in (str(plain), str(plain).encode(), pathlib.Path(plain)):
        assert Session().knownhost_init().readfile(name) == 3


def test_checkp_matches_the_servers_real_host_key(sshd, known_hosts, server_key):
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    kh.readfile(str(known_hosts[0]))
    entry = kh.checkp(sshd.host, sshd.port, key, typemask)
    assert isinstance(entry, KnownHostEntry)
    assert entry.key == key and entry.name == host_of(sshd).encode()
    # Key type 0 matches whatever the entry's type.
    assert kh.checkp(sshd.host, sshd.port, key, PLAIN_RAW).key == key
    # The same key given as base64 text.
    assert kh.checkp(sshd.host, sshd.port, base64.b64encode(key),
                     typemask ^ LIBSSH2_KNOWNHOST_KEYENC_RAW
                     | LIBSSH2_KNOWNHOST_KEYENC_BASE64).key == key


def test_checkp_against_hashed_hosts(sshd, known_hosts, server_key):
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    assert kh.readfile(known_hosts[1]) == 3
    entries = kh.get()
    assert all(entry.name is None for entry in entries)  # the name is only a hash
    assert all(entry.typemask & LIBSSH2_KNOWNHOST_TYPE_MASK == LIBSSH2_KNOWNHOST_TYPE_SHA1
               for entry in entries)
    assert kh.checkp(sshd.host, sshd.port, key, typemask).key == key
    with pytest.raises(exceptions.KnownHostCheckNotFoundError):
        kh.checkp("127.0.0.2", sshd.port, key, typemask)


def test_checkp_mismatch(sshd, server_key):
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    impostor = other_key(sshd, typemask)
    kh.addc(host_of(sshd), impostor, typemask)
    with pytest.raises(exceptions.KnownHostCheckMisMatchError) as info:
        kh.checkp(sshd.host, sshd.port, key, typemask)
    message = str(info.value)
    assert sshd.host in message and str(sshd.port) in message and "does not match" in message
    assert info.value.entry.key == impostor  # the known entry the server's key contradicts
    assert isinstance(info.value, exceptions.KnownHostCheckError)


def test_checking_a_hashed_name_is_a_mismatch_without_entry(known_hosts, server_key):
    # libssh2 cannot look a host up by its hash and answers "mismatch".
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    kh.readfile(known_hosts[1])
    hashed_typemask = typemask ^ LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_TYPE_SHA1
    with pytest.raises(exceptions.KnownHostCheckMisMatchError) as info:
        kh.check(base64.b64encode(b"h" * 20), key, hashed_typemask)
    assert info.value.entry is None


def test_checkp_not_found(sshd, known_hosts, server_key):
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    with pytest.raises(exceptions.KnownHostCheckNotFoundError, match="not found"):
        kh.checkp(sshd.host, sshd.port, key, typemask)  # empty collection
    kh.readfile(known_hosts[0])
    with pytest.raises(exceptions.KnownHostCheckNotFoundError) as info:
        kh.checkp(sshd.host, sshd.port + 1, key, typemask)  # known on another port only
    assert "%s port %d" % (sshd.host, sshd.port + 1) in str(info.value)


def test_port_22_style_lines_match_any_port_after_the_bracketed_form(sshd, server_key):
    # libssh2 looks up "[host]:port" first, then the bare host.
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    kh.addc(sshd.host, key, typemask)
    assert kh.checkp(sshd.host, sshd.port, key, typemask).name == sshd.host.encode()
    # check() takes the host exactly as written.
    assert kh.check(sshd.host, key, typemask).key == key
    with pytest.raises(exceptions.KnownHostCheckNotFoundError):
        kh.check(host_of(sshd), key, typemask)


def test_check_failure_raises_with_libssh2_message(server_key):
    _session, _sock, key, typemask = server_key
    kh = Session().knownhost_init()
    with pytest.raises(exceptions.KnownHostCheckFailure, match="too small"):
        kh.checkp("h" * 300, 2222, key, typemask)  # "[host]:port" does not fit libssh2's buffer


# -- writing ---------------------------------------------------------------------------------
def test_writefile_round_trip_is_readable_by_openssh(sshd, known_hosts, tmp_path):
    plain, _hashed, lines = known_hosts
    kh = Session().knownhost_init()
    kh.readfile(plain)
    written = tmp_path / "written"
    assert kh.writefile(written) is None
    assert sorted(written.read_bytes().splitlines(keepends=True)) == sorted(lines)
    assert ssh_keygen_finds(written, host_of(sshd))
    again = Session().knownhost_init()
    assert again.readfile(written) == 3


def test_writefile_of_hashed_entries_is_readable_by_openssh(sshd, known_hosts, tmp_path):
    kh = Session().knownhost_init()
    kh.readfile(known_hosts[1])
    written = tmp_path / "written_hashed"
    kh.writefile(str(written))
    assert written.read_bytes() == known_hosts[1].read_bytes()
    assert ssh_keygen_finds(written, host_of(sshd))


def test_writeline_gives_the_files_lines_and_grows_its_buffer(known_hosts):
    plain, _hashed, lines = known_hosts
    kh = Session().knownhost_init()
    kh.readfile(plain)
    for entry, line in zip(kh.get(), lines):
        assert kh.writeline(entry) == line
        assert kh.writeline(entry, buf_len=8) == line  # retried with the size libssh2 needs


def test_readline_writeline_like_ssh2_python():
    line = b"10.0.0.1 ssh-rsa " + SSH2_PYTHON_KEY
    kh = Session().knownhost_init()
    assert kh.readline(line) is None
    entry = kh.get()[0]
    assert base64.b64encode(entry.key) == SSH2_PYTHON_KEY
    assert kh.writeline(entry).strip() == line
    kh.readline("10.0.0.2 ssh-rsa %s\n" % SSH2_PYTHON_KEY.decode())  # str, with a newline
    assert [e.name for e in kh.get()] == [b"10.0.0.1", b"10.0.0.2"]


# -- adding, getting, deleting -------------------------------------------------------------
def test_addc_get_delete_like_ssh2_python():
    kh = Session().knownhost_init()
    typemask = PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA
    entry = kh.addc(b"127.0.0.1", SSH2_PYTHON_KEY, typemask)
    assert entry.name == b"127.0.0.1"
    assert entry.key == SSH2_PYTHON_KEY  # raw key in, the same bytes out
    assert entry.typemask == typemask
    keys = kh.get()
    assert len(keys) == 1 and keys[0].key == SSH2_PYTHON_KEY
    kh.delete(keys[0])
    assert kh.get() == []
    with pytest.raises(exceptions.KnownHostDeleteError, match="already deleted"):
        kh.delete(keys[0])
    # Every object for the deleted entry raises instead of reading freed memory.
    for dead in (entry, keys[0]):
        with pytest.raises(exceptions.KnownHostError, match="deleted"):
            dead.name
        with pytest.raises(exceptions.KnownHostError, match="deleted"):
            dead.key
        with pytest.raises(exceptions.KnownHostWriteLineError, match="deleted"):
            kh.writeline(dead)
    assert kh.addc(b"127.0.0.1", SSH2_PYTHON_KEY, typemask, comment=b"a comment") is not None


def test_new_entries_at_a_deleted_entrys_address_are_not_confused():
    kh = Session().knownhost_init()
    typemask = PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA
    for index in range(50):
        old = kh.addc("host%d" % index, SSH2_PYTHON_KEY, typemask)
        kh.delete(old)
        new = kh.addc("new%d" % index, SSH2_PYTHON_KEY, typemask)  # often the same malloc
        with pytest.raises(exceptions.KnownHostError):
            old.name
        assert new.name == b"new%d" % index
        kh.delete(new)


def test_addc_with_comment_salt_and_str_arguments(sshd):
    kh = Session().knownhost_init()
    typemask = PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_ED25519
    key = other_key(sshd, typemask)
    entry = kh.addc("example.org", key, typemask, comment="the comment")
    assert kh.writeline(entry) == (b"example.org ssh-ed25519 %s the comment\n"
                                   % base64.b64encode(key))
    # A hashed host: base64 SHA1-HMAC of the name, with its base64 salt.
    salt = base64.b64encode(b"s" * 20)
    hashed = base64.b64encode(b"h" * 20)
    entry = kh.addc(hashed, key, LIBSSH2_KNOWNHOST_TYPE_SHA1 | LIBSSH2_KNOWNHOST_KEYENC_RAW
                    | LIBSSH2_KNOWNHOST_KEY_ED25519, salt=salt)
    assert entry.name is None
    assert kh.writeline(entry).startswith(b"|1|%s|%s ssh-ed25519 " % (salt, hashed))


def test_add_works_although_ssh2_python_raises_not_implemented():
    kh = Session().knownhost_init()
    entry = kh.add(b"10.1.1.1", None, SSH2_PYTHON_KEY, PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA)
    assert entry.name == b"10.1.1.1" and kh.get()[0].key == SSH2_PYTHON_KEY


def test_get_after_prev():
    kh = Session().knownhost_init()
    typemask = PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA
    entries = [kh.addc("h%d" % index, SSH2_PYTHON_KEY, typemask) for index in range(4)]
    assert [e.name for e in kh.get(entries[1])] == [b"h2", b"h3"]
    assert kh.get(entries[3]) == []


def test_entries_of_another_collection_are_refused():
    typemask = PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA
    first, second = Session().knownhost_init(), Session().knownhost_init()
    entry = first.addc("h", SSH2_PYTHON_KEY, typemask)
    with pytest.raises(exceptions.KnownHostDeleteError, match="another"):
        second.delete(entry)
    with pytest.raises(TypeError, match="KnownHostEntry"):
        second.delete("h")
    assert first.get()[0].name == b"h"


# -- errors ------------------------------------------------------------------------------------
def test_errors_raise_ssh2_python_classes_with_libssh2_messages(tmp_path):
    kh = Session().knownhost_init()
    missing = tmp_path / "missing"
    with pytest.raises(exceptions.KnownHostReadFileError) as info:
        kh.readfile(missing)
    assert str(missing) in str(info.value) and "LIBSSH2_ERROR_FILE" in str(info.value)
    assert info.value.errcode == -16
    with pytest.raises(exceptions.KnownHostReadLineError, match="Failed to parse") as info:
        kh.readline(b"just-a-host-name")
    assert "just-a-host-name" in str(info.value) and info.value.errcode < 0
    with pytest.raises(exceptions.KnownHostAddError, match="No key type set"):
        kh.addc(b"h", SSH2_PYTHON_KEY, PLAIN_RAW)
    kh.addc(b"h", SSH2_PYTHON_KEY, PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA)
    with pytest.raises(exceptions.KnownHostWriteFileError, match="no-such-dir"):
        kh.writefile(tmp_path / "no-such-dir" / "file")
    with pytest.raises(exceptions.KnownHostWriteLineError, match="Unsupported"):
        kh.writeline(kh.get()[0], f_type=9)
    with pytest.raises(TypeError, match="host"):
        kh.addc(1, SSH2_PYTHON_KEY, PLAIN_RAW)
    with pytest.raises(ValueError, match="NUL"):
        kh.checkp("a\0b", 22, SSH2_PYTHON_KEY, PLAIN_RAW)


# -- lifetimes ---------------------------------------------------------------------------------
def test_entry_keeps_its_knownhost_alive():
    kh = Session().knownhost_init()
    entry = kh.addc("h", SSH2_PYTHON_KEY, PLAIN_RAW | LIBSSH2_KNOWNHOST_KEY_SSHRSA)
    watch = weakref.ref(kh)
    del kh
    gc.collect()
    assert watch() is not None and entry.name == b"h"
    del entry
    gc.collect()
    assert watch() is None


def test_knownhost_keeps_working_after_its_session_is_disconnected(sshd, known_hosts,
                                                                   tmp_path):
    # A known-hosts collection does no network I/O: checking a key, then
    # disconnecting, then saving the file is a normal sequence.
    session, sock = connect(sshd)
    key, key_type = session.hostkey()
    kh = session.knownhost_init()
    kh.readfile(known_hosts[0])
    session.disconnect()
    sock.close()
    del session
    gc.collect()
    assert kh.checkp(sshd.host, sshd.port, key, PLAIN_RAW | KEY_TYPES[key_type][0]).key == key
    kh.writefile(tmp_path / "saved")
    assert (tmp_path / "saved").read_bytes().count(b"\n") == 3
