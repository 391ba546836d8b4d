"""Videoswarm's static site generator: a mkdocs plugin, its templates and the player."""

from .content import Entry, load_entries
from .errors import SitegenError
from .magnet import Magnet, MagnetError, parse_magnet

__all__ = ["Entry", "Magnet", "MagnetError", "SitegenError", "load_entries", "parse_magnet"]
