"""Every program in examples/ runs against the real sshd fixture.

Each example is run as its own process with this interpreter, configured the
way a user would (SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY in the environment,
arguments on the command line), and its output is checked.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from helpers import SSHAgent, file_digest, needs_libssh2_1_11, sshd_login
from test_certificates import CertificateSSHServer

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
TIMEOUT = 60


def example_env(sshd, **extra):
    env = dict(os.environ, SSH_HOST=sshd.host, SSH_PORT=str(sshd.port),
               SSH_USER=sshd_login(sshd), SSH_KEY=sshd.key_paths["id_ed25519"])
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def run_example(name, *args, env, python=sys.executable, check=True):
    result = subprocess.run([python, os.path.join(EXAMPLES, name)] + list(args), env=env,
                            capture_output=True, text=True, timeout=TIMEOUT,
                            stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_exec_command(sshd):
    result = run_example("exec_command.py", "echo hello from $(id -un); echo oops >&2; exit 3",
                         env=example_env(sshd), check=False)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "hello from %s\nexit status: 3\n" % sshd_login(sshd)
    assert result.stderr == "oops\n"


def test_nonblocking_exec(sshd):
    result = run_example("nonblocking_exec.py", "for i in 1 2 3; do echo line $i; sleep 0.1; done",
                         env=example_env(sshd))
    lines = result.stdout.splitlines()
    assert lines[:3] == ["line 1", "line 2", "line 3"]
    assert lines[3].startswith("exit status: 0 (waited on the socket ")
    assert int(lines[3].split()[-2]) > 0     # it really waited with select()
    assert len(lines) == 4


def test_jump_host(sshd):
    """The same sshd serves as jump host and target: the target sees the
    connection come from the jump host's direct-tcpip channel (a second
    connection), not from this process's socket."""
    result = run_example("jump_host.py", "echo via $SSH_CONNECTION", env=example_env(sshd))
    first, status = result.stdout.splitlines()
    assert status == "exit status: 0"
    # SSH_CONNECTION: client address, client port, server address, server port
    words = first.split()
    assert words[0] == "via" and words[3:] == [sshd.host, str(sshd.port)]


def test_aio_run(sshd):
    result = run_example("aio_run.py", "echo async $((6 * 7))", "/etc/hostname",
                         env=example_env(sshd, SSH_KNOWN_HOSTS="none"))
    with open("/etc/hostname", "rb") as hostname:
        size = len(hostname.read())
    assert result.stdout.splitlines() == ["async 42", "exit status: 0",
                                          "fetched /etc/hostname: %d bytes" % size]


def test_aio_many_hosts(sshd):
    hosts = ["%s:%d" % (address, sshd.port) for address in sshd.addresses[:4]]
    result = run_example("aio_many_hosts.py", "echo $SSH_CONNECTION | cut -d' ' -f3",
                         *hosts, "127.0.0.1:1", env=example_env(sshd, SSH_KNOWN_HOSTS="none"),
                         check=False)
    assert result.returncode == 1  # one host failed
    lines = sorted(result.stdout.splitlines())
    assert lines == sorted(["%s: %s" % (host, host.split(":")[0]) for host in hosts]
                           + ["127.0.0.1:1: failed: ConnectionRefusedError"])


def test_sftp_read_write(sshd, sshd_remote_dir):
    result = run_example("sftp_read_write.py", "--remote-dir", sshd_remote_dir, env=example_env(sshd))
    path = sshd_remote_dir + "/ssh2cffi-example.txt"
    size = sum(len("line %d written by ssh2cffi over SFTP\n" % n) for n in range(1, 1001))
    assert result.stdout.splitlines() == [
        "wrote %d bytes to %s" % (size, path),
        "size %d, permissions 644" % size,
        "read %d bytes back, identical" % size,
        "ssh2cffi-example.txt is listed in %s" % sshd_remote_dir,
        "removed %s" % path,
    ]
    assert os.listdir(sshd_remote_dir) == []


def test_scp_copy(sshd, sshd_remote_dir, tmp_path):
    local = tmp_path / "payload.bin"
    local.write_bytes(os.urandom(300 * 1024 + 7))
    local.chmod(0o640)
    remote = sshd_remote_dir + "/copy.bin"
    result = run_example("scp_copy.py", str(local), remote, env=example_env(sshd))
    assert result.stdout.splitlines() == [
        "sent 307207 bytes to %s" % remote,
        "received 307207 bytes, mode 640",
        "sha256 matches",
    ]
    assert file_digest(remote) == file_digest(str(local))


@pytest.fixture
def ssh_agent_socket(sshd, tmp_path):
    """The socket of an OpenSSH ssh-agent holding the fixture's ed25519 key."""
    agent = SSHAgent(tmp_path, [sshd.key_paths["id_ed25519"]])
    yield agent.socket
    agent.stop()


def test_agent_auth(sshd, ssh_agent_socket):
    env = example_env(sshd, SSH_AUTH_SOCK=ssh_agent_socket)
    del env["SSH_KEY"]
    result = run_example("agent_auth.py", env=env)
    assert result.stdout.splitlines() == [
        "the agent holds 1 key(s)",
        "accepted: ssh2cffi-test",
        "logged in as %s" % sshd_login(sshd),
    ]


