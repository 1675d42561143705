"""``Agent``: authentication with the keys of an SSH agent, as ssh2-python's ``ssh2.agent``.

The agent is found through the identity path set with ``set_identity_path()``
or, by default, the ``SSH_AUTH_SOCK`` environment variable (read when
``connect()`` is called).
"""
import errno as _errno
import os as _os
import typing
from typing import Any, List, Optional, Union

from ._convert import StrOrBytes
from ._convert import ssh_string as _ssh_string
from ._convert import to_bytes as _to_bytes
from ._convert import to_cstring as _to_cstring
from ._convert import to_path as _to_path
from ._errors import EAGAIN as _EAGAIN
from ._errors import error_as as _error_as
from ._errors import needs_libssh2 as _needs_libssh2
from ._libssh2 import ffi as _ffi
from ._libssh2 import lib as _lib
from ._lifetime import Wrapper as _Wrapper
from ._lifetime import record_of as _record_of
from ._threads import operation as _operation
from ._threads import serialised as _serialised
from .pkey import PublicKey as _PublicKey

if typing.TYPE_CHECKING:
    from .session import Session

# The exceptions ssh2-python's agent module re-exports as a side effect of its imports.
from .exceptions import (AgentAuthenticationError, AgentConnectionError,
                         AgentError, AgentGetIdentityError, AgentListIdentitiesError)

_AGENT_PROTOCOL: int = _lib.LIBSSH2_ERROR_AGENT_PROTOCOL
_NO_SOCKET_PATH: int = _lib.SSH2CFFI_AGENT_NO_SOCKET_PATH
# An agent holds a socket and a few small strings.
_AGENT_GC_SIZE = 1024


def _key_type(blob: bytes) -> bytes:
    """The key type a public key blob starts with (an SSH string: length, name)."""
    key_type = _ssh_string(blob)
    if not key_type:
        raise AgentError("the agent listed a key blob with no key type")
    return key_type


