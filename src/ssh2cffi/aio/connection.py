"""``connect()`` and ``Connection``: one SSH connection driven by the running event loop."""
from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .. import exceptions
from ..agent import Agent
from ..channel import Channel as _SyncChannel
from ..knownhost import (LIBSSH2_KNOWNHOST_KEY_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
                         LIBSSH2_KNOWNHOST_KEY_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ED25519,
                         LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEYENC_RAW,
                         LIBSSH2_KNOWNHOST_TYPE_PLAIN)
from ..session import (LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
                       LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_HOSTKEY_TYPE_ED25519,
                       LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_METHOD_CRYPT_CS,
                       LIBSSH2_METHOD_CRYPT_SC, Session)
from ..sftp import SFTP as _SyncSFTP
from ._io import SessionIO
from .channel import Channel
from .sftp import SFTP, PathLike

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
_KNOWNHOST_KEY = {
    LIBSSH2_HOSTKEY_TYPE_RSA: LIBSSH2_KNOWNHOST_KEY_SSHRSA,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
    LIBSSH2_HOSTKEY_TYPE_ECDSA_521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
    LIBSSH2_HOSTKEY_TYPE_ED25519: LIBSSH2_KNOWNHOST_KEY_ED25519,
}


class RunResult:
    """What ``Connection.run()`` returns: the command's output and how it ended."""

    __slots__ = ("command", "stdout", "stderr", "exit_status", "exit_signal")

    def __init__(self, command: str, stdout: bytes, stderr: bytes,
                 exit_status: Optional[int], exit_signal: Optional[str]) -> None:
        self.command = command
        self.stdout = stdout
        self.stderr = stderr
        self.exit_status = exit_status
        self.exit_signal = exit_signal  # the signal's name ("TERM") if one ended it

    def __repr__(self) -> str:
        return ("RunResult(command=%r, exit_status=%r, exit_signal=%r, stdout=%d bytes, "
                "stderr=%d bytes)" % (self.command, self.exit_status, self.exit_signal,
                                      len(self.stdout), len(self.stderr)))


class Connection:
    """An authenticated SSH connection (see :func:`connect`).  ``async with`` closes it."""

    def __init__(self, io: SessionIO, host: str, port: int, username: str) -> None:
        self._io = io
        self.host = host
        self.port = port
        self.username = username

    @property
    def session(self) -> Session:
        """The underlying non-blocking ``ssh2cffi.session.Session``."""
        return self._io.session

    @property
    def closed(self) -> bool:
        return self._io.closed

    async def _open(self, fn: Any, *args: Any) -> _SyncChannel:
        io = self._io
        channel = await io.call(fn, *args, lock=io.request_lock, dispose=self._close_later)
        assert isinstance(channel, _SyncChannel)
        return channel

    def _close_later(self, channel: Any) -> None:
        """Dispose of a channel that a cancelled open produced."""
        if isinstance(channel, _SyncChannel):
            self._io.spawn(Channel(self._io, channel).close)

    async def open_session(self) -> Channel:
        """A new session channel (for ``execute``, a shell, a subsystem)."""
        return Channel(self._io, await self._open(self._io.session.open_session))

    async def exec(self, command: str, env: Optional[Dict[str, str]] = None) -> Channel:
        """Start ``command`` on a new channel; read, write and close it yourself."""
        channel = await self.open_session()
        io = self._io
        for name, value in (env or {}).items():
            await io.call(channel.sync_channel.setenv, name, value, lock=io.request_lock)
        await io.call(channel.sync_channel.execute, command, lock=io.request_lock)
        return channel

    async def run(self, command: str, input: Optional[bytes] = None) -> RunResult:
        """Run ``command`` to its end: its stdout, stderr, exit status and exit signal.
        ``input`` is written to its stdin, which is then closed."""
        async with await self.exec(command) as channel:
            if input is not None:
                await channel.write(input)
            await channel.send_eof()
            stdout = await channel.read_all()
            stderr = await channel.read_all(stderr=True)
            await channel.close()
        return RunResult(command, stdout, stderr, channel.exit_status, channel.exit_signal)

    async def sftp(self) -> SFTP:
        """An SFTP session on this connection."""
        io = self._io
        sftp = await io.call(io.session.sftp_init, lock=io.request_lock)
        assert isinstance(sftp, _SyncSFTP)
        return SFTP(io, sftp)

    async def direct_tcpip(self, host: str, port: int) -> Channel:
        """A channel to ``host:port`` as seen from the server (``ssh -W``)."""
        return Channel(self._io, await self._open(self._io.session.direct_tcpip, host, port))

    async def forward_local_port(self, listen_host: str, listen_port: int, dest_host: str,
                                 dest_port: int) -> "asyncio.AbstractServer":
        """Local port forwarding (``ssh -L``): each connection to
        ``listen_host:listen_port`` (port 0: any free port) is carried to
        ``dest_host:dest_port`` through the server.  Returns the listening
        ``asyncio`` server: ``server.sockets[0].getsockname()`` says where it
        listens, ``server.close()`` stops it."""
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                channel = await self.direct_tcpip(dest_host, dest_port)
            except (exceptions.SSH2Error, OSError):
                writer.close()
                return
            await _relay(reader, writer, channel)

        return await asyncio.start_server(serve, listen_host, listen_port)

    async def close(self) -> None:
        """Disconnect (with a goodbye when the session is in a state to send one)."""
        await self._io.close()

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return "<aio.Connection %s@%s:%d%s>" % (self.username, self.host, self.port,
                                                " closed" if self.closed else "")


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 channel: Channel) -> None:
    """Copy both ways between a local TCP connection and a channel until both end."""
    async def local_to_remote() -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                await channel.send_eof()
                return
            await channel.write(data)

    async def remote_to_local() -> None:
        async for chunk in channel:
            writer.write(chunk)
            await writer.drain()
        writer.write_eof()

    try:
        await asyncio.gather(local_to_remote(), remote_to_local())
    except (exceptions.SSH2Error, OSError):
        pass
    finally:
        writer.close()
        try:
            await channel.close()
        except (exceptions.SSH2Error, OSError):
            pass


