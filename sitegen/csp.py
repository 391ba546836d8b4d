"""The Content-Security-Policy the built site works under (written to ``csp.txt``).

Scripts run only from the site's own files, so no title, description or pasted magnet
can ever become script, even if escaping failed somewhere. Themes print a few inline
``<script>`` blocks of their own (mkdocs' sets ``base_url``); the policy allows exactly
those, by hash, so it has to be computed from the pages the build wrote.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

# Theme output, never user text (that is escaped), so a regex is enough to find them.
_SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_SRC = re.compile(r"\bsrc\s*=", re.I)
_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
_SCRIPT_TYPES = frozenset({"text/javascript", "application/javascript", "module"})


def inline_script_hashes(html: str) -> set[str]:
    """CSP source expressions (``'sha256-...'``) for the page's inline executable scripts."""
    hashes = set()
    for match in _SCRIPT.finditer(html):
        kind = _TYPE.search(match["attrs"])
        if _SRC.search(match["attrs"]) or (kind and kind[1].lower() not in _SCRIPT_TYPES):
            continue  # a file (covered by 'self') or a JSON data block (never executed)
        digest = hashlib.sha256(match["body"].encode()).digest()
        hashes.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return hashes


def policy(script_hashes: Iterable[str], trackers: Iterable[str]) -> str:
    """The policy, one line. ``ws:``/``http:`` are allowed only for a site with a ``ws://`` tracker (testing)."""
    connect = ["'self'", "https:", "wss:"]
    media = ["'self'", "blob:", "https:"]
    if any(url.startswith("ws://") for url in trackers):
        connect += ["http:", "ws:"]
        media += ["http:"]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *sorted(script_hashes)],
        # The theme's own markup carries style attributes; no user text reaches one.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        # Video bytes come from our service worker under this origin, or straight from a web seed
        # (HTTP first, and for browsers without WebRTC); blob: for browsers that fall back.
        "media-src": media,
        # Trackers (WebSocket), web seeds and .torrent files (HTTP range requests).
        "connect-src": connect,
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
