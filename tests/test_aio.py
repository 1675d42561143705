"""ssh2cffi.aio against the real sshd and asyncssh fixtures.

Every test runs its coroutine in a fresh event loop (``run``), with the
default loop and, where it installs (CPython), uvloop.
"""
import asyncio
import gc
import hashlib
import os
import socket
import subprocess

import pytest

from helpers import SSHAgent, sshd_login
from ssh2cffi import aio, exceptions

try:
    import uvloop
except ImportError:  # PyPy: uvloop does not install
    uvloop = None

LOOPS = ["asyncio"] + (["uvloop"] if uvloop is not None else [])
MIB = 1 << 20
DEADLINE = 60  # a bound on each test's coroutine: a hang fails instead of blocking


@pytest.fixture(params=LOOPS)
def run(request):
    """Run a coroutine to completion in a new loop of the parametrised kind."""
    def runner(coroutine):
        if request.param == "uvloop":
            loop = uvloop.new_event_loop()
        else:
            loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(asyncio.wait_for(coroutine, DEADLINE))
        finally:
            loop.close()
    return runner


@pytest.fixture(scope="module")
def known_hosts(sshd, tmp_path_factory):
    """An OpenSSH known_hosts file listing the sshd fixture's host keys."""
    path = tmp_path_factory.mktemp("aio") / "known_hosts"
    with open(path, "w") as out:
        for pub in sshd.host_key_pub.values():
            with open(pub) as key:
                kind, blob = key.read().split()[:2]
            out.write("[%s]:%d %s %s\n" % (sshd.host, sshd.port, kind, blob))
    return str(path)


def sshd_args(sshd, known_hosts, **extra):
    arguments = dict(host=sshd.host, port=sshd.port, username=sshd_login(sshd),
                     key_file=sshd.key_paths["id_ed25519"], known_hosts=known_hosts)
    arguments.update(extra)
    return arguments


def asyncssh_args(server, **extra):
    arguments = dict(host=server.host, port=server.port, username="user", password="pass",
                     known_hosts=None)
    arguments.update(extra)
    return arguments


def open_fds():
    gc.collect()
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[name] = os.readlink("/proc/self/fd/" + name)
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return found


def new_fds(before):
    """Descriptors open now that were not open (to the same thing) in ``before``
    (a snapshot of open_fds(); earlier tests' leftovers may close meanwhile)."""
    return {fd: target for fd, target in open_fds().items() if before.get(fd) != target}


# -- connecting ------------------------------------------------------------------------------
def test_connect_with_a_key_file_and_run(run, sshd, known_hosts):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            result = await conn.run("echo out; echo err >&2; exit 3")
            assert (result.stdout, result.stderr) == (b"out\n", b"err\n")
            assert (result.exit_status, result.exit_signal) == (3, None)
            assert not conn.closed
        assert conn.closed
    run(main())


def test_connect_with_key_data_password_and_agent(run, sshd, known_hosts, asyncssh_server,
                                                  tmp_path):
    with open(sshd.key_paths["id_ed25519"], "rb") as key:
        key_data = key.read()
    agent = SSHAgent(tmp_path, [sshd.key_paths["id_ed25519"]])

    async def main():
        for arguments in (sshd_args(sshd, known_hosts, key_file=None, key_data=key_data),
                          sshd_args(sshd, known_hosts, key_file=None, agent=agent.socket),
                          asyncssh_args(asyncssh_server)):
            async with await aio.connect(**arguments) as conn:
                assert (await conn.run("echo hi")).stdout == b"hi\n"
    try:
        run(main())
    finally:
        agent.stop()


def test_host_key_check_is_on_by_default(run, sshd, tmp_path):
    # another key of each type for the same host and port
    other = tmp_path / "known_hosts"
    lines = []
    for kind, args in (("ed25519", []), ("ecdsa", ["-b", "256"]), ("rsa", ["-b", "2048"])):
        key = str(tmp_path / kind)
        subprocess.run(["ssh-keygen", "-q", "-t", kind] + args + ["-N", "", "-f", key],
                       check=True, stdin=subprocess.DEVNULL)
        with open(key + ".pub") as pub:
            lines.append("[%s]:%d %s\n" % (sshd.host, sshd.port, " ".join(pub.read().split()[:2])))
    other.write_text("".join(lines))

    async def main():
        fds = open_fds()
        with pytest.raises(exceptions.KnownHostCheckNotFoundError):
            await aio.connect(**sshd_args(sshd, str(tmp_path / "missing")))
        with pytest.raises(exceptions.KnownHostCheckMisMatchError):
            await aio.connect(**sshd_args(sshd, str(other)))
        assert new_fds(fds) == {}  # the refused connections' sockets are closed
        # the explicit opt-out
        async with await aio.connect(**sshd_args(sshd, None)) as conn:
            assert (await conn.run("true")).exit_status == 0
    run(main())