class Agent(_Wrapper):
    """A connection to an SSH agent, for one ``Session``.

    ``Agent(session)`` (or ``session.agent_init()``) makes an agent handle
    without connecting; then ``connect()``, ``get_identities()`` and
    ``userauth(username, key)`` for each key until one is accepted.
    ``Session.agent_auth(username)`` does all of that in one call.

    libssh2 talks to the agent through the session's socket functions, so
    once the session is disconnected every call raises
    ``SocketDisconnectError``, except ``disconnect()`` and the identity path.
    """

    __slots__ = ("_session", "_connected", "_generation", "__weakref__")

    def __init__(self, session: "Session") -> None:
        rec = _record_of(session)
        self._session = session
        self._connected = False
        self._generation = 0  # bumped each time libssh2 replaces its identity list
        self._own(rec, self._new_agent())

    # -- plumbing -------------------------------------------------------------------------
    def _new_agent(self) -> Any:
        session_ptr = self._session._ptr
        raw = _lib.libssh2_agent_init(session_ptr)
        if raw == _ffi.NULL:
            raise _error_as(AgentError, "Error initialising agent",
                            _lib.libssh2_session_last_errno(session_ptr), session_ptr)
        return raw

    def _own(self, rec: Any, raw: Any) -> None:
        """Own ``raw``: freed (libssh2_agent_free) before the session, whenever dropped."""
        self._adopt(rec, raw, rec.local_child_finaliser(_lib.ssh2cffi_agent_release),
                    _AGENT_GC_SIZE)

    def _abandon_and_replace(self) -> None:
        """Swap in a fresh agent after a failed libssh2_agent_connect().

        That failure leaves a closed descriptor number in the agent, which a
        later disconnect or free would close again, closing whatever now
        uses the number.  The old agent is therefore never freed (a few
        hundred bytes leak) and nothing is done with it again.
        """
        old = self._ptr
        path = _lib.libssh2_agent_get_identity_path(old)
        path_copy = _ffi.string(path) if path != _ffi.NULL else None
        fresh = self._new_agent()
        self._disown(AgentError, "this agent was replaced")  # never freed: see above
        self._own(self._rec, fresh)
        if path_copy is not None:
            _lib.libssh2_agent_set_identity_path(self._ptr, path_copy)
        self._generation += 1

    def _free(self) -> None:
        """Disconnect and free the agent now (used by Session.agent_auth)."""
        if self._gone is not None:
            return
        if self._connected:
            _lib.libssh2_agent_disconnect(self._ptr)
            self._connected = False
        _lib.libssh2_agent_free(self._disown(
            AgentError, "this Agent was freed (Session.agent_auth frees its own agent)"))

    def _socket_path_text(self) -> str:
        path = _lib.libssh2_agent_get_identity_path(self._ptr)
        if path != _ffi.NULL:
            return _os.fsdecode(_ffi.string(path))
        return _os.environ.get("SSH_AUTH_SOCK", "$SSH_AUTH_SOCK")

    # -- API ----------------------------------------------------------------------------
    @_serialised
    def connect(self) -> int:
        """Connect to the agent; returns 0.

        Raises ``AgentConnectionError`` saying why (no ``SSH_AUTH_SOCK``, no
        agent listening on the socket, ...).  Connecting again first closes
        the previous connection.
        """
        ptr = self._live()
        if self._connected:
            self.disconnect()
        path = _lib.libssh2_agent_get_identity_path(ptr)
        problem = _lib.ssh2cffi_agent_probe(path)
        # The probe finds what libssh2_agent_connect() would fail on and says
        # why; the codes are the ones libssh2 returns for these failures.  No
        # session pointer: libssh2 recorded no message for them.
        if problem == _NO_SOCKET_PATH:
            raise _error_as(
                AgentConnectionError,
                "Unable to connect to agent: the SSH_AUTH_SOCK environment variable is not "
                "set and no path was given with set_identity_path()",
                _lib.LIBSSH2_ERROR_BAD_USE)
        if problem != 0:
            raise _error_as(AgentConnectionError, "Unable to connect to agent at %s: %s (errno %s)"
                            % (self._socket_path_text(), _os.strerror(problem),
                               _errno.errorcode.get(problem, problem)), _AGENT_PROTOCOL)
        rc = _lib.libssh2_agent_connect(ptr)
        if rc != 0:
            session_ptr = self._session._ptr
            error = _error_as(AgentConnectionError, "Unable to connect to agent at %s"
                              % self._socket_path_text(), rc, session_ptr)
            if rc == _AGENT_PROTOCOL:  # the agent went away since the probe
                self._abandon_and_replace()
            raise error
        self._connected = True
        return 0

    @_serialised
    def disconnect(self) -> int:
        """Close the connection to the agent; returns libssh2's rc (0), as ssh2-python."""
        ptr = self._usable_ptr()
        if not self._connected:
            return 0
        self._connected = False
        return _lib.libssh2_agent_disconnect(ptr)

    @_serialised
    def list_identities(self) -> None:
        """Ask the agent for its identities (get_identities() does this itself).

        ssh2-python's is a no-op; this one asks, and raises
        ``AgentListIdentitiesError`` when the agent cannot answer.
        """
        ptr = self._live()
        if not self._connected:
            raise AgentListIdentitiesError(
                "Failure requesting identities from agent: the agent is not connected, "
                "call connect() first")
        rc = _lib.libssh2_agent_list_identities(ptr)
        self._generation += 1  # libssh2 has freed the previous list
        if rc != 0:
            raise _error_as(AgentListIdentitiesError, "Failure requesting identities from "
                            "agent", rc, self._session._ptr)

    @_serialised
    def get_identities(self) -> List[_PublicKey]:
        """The agent's identities (``PublicKey`` objects); ``[]`` for an empty agent."""
        self.list_identities()
        return self._current_identities()

    def _current_identities(self) -> List[_PublicKey]:
        ptr = self._ptr
        keys: List[_PublicKey] = []
        store = _ffi.new("struct libssh2_agent_publickey **")
        prev = _ffi.NULL
        while True:
            rc = _lib.libssh2_agent_get_identity(ptr, store, prev)
            if rc == 1:
                return keys
            if rc < 0:
                raise _error_as(AgentGetIdentityError, "Failure getting identity from agent",
                                rc, self._session._ptr)
            prev = store[0]
            keys.append(_PublicKey._wrap(self, prev, self._generation))

    def _identity(self, pkey: _PublicKey) -> Any:
        """The libssh2 identity pointer for ``pkey`` in this agent's current list."""
        if pkey._agent is self and pkey._generation == self._generation:
            return pkey._ptr
        # Listed before a newer listing (or by another agent): find the same key now.
        for attempt in range(2):
            for key in self._current_identities():
                if key._blob == pkey._blob:
                    return key._ptr
            if attempt == 0 and self._connected:
                self.list_identities()
        raise AgentAuthenticationError(
            "the public key %r is not among this agent's identities" % (pkey,))

    @_operation("userauth")
    def userauth(self, username: StrOrBytes, pkey: _PublicKey) -> int:
        """Authenticate ``username`` with the agent's key ``pkey``.

        Returns 0, or LIBSSH2_ERROR_EAGAIN on a non-blocking session (call
        again).  A refused key raises ``AgentAuthenticationError``.
        """
        if not isinstance(pkey, _PublicKey):
            raise TypeError("pkey must be a PublicKey, not %s" % type(pkey).__name__)
        if pkey._blob is None:
            raise AgentAuthenticationError("this PublicKey was not listed by an agent")
        user = _to_cstring(username, "username")
        ptr = self._live()
        rc = _lib.libssh2_agent_userauth(ptr, user, self._identity(pkey))
        if rc == 0 or rc == _EAGAIN:
            return rc
        raise _error_as(AgentAuthenticationError, "Error authenticating user %s with provided "
                        "public key" % user.decode("utf-8", "replace"), rc, self._session._ptr)

    @_serialised
    def sign(self, pkey: _PublicKey, data: bytes) -> bytes:
        """Have the agent sign ``data`` with its key ``pkey``: the signature blob.

        The blob is what the agent returns inside its SSH signature (for
        ed25519 the 64 raw signature bytes, for ECDSA the encoded ``r`` and
        ``s``), made with the key's own algorithm, the one its blob names
        (``ssh-ed25519``, ``ecdsa-sha2-nistp256``, ``ssh-rsa``: SHA-1 for
        RSA keys; libssh2 1.11.1 copies the requested algorithm name with the
        key type's length, so asking it for ``rsa-sha2-*`` is not safe).
        The agent must be connected.  Raises ``AgentError`` when the agent
        refuses or fails.  An ssh2cffi addition; needs libssh2 >= 1.11.0
        (older builds raise NotImplementedError).
        """
        if not _lib.SSH2CFFI_HAS_AGENT_SIGN:
            raise _needs_libssh2("Agent.sign", "1.11.0")
        if not isinstance(pkey, _PublicKey):
            raise TypeError("pkey must be a PublicKey, not %s" % type(pkey).__name__)
        if pkey._blob is None:
            raise AgentError("this PublicKey was not listed by an agent")
        payload = _to_bytes(data, "data")
        ptr = self._live()
        if not self._connected:
            raise AgentError("the agent is not connected, call connect() first")
        identity = self._identity(pkey)
        method = _key_type(pkey._blob)
        signature = _ffi.new("unsigned char **")
        length = _ffi.new("size_t *")
        session_ptr = self._session._ptr
        rc = _lib.libssh2_agent_sign(ptr, identity, signature, length, payload, len(payload),
                                     method, len(method))
        if rc != 0:
            raise _error_as(AgentError, "the agent could not sign with %r" % (pkey,), rc,
                            session_ptr)
        try:
            return bytes(_ffi.buffer(signature[0], length[0]))
        finally:
            _lib.libssh2_free(session_ptr, signature[0])

    @_serialised
    def get_identity_path(self) -> Optional[bytes]:
        """The agent socket path set with set_identity_path(), or None (then SSH_AUTH_SOCK)."""
        path = _lib.libssh2_agent_get_identity_path(self._usable_ptr())
        return None if path == _ffi.NULL else _ffi.string(path)

    @_serialised
    def set_identity_path(self, path: Union[StrOrBytes, "_os.PathLike[Any]", None]) -> None:
        """Use the agent listening on the Unix socket ``path`` instead of SSH_AUTH_SOCK.

        None goes back to SSH_AUTH_SOCK (an ssh2cffi addition).
        """
        value = _ffi.NULL if path is None else _to_path(path, "path")
        _lib.libssh2_agent_set_identity_path(self._usable_ptr(), value)

    def __repr__(self) -> str:
        state = "freed" if self._gone is not None else "connected" if self._connected else "not connected"
        return "<Agent %s>" % state