@needs_libssh2_1_11     # forwarded agent channels need it
@pytest.mark.parametrize("mode", [[], ["--non-blocking"]], ids=["blocking", "non-blocking"])
def test_agent_forwarding(sshd, ssh_agent_socket, mode):
    # logs in with the agent too (SSH_KEY unset); ssh-add -l on the server
    # lists the agent's key through the forwarded agent
    env = example_env(sshd, SSH_AUTH_SOCK=ssh_agent_socket)
    del env["SSH_KEY"]
    result = run_example("agent_forwarding.py", *mode, env=env)
    keygen = subprocess.run(["ssh-keygen", "-lf", sshd.key_paths["id_ed25519"] + ".pub"],
                            capture_output=True, text=True, check=True, timeout=TIMEOUT)
    assert result.stdout.splitlines() == [keygen.stdout.strip(), "exit status: 0"]


@needs_libssh2_1_11     # the example's default, an ed25519 certificate, needs it
def test_certificate_auth():
    # its own sshd: one that trusts a user CA and no authorized key
    with CertificateSSHServer() as server:
        # SSH_CERT unset: the certificate next to SSH_KEY (id_ed25519-cert.pub)
        result = run_example("certificate_auth.py", "id -un", env=example_env(server))
        assert result.stdout == "%s\nexit status: 0\n" % server.login

        expired = server.certs["ed25519", "expired"]
        refused = run_example("certificate_auth.py", "id -un", check=False,
                              env=example_env(server, SSH_CERT=expired))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stdout == ""
        assert refused.stderr == ("certificate refused: %s: Username/PublicKey combination invalid "
                                  "(LIBSSH2_ERROR_AUTHENTICATION_FAILED, -18)\n" % expired)


def test_known_hosts(sshd, tmp_path):
    env = example_env(sshd)
    known_hosts = str(tmp_path / "known_hosts")
    name = "[%s]:%d" % (sshd.host, sshd.port)

    unknown = run_example("known_hosts.py", "--known-hosts", known_hosts, env=env, check=False)
    assert unknown.returncode == 1, unknown.stderr
    assert unknown.stdout.splitlines()[0].startswith("server key SHA256:")
    assert unknown.stdout.splitlines()[1] == "UNKNOWN: %s is not in %s" % (sshd.host, known_hosts)

    added = run_example("known_hosts.py", "--known-hosts", known_hosts, "--add", env=env)
    assert added.stdout.splitlines()[1] == "ADDED: %s to %s" % (name, known_hosts)
    # OpenSSH reads the line the example wrote, and finds the server under that name.
    found = subprocess.run(["ssh-keygen", "-F", name, "-f", known_hosts], capture_output=True,
                           text=True, timeout=TIMEOUT)
    assert found.returncode == 0 and name in found.stdout, found.stdout + found.stderr
    # The fingerprint printed is the one OpenSSH computes for that known key.
    line = open(known_hosts).read().split("\n")[0]
    keygen = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=line.split(None, 1)[1],
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert added.stdout.splitlines()[0].split()[-1] == keygen.stdout.split()[1]

    ok = run_example("known_hosts.py", "--known-hosts", known_hosts, env=env)
    assert ok.stdout.splitlines()[1] == "OK: the key matches the entry for %s" % name

    # The same host with another key of the same type: a mismatch.
    _, key_type, _ = line.split(None, 2)
    keygen_type = {"ssh-ed25519": ["-t", "ed25519"], "ssh-rsa": ["-t", "rsa"],
                   "ecdsa-sha2-nistp256": ["-t", "ecdsa", "-b", "256"]}[key_type]
    other = str(tmp_path / "other_key")
    subprocess.run(["ssh-keygen", "-q", "-N", ""] + keygen_type + ["-f", other], check=True,
                   capture_output=True, timeout=TIMEOUT)
    with open(known_hosts, "w") as fobj:
        fobj.write("%s %s" % (name, open(other + ".pub").read()))
    mismatch = run_example("known_hosts.py", "--known-hosts", known_hosts, env=env, check=False)
    assert mismatch.returncode == 2, mismatch.stderr
    assert mismatch.stdout.splitlines()[1].startswith("MISMATCH: %s presented" % sshd.host)


def test_port_forward(sshd):
    # The target: an uppercasing echo server on loopback, reached through sshd.
    target = socket.socket()
    target.bind(("127.0.0.1", 0))
    target.listen(1)

    def serve():
        conn, _ = target.accept()
        with conn:
            for block in iter(lambda: conn.recv(65536), b""):
                conn.sendall(block.upper())

    server_thread = threading.Thread(target=serve, daemon=True)
    server_thread.start()
    proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "port_forward.py"),
                             "--connections", "1", "0", "127.0.0.1",
                             str(target.getsockname()[1])],
                            env=example_env(sshd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("forwarding 127.0.0.1:"), first + proc.stderr.read()
        local_port = int(first.split()[1].split(":")[1])
        payload = b"".join(b"chunk %06d of forwarded data\n" % n for n in range(8000))
        with socket.create_connection(("127.0.0.1", local_port), timeout=TIMEOUT) as client:
            def send():
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            received = b"".join(iter(lambda: client.recv(65536), b""))
            sender.join(TIMEOUT)
        assert received == payload.upper()
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        assert out.splitlines() == ["connection 1: %d bytes out, %d bytes back"
                                    % (len(payload), len(payload))]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        target.close()
        server_thread.join(5)
