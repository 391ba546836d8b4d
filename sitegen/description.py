"""Descriptions: Markdown to HTML that can carry no markup or script of its own.

Raw HTML in a description is shown as text (Markdown's HTML passthrough is off), and
the result goes through nh3 (the ammonia sanitiser), which also drops ``javascript:``
links and event attributes.
"""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

_EXCERPT_CHARS = 200


class DescriptionRenderer:
    """Reusable: a Markdown instance is built once per build, not once per page."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["sane_lists"])
        self._md.preprocessors.deregister("html_block")
        self._md.inlinePatterns.deregister("html")

    def html(self, text: str) -> Markup:
        self._md.reset()
        return Markup(nh3.clean(self._md.convert(text), link_rel="nofollow noopener noreferrer"))

    def excerpt(self, html: Markup, limit: int = _EXCERPT_CHARS) -> str:
        """Plain text from the start of the description, cut at a word."""
        text = " ".join(html.striptags().split())
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(".,;:") + "…"
