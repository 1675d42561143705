"""Bad-input fuzzing of ssh2cffi's public API, run in a child interpreter.

``python fuzz_driver.py PHASE GROUP EXAMPLES`` connects to the servers named
in the environment (see test_fuzz.py), builds live objects of every public
class of GROUP, brings them to PHASE ("live", "closed": children closed,
"disconnected": the session disconnected and its socket closed) and calls
every public method EXAMPLES times with arguments drawn by hypothesis: one
argument at a time replaced by a wrong type, None, a negative, zero, huge
(> 2**63) or NaN/inf number, non-UTF-8 bytes, a str with a lone surrogate or
a NUL byte; or (in the closed and disconnected phases) all arguments valid.

Each call must end with a return value or a Python exception of an allowed
class; a TypeError/ValueError/OverflowError must name the argument that was
bad.  The driver prints one JSON line per finding and a summary line; a
crash (a signal) or a hang (the parent's timeout) fails the parent test.
"""
from __future__ import annotations

import inspect
import itertools
import json
import os
import socket
import sys
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssh2cffi.exceptions as exceptions
from ssh2cffi import knownhost as knownhost_mod
from ssh2cffi import utils
from ssh2cffi.channel import Channel
from ssh2cffi.listener import Listener
from ssh2cffi.publickey import PublicKeyAttribute
from ssh2cffi.session import (LIBSSH2_FLAG_SIGPIPE, LIBSSH2_HOSTKEY_HASH_SHA1,
                              LIBSSH2_METHOD_KEX, Session)
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_WRITE
from ssh2cffi.sftp_handle import SFTPAttributes

ALLOWED = (TypeError, ValueError, OverflowError, NotImplementedError,
           exceptions.SSH2Error)
MUST_NAME_ARGUMENT = (TypeError, ValueError, OverflowError)
#: Methods that open a local file (the parameter naming it): like open(), they
#: raise OSError (FileNotFoundError...) with that file name when it cannot be opened.
LOCAL_FILE_METHODS = {"put": "local_path", "get": "local_path"}
TIMEOUT_MS = 3000

# -- bad values ----------------------------------------------------------------------


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


def _not_utf8(data: bytes) -> bytes:
    return b"\xff" + data + b"\xc3"


BAD = st.one_of(
    st.none(),
    st.just(0),
    st.integers(min_value=-2 ** 70, max_value=-1),
    st.integers(min_value=2 ** 63, max_value=2 ** 80),
    st.sampled_from([2 ** 31, 2 ** 32, 2 ** 63 - 1, 2 ** 64, -2 ** 63 - 1, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=40).map(_not_utf8),
    st.text(max_size=20).map(lambda text: text + "\udcff"),
    st.text(max_size=10).map(lambda text: text + "\0" + text),
    st.binary(max_size=10).map(lambda data: data + b"\0"),
    st.sampled_from([True, False, 1j, "", b"", [], {}, (), [b"x"], bytearray(b"x"),
                     memoryview(b"x"), object(), _Opaque(), type, len,
                     b"\xff" * 70000, "x" * 70000]),
)


# -- the objects ----------------------------------------------------------------------

def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port))
    return sock


def _session(host: str, port: int, auth) -> "tuple[Session, socket.socket]":
    sock = _connect(host, port)
    session = Session()
    session.set_timeout(TIMEOUT_MS * 10)
    session.handshake(sock)
    auth(session)
    return session, sock


