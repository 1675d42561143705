"""parallel-ssh 2.16 runs unchanged on ssh2cffi (issue 5).

parallel-ssh's native clients (``pssh.clients.native``, built on ssh2-python) are
imported after ``ssh2cffi.compat.register()``, so their ``from ssh2... import``
lines get ssh2cffi's modules; the tests then drive ``ParallelSSHClient`` and
``SSHClient`` against the OpenSSH fixture, which listens on ten loopback addresses
(servers.EXTRA_ADDRESSES).  They check what parallel-ssh needs from us: commands on
ten hosts at once, output, exit codes, SFTP and SCP copies, timeouts, interactive
shells, tunnels through a proxy host, and the non-blocking behaviours its gevent
loop relies on (EAGAIN returned, block_directions, find_eol, compression,
keepalives, set_timeout, the exception classes it catches).

parallel-ssh and gevent come from tests/requirements-parallel-ssh.txt (installed
by scripts/setup.sh with --no-deps, so ssh2-python is never installed).  The
environment-variable activation is covered by test_example_runs_on_the_drop_in,
which runs examples/parallel_ssh_pypy.py in a fresh interpreter.
"""
from __future__ import annotations

import gc
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types

import pytest

import ssh2cffi
import ssh2cffi.channel
import ssh2cffi.exceptions
import ssh2cffi.session
import ssh2cffi.utils
from helpers import SSHAgent, digest, file_digest, needs_libssh2_1_11, sshd_login
from ssh2cffi import compat
from ssh2cffi.error_codes import LIBSSH2_ERROR_EAGAIN
from ssh2cffi.session import LIBSSH2_METHOD_COMP_CS, LIBSSH2_SESSION_BLOCK_INBOUND

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "parallel_ssh_pypy.py")


@pytest.fixture(scope="module")
def pssh():
    """parallel-ssh's native clients, imported with ``ssh2`` resolving to ssh2cffi.

    ssh2's entries in sys.modules are put back afterwards (parallel-ssh's modules
    keep the ssh2cffi objects they imported).
    """
    saved = {name: module for name, module in sys.modules.items()
             if name == "ssh2" or name.startswith("ssh2.")}
    compat.register()
    import gevent
    import pssh.clients.base.single
    import pssh.clients.native.single
    import pssh.clients.native.tunnel
    import pssh.exceptions
    from pssh.clients import ParallelSSHClient, SSHClient

    yield types.SimpleNamespace(
        ParallelSSHClient=ParallelSSHClient, SSHClient=SSHClient, gevent=gevent,
        exceptions=pssh.exceptions, base=pssh.clients.base.single,
        native=pssh.clients.native.single, tunnel=pssh.clients.native.tunnel)
    gc.collect()  # parallel-ssh disconnects its clients when they are collected
    for name in [n for n in sys.modules if n == "ssh2" or n.startswith("ssh2.")]:
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.fixture(scope="module")
def remote_dir():
    """A directory the login account (sshd_login(), maybe not us) can write to."""
    path = tempfile.mkdtemp(prefix="ssh2cffi-pssh-")
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def client_args(sshd, **extra):
    """Keyword arguments for either client: our key only, no agent, one try."""
    args = dict(port=sshd.port, user=sshd_login(sshd), pkey=sshd.key_paths["id_ed25519"],
                allow_agent=False, identity_auth=False, num_retries=1, retry_delay=0.1)
    args.update(extra)
    return args


def server_address(ssh_connection_line):
    """The server side (address, port) of an ``echo $SSH_CONNECTION`` line."""
    fields = ssh_connection_line.split()
    return fields[2], int(fields[3])


def run(client, command, **kwargs):
    """SSHClient.run_command, waited for: (stdout lines, stderr lines, exit code)."""
    output = client.run_command(command, **kwargs)
    client.wait_finished(output, timeout=60)
    return list(output.stdout), list(output.stderr), output.exit_code


# ---------------------------------------------------------------------------
# the drop-in is what parallel-ssh runs on
# ---------------------------------------------------------------------------

