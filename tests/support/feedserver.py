"""A loopback web server whose answers a test sets per path: feeds, pages, redirects and
``.torrent`` files, hostile or not, changed while a seeder polls them.

It records every path requested, so a test can show that a refused address got nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape, quoteattr

from .static import ServedFromThread


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between bytes of the body: a server that trickles.
    trickle: float = 0.0


class FeedServer(ServedFromThread):
    """Serves :attr:`routes` (path → :class:`Answer`) on ``host`` and an ephemeral port, from a thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Answer] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                answer = owner.routes.get(self.path, Answer(b"not here", 404))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    if not answer.trickle:
                        self.wfile.write(answer.body)
                    for n in range(len(answer.body) if answer.trickle else 0):
                        self.wfile.write(answer.body[n : n + 1])
                        self.wfile.flush()
                        time.sleep(answer.trickle)
                except OSError:  # the client gave up, as it should on a trickle
                    pass

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a test's output should show its failure, not every GET."""

        super().__init__(ThreadingHTTPServer((host, 0), Handler), "feed-server")


def rss(*items: str) -> Answer:
    """An RSS 2.0 feed of ``items`` (each the inside of one ``<item>``), with the ezRSS torrent namespace."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">'
        "<channel><title>Site</title><link>http://site/</link><description>d</description>"
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>\n"
    )
    return Answer(body.encode(), headers={"Content-Type": "application/rss+xml"})


def item(title: str, enclosure: str, extra: str = "") -> str:
    """One RSS item whose BEP 36 enclosure is ``enclosure``."""
    return (
        f"<title>{escape(title)}</title><enclosure url={quoteattr(enclosure)} "
        f'type="application/x-bittorrent" length="1"/>{extra}'
    )
