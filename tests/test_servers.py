"""Self-tests of the test servers, independent of ssh2cffi.

The OpenSSH server is checked with the OpenSSH client, the asyncssh server
with asyncssh's own client.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest

asyncssh = pytest.importorskip("asyncssh")

from servers import _pattern_bytes  # noqa: E402

PLAIN_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"]


def _ssh_cmd(sshd, key_path, *command):
    return [
        "ssh", "-F", "/dev/null", "-p", str(sshd.port), "-i", key_path,
        "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes",
        "-o", "LogLevel=ERROR",
        "%s@%s" % (sshd.user, sshd.host),
    ] + list(command)


# ---------------------------------------------------------------------------
# OpenSSH server
# ---------------------------------------------------------------------------

needs_ssh = pytest.mark.skipif(shutil.which("ssh") is None,
                               reason="OpenSSH client not installed")


def test_sshd_layout(sshd):
    assert sshd.port > 0
    assert os.path.isdir(sshd.dir)
    assert sorted(sshd.key_paths) == sorted(
        ["id_ed25519", "id_ed25519_pass", "id_ecdsa", "id_rsa",
         "id_rsa_pass"])
    for path in sshd.key_paths.values():
        assert os.path.isfile(path) and os.path.isfile(path + ".pub")
    with open(sshd.key_paths["id_rsa"]) as fobj:
        assert fobj.readline().startswith("-----BEGIN RSA PRIVATE KEY")
    with open(sshd.key_paths["id_rsa_pass"]) as fobj:
        assert "ENCRYPTED" in fobj.read()
    with open(sshd.key_paths["id_ed25519_pass"]) as fobj:
        assert fobj.readline().startswith("-----BEGIN OPENSSH PRIVATE KEY")
    for path in sshd.host_key_pub.values():
        assert os.path.isfile(path)
    assert os.path.isfile(sshd.log_path)
    sock = sshd.connect_socket()
    try:
        assert sock.gettimeout() is None
        assert sock.recv(64).startswith(b"SSH-2.0-OpenSSH")
    finally:
        sock.close()


def test_sshd_listens_on_every_address(sshd):
    assert sshd.addresses[0] == sshd.host == "127.0.0.1"
    assert len(set(sshd.addresses)) == 10
    for address in sshd.addresses:
        with socket.create_connection((address, sshd.port), timeout=5) as sock:
            assert sock.recv(64).startswith(b"SSH-2.0-OpenSSH")


@needs_ssh
@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_sshd_pubkey_with_openssh_client(sshd, key):
    result = subprocess.run(
        _ssh_cmd(sshd, sshd.key_paths[key], "echo", "hi"),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=30)
    assert result.returncode == 0, (result.stderr, sshd.logs())
    assert result.stdout == b"hi\n"


def test_sshd_password_auth(sshd):
    if sshd.password_user is None:
        pytest.skip("no local 'ssh2cffi' user with a password")

    async def main():
        async with asyncssh.connect(
                sshd.host, sshd.port, username=sshd.password_user,
                password=sshd.password, known_hosts=None,
                client_keys=None, agent_path=None) as conn:
            return await conn.run("echo pw-ok", check=True)

    result = asyncio.run(main())
    assert result.stdout == "pw-ok\n"


@needs_ssh
def test_sshd_kill_connections(sshd):
    proc = subprocess.Popen(
        _ssh_cmd(sshd, sshd.key_paths["id_ed25519"],
                 "echo started; sleep 60"),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"started\n"
        assert sshd.kill_connections() > 0
        start = time.monotonic()
        proc.wait(20)
        assert proc.returncode != 0
        assert time.monotonic() - start < 20
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    # the listener survives
    result = subprocess.run(
        _ssh_cmd(sshd, sshd.key_paths["id_ed25519"], "echo", "again"),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=30)
    assert result.stdout == b"again\n", result.stderr


# ---------------------------------------------------------------------------
# asyncssh server
# ---------------------------------------------------------------------------

class _BannerClient(asyncssh.SSHClient):
    def __init__(self):
        self.banners = []

    def auth_banner_received(self, msg, lang):
        self.banners.append(msg)


def _run(coro):
    """Run a coroutine in a fresh event loop."""
    return asyncio.run(coro)


def _connect(server, username="user", **kwargs):
    options = dict(known_hosts=None, client_keys=None, agent_path=None,
                   username=username)
    if "password" not in kwargs and "client_keys" not in kwargs \
            and username == "user":
        options["password"] = "pass"
    options.update(kwargs)
    return asyncssh.connect(server.host, server.port, **options)


def _exec(server, command, **kwargs):
    async def main():
        async with _connect(server) as conn:
            return await conn.run(command, encoding=None, **kwargs)
    return _run(main())


def test_asyncssh_password_and_banner(asyncssh_server):
    async def main():
        conn, client = await asyncssh.create_connection(
            _BannerClient, asyncssh_server.host, asyncssh_server.port,
            username="user", password="pass", known_hosts=None,
            client_keys=None, agent_path=None)
        async with conn:
            result = await conn.run("echo hello world")
        return client.banners, result

    banners, result = _run(main())
    assert banners == ["Welcome to the asyncssh test server\n"]
    assert result.stdout == "hello world\n"
    assert result.exit_status == 0


def test_asyncssh_bad_password(asyncssh_server):
    async def main():
        async with _connect(asyncssh_server, password="wrong"):
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        _run(main())


def test_asyncssh_pubkey(asyncssh_server, sshd):
    async def main():
        async with _connect(asyncssh_server,
                            client_keys=[sshd.key_paths["id_ed25519"]]) \
                as conn:
            return await conn.run("echo key")
    assert _run(main()).stdout == "key\n"


def test_asyncssh_kbdint_two_prompts(asyncssh_server):
    class Client(asyncssh.SSHClient):
        prompts = []

        def kbdint_auth_requested(self):
            return ""

        def kbdint_challenge_received(self, name, instructions, lang,
                                      prompts):
            Client.prompts.append(list(prompts))
            answers = {"Password: ": "pass", "Code: ": "1234"}
            return [answers[prompt] for prompt, _echo in prompts]

    async def main():
        conn, _client = await asyncssh.create_connection(
            Client, asyncssh_server.host, asyncssh_server.port,
            username="kbd", known_hosts=None, client_keys=None,
            agent_path=None, preferred_auth="keyboard-interactive")
        async with conn:
            return await conn.run("echo kbd-ok")

    assert _run(main()).stdout == "kbd-ok\n"
    assert Client.prompts == [[("Password: ", False), ("Code: ", True)]]


@pytest.mark.parametrize("user,password,ok", [
    ("kbd1", "pass", True), ("kbd1", "nope", False), ("kbd", "pass", False)])
def test_asyncssh_kbdint_single_prompt(asyncssh_server, user, password, ok):
    async def main():
        async with _connect(asyncssh_server, username=user,
                            password=password,
                            preferred_auth="keyboard-interactive") as conn:
            return await conn.run("echo kbd1-ok")
    if ok:
        assert _run(main()).stdout == "kbd1-ok\n"
    else:
        with pytest.raises(asyncssh.PermissionDenied):
            _run(main())


def test_asyncssh_echo_stderr_exit(asyncssh_server):
    result = _exec(asyncssh_server, "stderr oops")
    assert (result.stdout, result.stderr, result.exit_status) == \
        (b"", b"oops\n", 0)
    result = _exec(asyncssh_server, "exit 3")
    assert result.exit_status == 3
    result = _exec(asyncssh_server, "frobnicate")
    assert result.exit_status == 127
    assert result.stderr == b"unknown command\n"
    result = _exec(asyncssh_server, "exit notanumber")
    assert result.exit_status == 1
    assert result.stderr.startswith(b"server error:")


def test_asyncssh_signal(asyncssh_server):
    result = _exec(asyncssh_server, "signal TERM")
    assert result.stdout == b"bye\n"
    assert result.exit_status == -1
    assert result.exit_signal == ("TERM", False, "killed by test", "en")


def test_asyncssh_cat(asyncssh_server):
    data = bytes(range(256)) * 1000
    result = _exec(asyncssh_server, "cat", input=data)
    assert result.stdout == data
    assert result.exit_status == 0


def test_asyncssh_env_and_pty(asyncssh_server):
    result = _exec(asyncssh_server, "env SSH2CFFI_X",
                   env={"SSH2CFFI_X": "value"})
    assert result.stdout == b"value\n"
    result = _exec(asyncssh_server, "env SSH2CFFI_Y")
    assert result.stdout == b"unset\n"
    result = _exec(asyncssh_server, "pty", term_type="vt100",
                   term_size=(100, 40))
    assert result.stdout == b"vt100 100 40\n"
    result = _exec(asyncssh_server, "pty")
    assert result.stdout == b"nopty\n"


def test_asyncssh_bytes(asyncssh_server):
    count = 300000
    result = _exec(asyncssh_server, "bytes %d" % count)
    assert result.exit_status == 0
    assert result.stdout == bytes(i % 251 for i in range(count))
    assert _pattern_bytes(0, count) == result.stdout


def test_asyncssh_sleep(asyncssh_server):
    start = time.monotonic()
    result = _exec(asyncssh_server, "sleep 0.3")
    assert result.exit_status == 0
    assert time.monotonic() - start >= 0.3


def test_asyncssh_drop(asyncssh_server):
    async def main():
        async with _connect(asyncssh_server) as conn:
            proc = await conn.create_process("drop", encoding=None)
            data = await proc.stdout.read()
            await asyncio.wait_for(conn.wait_closed(), 10)
            return data, proc.exit_status

    data, status = _run(main())
    assert data == b"partial"
    assert status is None


def test_asyncssh_hang(asyncssh_server):
    async def main():
        async with _connect(asyncssh_server) as conn:
            proc = await conn.create_process("hang")
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.5)
            proc.close()
            # the connection is still usable
            return await conn.run("echo alive")

    assert _run(main()).stdout == "alive\n"


def test_asyncssh_shell(asyncssh_server):
    async def main():
        async with _connect(asyncssh_server) as conn:
            proc = await conn.create_process()   # shell request
            proc.stdin.write("one\ntwo\nexit\n")
            out = await proc.stdout.read()
            await proc.wait()
            return out, proc.exit_status

    assert _run(main()) == ("> one\n> two\n", 0)


def test_asyncssh_subsystems(asyncssh_server):
    async def main():
        async with _connect(asyncssh_server) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_process(subsystem="nope")
            async with conn.start_sftp_client() as sftp:
                await sftp.mkdir("subdir")
                return sorted(await sftp.listdir("."))

    names = _run(main())
    assert "subdir" in names


def test_asyncssh_server_stop_start():
    from servers import AsyncSSHServer

    server = AsyncSSHServer().start()
    port, thread = server.port, server._thread
    sock = server.connect_socket()
    assert sock.recv(64).startswith(b"SSH-2.0-")
    server.stop()
    assert not thread.is_alive()
    try:
        assert sock.recv(64) == b""
    finally:
        sock.close()
    with pytest.raises(OSError):
        import socket
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
