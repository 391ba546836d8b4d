"""Descriptions: Markdown to HTML that can carry no markup or script of its own.

Raw HTML in a description is shown as text (Markdown's HTML passthrough is off), and
the result goes through nh3 (the ammonia sanitiser), which also drops ``javascript:``
links and event attributes.

Python-Markdown finds a link's ``[text]`` and ``(url)`` by scanning forward from every
``[`` for its closing bracket, so 20 KB of ``[`` took minutes to render. Here a link's
brackets and parentheses may nest only :data:`MAX_NESTING` deep, which no real link does,
and the scan stops there: deeper ones stay text.

Inline patterns run one after another, and each leaves what it made in the text as a
placeholder (``\x02klzzwxh:N\x03``) for the next. A link's ``(url "title")`` scan steps over
quotes, so in ``![a](x" onerror="alert(6)) [y](d,<s>a</s>)`` it ran on into the link made
before it and took half of its placeholder as the image's ``src``: attributes are never
searched for placeholders, so ``\x02`` reached the HTML and lxml refused the feed. A link
whose URL or title would hold a placeholder is therefore not a link (it stays text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import markdown
import markdown.util
import nh3
from markupsafe import Markup

_EXCERPT_CHARS = 200
MAX_NESTING = 8
_BRACKETS = {"[": re.compile(r"[\[\]]"), "(": re.compile(r"[()]")}


class DescriptionError(ValueError):
    """A description Markdown cannot render (nested too deep)."""


def _closes(data: str, index: int, opening: str) -> bool:
    """Whether the bracket opened just before ``index`` closes, nesting at most MAX_NESTING deep."""
    depth = 1
    for match in _BRACKETS[opening].finditer(data, index):
        depth += 1 if match[0] == opening else -1
        if depth == 0:
            return True
        if depth > MAX_NESTING:
            return False
    return False


#: Python-Markdown's processors that scan for a link's closing bracket or parenthesis.
_LINK_PATTERNS = ("reference", "link", "image_link", "image_reference", "short_reference", "short_image_ref")


def _bound(processor: Any) -> None:
    """Make one link processor give up on brackets that do not close within MAX_NESTING levels."""
    get_text: Callable[[str, int], tuple[str, int, bool]] = processor.getText
    get_link: Callable[[str, int], tuple[str, str | None, int, bool]] = processor.getLink

    def text(data: str, index: int) -> tuple[str, int, bool]:
        return get_text(data, index) if _closes(data, index, "[") else ("", index, False)

    def link(data: str, index: int) -> tuple[str, str | None, int, bool]:
        if data.startswith("(", index) and not _closes(data, index + 1, "("):
            return "", None, index, False
        href, title, end, handled = get_link(data, index)
        if markdown.util.STX in data[index:end]:
            return "", None, index, False
        return href, title, end, handled

    processor.getText, processor.getLink = text, link


class DescriptionRenderer:
    """Reusable: a Markdown instance is built once per build, not once per page."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["sane_lists"])
        self._md.preprocessors.deregister("html_block")
        self._md.inlinePatterns.deregister("html")
        for name in _LINK_PATTERNS:
            _bound(self._md.inlinePatterns[name])

    def html(self, text: str) -> Markup:
        """Sanitised HTML; :class:`DescriptionError` if the Markdown nests too deep to render."""
        self._md.reset()
        try:
            rendered = self._md.convert(text)
        except RecursionError:
            raise DescriptionError(
                "the description nests lists or quotes too deep to render; use fewer levels"
            ) from None
        return Markup(nh3.clean(rendered, link_rel="nofollow noopener noreferrer"))

    def excerpt(self, html: Markup, limit: int = _EXCERPT_CHARS) -> str:
        """Plain text from the start of the description, cut at a word."""
        text = " ".join(html.striptags().split())
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(".,;:") + "…"