class World:
    """Live objects of every class, and the valid value of each argument name."""

    def __init__(self, group: str) -> None:
        env = os.environ
        self.tmp = tempfile.mkdtemp(prefix="ssh2cffi-fuzz-")
        os.chdir(self.tmp)  # a stray local path lands here
        self.local_file = os.path.join(self.tmp, "local")
        with open(self.local_file, "wb") as fobj:
            fobj.write(b"local data\n")
        key = env["FUZZ_KEY"]
        with open(key, "rb") as fobj:
            key_data = fobj.read()
        with open(key + ".pub", "rb") as fobj:
            import base64
            blob = base64.b64decode(fobj.read().split()[1])
        self.sessions = []
        self.objects = {}
        ssh_user = env["FUZZ_SSHD_USER"]

        def key_auth(session: Session) -> None:
            session.userauth_publickey_fromfile(ssh_user, key)

        def password_auth(session: Session) -> None:
            session.userauth_password("user", "pass")

        sshd = self.sshd = (env["FUZZ_SSHD_HOST"], int(env["FUZZ_SSHD_PORT"]), key_auth)
        asy = (env["FUZZ_ASYNC_HOST"], int(env["FUZZ_ASYNC_PORT"]), password_auth)
        # SFTP and the publickey subsystem run against the asyncssh server, whose
        # SFTP is chrooted to a temporary directory: a fuzzed path never touches
        # a real file system.  Commands run against sshd as an unprivileged user.
        server = asy if group in ("sftp", "publickey") else sshd
        session, sock = _session(*server)
        self.session, self.sock = session, sock
        self.sessions.append((session, sock))
        hostkey, _ = session.hostkey()
        self.defaults = {
            "username": ssh_user, "password": "wrong", "passphrase": "",
            "privatekey": key, "publickey": None, "hostname": "localhost",
            "privatekeyfiledata": key_data, "publickeyfiledata": None,
            "pubkeydata": blob, "sign_callback": lambda data: b"sig",
            "callback": lambda name, instruction, prompts: [],
            "path": "nope", "mode": 0o644, "size": 16, "mtime": 0, "atime": 0,
            "host": "127.0.0.1", "port": 9, "shost": "127.0.0.1", "sport": 22,
            "socket_path": "/nonexistent-ssh2cffi.sock", "queue_maxsize": 1,
            "method_type": LIBSSH2_METHOD_KEX, "prefs": "curve25519-sha256",
            "flag": LIBSSH2_FLAG_SIGPIPE, "enabled": False,
            "hash_type": LIBSSH2_HOSTKEY_HASH_SHA1, "msg_size": 1024,
            "errcode": -1, "errmsg": "x", "interval": 0, "want_reply": False,
            "timeout": 0, "blocking": False,
            "command": "true", "request": "exec", "message": None, "varname": "LANG",
            "value": "C", "term": "vt100", "subsystem": "nope", "signame": "TERM",
            "screen_number": 0, "single_connection": 0, "auth_proto": None,
            "auth_cookie": None, "stream_id": 0, "extended": 0, "buf": b"x",
            "adjustment": 0, "force": False, "ignore_mode": 0, "ignore": False,
            "read_avail": 0, "window_size_initial": 0,
            "filename": "nope", "flags": LIBSSH2_FXF_READ, "filename_len": 4,
            "open_type": 0, "source_filename": "nope", "dest_filename": "nope2",
            "source_filename_len": 4, "dest_filename_len": 5, "attrs": SFTPAttributes(),
            "max_len": 256, "remote_path": "nope", "local_path": self.local_file,
            "buffer_size": 1024, "target": "nope", "buffer_maxlen": 1024, "buffer": bytearray(64),
            "offset": 0, "setstat": 0, "longentry_maxlen": 1024,
            "salt": None, "key": hostkey,
            "typemask": (knownhost_mod.LIBSSH2_KNOWNHOST_TYPE_PLAIN
                         | knownhost_mod.LIBSSH2_KNOWNHOST_KEYENC_RAW
                         | knownhost_mod.LIBSSH2_KNOWNHOST_KEY_ED25519),
            "comment": None, "prev": None, "f_type": 1, "buf_len": 1024,
            "line": "localhost ssh-ed25519 " + __import__("base64").b64encode(
                hostkey).decode(),
            "name": "ssh-ed25519", "blob": blob, "overwrite": 0,
            "required_version": 0, "pos": 0, "_socket": sock, "session": session,
            "mandatory": 0, "sock": None,
            "banner": "SSH-2.0-fuzz_1.0", "bitmask": 0, "width": 80, "height": 24,
            "seconds": 60, "data": b"x",
        }
        self.by_method = {("SFTP", "path"): "nope", ("utils.find_eol", "buf"): b"ab\ncd",
                          ("KnownHost", "filename"): os.path.join(self.tmp, "known"),
                          ("Agent", "path"): "/nonexistent-agent.sock",
                          ("utils.handle_error_codes", "errcode"): 0,
                          ("PublicKeySystem", "attrs"): [],
                          ("SFTP.open_ex", "filename"): b"nope",
                          ("SFTP.rename_ex", "source_filename"): b"nope",
                          ("SFTP.rename_ex", "dest_filename"): b"nope2",
                          # message callbacks take other arguments than kbd-interactive's
                          ("Session.set_ignore_callback", "callback"): lambda *args: None,
                          ("Session.set_debug_callback", "callback"): lambda *args: None,
                          ("Session.set_disconnect_callback", "callback"): lambda *args: None}
        self.group = group
        build = getattr(self, "_build_" + group)
        build()

    # Each builder fills self.objects: name -> (object, methods not to call with
    # valid arguments while the object is live).
    def _build_session(self) -> None:
        self.objects["Session"] = (self.session, {"disconnect", "handshake"})
        self.objects["utils"] = (utils, set())
        self.objects["Session(fresh)"] = (Session(), {"disconnect"})
        if utils.version(0x010B00) is not None:  # agent forwarding needs libssh2 1.11
            # on a session of its own: the fuzzed Session calls would replace it
            forwarded, sock = _session(*self.sshd)
            self.sessions.append((forwarded, sock))
            self.objects["AgentForwarding"] = (
                forwarded.forward_agent("/nonexistent-agent.sock"), set())

    def _build_channel(self) -> None:
        channel = self.session.open_session()
        channel.execute("cat")
        self.channel = channel
        self.objects["Channel"] = (channel, {"close", "wait_closed", "wait_eof",
                                             "execute", "shell", "subsystem",
                                             "process_startup"})
        self.objects["Channel(unopened)"] = (Channel(self.session), set())
        listener, _port = self.session.forward_listen_ex(1, "127.0.0.1", 0)
        self.listener = listener
        self.objects["Listener"] = (listener, {"forward_cancel", "forward_accept"})
        self.objects["Listener(unmade)"] = (Listener(self.session), set())

    def _build_sftp(self) -> None:
        sftp = self.session.sftp_init()
        self.sftp = sftp
        handle = sftp.open("fuzzfile", LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_READ,
                           0o644)
        handle.write(b"0123456789" * 10)
        self.handle = handle
        self.dir_handle = sftp.opendir(".")
        self.objects["SFTP"] = (sftp, set())
        self.objects["SFTPHandle"] = (handle, {"close"})
        self.objects["SFTPHandle(dir)"] = (self.dir_handle, {"close"})
        self.objects["SFTPAttributes"] = (SFTPAttributes(), set())

    def _build_publickey(self) -> None:
        system = self.session.publickey_init()
        self.system = system
        self.objects["PublicKeySystem"] = (system, {"shutdown"})
        self.objects["PublicKeyAttribute"] = (PublicKeyAttribute, set())

    def _build_agent(self) -> None:
        agent = self.session.agent_init()
        self.agent = agent
        known = self.session.knownhost_init()
        entry = known.addc("localhost", self.defaults["key"], self.defaults["typemask"])
        self.defaults["entry"] = entry
        from ssh2cffi.pkey import PublicKey
        self.defaults["pkey"] = PublicKey()
        self.known = known
        self.objects["Agent"] = (agent, set())
        self.objects["KnownHost"] = (known, set())
        self.objects["KnownHostEntry"] = (entry, set())

    def close_children(self) -> None:
        """The "closed" phase: every child closed the way its class closes."""
        self.session.set_blocking(True)
        for name, (obj, _) in self.objects.items():
            for method in ("close", "forward_cancel", "shutdown", "disconnect"):
                if name.startswith("Session") or name == "utils":
                    continue
                call = getattr(obj, method, None)
                if call is None or not callable(call):
                    continue
                try:
                    call()
                except exceptions.SSH2Error:
                    pass
        if self.group == "session":
            # for the session group, "closed" is a session whose socket was shut
            # down under it (the peer is gone, libssh2 does not know yet)
            self.sock.shutdown(socket.SHUT_RDWR)

    def disconnect(self) -> None:
        for session, sock in self.sessions:
            session.set_blocking(True)
            try:
                session.disconnect()
            except exceptions.SSH2Error:
                pass
            sock.close()


