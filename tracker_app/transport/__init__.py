"""How bytes reach the tracker: bounded HTTP connections and lean tracker sockets (``uvicorn.run(http=...)``)."""

from tracker_app.transport.http import HttpProtocol
from tracker_app.transport.sockets import TrackerSocket

__all__ = ["HttpProtocol", "TrackerSocket"]