def test_parallel_ssh_imported_ssh2cffi(pssh):
    assert pssh.native.Session is ssh2cffi.session.Session
    assert pssh.native.SSH2Timeout is ssh2cffi.exceptions.Timeout
    assert pssh.native.SFTPProtocolError is ssh2cffi.exceptions.SFTPProtocolError
    assert pssh.native.SFTPHandleError is ssh2cffi.exceptions.SFTPHandleError
    assert pssh.base.AgentConnectionError is ssh2cffi.exceptions.AgentConnectionError
    assert pssh.base.find_eol is ssh2cffi.utils.find_eol
    assert pssh.native.LIBSSH2_ERROR_EAGAIN == pssh.tunnel.LIBSSH2_ERROR_EAGAIN == -37
    # ssh-python (pssh.clients.ssh) is never needed by the native client.
    assert "ssh" not in sys.modules and "pssh.clients.ssh" not in sys.modules


def test_single_client_session_is_ssh2cffi(pssh, sshd):
    with pssh.SSHClient(sshd.host, timeout=7, **client_args(sshd)) as client:
        assert type(client.session) is ssh2cffi.session.Session
        assert client.session.get_timeout() == 7000      # set_timeout(timeout * 1000)
        assert client.session.get_blocking() is False    # set_blocking(0) after auth
        channel = client.open_session()
        assert type(channel) is ssh2cffi.channel.Channel
        client.close_channel(channel)


# ---------------------------------------------------------------------------
# commands: ten hosts at once, output, exit codes, stdin, pty
# ---------------------------------------------------------------------------

def test_ten_hosts_at_once(pssh, sshd):
    client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
    started = time.monotonic()
    output = client.run_command(
        "echo $SSH_CONNECTION; echo err-%s >&2; sleep 1; exit %s",
        host_args=[(index, index) for index in range(len(sshd.addresses))])
    client.join(output, timeout=60)
    elapsed = time.monotonic() - started
    assert len(output) == 10
    for index, (address, host_output) in enumerate(zip(sshd.addresses, output)):
        assert host_output.host == address and host_output.exception is None
        stdout = list(host_output.stdout)
        assert len(stdout) == 1 and server_address(stdout[0]) == (address, sshd.port)
        assert list(host_output.stderr) == ["err-%d" % index]
        assert host_output.exit_code == index
        assert type(host_output.client.session) is ssh2cffi.session.Session
    # Ten one-second commands ran concurrently (one after the other takes > 10 s;
    # the margin is for a loaded machine).
    assert elapsed < 9.5, elapsed


def test_large_output_on_ten_hosts_with_compression(pssh, sshd):
    """Output arriving in many reads (EAGAIN between them) on a compressed session."""
    lines = 20000
    client = pssh.ParallelSSHClient(sshd.addresses, compress=True, **client_args(sshd))
    output = client.run_command("seq 1 %d; seq 1 100 >&2" % lines)
    client.join(output, timeout=60)
    for host_output in output:
        assert list(host_output.stdout) == [str(n) for n in range(1, lines + 1)]
        assert list(host_output.stderr) == [str(n) for n in range(1, 101)]
        assert host_output.exit_code == 0
        # flag(LIBSSH2_FLAG_COMPRESS) before the handshake made libssh2 offer zlib.
        assert "zlib" in host_output.client.session.methods(LIBSSH2_METHOD_COMP_CS)


