"""OpenSSH user certificates end to end, against a second OpenSSH sshd.

The server trusts a user CA (``TrustedUserCAKeys``) and its
AuthorizedKeysFile is empty, so a key logs in only with a certificate the CA
signed for the login user (helpers.sshd_login()).  The client hands the
certificate over as the public key: ``userauth_publickey_fromfile(user, key,
publickey=key + "-cert.pub")``, or the file's contents as
``publickeyfiledata`` of userauth_publickey_frommemory().

What libssh2 does with them, against OpenSSH 9.2's default
PubkeyAcceptedAlgorithms:

- 1.11: ed25519, ECDSA and RSA certificates log in.  An RSA certificate is
  signed with rsa-sha2-512 (rsa-sha2-256 when LIBSSH2_METHOD_SIGN_ALGO
  prefers it), never with SHA-1, and libssh2 does not fall back to another
  algorithm when the server refuses the one it picked.
- 1.10: only ECDSA certificates log in.  It has no signer for ed25519 or RSA
  certificates: the server accepts the certificate, then signing fails
  (PublickeyUnverifiedError).  An RSA certificate is not even accepted by
  default: 1.10 offers it as ssh-rsa-cert-v01@openssh.com (SHA-1), which
  OpenSSH >= 8.8 refuses (AuthenticationError).
- Everywhere: an expired certificate, or one for another principal, is
  refused by the server (AuthenticationError itself), and the session can go
  on to try another key.

Besides 127.0.0.1 the server listens on two addresses whose Match blocks
accept a single RSA certificate algorithm, so whether libssh2 logs in there
tells which algorithm it signed with.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from typing import Dict, Optional, Tuple

import pytest

from helpers import (HAS_LIBSSH2_1_11, TIMEOUT_MS, logout, needs_libssh2_1_11, run_command,
                     sshd_login)
from servers import SSH_KEYGEN, OpenSSHServer
from ssh2cffi import exceptions
from ssh2cffi.error_codes import (LIBSSH2_ERROR_AUTHENTICATION_FAILED,
                                  LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
from ssh2cffi.session import LIBSSH2_METHOD_SIGN_ALGO, Session

#: The user key (an OpenSSHServer.USER_KEY_TYPES name) certified, per kind.
KEYS = {"ed25519": "id_ed25519", "ecdsa": "id_ecdsa", "rsa": "id_rsa"}
#: The CA's key, made with the user keys.
CA = "user_ca"
#: The certificates made for each key: label -> (principal, or None for the
#: login user; extra ssh-keygen arguments).
CERTIFICATES = {
    "valid": (None, []),
    "expired": (None, ["-V", "20200101:20200102"]),
    "other_principal": ("someoneelse", []),
}
#: Listeners whose Match block accepts one RSA certificate algorithm only.
SHA1_ONLY = "127.0.0.2"
SHA256_ONLY = "127.0.0.3"
#: How a test hands the key and certificate to libssh2.
HOW = ("fromfile", "frommemory")


class CertificateSSHServer(OpenSSHServer):
    """The sshd fixture's configuration, trusting a user CA and no authorized key.

    :attr:`login` is the account to log in as.  ``certs[kind, label]`` is the
    path of a certificate (labels: CERTIFICATES) for the private key
    ``key_paths[KEYS[kind]]``; the "valid" one has the name ssh-keygen gives
    it, the key's path + ``"-cert.pub"``.
    """

    # only the keys certified here, and the CA's: made in parallel by _keygen()
    USER_KEY_TYPES = tuple(entry for entry in OpenSSHServer.USER_KEY_TYPES
                           if entry[0] in KEYS.values()) + ((CA, ["-t", "ed25519"], False),)

    def __init__(self) -> None:
        super().__init__(extra_addresses=(SHA1_ONLY, SHA256_ONLY))
        self.login = sshd_login(self)
        self.certs: Dict[Tuple[str, str], str] = {}

    @staticmethod
    def cert_id(kind: str, label: str) -> str:
        """The identity (-I) of a certificate, which sshd logs when it accepts it."""
        return "ssh2cffi-test-%s-%s" % (kind, label)

    def _keygen(self) -> None:
        super()._keygen()
        # only a certificate may log in: no authorized key at all
        open(self.authorized_keys_path, "w").close()
        procs = []
        for kind, name in KEYS.items():
            key = self.key_paths[name]
            for label, (principal, extra) in CERTIFICATES.items():
                # ssh-keygen -s writes <public key file>-cert.pub, so every
                # other certificate of the key signs a copy of the public key
                public = key + ".pub" if label == "valid" else "%s-%s.pub" % (key, label)
                if label != "valid":
                    shutil.copyfile(key + ".pub", public)
                self.certs[kind, label] = public[:-len(".pub")] + "-cert.pub"
                cmd = [SSH_KEYGEN, "-q", "-s", self.key_paths[CA], "-I", self.cert_id(kind, label),
                       "-n", principal or self.login] + extra + [public]
                procs.append((cmd, subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                                    stdout=subprocess.PIPE,
                                                    stderr=subprocess.STDOUT)))
        for cmd, proc in procs:
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError("%s failed: %s" % (" ".join(cmd), out.decode(errors="replace")))

    def _write_config(self) -> None:
        super()._write_config()
        with open(self.config_path, "a") as cfg:
            cfg.write("TrustedUserCAKeys %s.pub\n" % self.key_paths[CA])
            cfg.write("Match LocalAddress %s\n"
                      "    PubkeyAcceptedAlgorithms ssh-rsa-cert-v01@openssh.com\n" % SHA1_ONLY)
            cfg.write("Match LocalAddress %s\n"
                      "    PubkeyAcceptedAlgorithms rsa-sha2-256-cert-v01@openssh.com\n"
                      % SHA256_ONLY)


@pytest.fixture(scope="module")
def cert_server():
    with CertificateSSHServer() as server:
        yield server


def handshake(server: CertificateSSHServer, address: Optional[str] = None,
              sign_algo: Optional[str] = None) -> Tuple[Session, socket.socket]:
    """A Session (with helpers.TIMEOUT_MS) after its handshake with ``server``
    at ``address`` (default: its host), preferring the signature algorithm
    ``sign_algo`` if given; returns (session, sock)."""
    sock = socket.create_connection((address or server.host, server.port))
    try:
        session = Session()
        session.set_timeout(TIMEOUT_MS)
        if sign_algo is not None:
            session.method_pref(LIBSSH2_METHOD_SIGN_ALGO, sign_algo)
        session.handshake(sock)
    except BaseException:
        sock.close()
        raise
    return session, sock


def authenticate(session: Session, how: str, user: str, key: str, cert: str) -> int:
    """Log ``user`` in with the private key file ``key`` and the certificate
    file ``cert``: by path (fromfile) or by contents (frommemory)."""
    if how == "fromfile":
        return session.userauth_publickey_fromfile(user, key, publickey=cert)
    with open(key, "rb") as fobj:
        private = fobj.read()
    with open(cert, "rb") as fobj:
        public = fobj.read()
    return session.userauth_publickey_frommemory(user, privatekeyfiledata=private,
                                                 publickeyfiledata=public)


def cert_login(server: CertificateSSHServer, session: Session, kind: str, label: str = "valid",
               how: str = "fromfile") -> int:
    """authenticate() as the login user with the certificate (kind, label)."""
    return authenticate(session, how, server.login, server.key_paths[KEYS[kind]],
                        server.certs[kind, label])


def assert_still_usable(server: CertificateSSHServer, session: Session) -> None:
    """After a refused attempt, the same session logs in with another key:
    the valid ECDSA certificate, which every libssh2 here can sign with."""
    assert not session.userauth_authenticated()
    assert cert_login(server, session, "ecdsa") == 0
    assert session.userauth_authenticated()


def log_since(server: CertificateSSHServer, offset: int) -> str:
    """The sshd log from byte ``offset`` on.

    The lines tests look for ("Accepted certificate ID ...", "Certificate
    invalid: ...") are written by sshd's privileged monitor while it checks
    the key, before it answers, so they are in the file by the time the
    client has the server's answer: no waiting.  (Lines of the unprivileged
    child, tagged "[preauth]", reach the file later, through the monitor.)
    """
    with open(server.log_path, "rb") as fobj:
        fobj.seek(offset)
        return fobj.read().decode("utf-8", "replace")


def accepted(server: CertificateSSHServer, kind: str) -> str:
    """What sshd logs when it accepts the valid certificate of ``kind``."""
    return 'Accepted certificate ID "%s"' % server.cert_id(kind, "valid")


# -- logging in ---------------------------------------------------------------------------

@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", [pytest.param("ed25519", marks=needs_libssh2_1_11), "ecdsa",
                                  pytest.param("rsa", marks=needs_libssh2_1_11)])
def test_certificate_login(cert_server, kind, how):
    offset = os.path.getsize(cert_server.log_path)
    session, sock = handshake(cert_server)
    try:
        assert cert_login(cert_server, session, kind, how=how) == 0
        assert session.userauth_authenticated()
        assert run_command(session, "id -un") == (cert_server.login.encode() + b"\n", b"", 0)
    finally:
        logout(session, sock)
    assert accepted(cert_server, kind) in log_since(cert_server, offset)


@pytest.mark.parametrize("kind", list(KEYS))
def test_the_key_without_its_certificate_is_refused(cert_server, kind):
    # The fixture's premise: no authorized key, so the key alone gets nowhere.
    session, sock = handshake(cert_server)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            session.userauth_publickey_fromfile(cert_server.login,
                                                cert_server.key_paths[KEYS[kind]])
        assert type(info.value) is exceptions.AuthenticationError
        assert_still_usable(cert_server, session)
    finally:
        logout(session, sock)


# -- certificates the server refuses ------------------------------------------------------

@pytest.mark.parametrize("label, reason", [
    ("expired", "Certificate invalid: expired"),
    ("other_principal", "Certificate invalid: name is not a listed principal"),
])
@pytest.mark.parametrize("kind", list(KEYS))
def test_refused_certificate(cert_server, kind, label, reason):
    offset = os.path.getsize(cert_server.log_path)
    session, sock = handshake(cert_server)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            cert_login(cert_server, session, kind, label)
        # the server said no (-18): AuthenticationError itself, not its
        # PublickeyUnverifiedError subclass (a signature that failed)
        assert type(info.value) is exceptions.AuthenticationError
        assert info.value.errcode == LIBSSH2_ERROR_AUTHENTICATION_FAILED
        assert "Username/PublicKey combination invalid" in str(info.value)
        if kind != "rsa" or HAS_LIBSSH2_1_11:
            # (libssh2 1.10 offers an RSA certificate with a SHA-1 algorithm,
            # refused before sshd looks at the certificate)
            assert reason in log_since(cert_server, offset)
        assert_still_usable(cert_server, session)
    finally:
        logout(session, sock)


# -- RSA: which signature algorithm -------------------------------------------------------

@needs_libssh2_1_11
def test_rsa_certificate_is_never_signed_with_sha1(cert_server):
    # test_certificate_login logs in at 127.0.0.1, whose accepted algorithms
    # lack ssh-rsa-cert-v01@openssh.com; a server that takes only that one
    # refuses libssh2 1.11, which does not fall back to SHA-1.
    session, sock = handshake(cert_server, SHA1_ONLY)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            cert_login(cert_server, session, "rsa")
        assert type(info.value) is exceptions.AuthenticationError
        assert not session.userauth_authenticated()
    finally:
        logout(session, sock)


@needs_libssh2_1_11
def test_rsa_certificate_is_signed_with_rsa_sha2_512_unless_sign_algo_says_otherwise(cert_server):
    # libssh2 picks rsa-sha2-512 (the server offers both SHA-2 algorithms in
    # server-sig-algs), so a server taking only rsa-sha2-256 refuses it...
    session, sock = handshake(cert_server, SHA256_ONLY)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            cert_login(cert_server, session, "rsa")
        assert type(info.value) is exceptions.AuthenticationError
        assert not session.userauth_authenticated()
    finally:
        logout(session, sock)
    # ...unless LIBSSH2_METHOD_SIGN_ALGO prefers rsa-sha2-256: the certificate
    # is then signed as rsa-sha2-256-cert-v01@openssh.com.
    session, sock = handshake(cert_server, SHA256_ONLY, sign_algo="rsa-sha2-256")
    try:
        assert cert_login(cert_server, session, "rsa") == 0
        assert run_command(session, "id -un")[0] == cert_server.login.encode() + b"\n"
    finally:
        logout(session, sock)


# -- libssh2 1.10 -------------------------------------------------------------------------

@pytest.mark.skipif(HAS_LIBSSH2_1_11, reason="libssh2 >= 1.11 logs in (test_certificate_login)")
@pytest.mark.parametrize("how", HOW)
def test_ed25519_certificate_cannot_be_signed_by_libssh2_1_10(cert_server, how):
    # sshd accepts the certificate when libssh2 asks (unsigned), but libssh2
    # 1.10 has no ssh-ed25519-cert-v01@openssh.com key method to sign the
    # real request with: its signing callback fails.
    offset = os.path.getsize(cert_server.log_path)
    session, sock = handshake(cert_server)
    try:
        with pytest.raises(exceptions.PublickeyUnverifiedError) as info:
            cert_login(cert_server, session, "ed25519", how=how)
        assert info.value.errcode == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
        assert "Callback returned error" in str(info.value)
        assert accepted(cert_server, "ed25519") in log_since(cert_server, offset)
        assert_still_usable(cert_server, session)
    finally:
        logout(session, sock)


@pytest.mark.skipif(HAS_LIBSSH2_1_11, reason="libssh2 >= 1.11 logs in (test_certificate_login)")
@pytest.mark.parametrize("how", HOW)
def test_rsa_certificate_is_refused_with_libssh2_1_10(cert_server, how):
    # libssh2 1.10 offers an RSA certificate as ssh-rsa-cert-v01@openssh.com
    # (SHA-1), which OpenSSH >= 8.8 does not accept by default: refused.
    session, sock = handshake(cert_server)
    try:
        with pytest.raises(exceptions.AuthenticationError) as info:
            cert_login(cert_server, session, "rsa", how=how)
        assert type(info.value) is exceptions.AuthenticationError
        assert info.value.errcode == LIBSSH2_ERROR_AUTHENTICATION_FAILED
        assert_still_usable(cert_server, session)
    finally:
        logout(session, sock)
    # A server that accepts that algorithm accepts the certificate, but
    # libssh2 1.10 cannot sign with an RSA certificate either.
    offset = os.path.getsize(cert_server.log_path)
    session, sock = handshake(cert_server, SHA1_ONLY)
    try:
        with pytest.raises(exceptions.PublickeyUnverifiedError) as info:
            cert_login(cert_server, session, "rsa", how=how)
        assert info.value.errcode == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
        assert accepted(cert_server, "rsa") in log_since(cert_server, offset)
        assert not session.userauth_authenticated()
    finally:
        logout(session, sock)
