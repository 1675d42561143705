"""SSH servers used by the test-suite.

Two servers are provided:

* :class:`OpenSSHServer` runs the system ``/usr/sbin/sshd`` on 127.0.0.1
  with a throw-away configuration, host keys and user keys.
* :class:`AsyncSSHServer` runs an in-process asyncssh server, in its own
  event loop thread, whose behaviour is scripted so that tests can provoke
  situations a real sshd cannot produce on demand (exit signals, abrupt
  disconnects, multi-prompt keyboard-interactive auth, ...).

This module deliberately does not import pytest, so it can also be used
from a plain Python prompt when debugging.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence

__all__ = ["OpenSSHServer", "AsyncSSHServer", "free_port"]

LOCALHOST = "127.0.0.1"
#: More loopback addresses the OpenSSH server listens on, at the same port, so
#: that tests can reach ten distinct "hosts" (Linux routes 127.0.0.0/8 to lo).
EXTRA_ADDRESSES = tuple("127.0.0.%d" % last for last in range(2, 11))
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "ssh-keygen"
PASSPHRASE = "s3cret pass"

# Local account created by the setup script for password authentication.
PASSWORD_USER = "ssh2cffi"
PASSWORD_USER_PASSWORD = "ssh2cffi-pw"


def openssh_version() -> tuple:
    """The installed OpenSSH's version, e.g. (9, 2) on Debian 12, (10, 0) on 13."""
    out = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    # "OpenSSH_10.0p2 Debian-7, OpenSSL 3.5.1 1 Jul 2025"
    major, minor = out.split("_", 1)[1].split("p", 1)[0].split(".")[:2]
    return int(major), int(minor)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(None)
    return sock


def _wait_for_port(host: str, port: int, deadline: float,
                   alive=lambda: True) -> bool:
    """Poll until host:port accepts TCP connections or the deadline passes."""
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _read_text(path: str) -> str:
    try:
        with open(path, "r", errors="replace") as fobj:
            return fobj.read()
    except OSError:
        return ""


# ---------------------------------------------------------------------------
# OpenSSH
# ---------------------------------------------------------------------------

