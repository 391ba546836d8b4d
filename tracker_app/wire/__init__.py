"""Wire formats: parse, validate and serialise tracker messages, with no I/O.

``websocket`` is the WebTorrent JSON protocol, ``http`` the BitTorrent HTTP
tracker protocol (BEP 3, 7, 23, 48). Both raise :class:`WireError` with a
``failure reason`` a client can show.
"""

from tracker_app.wire.errors import WireError

__all__ = ["WireError"]
