"""The scenarios of test_parity.py, run in a child interpreter against one package.

``python parity_driver.py PACKAGE PHASE START`` imports PACKAGE (``ssh2`` for
ssh2-python, ``ssh2cffi`` for us) and runs the scenarios of PHASE from number
START on, printing one JSON line per scenario: its name and its outcome
(START -1 lists the names).  The
same file drives both packages (their APIs are the same), so the outcomes
can be compared line by line.

An outcome is the *shape* of what happened, not the values (the two packages
may run on different libssh2 builds): ``{"raise": "ClassName"}``, or
``{"return": shape}`` where the shape keeps negative ints (error codes such as
EAGAIN, returned and not raised), marks 0, positive ints, bytes, str and
None, and names the class of any other object.  A crash (a signal) or a hang
ends the child; the parent records it and starts a new child at the next
scenario.

Phases: ``nosession`` (a Session that never connected, bad sockets),
``blocking`` (every method on a live blocking session and its children),
``nonblocking`` (the same, non-blocking, where a call with nothing to do
returns EAGAIN), ``badargs`` (wrong argument types on live objects),
``closed`` (children closed), ``disconnected`` (the session disconnected and
its socket closed).  Server details come from the environment: PARITY_HOST,
PARITY_PORT, PARITY_USER, PARITY_KEY and PARITY_DIR (a directory on the
server the user may write to).
"""
from __future__ import annotations

import importlib
import json
import os
import resource
import socket
import sys
from typing import Any, Callable, Dict, List, Tuple

# Some scenarios crash ssh2-python (SIGSEGV): no core file for those.
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

PACKAGE, PHASE, START = sys.argv[1], sys.argv[2], int(sys.argv[3])
session_mod = importlib.import_module(PACKAGE + ".session")
sftp_mod = importlib.import_module(PACKAGE + ".sftp")
Session = session_mod.Session

HOST = os.environ["PARITY_HOST"]
PORT = int(os.environ["PARITY_PORT"])
USER = os.environ["PARITY_USER"]
KEY = os.environ["PARITY_KEY"]
DIR = os.environ["PARITY_DIR"]
FILE = DIR + "/parity.txt"
RW = sftp_mod.LIBSSH2_FXF_READ | sftp_mod.LIBSSH2_FXF_WRITE | sftp_mod.LIBSSH2_FXF_CREAT


