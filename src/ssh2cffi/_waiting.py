"""Where the program waits: the hook that lets a relay run inside the calls that wait.

libssh2 moves a channel's data only when the program calls into libssh2, and
it has no callback for "data arrived": a forwarded agent connection
(agent_forwarding.AgentForwarding) makes progress only if something relays it
while the program waits for the remote side.  The calls that wait for the
remote side are the Channel calls that wait for its output, its window, its
EOF or its close, and ``Listener.forward_accept``; they are decorated with
``waits_for_peer`` (``Channel.read_ex`` and ``write_ex`` check inline, being
the hottest calls).

While an AgentForwarding is open on the session (``SessionRecord.relay``),
such a call runs through ``relay._run_waiting(call)``: on a non-blocking
session the relay takes a step when the call returns LIBSSH2_ERROR_EAGAIN;
on a blocking one it also does the waiting libssh2 would have done, relaying
in between.  Without one, the call costs one attribute test more.

Session-level calls (opening channels, SFTP, keepalives) are not decorated:
their replies come from sshd or sftp-server themselves, never from a remote
program waiting for the agent.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


def waits_for_peer(method: _F) -> _F:
    """Run ``method`` through the session's relay while one is open (see the
    module docstring).  Apply it under the lock decorator (``@_serialised``)."""
    @wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        relay = self._rec.relay
        if relay is None:
            return method(self, *args, **kwargs)
        return relay._run_waiting(lambda: method(self, *args, **kwargs))
    return run  # type: ignore[return-value]