class OpenSSHServer:
    """A real OpenSSH ``sshd`` listening on 127.0.0.1 at a free port.

    Everything lives in a fresh temporary directory (:attr:`dir`), removed by
    :meth:`stop`.  ``key_paths`` maps the key file name (``"id_ed25519"``,
    ``"id_ed25519_pass"``, ``"id_ecdsa"``, ``"id_rsa"``, ``"id_rsa_pass"``)
    to the private key path; the public key is that path plus ``".pub"``.
    The ``*_pass`` keys are encrypted with :attr:`passphrase`.
    :attr:`addresses` lists every address it listens on at :attr:`port`:
    :attr:`host` (127.0.0.1) first, then ``extra_addresses``.
    """

    HOST_KEY_TYPES = (
        ("ed25519", ["-t", "ed25519"]),
        ("ecdsa", ["-t", "ecdsa", "-b", "256"]),
        ("rsa", ["-t", "rsa", "-b", "3072"]),
    )
    # name, ssh-keygen arguments, encrypted?
    USER_KEY_TYPES = (
        ("id_ed25519", ["-t", "ed25519"], False),
        ("id_ed25519_pass", ["-t", "ed25519"], True),
        ("id_ecdsa", ["-t", "ecdsa", "-b", "256"], False),
        ("id_rsa", ["-t", "rsa", "-b", "3072", "-m", "PEM"], False),
        ("id_rsa_pass", ["-t", "rsa", "-b", "3072", "-m", "PEM"], True),
    )

    def __init__(self, sshd: str = SSHD, start_timeout: float = 10.0,
                 extra_addresses: Sequence[str] = EXTRA_ADDRESSES):
        self.sshd = sshd
        self.start_timeout = start_timeout
        self.host = LOCALHOST
        self.addresses: List[str] = [LOCALHOST] + list(extra_addresses)
        self.port = 0
        self.user = getpass.getuser()
        self.passphrase = PASSPHRASE
        self.dir: Optional[str] = None
        self.key_paths: Dict[str, str] = {}
        self.host_key_pub: Dict[str, str] = {}
        self.host_key_paths: Dict[str, str] = {}
        self.config_path: Optional[str] = None
        self.log_path: Optional[str] = None
        self.stderr_path: Optional[str] = None
        self.authorized_keys_path: Optional[str] = None
        self.proc: Optional[subprocess.Popen] = None
        try:
            pwd.getpwnam(PASSWORD_USER)
        except KeyError:
            self.password_user: Optional[str] = None
            self.password: Optional[str] = None
        else:
            self.password_user = PASSWORD_USER
            self.password = PASSWORD_USER_PASSWORD

    # -- setup -------------------------------------------------------------

    def _keygen(self) -> None:
        assert self.dir is not None
        jobs = []
        for name, args in self.HOST_KEY_TYPES:
            path = os.path.join(self.dir, "ssh_host_%s_key" % name)
            self.host_key_paths[name] = path
            self.host_key_pub[name] = path + ".pub"
            jobs.append((path, args, ""))
        for name, args, encrypted in self.USER_KEY_TYPES:
            path = os.path.join(self.dir, name)
            self.key_paths[name] = path
            jobs.append((path, args, self.passphrase if encrypted else ""))
        procs = []
        for path, args, passphrase in jobs:
            cmd = [SSH_KEYGEN, "-q"] + args + [
                "-N", passphrase, "-C", "ssh2cffi-test", "-f", path]
            procs.append((cmd, subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT)))
        for cmd, proc in procs:
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError("%s failed: %s" % (
                    " ".join(cmd), out.decode(errors="replace")))
        with open(self.authorized_keys_path, "w") as auth:
            for name, _, _ in self.USER_KEY_TYPES:
                auth.write(_read_text(self.key_paths[name] + ".pub").strip()
                           + "\n")
        os.chmod(self.authorized_keys_path, 0o644)

    def _write_config(self) -> None:
        assert self.dir is not None
        lines = ["ListenAddress %s" % address for address in self.addresses]
        lines.append("Port %d" % self.port)
        lines += ["HostKey %s" % self.host_key_paths[name]
                  for name, _ in self.HOST_KEY_TYPES]
        lines += [
            "PidFile %s" % os.path.join(self.dir, "sshd.pid"),
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AuthorizedKeysFile %s" % self.authorized_keys_path,
            "AcceptEnv LANG LC_* SSH2CFFI_*",
            "Subsystem sftp internal-sftp",
            # libssh2 1.10 only signs with plain ssh-rsa (SHA-1).
            "PubkeyAcceptedAlgorithms +ssh-rsa",
            "HostKeyAlgorithms +ssh-rsa",
            "AllowTcpForwarding yes",
            "AllowStreamLocalForwarding yes",
            "GatewayPorts no",
            "X11Forwarding yes",
            "X11UseLocalhost yes",
            "LogLevel DEBUG1",
            "MaxSessions 100",
            "MaxStartups 200",
            "PrintMotd no",
            "PrintLastLog no",
        ]
        if openssh_version() >= (9, 8):
            # OpenSSH 9.8+ locks a source address out after failed logins, and
            # every test connects from 127.0.0.1, many of them failing on purpose.
            lines.append("PerSourcePenalties no")
        with open(self.config_path, "w") as cfg:
            cfg.write("\n".join(lines) + "\n")

    def start(self) -> "OpenSSHServer":
        if self.proc is not None:
            return self
        # privilege separation directory required by sshd
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="ssh2cffi-sshd-")
        # world-readable so that sshd can read authorized_keys while acting
        # as a non-root user (private keys stay 0600)
        os.chmod(self.dir, 0o755)
        self.config_path = os.path.join(self.dir, "sshd_config")
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.stderr_path = os.path.join(self.dir, "sshd.stderr")
        self.authorized_keys_path = os.path.join(self.dir, "authorized_keys")
        try:
            self._keygen()
            last_error = ""
            for _attempt in range(3):
                self.port = free_port()
                self._write_config()
                if self._launch():
                    return self
                last_error = self._logs()
                # a port race is the only thing worth retrying
                if "Address already in use" not in last_error:
                    break
            raise RuntimeError(
                "sshd did not start listening on %s:%d\n%s"
                % (self.host, self.port, last_error))
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> bool:
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [self.sshd, "-D", "-e", "-f", self.config_path,
                 "-E", self.log_path],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                close_fds=True)
        proc = self.proc
        deadline = time.monotonic() + self.start_timeout
        ok = all(_wait_for_port(address, self.port, deadline,
                                alive=lambda: proc.poll() is None)
                 for address in self.addresses)
        if ok and proc.poll() is None:
            return True
        self._terminate()
        return False

    def _logs(self) -> str:
        return "--- sshd log ---\n%s\n--- sshd stderr ---\n%s" % (
            _read_text(self.log_path or ""),
            _read_text(self.stderr_path or ""))

    def logs(self) -> str:
        """Contents of the sshd log and stderr (for failure messages)."""
        return self._logs()

    # -- runtime helpers ---------------------------------------------------

    def connect_socket(self) -> socket.socket:
        """A blocking TCP socket connected to the server (TCP_NODELAY)."""
        return _connect(self.host, self.port)

    def _descendants(self) -> List[int]:
        """PIDs of all descendants of the listening sshd (via /proc)."""
        if self.proc is None:
            return []
        children: Dict[int, List[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry, "r") as fobj:
                    stat = fobj.read()
            except OSError:
                continue
            # the command name is in parentheses and may contain spaces
            fields = stat[stat.rfind(")") + 2:].split()
            try:
                ppid = int(fields[1])
            except (IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        result: List[int] = []
        todo = list(children.get(self.proc.pid, []))
        while todo:
            pid = todo.pop()
            result.append(pid)
            todo.extend(children.get(pid, []))
        return result

    def kill_connections(self) -> int:
        """SIGKILL every per-connection sshd process (and what they run).

        The listener keeps running, so new connections still work; existing
        clients see their TCP connection drop.  Returns the number of
        processes killed.
        """
        killed = 0
        for pid in self._descendants():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    # -- teardown ----------------------------------------------------------

    def _terminate(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            self.kill_connections()
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.proc = None

    def stop(self) -> None:
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "OpenSSHServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "<OpenSSHServer %s:%d dir=%s>" % (self.host, self.port,
                                                 self.dir)


# ---------------------------------------------------------------------------
# asyncssh
# ---------------------------------------------------------------------------

_BANNER = "Welcome to the asyncssh test server\n"
# RFC 4819's subsystem: its registered name (the one libssh2 asks for) and
# the name of the draft it comes from.
_PUBLICKEY_SUBSYSTEMS = ("publickey", "publickey@vandyke.com")
_PATTERN = bytes(range(251))


def _pattern_bytes(start: int, count: int) -> bytes:
    """Slice of the infinite sequence ``i % 251`` (i = start ...)."""
    offset = start % 251
    reps = (offset + count) // 251 + 1
    return (_PATTERN * reps)[offset:offset + count]


def _make_asyncssh_classes():
    """Build the asyncssh subclasses lazily so importing this module does not
    require asyncssh (only AsyncSSHServer does)."""
    import asyncssh

    class _Process(asyncssh.SSHServerProcess):
        """Server process that refuses every subsystem except sftp and publickey."""

        def subsystem_requested(self, subsystem: str) -> bool:
            if subsystem in _PUBLICKEY_SUBSYSTEMS:
                # served by AsyncSSHServer._publickey (via the process factory)
                return super().subsystem_requested(subsystem)
            if subsystem != "sftp":
                return False
            return super().subsystem_requested(subsystem)

    class _SFTPServer(asyncssh.SFTPServer):
        """SFTP whose files named ``dropread*`` / ``dropwrite*`` drop the
        connection once a read / write reaches 1 MiB into the file, and
        ``freezeread*`` stops answering there."""

        def read(self, file_obj, offset, size):
            name = os.path.basename(os.fsdecode(file_obj.name))
            if offset >= _FAULT_OFFSET:
                if name.startswith("dropread"):
                    self.connection.abort()
                    return asyncio.get_event_loop().create_future()
                if name.startswith("freezeread"):
                    _freeze(self.connection)
                    return asyncio.get_event_loop().create_future()
            return super().read(file_obj, offset, size)

        def write(self, file_obj, offset, data):
            name = os.path.basename(os.fsdecode(file_obj.name))
            if offset >= _FAULT_OFFSET and name.startswith("dropwrite"):
                self.connection.abort()
                return asyncio.get_event_loop().create_future()
            return super().write(file_obj, offset, data)

    class _Server(asyncssh.SSHServer):
        def __init__(self, owner: "AsyncSSHServer"):
            self._owner = owner
            self._conn = None

        # connection bookkeeping (so stop() can close everything)
        def connection_made(self, conn) -> None:
            self._conn = conn
            self._owner._connections.add(conn)
            fault = self._owner.handshake_fault
            loop = asyncio.get_event_loop()
            # these run once asyncssh has sent its version line: the client is
            # then in the middle of its handshake (version exchange, key exchange)
            if fault == "drop":
                loop.call_soon(conn.abort)
            elif fault == "hang":    # reads nothing more, sends nothing more
                loop.call_soon(_freeze, conn)
            elif fault == "garbage":
                loop.call_soon(_send_garbage, conn)

        def connection_lost(self, exc) -> None:
            self._owner._connections.discard(self._conn)

        # authentication
        def begin_auth(self, username: str) -> bool:
            self._conn.send_auth_banner(_BANNER)
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str):
            if username == "dropauth":
                self._conn.abort()
                return False
            if username == "hangauth":
                _freeze(self._conn)
                return asyncio.get_event_loop().create_future()  # never answered
            if username == "garbageauth":
                _send_garbage(self._conn)
                return asyncio.get_event_loop().create_future()
            return username == "user" and password == "pass"

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key) -> bool:
            return (username == "user" and
                    key.public_data in self._owner._authorized_blobs)

        def kbdint_auth_supported(self) -> bool:
            return True

        def get_kbdint_challenge(self, username: str, lang: str,
                                 submethods: str):
            if username == "kbd":
                return ("Test login", "Answer the prompts", "en",
                        [("Password: ", False), ("Code: ", True)])
            if username == "kbd1":
                return ("Test login", "", "en", [("Password: ", False)])
            return False

        def validate_kbdint_response(self, username: str, responses) -> bool:
            if username == "kbd":
                return list(responses) == ["pass", "1234"]
            if username == "kbd1":
                return list(responses) == ["pass"]
            return False

        # remote port forwarding, only when the server was made with
        # port_forwarding=True
        def server_requested(self, listen_host: str, listen_port: int):
            return self._owner.port_forwarding

        def connection_requested(self, dest_host: str, dest_port: int,
                                 orig_host: str, orig_port: int) -> bool:
            # direct-tcpip: asyncssh connects to the destination itself (the
            # jump-host tests run sessions to sshd through this server)
            return True

        # sessions
        def session_requested(self):
            owner = self._owner
            return _Process(owner._handle_process, owner._sftp_factory,
                            3, False)

    return asyncssh, _Server, _SFTPServer