def value_for(world: World, owner: str, method: str, param: inspect.Parameter) -> object:
    for key in ((owner + "." + method, param.name), (owner.split("(")[0], param.name)):
        if key in world.by_method:
            return world.by_method[key]
    if owner == "SFTPAttributes":
        return 0
    if param.name in world.defaults:
        return world.defaults[param.name]
    if param.default is not inspect.Parameter.empty:
        return param.default
    raise KeyError("no valid value for %s.%s(%s)" % (owner, method, param.name))


def methods_of(obj: object, owner: str):
    if owner == "utils":
        return [(name, getattr(utils, name)) for name in
                ("handle_error_codes", "find_eol", "version", "wait_socket")]
    if owner == "PublicKeyAttribute":
        return [("__init__", PublicKeyAttribute)]
    if owner == "SFTPAttributes":
        setters = []
        for name in dir(type(obj)):
            prop = getattr(type(obj), name)
            if isinstance(prop, property) and prop.fset is not None:
                def setter(value, _name=name, _obj=obj):
                    setattr(_obj, _name, value)
                setter.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                    [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)])
                setters.append((name, setter))
        return setters
    result = []
    for name in dir(type(obj)):
        if name.startswith("_") or isinstance(getattr(type(obj), name), property):
            continue
        attr = getattr(obj, name, None)
        if callable(attr) and not isinstance(attr, type):
            result.append((name, attr))
    return result


