"""Delivering offers and answers to sockets, on this replica or on another one."""

from tracker_app.relay.base import Deliver, Delivery, Relay, RelayUnavailable
from tracker_app.relay.memory import MemoryRelay
from tracker_app.relay.redis import RedisRelay

__all__ = ["Deliver", "Delivery", "MemoryRelay", "RedisRelay", "Relay", "RelayUnavailable"]
