"""``python -m tracker_app`` (or ``tracker``): run one replica with uvicorn.

Flags override the environment variables of the same meaning; run with
``--help`` for the list, and see docs/configuration.md for every setting.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from tracker_app.config import ConfigError, Settings
from tracker_app.transport import HttpProtocol
from tracker_app.transport.runtime import connection_limit

_FLAGS = {
    "host": "HOST",
    "port": "PORT",
    "redis_url": "REDIS_URL",
    "interval": "TRACKER_INTERVAL",
    "allowlist": "TRACKER_ALLOWLIST",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Run one Videoswarm tracker replica: WebTorrent signalling over WebSocket and "
        "BitTorrent HTTP announce/scrape. Set REDIS_URL to share swarms between replicas.",
        epilog="Every flag has an environment variable (shown in brackets); see docs/configuration.md.",
    )
    parser.add_argument("--host", help="interface to bind [HOST, default 127.0.0.1; 0.0.0.0 on a PaaS]")
    parser.add_argument("--port", type=int, help="port to listen on [PORT, default 8000]")
    parser.add_argument("--redis-url", help="shared state, e.g. redis://localhost:6379/0 [REDIS_URL]")
    parser.add_argument("--interval", type=int, help="announce interval in seconds [TRACKER_INTERVAL, default 120]")
    parser.add_argument("--allowlist", help="file of hex info hashes to serve [TRACKER_ALLOWLIST]")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 1)),
                        help="processes, each a replica; more than 1 needs REDIS_URL [WEB_CONCURRENCY, default 1]")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"),
                        choices=["debug", "info", "warning", "error"], help="[LOG_LEVEL, default info]")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    for name, env in _FLAGS.items():
        value = getattr(args, name)
        if value is not None:
            os.environ[env] = str(value)  # worker processes read the same settings
    try:
        settings = Settings.from_env()
        if args.workers > 1 and not settings.redis_url:
            raise ConfigError("--workers above 1 needs REDIS_URL: replicas share swarms only through Redis")
    except ConfigError as exc:
        print(f"tracker: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        "tracker_app.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        loop="uvloop",
        http=HttpProtocol,  # tracker sockets: TrackerSocket; other WebSockets: uvicorn's ASGI one below
        ws="websockets-sansio",
        limit_concurrency=connection_limit(),
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,  # a peer that stops reading must not hold a stopping replica
        ws_max_size=settings.max_frame,
        ws_per_message_deflate=False,  # as the reference: a compressor per socket costs ~40 KB, offers are one-off
        ws_ping_interval=settings.ping_interval,
        ws_ping_timeout=settings.ping_interval,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