def state_error(exc: BaseException) -> bool:
    """A refusal because of the object's state, found before the arguments are
    looked at (get()/put() on a non-blocking session): not about an argument."""
    return isinstance(exc, ValueError) and "blocking session" in str(exc)


def main() -> int:
    phase, group, examples = sys.argv[1], sys.argv[2], int(sys.argv[3])
    world = World(group)
    if phase in ("closed",):
        world.close_children()
    elif phase == "disconnected":
        world.close_children()
        world.disconnect()
    findings = []
    counts = {"calls": 0, "raised": 0, "returned": 0}
    live = phase == "live"

    def record(kind, owner, method, param, value, exc):
        findings.append({"kind": kind, "call": "%s.%s" % (owner, method), "param": param,
                         "value": repr(value)[:80],
                         "exc": "%s: %s" % (type(exc).__name__, str(exc)[:200])})

    for owner, (obj, skip_valid) in world.objects.items():
        for method, func in methods_of(obj, owner):
            try:
                sig = inspect.signature(func)
            except (TypeError, ValueError):
                continue
            params = [p for p in sig.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            if owner == "Session" and method == "handshake":
                continue  # on a connected session: a fresh one gets it below
            if owner == "Session(fresh)" and method != "handshake":
                continue
            valid_ok = not (live and method in skip_valid) and owner != "Session(fresh)"
            choices = list(range(len(params))) + ([-1] if valid_ok else [])
            if not choices:
                continue
            strategy = BAD
            if owner == "Session(fresh)":
                # small non-negative ints are real descriptors (stdout...)
                strategy = BAD.filter(lambda v: not (isinstance(v, int) and 0 <= v < 4096))
            print("CALL %s.%s" % (owner, method), flush=True)

            @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(index=st.sampled_from(choices), bad=strategy)
            def fuzz(index, bad):
                args = [value_for(world, owner, method, p) for p in params]
                bad_name = None
                if (method in ("wait_socket", "wait") and params[index].name == "timeout"
                        and not (isinstance(bad, (int, float)) and bad < 5)):
                    return  # None or a long timeout: a valid request to wait that long
                if index >= 0:
                    args[index] = bad
                    bad_name = params[index].name
                # every call starts non-blocking with a timeout: nothing may wait
                if world.session is not None:
                    try:
                        world.session.set_blocking(False)
                        world.session.set_timeout(TIMEOUT_MS)
                    except exceptions.SSH2Error:
                        pass
                counts["calls"] += 1
                try:
                    result = func(*args)
                    if inspect.isgenerator(result) or hasattr(result, "__next__"):
                        list(itertools.islice(result, 50))
                except ALLOWED as exc:
                    counts["raised"] += 1
                    if (bad_name is not None and isinstance(exc, MUST_NAME_ARGUMENT)
                            and bad_name.lstrip("_") not in str(exc)
                            and not state_error(exc)):
                        record("message does not name the argument", owner, method,
                               bad_name, bad, exc)
                except OSError as exc:
                    # a local file that cannot be opened: as open() says it
                    counts["raised"] += 1
                    if (LOCAL_FILE_METHODS.get(method) != bad_name
                            or exc.filename is None):
                        record("unexpected exception class", owner, method, bad_name, bad, exc)
                except MemoryError as exc:
                    counts["raised"] += 1
                    if bad_name is None or bad_name not in str(exc):
                        record("MemoryError not naming the argument", owner, method,
                               bad_name, bad, exc)
                except Exception as exc:  # the finding
                    counts["raised"] += 1
                    record("unexpected exception class", owner, method, bad_name, bad, exc)
                else:
                    counts["returned"] += 1

            fuzz()
    for finding in findings:
        print("FINDING " + json.dumps(finding), flush=True)
    print("SUMMARY " + json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
