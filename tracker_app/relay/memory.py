"""The relay of a single replica: every socket is local."""

from __future__ import annotations

from collections.abc import Sequence

from tracker_app.relay.base import Delivery, Relay


class MemoryRelay(Relay):
    async def send(self, deliveries: Sequence[Delivery]) -> None:
        """Hand every delivery to its socket; none waits for a receiver to read."""
        for delivery in deliveries:
            self._deliver(delivery)
