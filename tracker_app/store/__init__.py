"""Swarm state: who is in which swarm, behind one interface with two back ends.

``MemoryStore`` keeps it in this process (one replica); ``RedisStore`` keeps it in
Redis so that any number of replicas share the same swarms.
"""

from tracker_app.store.base import StoreUnavailable, SwarmStore
from tracker_app.store.memory import MemoryStore
from tracker_app.store.redis import RedisStore

__all__ = ["MemoryStore", "RedisStore", "StoreUnavailable", "SwarmStore"]