def test_failed_authentication_raises(run, sshd, known_hosts, asyncssh_server):
    async def main():
        with pytest.raises(exceptions.AuthenticationError):
            await aio.connect(**asyncssh_args(asyncssh_server, password="wrong"))
        with pytest.raises(ValueError, match="key_file"):
            await aio.connect(**sshd_args(sshd, known_hosts, key_file=None))
        with pytest.raises(OSError):
            await aio.connect(sshd.host, 1, username="x", password="x", known_hosts=None)
    run(main())


# -- commands and channels -----------------------------------------------------------------
def test_run_reports_exit_signal_and_feeds_input(run, sshd, known_hosts, asyncssh_server):
    async def main():
        async with await aio.connect(**asyncssh_args(asyncssh_server)) as conn:
            result = await conn.run("signal TERM")
            assert (result.stdout, result.exit_signal) == (b"bye\n", "TERM")
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            data = os.urandom(3 * MIB)
            result = await conn.run("sha256sum", input=data)
            assert result.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    run(main())


def test_channel_streams_iteration_and_lines(run, sshd, known_hosts):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            # a lot on stderr while stdout is read: both streams are read together
            async with await conn.exec("head -c 3000000 /dev/zero >&2; seq 1 5000") as channel:
                lines = [line async for line in channel.lines()]
                assert lines == [b"%d\n" % n for n in range(1, 5001)]
                assert len(await channel.read_all(stderr=True)) == 3000000
            assert channel.exit_status == 0
            async with await conn.exec("head -c %d /dev/urandom | tee /dev/stderr"
                                       % (8 * MIB)) as channel:
                chunks = [chunk async for chunk in channel]
                out = b"".join(chunks)
                assert len(out) == 8 * MIB
                assert await channel.read_all(stderr=True) == out
    run(main())


def test_stdin_streaming_through_cat(run, conn_kind, sshd, known_hosts, asyncssh_server):
    async def main():
        arguments = (sshd_args(sshd, known_hosts) if conn_kind == "sshd"
                     else asyncssh_args(asyncssh_server))
        async with await aio.connect(**arguments) as conn:
            channel = await conn.exec("cat")
            sent = hashlib.sha256()
            received = hashlib.sha256()
            total = 0

            async def reader():
                nonlocal total
                async for chunk in channel:
                    received.update(chunk)
                    total += len(chunk)

            reading = asyncio.ensure_future(reader())
            for index in range(64):
                block = os.urandom(64 * 1024 + index)
                sent.update(block)
                await channel.write(block)
            await channel.send_eof()
            await reading
            assert received.digest() == sent.digest()
            await channel.close()
    run(main())


@pytest.fixture(params=["sshd", "asyncssh"])
def conn_kind(request):
    return request.param


def test_many_commands_at_once_on_one_connection(run, sshd, known_hosts):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            results = await asyncio.gather(*[
                conn.run("head -c %d /dev/zero | tr '\\0' x; echo %d >&2" % (index * 100000,
                                                                             index))
                for index in range(12)])
            for index, result in enumerate(results):
                assert result.stdout == b"x" * (index * 100000)
                assert result.stderr == b"%d\n" % index
    run(main())


# -- SFTP ---------------------------------------------------------------------------------------
def test_sftp_get_put_and_names(run, sshd, known_hosts, sshd_remote_dir, tmp_path):
    local = tmp_path / "local.bin"
    data = os.urandom(12 * MIB + 5)
    local.write_bytes(data)

    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            async with await conn.sftp() as sftp:
                remote = os.path.join(sshd_remote_dir, "up.bin")
                assert await sftp.put(str(local), remote) == len(data)
                with open(remote, "rb") as uploaded:
                    assert uploaded.read() == data
                back = tmp_path / "back.bin"
                assert await sftp.get(remote, str(back)) == len(data)
                assert back.read_bytes() == data
                assert (await sftp.stat(remote)).filesize == len(data)
                await sftp.mkdir(os.path.join(sshd_remote_dir, "sub"))
                await sftp.rename(remote, os.path.join(sshd_remote_dir, "sub", "moved.bin"))
                assert sorted(await sftp.listdir(sshd_remote_dir)) == ["sub"]
                assert await sftp.listdir(os.path.join(sshd_remote_dir, "sub")) == ["moved.bin"]
                assert await sftp.isdir(os.path.join(sshd_remote_dir, "sub"))
                await sftp.remove(os.path.join(sshd_remote_dir, "sub", "moved.bin"))
                await sftp.rmdir(os.path.join(sshd_remote_dir, "sub"))
                assert await sftp.listdir(sshd_remote_dir) == []
                assert not await sftp.exists(remote)
                with pytest.raises(exceptions.SFTPProtocolError):
                    await sftp.get(os.path.join(sshd_remote_dir, "missing"), str(tmp_path / "x"))
                with pytest.raises(FileNotFoundError):
                    await sftp.put(str(tmp_path / "missing"), remote)
    run(main())