#: Where the SFTP fault files (dropread*, dropwrite*, freezeread*) fail.
_FAULT_OFFSET = 1 << 20


def _freeze(conn) -> None:
    """The peer stops answering: nothing read, nothing written, socket kept open."""
    transport = conn._transport  # asyncssh keeps it private; tests need the raw stream
    if transport is not None:
        transport.pause_reading()
        conn._transport = _MuteTransport(transport)


class _MuteTransport:
    """Wraps a transport so that asyncssh's later writes go nowhere."""

    def __init__(self, transport) -> None:
        self._transport = transport

    def write(self, data) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._transport, name)


def _send_garbage(conn) -> None:
    """Bytes that are no SSH packet, straight into the encrypted stream."""
    transport = conn._transport
    if transport is not None:
        transport.write(bytes(range(256)) * 64)


class AsyncSSHServer:
    """In-process asyncssh server with scripted behaviour.

    Authentication:

    * user ``"user"``: password ``"pass"``, or any public key whose ``.pub``
      file was passed as *authorized_keys*;
    * user ``"kbd"``: keyboard-interactive with two prompts,
      ``"Password: "`` (no echo) -> ``"pass"`` and ``"Code: "`` (echo)
      -> ``"1234"``;
    * user ``"kbd1"``: keyboard-interactive, ``"Password: "`` -> ``"pass"``.

    An auth banner (:attr:`banner`) is sent before authentication.

    Exec commands: ``echo TEXT``, ``stderr TEXT``, ``exit N``,
    ``signal NAME``, ``cat``, ``env NAME``, ``pty``, ``ptyinfo`` (terminal
    type, size in characters and pixels, modes), ``winch`` (prints ``ready``,
    then the first window-change size), ``bytes N``,
    ``sleep SECS``, ``drop``, ``hang``; anything else writes
    ``unknown command`` to stderr and exits 127.  Faults: ``drop`` (writes
    ``partial``, then drops the connection), ``freeze`` (``partial``, then the
    connection stops answering), ``garbage`` (``partial``, then bytes that are
    no SSH packet), ``drop-after N`` (reads N bytes of stdin, then drops); users
    ``dropauth``, ``hangauth`` and ``garbageauth`` do the same during password
    auth; SFTP files named ``dropread*``, ``dropwrite*`` and ``freezeread*``
    fail 1 MiB in; ``handshake_fault`` ("drop", "hang", "garbage") makes every
    connection fail during its handshake.  A shell request starts a
    line echo shell (``"> " + line``) that ends on an ``exit`` line.  The
    ``sftp`` subsystem is served (chrooted to :attr:`dir`), and the
    ``publickey`` subsystem (RFC 4819: version, add, remove, list; keys are kept
    per user in :attr:`publickeys`, for the server's lifetime); other subsystems
    are refused.  Remote port forwarding (``tcpip-forward``) is refused unless
    the server is made with ``port_forwarding=True``.
    """

    banner = _BANNER

    def __init__(self, authorized_keys: Optional[List[str]] = None,
                 start_timeout: float = 10.0, port_forwarding: bool = False,
                 handshake_fault: Optional[str] = None):
        self.host = LOCALHOST
        self.port = 0
        self.start_timeout = start_timeout
        self.authorized_keys = list(authorized_keys or [])
        self.dir: Optional[str] = None
        self.host_key = None
        self.host_key_pub: Optional[str] = None
        self._authorized_blobs: set = set()
        self._connections: set = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._acceptor = None
        self._asyncssh = None
        self._server_cls = None
        # tcpip-forward requests are refused unless this is True
        self.port_forwarding = port_forwarding
        # publickey subsystem store: user -> {(algorithm, blob): [(name, value)]}
        self.publickeys: Dict[str, Dict[tuple, list]] = {}
        # what every new connection does to its handshake: None, "drop",
        # "hang" or "garbage" (see _Server.connection_made)
        self.handshake_fault: Optional[str] = handshake_fault

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "AsyncSSHServer":
        if self._thread is not None:
            return self
        self._asyncssh, self._server_cls, self._sftp_cls = _make_asyncssh_classes()
        asyncssh = self._asyncssh
        self.dir = tempfile.mkdtemp(prefix="ssh2cffi-asyncssh-")
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_pub = os.path.join(self.dir, "ssh_host_ed25519_key.pub")
        self.host_key.write_public_key(self.host_key_pub)
        self._authorized_blobs = {
            asyncssh.read_public_key(path).public_data
            for path in self.authorized_keys}

        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.call_soon(ready.set)
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="asyncssh-server",
                                        daemon=True)
        self._thread.start()
        ready.wait(self.start_timeout)
        try:
            fut = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
            fut.result(self.start_timeout)
            if not _wait_for_port(self.host, self.port,
                                  time.monotonic() + self.start_timeout):
                raise RuntimeError("asyncssh server is not accepting "
                                   "connections on %s:%d"
                                   % (self.host, self.port))
        except BaseException:
            self.stop()
            raise
        return self

    async def _listen(self) -> None:
        asyncssh = self._asyncssh
        self._acceptor = await asyncssh.create_server(
            lambda: self._server_cls(self), self.host, 0,
            server_host_keys=[self.host_key],
            encoding=None,          # channels carry bytes
            line_editor=False,      # PTY sessions: no echo/line editing
            allow_scp=False,
            keepalive_interval=0)
        self.port = self._acceptor.get_port()

    def _sftp_factory(self, chan):
        return self._sftp_cls(chan, chroot=self.dir.encode())

    async def _shutdown(self) -> None:
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.close()            # accept no more connections
        # Abort the connections before waiting for the acceptor: since Python
        # 3.12.1, asyncio's Server.wait_closed() also waits for every
        # connection it accepted to close.
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()
        if acceptor is not None:
            await acceptor.wait_closed()
        # give aborts a chance to run, then cancel whatever is left
        await asyncio.sleep(0)
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            try:
                fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
                fut.result(10)
            except Exception:  # best effort shutdown
                pass
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        if loop is not None and not loop.is_running():
            loop.close()
        self._loop = None
        self._thread = None
        self._acceptor = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "AsyncSSHServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "<AsyncSSHServer %s:%d>" % (self.host, self.port)

    def connect_socket(self) -> socket.socket:
        """A blocking TCP socket connected to the server (TCP_NODELAY)."""
        return _connect(self.host, self.port)

    # -- sessions ----------------------------------------------------------

    async def _handle_process(self, process) -> None:
        if process.subsystem in _PUBLICKEY_SUBSYSTEMS:
            await self._publickey(process)
            return
        try:
            if process.command is None:
                await self._shell(process)
            else:
                await self._exec(process, process.command)
        except (self._asyncssh.Error, OSError):
            # the client went away or the channel broke: nothing to report
            process.close()
        except Exception as exc:  # e.g. "exit abc"
            process.stderr.write(("server error: %r\n" % (exc,)).encode())
            process.exit(1)

    async def _shell(self, process) -> None:
        while True:
            line = await process.stdin.readline()
            if not line:
                break
            text = line.rstrip(b"\r\n")
            if text.strip() == b"exit":
                break
            process.stdout.write(b"> " + text + b"\n")
            await process.stdout.drain()
        process.exit(0)

    async def _exec(self, process, command: str) -> None:
        name, _, arg = command.partition(" ")
        out, err = process.stdout, process.stderr

        if name == "echo":
            out.write(arg.encode() + b"\n")
            process.exit(0)
        elif name == "stderr":
            err.write(arg.encode() + b"\n")
            process.exit(0)
        elif name == "exit":
            process.exit(int(arg or "0"))
        elif name == "signal":
            out.write(b"bye\n")
            await out.drain()
            process.exit_with_signal(arg, core_dumped=False,
                                     msg="killed by test", lang="en")
        elif name == "cat":
            while True:
                data = await process.stdin.read(65536)
                if not data:
                    break
                out.write(data)
                await out.drain()
            process.exit(0)
        elif name == "env":
            value = process.env.get(arg)
            out.write((value if value is not None else "unset").encode()
                      + b"\n")
            process.exit(0)
        elif name == "pty":
            term = process.term_type
            if term is None:
                out.write(b"nopty\n")
            else:
                width, height = process.term_size[:2]
                out.write(("%s %d %d\n" % (term, width, height)).encode())
            process.exit(0)
        elif name == "ptyinfo":
            # term, size in characters and pixels, and the terminal modes
            if process.term_type is None:
                out.write(b"nopty\n")
            else:
                width, height, pixwidth, pixheight = process.term_size
                modes = ",".join("%d=%d" % item
                                 for item in sorted(process.term_modes.items()))
                out.write(("%s %d %d %d %d %s\n" % (
                    process.term_type, width, height, pixwidth, pixheight,
                    modes or "-")).encode())
            process.exit(0)
        elif name == "winch":
            # print "ready", then the size of the first window-change request
            out.write(b"ready\n")
            await out.drain()
            try:
                await process.stdin.read(1)
                out.write(b"no window change\n")
            except self._asyncssh.TerminalSizeChanged as change:
                out.write(("%d %d %d %d\n" % (
                    change.width, change.height, change.pixwidth,
                    change.pixheight)).encode())
            process.exit(0)
        elif name == "bytes":
            total = int(arg)
            sent = 0
            while sent < total:
                count = min(32768, total - sent)
                out.write(_pattern_bytes(sent, count))
                sent += count
                await out.drain()
            process.exit(0)
        elif name == "sleep":
            await asyncio.sleep(float(arg))
            process.exit(0)
        elif name == "drop":
            out.write(b"partial")
            await out.drain()
            # let the transport flush "partial" before killing it
            await asyncio.sleep(0.1)
            process.get_extra_info("connection").abort()
        elif name == "hang":
            await process.channel.wait_closed()
        elif name == "freeze":
            # some output, then the whole connection stops answering
            out.write(b"partial")
            await out.drain()
            await asyncio.sleep(0.1)
            _freeze(process.get_extra_info("connection"))
            await asyncio.get_event_loop().create_future()
        elif name == "garbage":
            out.write(b"partial")
            await out.drain()
            await asyncio.sleep(0.1)
            _send_garbage(process.get_extra_info("connection"))
            await asyncio.get_event_loop().create_future()
        elif name == "debug":
            # SSH_MSG_DEBUG with always_display set, then the output
            process.get_extra_info("connection").send_debug(arg, always_display=True)
            out.write(b"sent\n")
            process.exit(0)
        elif name == "ignore":
            # SSH_MSG_IGNORE carrying arg, then the output
            conn = process.get_extra_info("connection")
            conn.send_packet(self._asyncssh.constants.MSG_IGNORE,
                             self._asyncssh.packet.String(arg.encode()))
            out.write(b"sent\n")
            process.exit(0)
        elif name == "disconnect":
            # "disconnect <code> <description>": some output, then
            # SSH_MSG_DISCONNECT with that reason code and description
            code, _, description = arg.partition(" ")
            out.write(b"bye\n")
            await out.drain()
            process.get_extra_info("connection").disconnect(int(code), description)
        elif name == "drop-after":
            # read N bytes of stdin, then drop the connection (a write in flight)
            total, wanted = 0, int(arg)
            while total < wanted:
                data = await process.stdin.read(65536)
                if not data:
                    break
                total += len(data)
            process.get_extra_info("connection").abort()
        else:
            err.write(b"unknown command\n")
            process.exit(127)

    async def _publickey(self, process) -> None:
        """The publickey subsystem (RFC 4819), protocol version 2.

        Serves what libssh2 asks for: ``version``, ``add`` (refused with
        "key already present" unless overwrite is set), ``remove`` ("key not
        found" for an unknown key) and ``list``.  Every packet is written in
        one piece: libssh2 reads a packet with a single channel read.
        """
        import struct

        keys = self.publickeys.setdefault(
            process.get_extra_info("username") or "", {})

        def string(data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + data

        def send(*fields: bytes) -> None:
            body = b"".join(fields)
            process.stdout.write(struct.pack(">I", len(body)) + body)

        def status(code: int, text: str) -> None:
            send(string(b"status"), struct.pack(">I", code),
                 string(text.encode()), string(b"en"))

        try:
            while True:
                size = struct.unpack(">I", await process.stdin.readexactly(4))[0]
                packet = await process.stdin.readexactly(size)
                offset = 0

                def take(count: int) -> bytes:
                    nonlocal offset
                    if offset + count > len(packet):
                        raise ValueError("truncated publickey packet")
                    offset += count
                    return packet[offset - count:offset]

                def u32() -> int:
                    return struct.unpack(">I", take(4))[0]

                def get_string() -> bytes:
                    return take(u32())

                request = get_string()
                if request == b"version":
                    send(string(b"version"), struct.pack(">I", min(u32(), 2)))
                elif request == b"add":
                    name, blob = get_string(), get_string()
                    overwrite = take(1) != b"\0"
                    attrs = []
                    for _ in range(u32()):
                        attr_name, attr_value = get_string(), get_string()
                        take(1)  # "critical": every attribute is understood
                        attrs.append((attr_name, attr_value))
                    if (name, blob) in keys and not overwrite:
                        status(6, "key already present")
                    else:
                        keys[(name, blob)] = attrs
                        status(0, "success")
                elif request == b"remove":
                    name, blob = get_string(), get_string()
                    if keys.pop((name, blob), None) is None:
                        status(4, "key not found")
                    else:
                        status(0, "success")
                elif request == b"list":
                    for (name, blob), attrs in list(keys.items()):
                        send(string(b"publickey"), string(name), string(blob),
                             struct.pack(">I", len(attrs)),
                             *[string(n) + string(v) for n, v in attrs])
                    status(0, "success")
                else:
                    status(8, "request not supported")
                await process.stdout.drain()
        except (asyncio.IncompleteReadError, ValueError, self._asyncssh.Error,
                OSError):
            pass  # the client closed the subsystem (or broke the protocol)
        process.exit(0)
