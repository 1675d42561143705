"""Host-based authentication end to end, against a second OpenSSH sshd.

sshd accepts a host-based login when the client host's key is in the user's
~/.ssh/known_hosts and the (client host, client user) pair is in the user's
~/.shosts.  libssh2 signs with the host key file itself, so no ssh-keysign
is involved.  The login user is the local account ``ssh2cffi`` that
scripts/setup.sh creates for the password tests; the two files are put in
its home for the test module and the previous state is restored after.
"""
import os
import pwd
import shutil
import subprocess

import pytest

from helpers import connect, run_command
from servers import PASSWORD_USER, OpenSSHServer
from ssh2cffi import error_codes, exceptions

CLIENT_HOST = "client.ssh2cffi.test"


class HostbasedSSHServer(OpenSSHServer):
    """The sshd fixture's configuration plus host-based authentication."""

    def _write_config(self):
        super()._write_config()
        with open(self.config_path, "a") as cfg:
            cfg.write("HostbasedAuthentication yes\n"
                      # trust the host name the client sends (no reverse DNS)
                      "HostbasedUsesNameFromPacketOnly yes\n"
                      "IgnoreRhosts no\n"
                      "IgnoreUserKnownHosts no\n"
                      # libssh2 signs host-based requests with plain ssh-rsa (SHA-1)
                      "HostbasedAcceptedAlgorithms +ssh-rsa\n")


def _save(path):
    return open(path, "rb").read() if os.path.exists(path) else None


def _restore(path, content):
    if content is None:
        if os.path.exists(path):
            os.remove(path)
    else:
        with open(path, "wb") as fobj:
            fobj.write(content)


@pytest.fixture(scope="module")
def hostbased(tmp_path_factory):
    """(server, user, {key type: client host private key path})."""
    try:
        home = pwd.getpwnam(PASSWORD_USER).pw_dir
    except KeyError:
        pytest.skip("local user %s missing (scripts/setup.sh creates it)" % PASSWORD_USER)
    directory = tmp_path_factory.mktemp("hostbased")
    keys = {}
    for kind, args in (("ecdsa", ["-t", "ecdsa", "-b", "256"]), ("rsa", ["-t", "rsa", "-m", "PEM"]),
                       ("ed25519", ["-t", "ed25519"])):
        keys[kind] = str(directory / ("client_host_" + kind))
        subprocess.run(["ssh-keygen", "-q"] + args + ["-N", "", "-f", keys[kind]],
                       check=True, stdin=subprocess.DEVNULL)
    ssh_dir = os.path.join(home, ".ssh")
    shosts, known_hosts = os.path.join(home, ".shosts"), os.path.join(ssh_dir, "known_hosts")
    had_ssh_dir = os.path.isdir(ssh_dir)
    saved = {shosts: _save(shosts), known_hosts: _save(known_hosts)}
    os.makedirs(ssh_dir, exist_ok=True)
    with open(shosts, "w") as fobj:
        fobj.write("%s %s\n" % (CLIENT_HOST, PASSWORD_USER))
    with open(known_hosts, "w") as fobj:
        for path in keys.values():
            key_type, blob = open(path + ".pub").read().split()[:2]
            fobj.write("%s %s %s\n" % (CLIENT_HOST, key_type, blob))
    server = HostbasedSSHServer()
    try:
        server.start()
        yield server, PASSWORD_USER, keys
    finally:
        server.stop()
        for path, content in saved.items():
            _restore(path, content)
        if not had_ssh_dir and not os.listdir(ssh_dir):
            shutil.rmtree(ssh_dir)


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_hostbased_login(hostbased, kind):
    server, user, keys = hostbased
    session, sock = connect(server)
    assert "hostbased" in session.userauth_list(user)
    assert session.userauth_hostbased_fromfile(user, keys[kind], CLIENT_HOST,
                                               publickey=keys[kind] + ".pub") == 0
    assert session.userauth_authenticated()
    assert run_command(session, "id -un")[0] == user.encode() + b"\n"
    session.disconnect()
    sock.close()


def test_hostbased_login_without_a_public_key_file(hostbased):
    server, user, keys = hostbased
    session, sock = connect(server)
    assert session.userauth_hostbased_fromfile(user, keys["ecdsa"], CLIENT_HOST) == 0
    assert session.userauth_authenticated()
    session.disconnect()
    sock.close()


def test_hostbased_refused_for_an_unknown_host(hostbased):
    server, user, keys = hostbased
    session, sock = connect(server)
    with pytest.raises(exceptions.AuthenticationError) as info:  # ssh2-python's base class
        session.userauth_hostbased_fromfile(user, keys["ecdsa"], "stranger.test",
                                            publickey=keys["ecdsa"] + ".pub")
    assert "public key" in str(info.value) and info.value.errcode in (-18, -19)
    assert not session.userauth_authenticated()
    session.disconnect()
    sock.close()


def test_hostbased_with_an_ed25519_host_key_is_refused_by_libssh2(hostbased):
    # libssh2's ed25519 signer takes a single buffer; host-based auth signs
    # three, so libssh2 gives up (-1, LIBSSH2_ERROR_SOCKET_NONE, which maps to
    # SSH2Error itself) before asking the server.
    server, user, keys = hostbased
    session, sock = connect(server)
    with pytest.raises(exceptions.SSH2Error) as info:
        session.userauth_hostbased_fromfile(user, keys["ed25519"], CLIENT_HOST,
                                            publickey=keys["ed25519"] + ".pub")
    assert type(info.value) is exceptions.SSH2Error
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_SOCKET_NONE
    assert not session.userauth_authenticated()
    session.disconnect()
    sock.close()