def _numeric_address(host: str, port: int) -> Optional[Tuple[int, Any]]:
    """(family, address) of an IP address literal, else None (a name to resolve)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family, (host, port)
    return None


async def _open_socket(host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    numeric = _numeric_address(host, port)
    if numeric is not None:  # no resolver: loop.getaddrinfo runs in a thread
        infos: List[Any] = [(numeric[0], socket.SOCK_STREAM, 0, "", numeric[1])]
    else:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    error: Optional[BaseException] = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except BaseException as exc:
            sock.close()
            error = exc
            if not isinstance(exc, OSError):
                raise
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error if error is not None else OSError("no address for %s" % host)


def _check_host_key(session: Session, known_hosts: str, host: str, port: int) -> None:
    """Raise unless ``known_hosts`` lists the server's key for ``host``/``port``."""
    key, key_type = session.hostkey()
    known = session.knownhost_init()
    path = os.path.expanduser(known_hosts)
    if os.path.exists(path):
        known.readfile(path)
    typemask = (LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW
                | _KNOWNHOST_KEY.get(key_type, 0))
    known.checkp(host, port, key, typemask)  # raises KnownHostCheck*Error


async def _authenticate(io: SessionIO, username: str, key_file: Optional[PathLike],
                        key_data: Optional[bytes], passphrase: str, password: Optional[str],
                        agent: Union[bool, str]) -> None:
    session = io.session
    attempts: List[Tuple[str, Any, Sequence[Any]]] = []
    if key_file is not None:
        attempts.append(("key file", session.userauth_publickey_fromfile,
                         (username, os.fspath(key_file), passphrase)))
    if key_data is not None:
        attempts.append(("key", session.userauth_publickey_frommemory,
                         (username, key_data, passphrase)))
    if password is not None:
        attempts.append(("password", session.userauth_password, (username, password)))
    if not attempts and not agent:
        raise ValueError("connect() needs key_file, key_data, password or agent=True")
    failures = []
    for name, fn, args in attempts:
        try:
            await io.call(fn, *args, lock=io.request_lock)
            return
        except exceptions.SSH2Error as exc:
            failures.append("%s: %s" % (name, exc))
    if agent:
        keys = Agent(session)
        if isinstance(agent, str):
            keys.set_identity_path(agent)
        try:
            keys.connect()
            for key in keys.get_identities():
                try:
                    await io.call(keys.userauth, username, key, lock=io.request_lock)
                    return
                except exceptions.SSH2Error as exc:
                    comment = (key.comment or b"").decode("utf-8", "replace")
                    failures.append("agent key %s: %s" % (comment, exc))
        except exceptions.SSH2Error as exc:
            failures.append("agent: %s" % exc)
        finally:
            keys.disconnect()
    raise exceptions.AuthenticationError("authentication of %s failed: %s"
                                         % (username, "; ".join(failures) or "no agent keys"))


async def connect(host: str, port: int = 22, *, username: Optional[str] = None,
                  key_file: Optional[PathLike] = None, key_data: Optional[bytes] = None,
                  passphrase: str = "", password: Optional[str] = None,
                  agent: Union[bool, str] = False,
                  known_hosts: Optional[str] = DEFAULT_KNOWN_HOSTS,
                  connect_timeout: Optional[float] = 30.0,
                  ciphers: Optional[str] = None) -> Connection:
    """Connect, check the host key, authenticate: an authenticated :class:`Connection`.

    Authentication tries ``key_file``, ``key_data`` (a private key's file
    contents), ``password`` and then the agent's keys (``agent=True`` for
    ``SSH_AUTH_SOCK``, or the agent socket's path), in that order.

    The server's host key must be listed in ``known_hosts`` (OpenSSH's format;
    ``~/.ssh/known_hosts`` by default), or ``KnownHostCheckNotFoundError`` /
    ``KnownHostCheckMisMatchError`` is raised.  ``known_hosts=None`` turns the
    check off: anyone between you and the server can then read and change
    everything.

    ``connect_timeout`` bounds the whole of it (TCP, handshake, authentication):
    ``asyncio.TimeoutError`` when it passes.  ``ciphers``: libssh2's cipher
    preference, both directions (``"aes128-ctr,aes256-ctr"``).
    """
    user = username if username is not None else _local_user()
    sock = await asyncio.wait_for(_open_socket(host, port), connect_timeout)
    io = None
    try:
        session = Session()
        if ciphers is not None:
            session.method_pref(LIBSSH2_METHOD_CRYPT_CS, ciphers)
            session.method_pref(LIBSSH2_METHOD_CRYPT_SC, ciphers)
        io = SessionIO(session, sock)

        async def start() -> None:
            assert io is not None
            await io.call(session.handshake, sock, lock=io.request_lock)
            if known_hosts is not None:
                _check_host_key(session, known_hosts, host, port)
            await _authenticate(io, user, key_file, key_data, passphrase, password, agent)

        await asyncio.wait_for(start(), connect_timeout)
    except BaseException:
        if io is not None:
            io.abort()
        else:
            sock.close()
        raise
    return Connection(io, host, port, user)


def _local_user() -> str:
    import getpass
    return getpass.getuser()
