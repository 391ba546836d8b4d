"""The one error every parser raises."""

from __future__ import annotations


class WireError(ValueError):
    """A request the tracker cannot accept, with what is known of it for the reply."""

    def __init__(self, reason: str, action: str | None = None, info_hash: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action = action
        self.info_hash = info_hash
