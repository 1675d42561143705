"""libssh2's trace output (Session.set_trace), which ssh2cffi sends to the
``ssh2cffi.trace`` logger, one record per line, against the sshd fixture.

Only a libssh2 built with debug logging traces: the .deps/ build of the
cpython-1.11 and pypy-1.11 variants (helpers.DEPS_LIBSSH2_VARIANTS); with the
others a test checks that set_trace says so.
"""
from __future__ import annotations

import gc
import logging

import pytest

from helpers import (DEPS_LIBSSH2_VARIANTS, TEST_VARIANT, login, logout, read_channel,
                     sshd_login)
from ssh2cffi.session import (LIBSSH2_TRACE_AUTH, LIBSSH2_TRACE_CONN, LIBSSH2_TRACE_KEX,
                              Session)

needs_trace = pytest.mark.skipif(not Session.trace_supported(),
                                 reason="libssh2 built without debug logging (trace output)")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def trace_records():
    """The records the ``ssh2cffi.trace`` logger emits during the test (at DEBUG)."""
    logger = logging.getLogger("ssh2cffi.trace")
    handler = _Records()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_trace_supported_matches_the_build():
    # .deps' libssh2 1.11.1 is built with debug logging; Debian's packages are not.
    if TEST_VARIANT is None:
        assert Session.trace_supported() in (True, False)
    else:
        assert Session.trace_supported() is (TEST_VARIANT in DEPS_LIBSSH2_VARIANTS)


@needs_trace
def test_trace_goes_to_logging_per_session(sshd, trace_records):
    traced = Session()
    quiet = Session()
    traced.set_timeout(30000)
    traced.set_trace(LIBSSH2_TRACE_KEX | LIBSSH2_TRACE_AUTH)
    socks = []
    try:
        for session in (traced, quiet):
            sock = sshd.connect_socket()
            socks.append(sock)
            session.handshake(sock)
            session.userauth_publickey_fromfile(sshd_login(sshd), sshd.key_paths["id_ed25519"])
        assert trace_records, "no trace lines were logged"
        assert all(record.session is traced for record in trace_records)
        assert all(record.levelno == logging.DEBUG for record in trace_records)
        texts = [record.getMessage() for record in trace_records]
        assert any("Key Ex" in text for text in texts), texts[:5]
        assert any("Userauth" in text for text in texts), texts[:5]
        assert not any("Conn:" in text for text in texts)  # not asked for
        # off again: a channel produces no lines
        del trace_records[:]
        traced.set_trace(0)
        channel = traced.open_session()
        channel.execute("true")
        read_channel(channel)
        channel.wait_closed()
        assert trace_records == []
        # and on for connection messages only
        traced.set_trace(LIBSSH2_TRACE_CONN)
        channel = traced.open_session()
        channel.execute("true")
        read_channel(channel)
        channel.wait_closed()
        assert trace_records and all("Conn" in r.getMessage() for r in trace_records)
    finally:
        for session, sock in zip((traced, quiet), socks):
            logout(session, sock)


@needs_trace
def test_trace_callback_errors_stay_in_python(sshd, trace_records):
    # A filter that raises inside logger.debug(): the callback must swallow it
    # (nothing may cross into libssh2), and the session keeps working.
    class Boom(logging.Filter):
        def filter(self, record):
            raise RuntimeError("filter failure")

    logger = logging.getLogger("ssh2cffi.trace")
    boom = Boom()
    logger.addFilter(boom)
    try:
        session, sock, _user = login("sshd", sshd)
        session.set_trace(-1)
        channel = session.open_session()
        channel.execute("echo ok")
        assert read_channel(channel) == b"ok\n"
        channel.wait_closed()
        logout(session, sock)
    finally:
        logger.removeFilter(boom)


@needs_trace
def test_traced_session_dropped_without_disconnect(sshd, trace_records):
    # libssh2 traces while it frees the session; by then the Session object
    # is gone, and the lines are dropped instead of reaching freed state.
    for _ in range(3):
        session, sock, _user = login("sshd", sshd)
        session.set_trace(-1)
        channel = session.open_session()
        del session, channel
        gc.collect()
        sock.close()
    gc.collect()
    assert all(record.session is not None for record in trace_records)


@pytest.mark.skipif(Session.trace_supported(), reason="libssh2 has trace output")
def test_set_trace_without_debug_logging_says_so():
    session = Session()
    with pytest.raises(NotImplementedError, match="without debug logging"):
        session.set_trace(LIBSSH2_TRACE_KEX)
    session.set_trace(0)  # turning it off is always fine


def test_set_trace_bad_arguments():
    session = Session()
    with pytest.raises(TypeError):
        session.set_trace("all")
    with pytest.raises(OverflowError, match="bitmask"):  # a C int, as every mask
        session.set_trace(2 ** 40)
