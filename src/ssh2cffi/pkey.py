"""``PublicKey``: an identity held by an SSH agent, as ssh2-python's ``ssh2.pkey``."""
import typing
from typing import Any, Optional

from ._libssh2 import ffi as _ffi

if typing.TYPE_CHECKING:
    from .agent import Agent


class PublicKey:
    """One identity of an ssh-agent, from ``Agent.get_identities()``.

    Pass it to ``Agent.userauth()``.  The properties are read-only; on a
    ``PublicKey()`` built directly they are all None.

    The key keeps its Agent (and so the agent's memory) alive, and its
    properties are copied when it is listed, so they stay readable after the
    agent lists its identities again (ssh2-python's then point into freed
    memory).
    """

    __slots__ = ("_agent", "_ptr", "_generation", "_blob", "_comment", "_magic")

    def __init__(self) -> None:
        self._agent: Optional["Agent"] = None
        self._ptr: Any = _ffi.NULL
        self._generation = -1
        self._blob: Optional[bytes] = None
        self._comment: Optional[bytes] = None
        self._magic: Optional[int] = None

    @classmethod
    def _wrap(cls, agent: "Agent", ptr: Any, generation: int) -> "PublicKey":
        """The PublicKey for ``ptr``, a ``struct libssh2_agent_publickey *`` of ``agent``.

        ``ptr`` stays valid only until the agent lists its identities again
        (``generation`` tells which listing it came from).
        """
        key = cls.__new__(cls)
        key._agent = agent
        key._ptr = ptr
        key._generation = generation
        key._blob = (_ffi.unpack(_ffi.cast("char *", ptr.blob), ptr.blob_len)
                     if ptr.blob != _ffi.NULL else b"")
        key._comment = _ffi.string(ptr.comment) if ptr.comment != _ffi.NULL else b""
        key._magic = int(ptr.magic)
        return key

    @property
    def blob(self) -> Optional[bytes]:
        """The public key in SSH wire format."""
        return self._blob

    @property
    def blob_len(self) -> Optional[int]:
        """``len(blob)``."""
        return None if self._blob is None else len(self._blob)

    @property
    def comment(self) -> Optional[bytes]:
        """The comment the agent holds for the key (usually the key file's path)."""
        return self._comment

    @property
    def magic(self) -> Optional[int]:
        """libssh2's marker for identities it handed out."""
        return self._magic

    def __repr__(self) -> str:
        if self._blob is None:
            return "PublicKey()"
        return "PublicKey(comment=%r, blob_len=%d)" % (self._comment, len(self._blob))
