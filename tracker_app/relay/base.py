"""The relay interface: hand a message to the socket a route names, wherever it is."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracker_app.peers import OfferId, PeerId, SocketId


# Not frozen: five of each are made per announce, and a frozen dataclass is built ~3x slower.
@dataclass(slots=True)
class OfferOrigin:
    """Who made an offer, so the socket that receives it can route the answer back."""

    peer_id: PeerId
    offer_id: OfferId
    route: SocketId


@dataclass(slots=True)
class Delivery:
    route: SocketId
    #: The JSON frame, ready to send.
    text: str
    origin: OfferOrigin | None = None


#: Hands a delivery to one of this replica's sockets. It never waits: a slow receiver
#: must not hold up the relay, the sender or the other receivers of a batch.
Deliver = Callable[[Delivery], None]


class RelayUnavailable(Exception):
    """Messages cannot reach other replicas right now; the replica stays up."""


def _not_started(delivery: Delivery) -> None:
    raise RuntimeError("relay used before start()")


class Relay(abc.ABC):
    """Moves deliveries to the replica holding their socket; that replica's ``deliver`` sends them."""

    def __init__(self, replica: str) -> None:
        self.replica = replica
        self._deliver: Deliver = _not_started

    async def start(self, deliver: Deliver) -> None:
        """Begin receiving deliveries meant for this replica; ``deliver`` sends them."""
        self._deliver = deliver

    @abc.abstractmethod
    async def send(self, deliveries: Sequence[Delivery]) -> None:
        """Deliver each message; messages for sockets that are gone are dropped.

        It may run before a task exists for it (:func:`tracker_app.eager.start_eagerly`),
        so until it first waits it must not need one (no ``asyncio.timeout``).
        """

    def check(self) -> None:
        """Raise :class:`RelayUnavailable` while messages from other replicas cannot arrive."""

    async def close(self) -> None:
        """Stop receiving."""
