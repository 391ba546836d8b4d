"""The relay of a single replica: every socket is local."""

from __future__ import annotations

from collections.abc import Sequence

from tracker_app.relay.base import Delivery, Relay


class MemoryRelay(Relay):
    async def send(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            await self._deliver(delivery)