def test_sftp_files_and_concurrent_transfers(run, sshd, known_hosts, sshd_remote_dir, tmp_path):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            sftp = await conn.sftp()
            path = os.path.join(sshd_remote_dir, "file.txt")
            async with await sftp.open(path, "w") as remote:
                assert await remote.write(b"hello\n" * 1000) == 6000
            async with await sftp.open(path, "rb") as remote:
                assert await remote.read(6) == b"hello\n"
                assert await remote.read() == b"hello\n" * 999
                assert await remote.read() == b""
                assert (await remote.stat()).filesize == 6000
            with pytest.raises(ValueError):
                await sftp.open(path, "x")
            # four transfers at once on one connection, byte-exact
            sources = []
            for index in range(4):
                source = tmp_path / ("src%d" % index)
                source.write_bytes(os.urandom(3 * MIB + index))
                sources.append(source)
            await asyncio.gather(*[sftp.put(str(source), os.path.join(sshd_remote_dir, source.name))
                                   for source in sources])
            await asyncio.gather(*[sftp.get(os.path.join(sshd_remote_dir, source.name),
                                            str(source) + ".back") for source in sources])
            for source in sources:
                with open(str(source) + ".back", "rb") as back:
                    assert back.read() == source.read_bytes()
    run(main())


# -- port forwarding ---------------------------------------------------------------------------
def test_local_port_forwarding(run, sshd, known_hosts):
    async def main():
        async def echo(reader, writer):
            data = await reader.read()
            writer.write(data[::-1])
            await writer.drain()
            writer.close()

        target = await asyncio.start_server(echo, "127.0.0.1", 0)
        target_port = target.sockets[0].getsockname()[1]
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            server = await conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", target_port)
            port = server.sockets[0].getsockname()[1]

            async def client(index):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                payload = (b"%d-" % index) * 50000
                writer.write(payload)
                writer.write_eof()
                answer = await reader.read()
                writer.close()
                return answer == payload[::-1]

            assert all(await asyncio.gather(*[client(index) for index in range(5)]))
            server.close()
            await server.wait_closed()
        target.close()
        await target.wait_closed()
    run(main())


# -- many hosts ------------------------------------------------------------------------------
def test_run_on_hosts_yields_results_and_keeps_failures_apart(run, sshd, known_hosts):
    hosts = [(address, sshd.port) for address in sshd.addresses[:6]]
    hosts.append(("127.0.0.1", 1))  # nothing listens there

    async def main():
        seen = {}
        async for outcome in aio.run_on_hosts(
                hosts, "echo $SSH_CONNECTION", limit=3, username=sshd_login(sshd),
                key_file=sshd.key_paths["id_ed25519"], known_hosts=None):
            seen[outcome.host] = outcome
        assert set(seen) == set(hosts)
        failed = seen[("127.0.0.1", 1)]
        assert not failed.ok and isinstance(failed.error, OSError)
        for address, port in hosts[:-1]:
            outcome = seen[(address, port)]
            assert outcome.ok, outcome
            assert outcome.result.stdout.split()[2].decode() == address
    run(main())


def test_put_on_hosts(run, sshd, sshd_remote_dir, tmp_path):
    source = tmp_path / "payload"
    source.write_bytes(os.urandom(MIB))

    async def main():
        hosts = [{"host": address, "port": sshd.port} for address in sshd.addresses[:3]]
        results = [outcome async for outcome in aio.put_on_hosts(
            hosts, str(source), os.path.join(sshd_remote_dir, "payload"), limit=2,
            username=sshd_login(sshd), key_file=sshd.key_paths["id_ed25519"], known_hosts=None)]
        assert [outcome.result for outcome in results] == [MIB] * 3
    run(main())


# -- cancellation, timeouts, failures -------------------------------------------------------
def test_cancelling_a_read_leaves_the_connection_usable(run, sshd, known_hosts):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            channel = await conn.exec("echo first; sleep 30")
            reading = asyncio.ensure_future(channel.read_all())
            await asyncio.sleep(0.3)
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
            # the same channel's data was kept, and the connection works
            assert (await conn.run("echo again")).stdout == b"again\n"
            assert await channel.read() == b"first\n"
            with pytest.raises(asyncio.TimeoutError):  # the command still sleeps
                await asyncio.wait_for(channel.read(), 0.3)
    run(main())


