"""Sessions across fork(): the child never touches the parent's connection.

Each scenario runs in a fresh interpreter (helpers.run_python) that logs in to
the sshd fixture, runs a command, opens a channel and an SFTP session, then
forks SSH2CFFI_FORK_CHILDREN times (3 here, 20 in scripts/stress.sh).  The
child ends in one of several ways; after each, the parent runs a command and
moves a file by SFTP, byte-exact.  Before ssh2cffi disowned inherited
sessions, a child that exited normally ran the finalisers of its copies, which
wrote a channel close and a disconnect into the parent's connection: the
parent then hung in its next read.
"""
import os

import pytest

from helpers import run_python, sshd_login

CHILDREN = int(os.environ.get("SSH2CFFI_FORK_CHILDREN", "3"))

SCENARIO = r"""
import gc, multiprocessing, os, signal, socket, sys

from ssh2cffi.exceptions import BadUseError
from ssh2cffi.session import Session
from ssh2cffi.sftp import LIBSSH2_FXF_CREAT, LIBSSH2_FXF_READ, LIBSSH2_FXF_TRUNC, \
    LIBSSH2_FXF_WRITE

HOST, PORT, USER, KEY, ENDING, LAUNCH, PATH, CHILDREN = %r


def authenticated_session():
    sock = socket.create_connection((HOST, PORT))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    session = Session()
    session.set_timeout(30000)  # a parent that waits for stolen data fails, not hangs
    session.handshake(sock)
    session.userauth_publickey_fromfile(USER, KEY)
    return session, sock


def output_of(session, command):
    channel = session.open_session()
    channel.execute(command)
    out = []
    while True:
        size, data = channel.read()
        if size <= 0:
            break
        out.append(data)
    channel.wait_closed()
    return b"".join(out)


def sftp_round_trip(sftp, data):
    flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
    with sftp.open(PATH, flags, 0o600) as handle:
        handle.write(data)
    got = []
    with sftp.open(PATH, LIBSSH2_FXF_READ, 0) as handle:
        for size, chunk in handle:
            got.append(chunk)
    return b"".join(got)


session, sock = authenticated_session()
assert output_of(session, "echo before") == b"before\n"
idle_channel = session.open_session()  # inherited too, never used by the child
sftp = session.sftp_init()


def child():
    '''What the child does with its copies, then how it ends.'''
    global idle_channel, sftp, session
    signal.alarm(60)  # a child stuck in the parent's connection dies (status -14)
    if ENDING == "call":  # an explicit call says whose session it is
        try:
            session.open_session()
        except BadUseError as exc:
            os._exit(0 if "belongs to process %%d" %% os.getppid() in str(exc) else 3)
        os._exit(4)
    if ENDING == "drop":  # every finaliser runs now, in the child
        del idle_channel, sftp, session
        gc.collect()
    if ENDING == "raise":
        raise RuntimeError("the child fails")
    if ENDING == "_exit":
        os._exit(0)
    sys.exit(0)  # "exit" and "drop": the interpreter's own exit, finalisers and all


for round_ in range(CHILDREN):
    if LAUNCH == "fork":
        pid = os.fork()
        if pid == 0:
            child()
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    else:
        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join(60)
        status = process.exitcode
    assert status == (1 if ENDING == "raise" else 0), status
    assert output_of(session, "echo after %%d" %% round_) == b"after %%d\n" %% round_
    data = os.urandom(256 * 1024 + round_)
    assert sftp_round_trip(sftp, data) == data
sftp.unlink(PATH)
session.disconnect()
print("parent ok")
"""


@pytest.mark.parametrize("launch", ["fork", "multiprocessing"])
@pytest.mark.parametrize("ending", ["exit", "raise", "_exit", "call", "drop"])
def test_parent_session_survives_its_children(sshd, launch, ending):
    # relative: in the login user's home directory, which it can write
    path = "ssh2cffi-fork-test-%s-%s" % (launch, ending)
    params = (sshd.host, sshd.port, sshd_login(sshd), sshd.key_paths["id_ed25519"],
              ending, launch, path, CHILDREN)
    # (no watchdog: see run_python; the children have alarms, the parent timeouts)
    result = run_python(SCENARIO % (params,), timeout=120 + 20 * CHILDREN, watchdog=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.strip() == "parent ok"