def test_line_ends_split_by_find_eol(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        stdout, stderr, code = run(client, r"printf 'one\r\ntwo\nthree\r\n\nx\ry\nlast'")
    assert stdout == ["one", "two", "three", "", "x\ry", "last"]
    assert stderr == [] and code == 0


def test_stdin_and_exit_code(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        output = client.run_command("head -n 1; exit 42")
        output.stdin.write("through stdin\n")
        output.stdin.flush()
        client.wait_finished(output, timeout=60)
        assert list(output.stdout) == ["through stdin"]
        assert output.exit_code == 42


def test_pty_merges_stderr_into_stdout(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        stdout, stderr, code = run(client, "echo out; echo err >&2; exit 5", use_pty=True)
    assert stdout == ["out", "err"] and stderr == [] and code == 5


def test_password_authentication_after_agent_failure(pssh, sshd, monkeypatch, caplog):
    """No agent: ssh2cffi raises AgentConnectionError, which parallel-ssh catches by
    class (a debug message) before falling back to the password."""
    if sshd.password is None:
        pytest.skip("scripts/setup.sh creates the password account")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    caplog.set_level(logging.DEBUG, logger="pssh")
    args = client_args(sshd, user=sshd.password_user, password=sshd.password,
                       pkey=None, allow_agent=True)
    with pssh.SSHClient(sshd.host, **args) as client:
        stdout, _, code = run(client, "id -un")
    assert stdout == [sshd.password_user] and code == 0
    agent = [r for r in caplog.records if r.getMessage().startswith("Agent auth failed")]
    assert agent and all(r.levelno == logging.DEBUG for r in agent), agent
    assert "AgentConnectionError" in agent[0].getMessage()


def test_keyboard_interactive_authentication(pssh, asyncssh_server):
    """keyboard_interactive=True: userauth_keyboardinteractive() answers the prompt."""
    with pssh.SSHClient("127.0.0.1", port=asyncssh_server.port, user="kbd1", password="pass",
                        keyboard_interactive=True, allow_agent=False, identity_auth=False,
                        num_retries=1) as client:
        assert run(client, "echo hello") == (["hello"], [], 0)


def test_dropped_connection_raises_ssh2_exception(pssh, asyncssh_server):
    """The server drops the connection mid-command: the output read so far stays
    readable and join() raises ssh2cffi's socket error (as ssh2-python's)."""
    client = pssh.ParallelSSHClient(["127.0.0.1"], port=asyncssh_server.port, user="user",
                                    password="pass", allow_agent=False, identity_auth=False,
                                    num_retries=1)
    output = client.run_command("drop")
    with pytest.raises((ssh2cffi.exceptions.SocketRecvError,
                        ssh2cffi.exceptions.SocketDisconnectError)):
        client.join(output, timeout=30)
    assert list(output[0].stdout) == ["partial"]


def test_refused_key_raises_authentication_error(pssh, sshd, tmp_path):
    key = str(tmp_path / "stranger")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    with pytest.raises(pssh.exceptions.AuthenticationError) as info:
        pssh.SSHClient(sshd.host, **client_args(sshd, pkey=key))
    assert isinstance(info.value.args[3], ssh2cffi.exceptions.SSH2Error)


# ---------------------------------------------------------------------------
# SFTP and SCP copies
# ---------------------------------------------------------------------------

def test_sftp_copy_file_and_copy_remote_file_on_ten_hosts(pssh, sshd, remote_dir, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)   # more than parallel-ssh's 2 MiB buffer
    local = tmp_path / "up.bin"
    local.write_bytes(data)
    client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
    # Missing parent directories are made with SFTP mkdir after stat() raised.
    remote = os.path.join(remote_dir, "sftp-%(index)s", "sub", "up.bin")
    copy_args = [{"index": index} for index in range(10)]
    pssh.gevent.joinall(client.copy_file(str(local), remote, copy_args=copy_args),
                        raise_error=True, timeout=60)
    for args in copy_args:
        assert file_digest(remote % args) == digest(data)
    # Back again, one local file per host (file name + "_" + host).
    pssh.gevent.joinall(
        client.copy_remote_file(remote % copy_args[3], str(tmp_path / "down" / "back.bin")),
        raise_error=True, timeout=60)
    for address in sshd.addresses:
        assert file_digest(tmp_path / "down" / ("back.bin_" + address)) == digest(data)


def make_tree(root):
    """A small directory tree (30 files, one subdirectory); {relative path: data}."""
    tree = {}
    for index in range(30):
        relative = os.path.join("sub" if index % 3 else "", "file-%02d.bin" % index)
        tree[relative] = os.urandom(1000 + index * 517)
    for relative, data in tree.items():
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fobj:
            fobj.write(data)
    return tree


def assert_tree(root, tree):
    found = {os.path.relpath(os.path.join(top, name), root)
             for top, _, names in os.walk(root) for name in names}
    assert found == set(tree)
    for relative, data in tree.items():
        assert file_digest(os.path.join(root, relative)) == digest(data)


@pytest.mark.parametrize("protocol", ["sftp", "scp"])
def test_recursive_copies(pssh, sshd, remote_dir, tmp_path, protocol):
    """Directories both ways: SFTP opendir/readdir (EAGAIN entries included) list
    the remote side, SFTP mkdir makes the directories."""
    tree = make_tree(tmp_path / "tree")
    remote = os.path.join(remote_dir, "tree-" + protocol)
    back = str(tmp_path / "back")
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        if protocol == "sftp":
            client.copy_file(str(tmp_path / "tree"), remote, recurse=True)
            assert_tree(remote, tree)
            client.copy_remote_file(remote, back, recurse=True)
        else:
            client.scp_send(str(tmp_path / "tree"), remote, recurse=True)
            assert_tree(remote, tree)
            client.scp_recv(remote, back, recurse=True)
    assert_tree(back, tree)


def test_sftp_errors_become_parallel_ssh_errors(pssh, sshd, remote_dir, tmp_path):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        # stat() of a missing file raises SFTPProtocolError, which parallel-ssh catches.
        with pytest.raises(pssh.exceptions.SFTPIOError):
            client.copy_remote_file(os.path.join(remote_dir, "missing"), str(tmp_path / "x"))
        with pytest.raises(pssh.exceptions.SCPError):
            client.scp_recv(os.path.join(remote_dir, "missing"), str(tmp_path / "y"))
        # SFTP mkdir refused (SFTPProtocolError): parallel-ssh's SFTPIOError.
        (tmp_path / "z").write_bytes(b"z")
        with pytest.raises(pssh.exceptions.SFTPIOError):
            client.copy_file(str(tmp_path / "z"), "/proc/ssh2cffi-cannot-mkdir/z")
        assert not os.path.exists(tmp_path / "x") and not os.path.exists(tmp_path / "y")


def test_scp_send_and_scp_recv_on_ten_hosts(pssh, sshd, remote_dir, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 3)
    local = tmp_path / "scp.bin"
    local.write_bytes(data)
    os.chmod(local, 0o640)
    client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
    # scp_send's copy_args name the files per host.
    remotes = [os.path.join(remote_dir, "scp-%d.bin" % index) for index in range(10)]
    copy_args = [{"local_file": str(local), "remote_file": remote} for remote in remotes]
    pssh.gevent.joinall(client.scp_send(str(local), remotes[0], copy_args=copy_args),
                        raise_error=True, timeout=60)
    for remote in remotes:
        assert file_digest(remote) == digest(data)
        assert os.stat(remote).st_mode & 0o777 == 0o640
    pssh.gevent.joinall(client.scp_recv(remotes[0], str(tmp_path / "back.bin")),
                        raise_error=True, timeout=60)
    for address in sshd.addresses:
        assert file_digest(tmp_path / ("back.bin_" + address)) == digest(data)


# ---------------------------------------------------------------------------
# timeouts
# ---------------------------------------------------------------------------

def test_command_longer_than_read_timeout_raises_timeout(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        output = client.run_command("sleep 5; echo late", read_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(pssh.exceptions.Timeout):
            list(output.stdout)
        with pytest.raises(pssh.exceptions.Timeout):
            client.wait_finished(output, timeout=0.5)
        assert time.monotonic() - started < 4


def test_join_timeout_on_ten_hosts(pssh, sshd):
    client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
    output = client.run_command("sleep 5")
    started = time.monotonic()
    with pytest.raises(pssh.exceptions.Timeout):
        client.join(output, timeout=0.5)
    assert time.monotonic() - started < 4


def test_silent_server_handshake_times_out(pssh, sshd):
    """set_timeout(timeout * 1000) makes the blocking handshake raise ssh2's
    Timeout, which parallel-ssh turns into its own Timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)   # accepted by the kernel, never answered
        started = time.monotonic()
        with pytest.raises(pssh.exceptions.Timeout) as info:
            pssh.SSHClient("127.0.0.1", timeout=1, **client_args(
                sshd, port=silent.getsockname()[1]))
        assert time.monotonic() - started < 10
    assert isinstance(info.value.args[-1], ssh2cffi.exceptions.Timeout)


# ---------------------------------------------------------------------------
# interactive shells
# ---------------------------------------------------------------------------

def test_interactive_shell(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        with client.open_shell() as shell:
            shell.run("echo one")
            shell.run("echo two >&2")
            shell.run("echo $((6 * 7))")
            shell.run("exit 7")
        assert list(shell.stdout) == ["one", "42"]
        assert list(shell.stderr) == ["two"]
        assert shell.exit_code == 7


def test_interactive_shells_on_ten_hosts(pssh, sshd):
    client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
    shells = client.open_shell()
    client.run_shell_commands(shells, ["echo $SSH_CONNECTION", "exit 3"])
    client.join_shells(shells, timeout=60)
    # open_shell() lists the shells in the order they opened: match them by host.
    assert sorted(shell.output.host for shell in shells) == sorted(sshd.addresses)
    for shell in shells:
        stdout = list(shell.stdout)
        assert len(stdout) == 1
        assert server_address(stdout[0]) == (shell.output.host, sshd.port)
        assert shell.exit_code == 3


# ---------------------------------------------------------------------------
# tunnels through a proxy host
# ---------------------------------------------------------------------------

def test_proxy_host(pssh, sshd, remote_dir, tmp_path):
    """127.0.0.2 reached through a direct-tcpip channel of a session to 127.0.0.1,
    served by parallel-ssh's tunnel thread; a file copy pushes data through it."""
    target = sshd.addresses[1]
    data = os.urandom(1024 * 1024 + 5)
    (tmp_path / "via-proxy.bin").write_bytes(data)
    with pssh.SSHClient(target, proxy_host=sshd.host, **client_args(sshd)) as client:
        stdout, _, code = run(client, "echo $SSH_CONNECTION")
        assert server_address(stdout[0]) == (target, sshd.port) and code == 0
        # parallel-ssh connected to its local tunnel end, not to the target.
        assert client._host == "127.0.0.1" and client._port != sshd.port
        remote = os.path.join(remote_dir, "via-proxy.bin")
        client.copy_file(str(tmp_path / "via-proxy.bin"), remote)
        assert file_digest(remote) == digest(data)


def test_proxy_host_for_several_hosts(pssh, sshd):
    targets = sshd.addresses[2:6]
    client = pssh.ParallelSSHClient(targets, proxy_host=sshd.host, **client_args(sshd))
    output = client.run_command("echo $SSH_CONNECTION; exit 9")
    client.join(output, timeout=60)
    for address, host_output in zip(targets, output):
        stdout = list(host_output.stdout)
        assert len(stdout) == 1 and server_address(stdout[0]) == (address, sshd.port)
        assert host_output.exit_code == 9


# ---------------------------------------------------------------------------
# agent forwarding
# ---------------------------------------------------------------------------
# parallel-ssh 2.16's native client takes forward_ssh_agent=True and does
# nothing with it (its request_auth_agent() call is commented out in
# SSHClient.open_session).  A program can forward the agent itself, without
# changing parallel-ssh: ssh2cffi's AgentForwarding runs inside the channel
# reads that parallel-ssh's own gevent loop makes (docs/agent-forwarding.rst).

def forward_agent(client, agent_socket):
    """What parallel-ssh would have to call for forward_ssh_agent=True: relay
    the session's forwarded agent connections, and ask sshd for them once
    (OpenSSH refuses a second request; later commands have SSH_AUTH_SOCK)."""
    forwarding = client.session.forward_agent(agent_socket)
    channel = client.open_session()
    client.eagain(channel.request_auth_agent)
    client.close_channel(channel)
    return forwarding


def test_forward_ssh_agent_flag_alone_forwards_nothing(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd, forward_ssh_agent=True)) as client:
        assert run(client, "echo ${SSH_AUTH_SOCK:-none}") == (["none"], [], 0)


@needs_libssh2_1_11
def test_agent_forwarding_on_ten_hosts_without_changing_parallel_ssh(pssh, sshd, tmp_path):
    agent = SSHAgent(tmp_path, [sshd.key_paths["id_ed25519"]])
    try:
        with open(sshd.key_paths["id_ed25519"] + ".pub") as pub:
            key_blob = pub.read().split()[1]
        client = pssh.ParallelSSHClient(sshd.addresses, **client_args(sshd))
        output = client.run_command("true")   # connects and logs in every host
        client.join(output, timeout=60)
        forwardings = [forward_agent(host_output.client, agent.socket)
                       for host_output in output]
        # ssh-add -L prints the public keys the forwarded agent holds
        output = client.run_command("ssh-add -L")
        client.join(output, timeout=60)
        for host_output in output:
            stdout = list(host_output.stdout)
            assert len(stdout) == 1 and stdout[0].split()[1] == key_blob
            assert host_output.exit_code == 0
        for forwarding in forwardings:
            assert pssh_eagain(forwarding.close, forwarding) == 0
    finally:
        agent.stop()


def pssh_eagain(call, forwarding):
    """``call()`` on parallel-ssh's non-blocking session until it is not EAGAIN."""
    for _attempt in range(6000):
        result = call()
        if result != LIBSSH2_ERROR_EAGAIN:
            return result
        forwarding.wait(0.01)
    raise AssertionError("%r kept returning EAGAIN" % (call,))


# ---------------------------------------------------------------------------
# the non-blocking primitives parallel-ssh's gevent loop relies on
# ---------------------------------------------------------------------------

def test_eagain_is_returned_and_block_directions_says_inbound(pssh, sshd):
    with pssh.SSHClient(sshd.host, **client_args(sshd)) as client:
        session = client.session
        channel = client.open_session()              # eagain(session.open_session)
        client.eagain(channel.execute, "sleep 0.5; echo done")
        # Nothing to read yet: read() and wait_eof() return EAGAIN (never raise) ...
        assert channel.read() == (LIBSSH2_ERROR_EAGAIN, b"")
        assert channel.wait_eof() == LIBSSH2_ERROR_EAGAIN
        # ... and block_directions() tells parallel-ssh's poll() to wait for input.
        assert session.block_directions() & LIBSSH2_SESSION_BLOCK_INBOUND
        chunks, eagains = [], 0
        while True:
            size, data = channel.read()
            if size == LIBSSH2_ERROR_EAGAIN:
                eagains += 1
                client.poll()                        # gevent poll on the socket
                continue
            if size <= 0:
                break
            chunks.append(data)
        assert b"".join(chunks) == b"done\n" and eagains >= 1
        client.eagain(channel.wait_eof)
        client.close_channel(channel)
        assert client.get_exit_status(channel) == 0


def test_keepalives_are_sent(pssh, sshd):
    """keepalive_config(False, 1), then parallel-ssh's greenlet calling keepalive_send()
    and sleeping for the seconds it returns (libssh2 turns an interval of 1 into 2)."""
    def keepalives():
        with open(sshd.log_path, errors="replace") as log:
            return log.read().count("keepalive@libssh2.org")

    before = keepalives()
    with pssh.SSHClient(sshd.host, keepalive_seconds=1, **client_args(sshd)) as client:
        seconds = client.session.keepalive_send()
        assert isinstance(seconds, int) and 0 <= seconds <= 2
        pssh.gevent.sleep(2.5)
        stdout, _, _ = run(client, "echo still here")
        assert stdout == ["still here"]
    assert keepalives() - before >= 2


# ---------------------------------------------------------------------------
# the example, on the environment-variable drop-in
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["environment", "register"])
def test_example_runs_on_the_drop_in(sshd, activation):
    """examples/parallel_ssh_pypy.py in a fresh interpreter: activated by the .pth
    hook (SSH2CFFI_AS_SSH2=1), or by its own register() fallback without it."""
    env = dict(os.environ, SSH2CFFI_AS_SSH2="1" if activation == "environment" else "")
    hosts = sshd.addresses[:3]
    result = subprocess.run(
        [sys.executable, EXAMPLE, "--port", str(sshd.port), "--user", sshd_login(sshd),
         "--key", sshd.key_paths["id_ed25519"]] + hosts,
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ssh2 is ssh2cffi %s on libssh2 %s under %s %s" % (
        ssh2cffi.__version__, ssh2cffi.utils.version().decode(),
        platform.python_implementation(), platform.python_version())
    assert lines[1:] == ["%s: exit 0: Linux" % host for host in hosts]
