"""Who may hold a tracker socket, and how the tracker ends one: the same on both transports.

Tracker sockets enter two ways: the lean transport (``tracker_app.transport``, what
``tracker`` runs in production) and the ASGI middleware (``tracker_app.endpoints.websocket``,
for other servers and ``TestClient``). Both call :func:`admit` and close with a
:class:`Refusal`. They used to be written twice and drifted: the lean path ignored
``TRACKER_PROXY_HOPS``, so behind a CDN its per-address cap counted the CDN's edge
address, and it dropped a slow reader without the 1008 that ``config.py`` documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracker_app.endpoints.addresses import peer_address
from tracker_app.metrics import Metrics
from tracker_app.tracker import Tracker


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the tracker closes a socket: the close code and reason the peer gets, the metric it counts."""

    code: int
    reason: str
    #: The ``kind`` label of ``tracker_failures_total``.
    kind: str

    def count(self, metrics: Metrics) -> Refusal:
        metrics.failures.labels(self.kind).inc()
        return self


#: RFC 6455's policy violation, for both: the peer broke a rule, it may come back once it keeps it.
POLICY_VIOLATION = 1008
TOO_MANY = Refusal(POLICY_VIOLATION, "too many connections from this address", "too_many_connections")
#: A peer whose unsent bytes passed ``TRACKER_SEND_BUFFER``.
SLOW_READER = Refusal(POLICY_VIOLATION, "not reading what it is sent", "slow_reader")


def admit(tracker: Tracker, headers: Iterable[tuple[bytes, bytes]], peer: Sequence[object] | None) -> str | Refusal:
    """The client's address for a socket upgrade, or why it is refused (counted).

    ``headers`` are the handshake's raw, lower-case headers and ``peer`` the socket's
    ``(host, port)``, as uvicorn and the ASGI scope both give them.
    """
    settings = tracker.settings
    ip = peer_address(headers, peer, settings.trust_proxy, settings.proxy_hops)
    if tracker.connections.full(ip):
        return TOO_MANY.count(tracker.metrics)
    return ip
