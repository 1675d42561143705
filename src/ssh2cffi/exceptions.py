"""Exception classes: the same 79 classes and hierarchy as ssh2-python's ``ssh2.exceptions``.

Each class raised for a libssh2 error code names that code in ``_error_code``;
``ssh2cffi._errors`` builds its code-to-class table from them. Raised instances
carry libssh2's message and the numeric code (``exc.errcode``).
"""
from typing import Optional as _Optional


class SSH2Error(Exception):
    """Base class of every ssh2cffi error; raised itself for LIBSSH2_ERROR_SOCKET_NONE."""
    _error_code = "LIBSSH2_ERROR_SOCKET_NONE"
    #: The libssh2 error code, set on raised instances; None when there is none.
    errcode: _Optional[int] = None


class SessionError(SSH2Error):
    """Base class of session-level errors."""


class SessionHandshakeError(SessionError):
    """The SSH handshake failed (kept for compatibility; libssh2 codes map to more precise classes)."""


class SessionHostKeyError(SessionError):
    """The server host key could not be retrieved."""


class SessionStartupError(SessionError):
    """Session start-up failed (kept for compatibility)."""


class SocketDisconnectError(SSH2Error):
    """The connection was closed by the peer or the session is disconnected."""
    _error_code = "LIBSSH2_ERROR_SOCKET_DISCONNECT"


class SocketRecvError(SSH2Error):
    """Receiving from the socket failed."""
    _error_code = "LIBSSH2_ERROR_SOCKET_RECV"


class SocketSendError(SSH2Error):
    """Sending on the socket failed."""
    _error_code = "LIBSSH2_ERROR_SOCKET_SEND"


class SocketTimeout(SessionError):
    """A socket operation timed out."""
    _error_code = "LIBSSH2_ERROR_SOCKET_TIMEOUT"


class Timeout(SessionError):
    """A blocking call took longer than the timeout set with Session.set_timeout()."""
    _error_code = "LIBSSH2_ERROR_TIMEOUT"


class UnknownError(SSH2Error):
    """libssh2 returned an error code ssh2cffi does not know."""


class ZlibError(SessionError):
    """zlib compression or decompression failed."""
    _error_code = "LIBSSH2_ERROR_ZLIB"


class AgentError(SSH2Error):
    """Base class of SSH agent errors."""


class AgentGetIdentityError(AgentError):
    """An identity could not be read from the SSH agent."""


class AgentListIdentitiesError(AgentError):
    """The SSH agent could not list its identities."""


class AgentProtocolError(SSH2Error):
    """The SSH agent broke its protocol."""
    _error_code = "LIBSSH2_ERROR_AGENT_PROTOCOL"


class AlgoUnsupportedError(SSH2Error):
    """The algorithm is not supported."""
    _error_code = "LIBSSH2_ERROR_ALGO_UNSUPPORTED"


class AllocError(SSH2Error):
    """libssh2 could not allocate memory."""
    _error_code = "LIBSSH2_ERROR_ALLOC"


class AuthenticationError(SSH2Error):
    """Authentication failed."""
    _error_code = "LIBSSH2_ERROR_AUTHENTICATION_FAILED"


class BadSocketError(SSH2Error):
    """The socket is invalid."""
    _error_code = "LIBSSH2_ERROR_BAD_SOCKET"


class BadUseError(SSH2Error):
    """The API was used the wrong way."""
    _error_code = "LIBSSH2_ERROR_BAD_USE"


class BannerRecvError(SessionError):
    """The server banner could not be received."""
    _error_code = "LIBSSH2_ERROR_BANNER_RECV"


class BannerSendError(SessionError):
    """The client banner could not be sent."""
    _error_code = "LIBSSH2_ERROR_BANNER_SEND"


class BufferTooSmallError(SSH2Error):
    """A buffer was too small for the data."""
    _error_code = "LIBSSH2_ERROR_BUFFER_TOO_SMALL"


class ChannelError(SSH2Error):
    """Base class of channel errors."""


class ChannelFailure(ChannelError):
    """The channel could not be opened or a request on it failed."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_FAILURE"


class ChannelOutOfOrderError(ChannelError):
    """Channel packets arrived out of order."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_OUTOFORDER"


class ChannelPacketExceeded(ChannelError):
    """A channel packet was larger than allowed."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED"


class ChannelRequestDenied(ChannelError):
    """The server denied a channel request."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED"


class ChannelUnknownError(ChannelError):
    """The channel is unknown to the server."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_UNKNOWN"


class ChannelWindowExceeded(ChannelError):
    """The channel window was exceeded."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED"


