"""ssh2cffi.utils: find_eol, version, handle_error_codes, wait_socket, ssh2_exit."""
import pytest

from helpers import login, run_python
from ssh2cffi import error_codes, exceptions, utils


@pytest.mark.parametrize("buf, expected", [
    (b"a buffer", (-1, 0)),
    (b"", (-1, 0)),
    (b"\n", (0, 1)),
    (b"\r\n", (0, 2)),
    (b"\r", (-1, 0)),
    (b"line one\nline two", (8, 1)),
    (b"line one\r\nline two", (8, 2)),
    (b"a\nb\r\nc", (1, 1)),  # ssh2-python's CR search bug gives (0, 2) here
    (b"x\x00y\nz", (3, 1)),  # an embedded NUL does not end the search
])
def test_find_eol(buf, expected):
    assert utils.find_eol(buf, 0) == expected


def test_find_eol_from_position_splits_lines():
    data = b"first\r\nsecond\nthird"
    lines, pos = [], 0
    while True:
        index, skip = utils.find_eol(data, pos)
        if index == -1:
            break
        lines.append(data[pos:pos + index])
        pos += index + skip
    assert lines == [b"first", b"second"] and data[pos:] == b"third"


def test_find_eol_rejects_str():
    with pytest.raises(TypeError, match="buf"):
        utils.find_eol("text\n", 0)


def test_version():
    text = utils.version()
    assert isinstance(text, bytes) and text.count(b".") == 2
    assert utils.version(0x010000) == text
    assert utils.version(0x7F0000) is None


def test_handle_error_codes_returns_success_and_eagain():
    assert utils.handle_error_codes(0) == 0
    assert utils.handle_error_codes(5) == 5
    assert utils.handle_error_codes(error_codes.LIBSSH2_ERROR_EAGAIN) == -37


@pytest.mark.parametrize("code, cls", [
    (-1, exceptions.SSH2Error), (-9, exceptions.Timeout), (-13, exceptions.SocketDisconnectError),
    (-18, exceptions.AuthenticationError), (-21, exceptions.ChannelFailure),
    (-31, exceptions.SFTPProtocolError), (-43, exceptions.SocketRecvError),
    (-47, exceptions.ChannelWindowFullError), (-54, exceptions.HashCalcError),
])
def test_handle_error_codes_raises_the_mapped_class(code, cls):
    with pytest.raises(cls) as info:
        utils.handle_error_codes(code)
    assert type(info.value) is cls
    assert info.value.errcode == code and str(code) in str(info.value)


def test_every_error_code_maps_to_a_class():
    for name in dir(error_codes):
        code = getattr(error_codes, name)
        if name.startswith("LIBSSH2_ERROR_") and code < 0 and code != -37:
            with pytest.raises(exceptions.SSH2Error) as info:
                utils.handle_error_codes(code)
            assert type(info.value) is not exceptions.UnknownError, name
            assert name.replace("PUBLICKEY_UNRECOGNIZED", "AUTHENTICATION_FAILED") in str(info.value)


def test_unknown_and_out_of_range_codes():
    with pytest.raises(exceptions.UnknownError):
        utils.handle_error_codes(-999)
    with pytest.raises(OverflowError):
        utils.handle_error_codes(2 ** 40)


def test_wait_socket_not_blocked_returns_zero(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    assert utils.wait_socket(sock, session, timeout=0.1) == 0
    with pytest.raises(TypeError):
        utils.wait_socket(None, session)
    session.disconnect()
    sock.close()


def test_encoding_is_read_at_call_time(sshd):
    session, sock, _user = login("sshd", sshd, user=sshd.user)
    try:
        utils.ENCODING = "latin-1"
        channel = session.open_session()
        channel.execute("cat")
        # 'é' is one byte in latin-1 (two in UTF-8): the new encoding is used.
        assert channel.write("é") == (1, 1)
        channel.send_eof()
        assert channel.read() == (1, b"\xe9")
    finally:
        utils.ENCODING = "utf-8"
        session.disconnect()
        sock.close()


def test_ssh2_exit_then_new_session_works():
    result = run_python("""
        from ssh2cffi import utils
        from ssh2cffi.session import Session
        utils.ssh2_exit()
        s = Session()   # libssh2 initialises itself again
        print(len(s.supported_algs(__import__('ssh2cffi.session').session.LIBSSH2_METHOD_KEX)) > 0)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
