"""Every option of the seeder's commands, declared once.

``seed/cli.py`` builds each command's options from :data:`SETTINGS` (an option with an
environment variable takes it as its default, so argparse checks it like the flag), and
``python -m seed.configdoc`` writes the seeder's table of ``docs/configuration.md`` from it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs

from .follow import parse_size

COMMANDS = ("add", "run", "status", "follow", "unfollow")

_ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})s?\Z")


def _listen(text: str) -> str:
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if not (match := _ADDRESS.match(item)) or not 0 <= int(match[2]) <= 65535]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"{bad[0] if bad else text!r} is not ADDR:PORT (e.g. 0.0.0.0:6881, [::]:6881)")
    return ",".join(items)


def _stun(text: str) -> str:
    if text and not _ADDRESS.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. stun.example.org:3478), nor '' for none")
    return text


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def _size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive size")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


@dataclass(frozen=True)
class Setting:
    """One option: its flags, the commands that take it, its variable, default and help."""

    flags: tuple[str, ...]
    commands: tuple[str, ...]
    help: str
    env: str | None = None
    default: str | None = None
    shown: str | None = None  # the default as the help and the docs say it, when not ``default``
    metavar: str | None = None
    parse: Callable[[str], object] | None = None
    action: Literal["store", "store_true", "append"] = "store"
    required: bool = False
    more: str = ""  # what only the docs say, after the help

    @property
    def flag(self) -> str:
        return self.flags[-1]

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments, ``listen`` for ``--listen``."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def default_text(self) -> str | None:
        return self.shown or self.default

    def argument(self, environ: Mapping[str, str]) -> dict[str, Any]:
        """``add_argument``'s keywords; the help names the variable and the default."""
        if self.env:
            text = f"{self.help} [{self.env}, default: {self.default_text}]"
        else:
            text = f"{self.help} [default: {self.shown}]" if self.shown else self.help
        keywords: dict[str, Any] = {"action": self.action, "help": text}
        if self.action != "store_true":
            keywords.update(type=self.parse, metavar=self.metavar)
            keywords["default"] = environ.get(self.env, self.default) if self.env else self.default
        if self.required:
            keywords["required"] = True
        return keywords


SETTINGS = (
    Setting(
        ("--state",),
        COMMANDS,
        "the seeder's state directory",
        env="SEED_STATE",
        default=str(Path(platformdirs.user_data_dir("videoswarm")) / "seed"),
        shown="~/.local/share/videoswarm/seed on Linux",
        metavar="DIR",
        parse=Path,
        more="Torrents, file records, resume data, `status.json`: `seed add` and `seed run` must use the same one.",
    ),
    Setting(
        ("--tracker",),
        ("add",),
        "a ws://, wss://, http:// or https:// tracker; repeat for several (at least one)",
        metavar="URL",
        action="append",
        required=True,
        more="Written into the torrent and the magnet.",
    ),
    Setting(
        ("--webseed",),
        ("add",),
        "base URL of an HTTP web seed serving the files by name; repeatable",
        metavar="URL",
        action="append",
        more="A file's URL is `<base>/<url-encoded file name>`.",
    ),
    Setting(
        ("--content",),
        ("add",),
        "where the <slug>.md entries go",
        env="SEED_CONTENT",
        default="content",
        metavar="DIR",
        parse=Path,
        more="The `<slug>.torrent`, poster and captions go beside them.",
    ),
    Setting(
        ("--transcode",),
        ("add",),
        "make an H.264/AAC MP4 of a video browsers cannot play (HEVC, ProRes, MKV, AVI...) and seed that copy",
        action="store_true",
    ),
    Setting(("-q", "--quiet"), ("add",), "no progress bar while hashing or transcoding", action="store_true"),
    Setting(
        ("--listen",),
        ("run",),
        "BitTorrent TCP/uTP interfaces, comma-separated",
        env="SEED_LISTEN",
        default="0.0.0.0:6881,[::]:6881",
        metavar="ADDR:PORT",
        parse=_listen,
    ),
    Setting(
        ("--stun-server",),
        ("run",),
        "STUN server for WebRTC; '' disables STUN",
        env="SEED_STUN_SERVER",
        shown="libtorrent's, a public Google server",
        metavar="HOST:PORT",
        parse=_stun,
    ),
    Setting(
        ("--webseed-port",),
        ("run",),
        "also serve the seeded files over HTTP (Range, CORS) on this port, at /<file name>",
        env="SEED_WEBSEED_PORT",
        shown="off",
        metavar="PORT",
        parse=_port,
    ),
    Setting(
        ("--webseed-host",),
        ("run",),
        "interface for the web seed; put a TLS reverse proxy in front of it",
        env="SEED_WEBSEED_HOST",
        default="127.0.0.1",
        metavar="ADDR",
        parse=str,
    ),
    Setting(
        ("--status-interval",),
        ("run",),
        "seconds between status reports",
        env="SEED_STATUS_INTERVAL",
        default="30",
        metavar="SECONDS",
        parse=_seconds,
        more="Each is a line per torrent and a new `status.json`.",
    ),
    Setting(
        ("--follow-interval",),
        ("run",),
        "seconds between two polls of each followed feed",
        env="SEED_FOLLOW_INTERVAL",
        default="600",
        metavar="SECONDS",
        parse=_seconds,
        more="See [mirrors.md](mirrors.md).",
    ),
    Setting(
        ("--mirror-grace",),
        ("run",),
        "how long a mirrored video that left its feed is kept before its data is deleted",
        env="SEED_MIRROR_GRACE",
        default="86400",
        shown="86400, a day",
        metavar="SECONDS",
        parse=_seconds,
    ),
    Setting(
        ("--metadata-timeout",),
        ("run",),
        "how long the peers of a feed item that gives only a magnet link have to send its metadata",
        env="SEED_METADATA_TIMEOUT",
        default="60",
        metavar="SECONDS",
        parse=_seconds,
        more="In seconds; tried again at the next poll ([mirrors.md](mirrors.md)).",
    ),
    Setting(("--json",), ("status",), "print the report as JSON", action="store_true", more="With `running`."),
    Setting(
        ("--name",),
        ("follow",),
        "what to call the subscription",
        shown="the site's host name",
        more="For `seed unfollow` and `seed status`.",
    ),
    Setting(
        ("--max-size",),
        ("follow",),
        "most video this subscription may hold, newest first, e.g. 50G",
        shown="no limit",
        metavar="SIZE",
        parse=_size,
        more="`500M`, `50G` or bytes; units are powers of 1024.",
    ),
    Setting(("--latest",), ("follow",), "mirror only the newest N videos", shown="all", metavar="N", parse=_count),
    Setting(("--list",), ("follow",), "list the sites followed", action="store_true"),
    Setting(
        ("--allow-private",),
        ("follow",),
        "let its URLs reach private addresses: loopback, the LAN (off: a feed could probe your network)",
        action="store_true",
    ),
)


def of(command: str) -> tuple[Setting, ...]:
    """The options of ``command``, in declaration order."""
    return tuple(setting for setting in SETTINGS if command in setting.commands)
