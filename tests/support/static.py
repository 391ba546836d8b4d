"""A loopback HTTP server for the browser test page and the webtorrent bundle.

Browsers need an origin to run ES modules and WebRTC from, and 127.0.0.1 is a secure
context. The bundle is served straight from node_modules so it is never copied into
the repository.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from .processes import ROOT

PAGES = Path(__file__).resolve().parent / "pages"
_EXTRA_FILES = {"/webtorrent.min.js": ROOT / "node_modules/webtorrent/dist/webtorrent.min.js"}


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def translate_path(self, path: str) -> str:
        extra = _EXTRA_FILES.get(path.split("?", 1)[0])
        return str(extra) if extra else super().translate_path(path)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a test's output should show its failure, not every GET."""

    def end_headers(self) -> None:
        for name, value in self.server.extra_headers.items():  # type: ignore[attr-defined]
            self.send_header(name, value)
        super().end_headers()


class ServedFromThread:
    """A test HTTP server run from a daemon thread while in its ``with`` block."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        self._server = server
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class StaticSite(ServedFromThread):
    """Serves ``tests/support/pages`` on an ephemeral loopback port from a thread."""

    def __init__(self, directory: Path = PAGES, headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        """``headers`` go on every response (e.g. a Content-Security-Policy); ``host`` is the address to serve on."""
        server = ThreadingHTTPServer((host, 0), partial(_Handler, directory=str(directory)))
        server.extra_headers = headers or {}  # type: ignore[attr-defined]
        super().__init__(server, "static-site")
