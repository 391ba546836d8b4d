"""Videoswarm's WebTorrent tracker: stateless replicas sharing swarms through Redis."""

from tracker_app.app import create_app
from tracker_app.config import Settings

__all__ = ["Settings", "create_app"]
