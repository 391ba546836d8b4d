"""Videoswarm's seeder: ``seed add`` makes torrents and content entries, ``seed run`` seeds them.

One libtorrent session serves browsers over WebRTC (through WebTorrent trackers) and
desktop clients over TCP/uTP (through HTTP trackers); an optional HTTP web seed serves
the same files to browsers when no peer is around.
"""

from .errors import SeedError

__all__ = ["SeedError"]