def shape(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return value if value < 0 else "0" if value == 0 else "int>0"
    if isinstance(value, (bytes, str, float)):
        return type(value).__name__
    if isinstance(value, tuple):     # a fixed structure: (rc, data), ...
        return ["tuple"] + [shape(item) for item in value]
    if isinstance(value, list):      # as many items as there are: their kinds only
        kinds = []
        for item in map(shape, value):
            if item not in kinds:
                kinds.append(item)
        return ["list"] + kinds
    return type(value).__name__


class FakeSocket:
    """A socket-like object whose fileno() returns whatever it was given."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def fileno(self) -> Any:
        return self.result


# -- the objects each phase works on ------------------------------------------------------

def connect(blocking: bool = True) -> Dict[str, Any]:
    sock = socket.create_connection((HOST, PORT))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    session = Session()
    session.set_timeout(20000)
    session.handshake(sock)
    session.userauth_publickey_fromfile(USER, KEY)
    channel = session.open_session()
    channel.execute("cat")               # stays open, echoes what it gets: deterministic
    sftp = session.sftp_init()
    handle = sftp.open(FILE, RW, 0o644)
    handle.write(b"parity data\n")
    dir_handle = sftp.opendir(DIR)
    objects = {"sock": sock, "session": session, "channel": channel, "sftp": sftp,
               "handle": handle, "dir_handle": dir_handle}
    if not blocking:
        session.set_blocking(False)
    return objects


def close_children(o: Dict[str, Any]) -> Dict[str, Any]:
    o["channel"].send_eof()
    o["channel"].wait_eof()
    o["channel"].close()
    o["channel"].wait_closed()
    o["handle"].close()
    o["dir_handle"].close()
    return o


def disconnect(o: Dict[str, Any]) -> Dict[str, Any]:
    o["session"].disconnect()
    o["sock"].close()
    return o


# -- the calls ------------------------------------------------------------------------------
# (object name, method, arguments).  The order matters on a live session: reads
# come after writes, so a blocking read never waits for data that will not come.

KEX = session_mod.LIBSSH2_METHOD_KEX
SHA1 = session_mod.LIBSSH2_HOSTKEY_HASH_SHA1

SESSION_CALLS: List[Tuple[str, str, tuple]] = [
    ("session", "block_directions", ()),
    ("session", "get_blocking", ()),
    ("session", "get_timeout", ()),
    ("session", "set_timeout", (20000,)),
    ("session", "last_errno", ()),
    ("session", "userauth_authenticated", ()),
    ("session", "hostkey", ()),
    ("session", "hostkey_hash", (SHA1,)),
    ("session", "methods", (KEX,)),
    ("session", "supported_algs", (KEX,)),
    ("session", "keepalive_config", (False, 60)),
    ("session", "keepalive_send", ()),
    ("session", "knownhost_init", ()),
    ("session", "agent_init", ()),
]
CHANNEL_CALLS: List[Tuple[str, str, tuple]] = [
    ("channel", "setenv", ("LANG", "C")),
    ("channel", "window_read", ()),
    ("channel", "window_write", ()),
    ("channel", "window_read_ex", (0, 0)),
    ("channel", "window_write_ex", (0,)),
    ("channel", "write", (b"ping\n",)),
    ("channel", "write", ("ping\n",)),
    ("channel", "write_ex", (0, b"ping\n")),
    ("channel", "read", (5,)),
    ("channel", "read_ex", (5, 0)),
    ("channel", "read", (5,)),
    # After the reads: flush discards what has arrived and is unread, so before
    # them its outcome (and what the reads find) would depend on timing.
    ("channel", "flush", ()),
    ("channel", "flush_ex", (0,)),
    ("channel", "poll_channel_read", (0,)),
    ("channel", "eof", ()),
    ("channel", "get_exit_status", ()),
    ("channel", "get_exit_signal", ()),
    ("channel", "receive_window_adjust2", (1024, False)),
    ("channel", "handle_extended_data2", (0,)),
    ("channel", "send_eof", ()),
    ("channel", "wait_eof", ()),
    ("channel", "read", ()),
    ("channel", "read_stderr", ()),
    ("channel", "close", ()),
    ("channel", "wait_closed", ()),
]
SFTP_CALLS: List[Tuple[str, str, tuple]] = [
    ("sftp", "stat", (FILE,)),
    ("sftp", "lstat", (FILE,)),
    ("sftp", "statvfs", (DIR,)),
    ("sftp", "realpath", (DIR,)),
    ("sftp", "mkdir", (DIR + "/sub", 0o755)),
    ("sftp", "rmdir", (DIR + "/sub",)),
    ("sftp", "symlink", (FILE, DIR + "/link")),
    ("sftp", "unlink", (DIR + "/link",)),
    ("sftp", "stat", (DIR + "/missing",)),
    ("sftp", "open", (DIR + "/missing/x", sftp_mod.LIBSSH2_FXF_READ, 0)),
    ("sftp", "last_error", ()),
    ("sftp", "get_channel", ()),
    ("handle", "fstat", ()),
    ("handle", "fstatvfs", ()),
    ("handle", "write", (b"more\n",)),
    ("handle", "fsync", ()),
    ("handle", "tell", ()),
    ("handle", "tell64", ()),
    ("handle", "seek", (0,)),
    ("handle", "seek64", (0,)),
    ("handle", "rewind", ()),
    # Last on this handle: libssh2 reads ahead, and a write after a short read
    # waits forever (libssh2 1.10 and 1.11, under either binding).
    ("handle", "read", (4,)),
    ("dir_handle", "readdir_ex", ()),
    ("dir_handle", "readdir", ()),
    ("handle", "close", ()),
    ("dir_handle", "close", ()),
]
LIVE_CALLS = SESSION_CALLS + CHANNEL_CALLS + SFTP_CALLS
# Non-blocking: the calls whose outcome does not depend on timing.  Nothing was
# written to `cat`, so every read has nothing to return: EAGAIN, returned.
NONBLOCKING_CALLS = SESSION_CALLS + [
    ("channel", "read", ()),
    ("channel", "read", (5,)),
    ("channel", "read_ex", (5, 0)),
    ("channel", "read_stderr", ()),
    ("channel", "read_ex", (5, 1)),
    ("channel", "poll_channel_read", (0,)),
    ("channel", "eof", ()),
    ("channel", "get_exit_status", ()),
    ("channel", "window_read", ()),
    ("channel", "window_write", ()),
    ("handle", "tell64", ()),
    ("handle", "seek64", (0,)),
]

# After close: not the calls that send a message for the closed channel.  How
# the server takes those (and whether it then drops the connection) is a
# matter of timing, so their outcomes would be too.
SENDS_ON_CHANNEL = {"setenv", "write", "write_ex", "send_eof", "close", "receive_window_adjust2"}
CLOSED_CALLS = [call for call in LIVE_CALLS
                if not (call[0] == "channel" and call[1] in SENDS_ON_CHANNEL)]

# Wrong argument types, one at a time (a live blocking session each time).
BAD_CALLS: List[Tuple[str, str, tuple]] = [
    ("session", "set_timeout", ("1000",)),
    ("session", "set_timeout", (None,)),
    ("session", "set_timeout", (1.5,)),
    ("session", "hostkey_hash", ("1",)),
    ("session", "hostkey_hash", (99,)),
    ("session", "methods", (1,)),
    ("session", "userauth_list", (None,)),
    ("session", "userauth_list", (1,)),
    ("session", "set_blocking", ("no",)),
    ("session", "direct_tcpip", (None, 22)),
    ("session", "direct_tcpip", (HOST, "22")),
    ("channel", "execute", (None,)),
    ("channel", "execute", (1,)),
    ("channel", "write", (None,)),
    ("channel", "write", (1,)),
    ("channel", "read", ("5",)),
    ("channel", "read", (None,)),
    ("channel", "setenv", (None, "x")),
    ("channel", "setenv", ("LANG", 1)),
    ("channel", "pty", (1,)),
    ("sftp", "stat", (None,)),
    ("sftp", "stat", (1,)),
    ("sftp", "open", (FILE, "1", 0)),
    ("sftp", "open", (None, 1, 0)),
    ("sftp", "mkdir", (DIR + "/x", "755")),
    ("handle", "read", ("4",)),
    ("handle", "read", (1.5,)),
    ("handle", "write", (None,)),
    ("handle", "write", ("text",)),
    ("handle", "seek", ("0",)),
]

NO_SESSION_CALLS: List[Tuple[str, Callable[[], Any]]] = [
    ("handshake(None)", lambda: Session().handshake(None)),
    ("handshake('not a socket')", lambda: Session().handshake("not a socket")),
    ("handshake(fileno() -> None)", lambda: Session().handshake(FakeSocket(None))),
    ("handshake(fileno() -> '3')", lambda: Session().handshake(FakeSocket("3"))),
    ("handshake(fileno() -> object())", lambda: Session().handshake(FakeSocket(object()))),
    ("block_directions()", lambda: Session().block_directions()),
    ("get_blocking()", lambda: Session().get_blocking()),
    ("userauth_authenticated()", lambda: Session().userauth_authenticated()),
    ("last_errno()", lambda: Session().last_errno()),
    ("hostkey_hash(SHA1)", lambda: Session().hostkey_hash(SHA1)),
    ("supported_algs(KEX)", lambda: Session().supported_algs(KEX)),
    ("knownhost_init()", lambda: Session().knownhost_init()),
    ("agent_init()", lambda: Session().agent_init()),
    ("set_blocking(False)", lambda: Session().set_blocking(False)),
]


def describe(obj: str, method: str, args: tuple) -> str:
    """A scenario's name: the same in both packages (no addresses, no module names)."""
    def one(arg: Any) -> str:
        if arg is None or isinstance(arg, (bool, int, float, str, bytes)):
            text = repr(arg)
            return text.replace(DIR, "DIR") if isinstance(arg, str) else text
        return type(arg).__name__
    return "%s.%s(%s)" % (obj, method, ", ".join(one(arg) for arg in args))


def scenarios() -> List[Tuple[str, Callable[[], Any]]]:
    """(name, call) for every scenario of PHASE, in order."""
    if PHASE == "nosession":
        return NO_SESSION_CALLS
    if PHASE == "badargs":
        def bad(obj: str, method: str, args: tuple) -> Callable[[], Any]:
            return lambda: getattr(connect()[obj], method)(*args)
        return [(describe(obj, method, args), bad(obj, method, args))
                for obj, method, args in BAD_CALLS]
    setup = {"blocking": lambda: connect(True),
             "nonblocking": lambda: connect(False),
             "closed": lambda: close_children(connect(True)),
             "disconnected": lambda: disconnect(connect(True))}[PHASE]
    objects: Dict[str, Any] = {}

    def call(obj: str, method: str, args: tuple) -> Callable[[], Any]:
        return lambda: getattr(objects[obj], method)(*args)

    # The objects are made lazily, at the first scenario run (a restarted child
    # makes them again): the set-up is part of no scenario's outcome.
    def first() -> None:
        objects.update(setup())

    chosen = {"nonblocking": NONBLOCKING_CALLS, "closed": CLOSED_CALLS}.get(PHASE, LIVE_CALLS)
    calls = [(describe(obj, method, args), call(obj, method, args))
             for obj, method, args in chosen]
    return [("setup", first)] + calls


def main() -> None:
    todo = scenarios()
    if START < 0:    # list the names only
        print("\n".join(name for name, _ in todo))
        return
    for name, run in todo[:START]:
        if name == "setup":
            run()     # the objects again, for a child restarted after a crash
    for name, run in todo[START:]:
        try:
            result = run()
            # readdir() is a generator: run it.  (By name: Cython's generators,
            # ssh2-python's, are not types.GeneratorType.)
            if type(result).__name__ == "generator":
                result = list(result)
            outcome: Dict[str, Any] = {"return": shape(result)}
        except Exception as exc:  # the outcome is the class
            outcome = {"raise": type(exc).__name__}
        print(json.dumps({"name": name, "outcome": outcome}), flush=True)


if __name__ == "__main__":
    main()
