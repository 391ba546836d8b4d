"""Videoswarm's static site generator: a mkdocs plugin, its templates and the player.

The content format it reads (entries, magnets, slugs) is :mod:`videoswarm_content`.
"""

from .errors import SitegenError

__all__ = ["SitegenError"]
