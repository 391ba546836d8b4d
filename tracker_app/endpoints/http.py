"""BitTorrent HTTP announce and scrape, for libtorrent and desktop clients."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker_app.endpoints.addresses import client_ip
from tracker_app.tracker import Tracker


async def announce(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    body = await tracker.http_announce(request.scope["query_string"], client_ip(request, tracker.settings.trust_proxy))
    return Response(body, media_type="text/plain")


async def scrape(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    return Response(await tracker.http_scrape(request.scope["query_string"]), media_type="text/plain")
