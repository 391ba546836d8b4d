"""Observability: ``/stats`` for people, ``/stats.json``, ``/metrics`` and ``/health`` for machines."""

from __future__ import annotations

from html import escape
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from tracker_app.build import BUILD
from tracker_app.relay.base import RelayUnavailable
from tracker_app.store.base import StoreUnavailable
from tracker_app.tracker import Tracker


async def _stats(tracker: Tracker) -> dict[str, Any]:
    totals = await tracker.store.totals()
    clients = await tracker.store.clients()
    return {
        "torrents": totals.torrents,
        "peers": totals.peers,
        "seeders": totals.seeders,
        "leechers": totals.leechers,
        "clients": dict(clients.most_common()),
        "replica": {"id": tracker.replica, "connections": len(tracker.connections)},
    }


def _unavailable(exc: StoreUnavailable) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=503)


async def stats_json(request: Request) -> Response:
    try:
        return JSONResponse(await _stats(request.app.state.tracker))
    except StoreUnavailable as exc:
        return _unavailable(exc)


async def stats_page(request: Request) -> Response:
    try:
        stats = await _stats(request.app.state.tracker)
    except StoreUnavailable as exc:
        return HTMLResponse(f"<h1>Tracker storage unavailable</h1><p>{escape(str(exc))}</p>", status_code=503)
    clients = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{count}</td></tr>" for name, count in stats["clients"].items()
    )
    return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tracker stats</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}
td,th{{padding:.2em 1em .2em 0;text-align:left}}</style></head><body>
<h1>Videoswarm tracker</h1>
<table>
<tr><th>Torrents</th><td>{stats["torrents"]}</td></tr>
<tr><th>Peers</th><td>{stats["peers"]}</td></tr>
<tr><th>Seeders</th><td>{stats["seeders"]}</td></tr>
<tr><th>Leechers</th><td>{stats["leechers"]}</td></tr>
</table>
<h2>Clients</h2>
<table><tr><th>peer_id prefix</th><th>peers</th></tr>{clients}</table>
<p>Replica <code>{escape(stats["replica"]["id"])}</code> holds {stats["replica"]["connections"]} WebSocket
connections. Machine-readable: <a href="stats.json">stats.json</a>, <a href="metrics">metrics</a>.</p>
</body></html>""")


async def metrics(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    try:
        totals = await tracker.store.totals()
    except StoreUnavailable:
        pass
    else:
        tracker.metrics.torrents.set(totals.torrents)
        tracker.metrics.seeders.set(totals.seeders)
        tracker.metrics.leechers.set(totals.leechers)
    return Response(generate_latest(tracker.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def health(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    backend = "redis" if tracker.settings.redis_url else "memory"
    try:
        await tracker.store.ping()
        tracker.relay.check()
    except (StoreUnavailable, RelayUnavailable) as exc:
        return JSONResponse({"status": "unavailable", "storage": backend, "error": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "storage": backend, "replica": tracker.replica, "build": BUILD})


async def home(request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><title>Videoswarm tracker</title><h1>Videoswarm tracker</h1>"
        "<p>This is a WebTorrent tracker: point clients at this address over <code>wss://</code>. "
        'See <a href="stats">stats</a>.</p>'
    )