class ChannelWindowFullError(SSH2Error):
    """The channel window is full."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_WINDOW_FULL"


class CompressError(SessionError):
    """Compression failed."""
    _error_code = "LIBSSH2_ERROR_COMPRESS"


class DecryptError(SessionError):
    """A packet could not be decrypted."""
    _error_code = "LIBSSH2_ERROR_DECRYPT"


class EncryptError(SessionError):
    """A packet could not be encrypted."""
    _error_code = "LIBSSH2_ERROR_ENCRYPT"


class FileError(SSH2Error):
    """A local file (such as a key file) could not be read."""
    _error_code = "LIBSSH2_ERROR_FILE"


class HashCalcError(SSH2Error):
    """A hash could not be computed."""
    _error_code = "LIBSSH2_ERROR_HASH_CALC"


class HashInitError(SSH2Error):
    """A hash could not be initialised."""
    _error_code = "LIBSSH2_ERROR_HASH_INIT"


class HostkeyInitError(SessionError):
    """The host key could not be initialised."""
    _error_code = "LIBSSH2_ERROR_HOSTKEY_INIT"


class HostkeySignError(SessionError):
    """The host key signature could not be verified."""
    _error_code = "LIBSSH2_ERROR_HOSTKEY_SIGN"


class InvalidMACError(SSH2Error):
    """A packet had an invalid MAC."""
    _error_code = "LIBSSH2_ERROR_INVALID_MAC"


class InvalidPollTypeError(SSH2Error):
    """An invalid poll type was given."""
    _error_code = "LIBSSH2_ERROR_INVALID_POLL_TYPE"


class InvalidRequestError(SSH2Error):
    """The request is invalid in the current state."""
    _error_code = "LIBSSH2_ERROR_INVAL"


class KexFailureError(SSH2Error):
    """Key exchange failed: no common algorithm, or the exchange broke off."""
    _error_code = "LIBSSH2_ERROR_KEX_FAILURE"


class KeyExchangeError(SessionError):
    """The key exchange failed."""
    _error_code = "LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE"


class KeyfileAuthFailedError(SSH2Error):
    """Authentication with the key file failed."""
    _error_code = "LIBSSH2_ERROR_KEYFILE_AUTH_FAILED"


class KnownHostError(SSH2Error):
    """Base class of known-hosts errors."""
    _error_code = "LIBSSH2_ERROR_KNOWN_HOSTS"


class KnownHostGetError(KnownHostError):
    """Known hosts could not be listed."""


class KnownHostReadFileError(KnownHostError):
    """A known hosts file could not be read."""


class KnownHostReadLineError(KnownHostError):
    """A known hosts line could not be parsed."""


class KnownHostWriteFileError(KnownHostError):
    """A known hosts file could not be written."""


class KnownHostWriteLineError(KnownHostError):
    """A known host could not be written as a line."""


class MacFailureError(SSH2Error):
    """MAC computation failed."""
    _error_code = "LIBSSH2_ERROR_MAC_FAILURE"


class MethodNoneError(SSH2Error):
    """No method was negotiated."""
    _error_code = "LIBSSH2_ERROR_METHOD_NONE"


class MethodNotSupported(SessionError):
    """The requested method or algorithm is not supported."""
    _error_code = "LIBSSH2_ERROR_METHOD_NOT_SUPPORTED"


class MissingUserAuthBannerError(SSH2Error):
    """The server sent no user-auth banner."""
    _error_code = "LIBSSH2_ERROR_MISSING_USERAUTH_BANNER"


class OutOfBoundaryError(SSH2Error):
    """A value was out of bounds."""
    _error_code = "LIBSSH2_ERROR_OUT_OF_BOUNDARY"


class PasswordExpiredError(AuthenticationError):
    """The password has expired."""
    _error_code = "LIBSSH2_ERROR_PASSWORD_EXPIRED"


class ProtocolError(SSH2Error):
    """The peer broke the SSH protocol."""
    _error_code = "LIBSSH2_ERROR_PROTO"


class PublicKeyError(SSH2Error):
    """Base class of publickey-subsystem errors."""


class PublicKeyInitError(PublicKeyError):
    """The publickey subsystem could not be started."""


class PublicKeyProtocolError(SSH2Error):
    """The publickey subsystem broke its protocol."""
    _error_code = "LIBSSH2_ERROR_PUBLICKEY_PROTOCOL"


class PublickeyUnverifiedError(AuthenticationError):
    """The public key was not verified by the server."""
    _error_code = "LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED"


class RandGenError(SSH2Error):
    """Random number generation failed."""
    _error_code = "LIBSSH2_ERROR_RANDGEN"


class RequestDeniedError(SessionError):
    """The server denied the request."""
    _error_code = "LIBSSH2_ERROR_REQUEST_DENIED"


class SCPProtocolError(SessionError):
    """The SCP transfer failed (for example the remote file does not exist)."""
    _error_code = "LIBSSH2_ERROR_SCP_PROTOCOL"


class SFTPError(SSH2Error):
    """Base class of SFTP errors."""


class SFTPHandleError(SFTPError):
    """An SFTP handle operation failed."""


class SFTPProtocolError(SFTPError):
    """The SFTP server reported a failure; SFTP.last_error() has its status code."""
    _error_code = "LIBSSH2_ERROR_SFTP_PROTOCOL"


class AgentAuthenticationError(AuthenticationError):
    """No identity held by the SSH agent authenticated the user."""


class AgentConnectionError(AgentError):
    """The SSH agent could not be reached."""


class ChannelClosedError(ChannelError):
    """The channel is closed."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_CLOSED"


class ChannelEOFSentError(ChannelError):
    """EOF was already sent on the channel."""
    _error_code = "LIBSSH2_ERROR_CHANNEL_EOF_SENT"


class KnownHostAddError(KnownHostError):
    """A known host could not be added."""


class KnownHostCheckError(KnownHostError):
    """Base class of known-host check results that are errors."""


class KnownHostCheckFailure(KnownHostCheckError):
    """The known-host check could not be performed."""


class KnownHostCheckMisMatchError(KnownHostCheckError):
    """The host is known, with a different key."""


class KnownHostCheckNotFoundError(KnownHostCheckError):
    """The host is not in the known hosts."""


class KnownHostDeleteError(KnownHostError):
    """A known host could not be deleted."""
