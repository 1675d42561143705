"""One error policy (issue 14 item 2): every exception is built in ssh2cffi._errors.

- libssh2's last message is attached only when the session's last error code
  is the code being raised; otherwise the text belongs to an earlier failure.
- "needs libssh2 >= X" errors have one format, naming the libssh2 ssh2cffi
  was built against.
- KnownHostCheck* errors: ``errcode`` is a libssh2 error code or None, never
  a LIBSSH2_KNOWNHOST_CHECK_* value; that is ``check_result``.

No server needed: each case is reached on a session that is not connected.
"""
from __future__ import annotations

import pytest

from helpers import HAS_LIBSSH2_1_11
from ssh2cffi import _errors, error_codes, exceptions, utils
from ssh2cffi.knownhost import (LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEYENC_RAW,
                                LIBSSH2_KNOWNHOST_TYPE_PLAIN)
from ssh2cffi.session import LIBSSH2_METHOD_SIGN_ALGO, Session

# libssh2.h's LIBSSH2_KNOWNHOST_CHECK_* values (not module constants, as in ssh2-python).
CHECK_MISMATCH, CHECK_NOTFOUND, CHECK_FAILURE = 1, 2, 3
TYPEMASK = (LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW
            | LIBSSH2_KNOWNHOST_KEY_SSHRSA)


# -- libssh2's message belongs to its own code --------------------------------------------
def test_message_is_attached_only_for_the_code_it_belongs_to():
    session = Session()
    session.set_last_error(error_codes.LIBSSH2_ERROR_SOCKET_SEND, "earlier failure")
    other = _errors.make_error(error_codes.LIBSSH2_ERROR_FILE, "reading", None, session._ptr)
    assert str(other) == "reading (LIBSSH2_ERROR_FILE, -16)"
    assert other.errcode == error_codes.LIBSSH2_ERROR_FILE
    own = _errors.make_error(error_codes.LIBSSH2_ERROR_SOCKET_SEND, "sending", None,
                             session._ptr)
    assert str(own) == "sending: earlier failure (LIBSSH2_ERROR_SOCKET_SEND, -7)"
    assert isinstance(own, exceptions.SocketSendError)


def test_every_builder_follows_the_rule():
    session = Session()
    session.set_last_error(error_codes.LIBSSH2_ERROR_SOCKET_SEND, "earlier failure")
    with pytest.raises(exceptions.FileError) as info:
        _errors.raise_error(error_codes.LIBSSH2_ERROR_FILE, session._ptr)
    assert "earlier failure" not in str(info.value)
    with pytest.raises(exceptions.FileError) as info:
        _errors.check(error_codes.LIBSSH2_ERROR_FILE, session._ptr)
    assert "earlier failure" not in str(info.value)
    exc = _errors.error_as(exceptions.KnownHostAddError, "adding",
                           error_codes.LIBSSH2_ERROR_FILE, session._ptr)
    assert type(exc) is exceptions.KnownHostAddError and "earlier failure" not in str(exc)
    exc = _errors.error_as(exceptions.KnownHostAddError, "adding",
                           error_codes.LIBSSH2_ERROR_SOCKET_SEND, session._ptr)
    assert str(exc) == "adding: earlier failure (LIBSSH2_ERROR_SOCKET_SEND, -7)"
    assert exc.errcode == error_codes.LIBSSH2_ERROR_SOCKET_SEND


def test_error_without_a_code_has_no_errcode():
    exc = _errors.error_as(exceptions.KnownHostError, "found by ssh2cffi")
    assert str(exc) == "found by ssh2cffi" and exc.errcode is None


def test_undecodable_message_is_replaced_in_errors_and_last_error_stays_text():
    session = Session()
    session.set_last_error(error_codes.LIBSSH2_ERROR_FILE, b"bad \xff byte")
    exc = _errors.make_error(error_codes.LIBSSH2_ERROR_FILE, "", None, session._ptr)
    assert str(exc) == "bad \ufffd byte (LIBSSH2_ERROR_FILE, -16)"
    session.set_last_error(error_codes.LIBSSH2_ERROR_FILE, "plain text")
    assert session.last_error() == "plain text"


# -- one "needs libssh2" message ------------------------------------------------------------
def test_needs_libssh2_names_the_build():
    exc = _errors.needs_libssh2("Something.new", "9.9.9")
    assert isinstance(exc, NotImplementedError)
    # The build's version, and the running one too when they differ: here they are the same.
    assert str(exc) == ("Something.new needs libssh2 >= 9.9.9; ssh2cffi was built against "
                        "libssh2 %s" % utils.version().decode())


@pytest.mark.skipif(HAS_LIBSSH2_1_11, reason="libssh2 >= 1.11 has LIBSSH2_METHOD_SIGN_ALGO")
def test_a_missing_feature_raises_the_shared_message():
    with pytest.raises(NotImplementedError) as info:
        Session().method_pref(LIBSSH2_METHOD_SIGN_ALGO, "rsa-sha2-256")
    assert str(info.value) == ("LIBSSH2_METHOD_SIGN_ALGO needs libssh2 >= 1.11.0; ssh2cffi "
                               "was built against libssh2 %s" % utils.version().decode())


# -- KnownHostCheck* errors -------------------------------------------------------------------
def test_check_failure_carries_the_libssh2_code():
    kh = Session().knownhost_init()
    with pytest.raises(exceptions.KnownHostCheckFailure, match="too small") as info:
        kh.checkp("h" * 300, 2222, b"key", TYPEMASK)  # "[host]:port" overflows libssh2's buffer
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_BUFFER_TOO_SMALL
    assert info.value.check_result == CHECK_FAILURE
    assert "LIBSSH2_ERROR_BUFFER_TOO_SMALL" in str(info.value)


def test_not_found_and_mismatch_are_answers_without_errcode():
    kh = Session().knownhost_init()
    with pytest.raises(exceptions.KnownHostCheckNotFoundError) as info:
        kh.checkp("example.org", 22, b"key", TYPEMASK)
    assert info.value.errcode is None and info.value.check_result == CHECK_NOTFOUND
    kh.addc("example.org", b"known key", TYPEMASK)
    with pytest.raises(exceptions.KnownHostCheckMisMatchError) as info:
        kh.checkp("example.org", 22, b"other key", TYPEMASK)
    assert info.value.errcode is None and info.value.check_result == CHECK_MISMATCH
    assert info.value.entry.key == b"known key"


# -- errors ssh2cffi finds before libssh2 ----------------------------------------------------
def test_agent_probe_errors_name_their_code(monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    agent = Session().agent_init()
    with pytest.raises(exceptions.AgentConnectionError, match="SSH_AUTH_SOCK") as info:
        agent.connect()
    assert info.value.errcode == error_codes.LIBSSH2_ERROR_BAD_USE
    assert str(info.value).endswith("(LIBSSH2_ERROR_BAD_USE, -39)")
