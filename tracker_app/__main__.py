"""``python -m tracker_app`` (or ``tracker``): run one replica, or ``--workers`` of them, with uvicorn.

The flags are made from the :class:`~tracker_app.config.Settings` fields declared with
``flag=True`` and win over their environment variables; run with ``--help`` for the
list, and see docs/configuration.md for every setting.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tracker_app.app import create_app
from tracker_app.config import ConfigError, Declaration, Settings, declarations, unknown_variables
from tracker_app.transport import HttpProtocol
from tracker_app.transport.runtime import connection_limit

log = logging.getLogger("tracker_app")

# uvicorn starts each of several workers as a fresh (spawned) interpreter that imports its
# app by name, so the parent cannot hand it an object: it leaves its resolved settings here.
_WORKER_SETTINGS = "_VIDEOSWARM_TRACKER_SETTINGS"


def worker_app() -> Starlette:
    """The app of one of ``--workers`` processes, with the settings the parent resolved.

    The parent resolves flags and environment once, checks them and serialises them (as
    the variables :meth:`Settings.from_env` reads) into ONE private variable that the
    spawned workers inherit. The alternatives were worse: flags written into the
    variables they override change the meaning of the operator's environment for every
    later reader, and re-parsing ``sys.argv`` in a worker relies on what multiprocessing
    happens to copy. A single worker needs none of this: it gets the app object itself.
    """
    return create_app(Settings.from_env(json.loads(os.environ[_WORKER_SETTINGS])))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Run one Videoswarm tracker replica: WebTorrent signalling over WebSocket and "
        "BitTorrent HTTP announce/scrape. Set REDIS_URL to share swarms between replicas.",
        epilog="Every flag has an environment variable (shown in brackets), and every other setting is a "
        "variable only; see docs/configuration.md.",
    )
    for declared in declarations():
        if declared.flag:
            _add_flag(parser, declared)
    return parser


def _add_flag(parser: argparse.ArgumentParser, declared: Declaration) -> None:
    """``--name`` for a setting: parsed as its variable would be, absent (None) unless given."""

    def parse(raw: str) -> object:
        try:
            return declared.parse(raw, declared.option)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    default = declared.format(declared.default) or "none"
    help = f"{_plain(declared.help)} [{declared.env}, default {default}]".replace("%", "%%")
    if declared.kind is bool:
        parser.add_argument(declared.option, dest=declared.name, action=argparse.BooleanOptionalAction, help=help)
    else:
        parser.add_argument(
            declared.option,
            dest=declared.name,
            type=parse,
            choices=declared.choices or None,
            metavar=declared.env if not declared.choices else None,
            help=help,
        )


def _plain(markdown: str) -> str:
    """Help text for a terminal: no backticks, links as their text."""
    return re.sub(r"\[([^]]+)\]\([^)]+\)", r"\1", markdown).replace("`", "")


def _settings(argv: Sequence[str] | None) -> Settings:
    args = _parser().parse_args(argv)
    try:
        return Settings.from_env(**vars(args))
    except ConfigError as exc:
        print(f"tracker: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> None:
    settings = _settings(argv)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for warning in unknown_variables(os.environ):
        log.warning("%s", warning)
    app: Starlette | str
    if settings.workers > 1:
        os.environ[_WORKER_SETTINGS] = json.dumps(settings.to_env())
        app = "tracker_app.__main__:worker_app"
    else:
        app = create_app(settings)
    uvicorn.run(app, factory=settings.workers > 1, **uvicorn_options(settings))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves a replica; the in-process tests of the lean transport start it with these too."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "loop": "uvloop",
        "http": HttpProtocol,  # tracker sockets: TrackerSocket; other WebSockets: uvicorn's ASGI one below
        "ws": "websockets-sansio",
        "limit_concurrency": connection_limit(),
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 5,  # a peer that stops reading must not hold a stopping replica
        "ws_max_size": settings.max_frame,
        # As the reference: a compressor per socket costs ~40 KB, offers are one-off.
        "ws_per_message_deflate": False,
        "ws_ping_interval": settings.ping_interval,
        "ws_ping_timeout": settings.ping_interval,
        "log_level": settings.log_level,
        "access_log": False,
        "proxy_headers": False,
    }


if __name__ == "__main__":
    main()
