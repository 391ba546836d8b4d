"""Subscriptions: the sites a seeder mirrors, kept in ``<state>/follow/<name>.json``.

``seed follow`` checks the feed once before recording anything, so a typo or an
unreachable site is one error line and no subscription. ``seed run`` reads the folder at
every poll, so following or unfollowing needs no restart.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from videoswarm_content.files import atomic_write

from .errors import SeedError
from .feed import FeedError, client, fetch
from .state import State

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}\Z")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Subscription:
    name: str
    #: The feed's URL (found from the site's discovery link if a site was given).
    url: str
    #: What the user gave: the site's address or the feed's URL.
    site: str
    #: Most bytes of video this subscription may hold; None for no limit.
    max_size: int | None = None
    #: Mirror only the newest N videos; None for all.
    latest: int | None = None
    added: str = ""
    #: Whether its URLs may reach private addresses (loopback, LAN: seed/netguard.py); off by default.
    allow_private: bool = False


@dataclass(frozen=True)
class Checked:
    subscription: Subscription
    videos: int
    size: int
    unknown_sizes: int
    #: Items that give a magnet link and no .torrent: ``seed run`` gets their metadata from peers.
    magnet_only: int = 0
    #: What of the feed was ignored (items over feed.MAX_ITEMS).
    problem: str = ""


def folder(state: State) -> Path:
    return state.root / "follow"


def load_all(state: State) -> list[Subscription]:
    """Every readable subscription; damaged files are skipped (``seed run`` keeps going)."""
    subscriptions = []
    for path in sorted(folder(state).glob("*.json")) if folder(state).is_dir() else []:
        try:
            subscriptions.append(Subscription(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return subscriptions


def follow(
    state: State, url: str, name: str | None, max_size: int | None, latest: int | None, allow_private: bool = False
) -> Checked:
    """Fetch the feed once to check it, then record the subscription."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise SeedError(f"{url!r} is not an http:// or https:// URL of a site or a feed", exit_code=2)
    name = name or default_name(url)
    if not _NAME.match(name):
        raise SeedError(f"--name {name!r}: use lowercase letters, digits, '.' and '-'", exit_code=2)
    with client(allow_private) as http:
        try:
            fetched = fetch(http, url, discover=True)
        except FeedError as error:
            raise SeedError(f"not following {url}: {error}") from None
    videos = fetched.videos or []
    subscription = Subscription(
        name, fetched.url, url, max_size, latest, datetime.date.today().isoformat(), allow_private
    )
    state.prepare()
    folder(state).mkdir(exist_ok=True)
    atomic_write(folder(state) / f"{name}.json", json.dumps(asdict(subscription), indent=1).encode() + b"\n")
    sizes = [v.size for v in videos if v.size is not None]
    magnet_only = sum(v.torrent_url is None and v.magnet is not None for v in videos)
    return Checked(subscription, len(videos), sum(sizes), len(videos) - len(sizes), magnet_only, fetched.problem)


def unfollow(state: State, name_or_url: str) -> Subscription:
    for subscription in load_all(state):
        if name_or_url in (subscription.name, subscription.url, subscription.site):
            (folder(state) / f"{subscription.name}.json").unlink()
            return subscription
    raise SeedError(f"not following {name_or_url!r} (see `seed follow --list`)")


def default_name(url: str) -> str:
    """The site's host name: ``https://videos.example.org/feed.xml`` → ``videos.example.org``."""
    host = (urlsplit(url).hostname or "site").lower()
    return re.sub(r"[^a-z0-9.-]", "-", host).strip(".-")[:63] or "site"


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GB``, ``10GiB`` or a number of bytes (units are powers of 1024)."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a size like 500M, 2G or 1048576")
    return int(float(match[1]) * 1024 ** ("kmgt".find(match[2].lower()) + 1 if match[2] else 0))