def test_cancelling_a_transfer_leaves_the_connection_usable_or_closed(run, sshd, known_hosts,
                                                                     sshd_remote_dir, tmp_path):
    source = os.path.join(sshd_remote_dir, "big")
    with open(source, "wb") as big:
        big.truncate(2048 * MIB)  # sparse: seconds to transfer, nothing to write first

    async def main():
        fds = open_fds()
        for delay in (0.01, 0.05, 0.1, 0.2, 0.5):
            conn = await aio.connect(**sshd_args(sshd, known_hosts))
            sftp = await conn.sftp()
            transfer = asyncio.ensure_future(sftp.get(source, str(tmp_path / "copy")))
            await asyncio.sleep(delay)
            transfer.cancel()
            with pytest.raises(asyncio.CancelledError):
                await transfer
            if not conn.closed:  # usable: prove it
                result = await asyncio.wait_for(conn.run("echo still"), 30)
                assert result.stdout == b"still\n"
            await conn.close()
        assert new_fds(fds) == {}
    run(main())


def test_timeouts_around_awaits_and_other_connections_unaffected(run, sshd, known_hosts):
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as busy, \
                await aio.connect(**sshd_args(sshd, known_hosts)) as other:
            neighbour = asyncio.ensure_future(other.run("sleep 1; echo neighbour"))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(busy.run("sleep 30"), 0.5)
            assert (await neighbour).stdout == b"neighbour\n"
            assert (await busy.run("echo busy")).stdout == b"busy\n"
    run(main())


def test_server_dropping_the_connection_raises(run, asyncssh_server):
    async def main():
        async with await aio.connect(**asyncssh_args(asyncssh_server)) as conn:
            with pytest.raises((exceptions.SocketDisconnectError, exceptions.SocketRecvError)):
                await conn.run("drop")
    run(main())


def test_silent_server_times_out_and_leaves_no_descriptor(run, asyncssh_server):
    # (the asyncssh server runs in this process: its end of the connection is
    # one of this process's descriptors, so the test looks at our socket itself)
    async def main():
        conn = await aio.connect(**asyncssh_args(asyncssh_server))
        channel = await conn.exec("freeze")
        assert await channel.read() == b"partial"
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(channel.read(), 1)
        await asyncio.wait_for(conn.close(), 60)
        assert conn.closed
        assert conn._io.sock.fileno() == -1
    run(main())


def test_no_descriptor_left_after_close_or_cancellation(run, sshd, known_hosts):
    async def main():
        fds = open_fds()
        for _ in range(5):
            async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
                await conn.run("true")
        task = asyncio.ensure_future(aio.connect(**sshd_args(sshd, known_hosts)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert new_fds(fds) == {}
    run(main())


def test_bad_arguments(run, sshd, known_hosts):
    async def main():
        with pytest.raises(ValueError, match="limit"):
            async for _ in aio.run_on_hosts(["x"], "true", limit=0):
                pass
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            channel = await conn.exec("true")
            with pytest.raises(ValueError):
                await channel.read(0)
            with pytest.raises(TypeError):
                await channel.write(5)
            await channel.close()
        with pytest.raises(exceptions.SocketDisconnectError):
            await conn.run("true")
    run(main())


def test_socket_is_the_connections_own(sshd, known_hosts):
    """Nothing in ssh2cffi.aio makes a thread: the loop's own thread does all the work."""
    import threading

    async def main():
        before = threading.active_count()
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            await conn.run("true")
            assert threading.active_count() == before
            assert isinstance(conn.session.sock, socket.socket)
    asyncio.run(main())


@pytest.mark.skipif(not hasattr(asyncio, "timeout"), reason="asyncio.timeout() is Python >= 3.11")
def test_asyncio_timeout_around_each_kind_of_await(run, sshd, known_hosts, sshd_remote_dir):
    """asyncio.timeout() around a read, a command, an SFTP call and a connect: each
    raises TimeoutError in time, and the connection is left usable or closed."""
    async def main():
        async with await aio.connect(**sshd_args(sshd, known_hosts)) as conn:
            channel = await conn.exec("sleep 30")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await channel.read()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await conn.run("sleep 30")
            # an SFTP request the server answers late: opening a FIFO blocks
            # sshd's SFTP server until something opens the FIFO's other end
            fifo = os.path.join(sshd_remote_dir, "fifo")
            os.mkfifo(fifo, 0o666)
            sftp = await conn.sftp()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await sftp.open(fifo)
            # the open goes on in the background (libssh2 needs it finished)
            writer = os.open(fifo, os.O_WRONLY)  # lets the server's open() return
            assert (await conn.run("echo alive")).stdout == b"alive\n"
            os.close(writer)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0):
                await aio.connect(**sshd_args(sshd, known_hosts))
    run(main())
