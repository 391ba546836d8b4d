"""Mirroring the sites a seeder follows: a pure plan (plan.py), the mirror's own files
(store.py), the polling threads (poller.py), and the :class:`Mirror` that runs them in
``seed run``'s loop (mirror.py)."""

from .mirror import Mirror
from .store import names

__all__ = ["Mirror", "names"]
