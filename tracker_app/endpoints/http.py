"""BitTorrent HTTP announce and scrape, for libtorrent and desktop clients."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker_app.endpoints.addresses import client_ip
from tracker_app.tracker import Tracker
from tracker_app.wire import http as wire

RATE_LIMITED = "too many requests from this address: at most {} per interval, slow down"


async def announce(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    settings = tracker.settings
    ip = client_ip(request, settings.trust_proxy, settings.proxy_hops)
    if not tracker.http_rate.allow(ip):
        return _rate_limited(tracker)
    return _bencoded(await tracker.http_announce(request.scope["query_string"], ip))


async def scrape(request: Request) -> Response:
    tracker: Tracker = request.app.state.tracker
    settings = tracker.settings
    if not tracker.http_rate.allow(client_ip(request, settings.trust_proxy, settings.proxy_hops)):
        return _rate_limited(tracker)
    return _bencoded(await tracker.http_scrape(request.scope["query_string"]))


def _rate_limited(tracker: Tracker) -> Response:
    tracker.metrics.failures.labels("rate_limited").inc()
    return _bencoded(wire.failure(RATE_LIMITED.format(tracker.settings.max_http_announces_per_ip)))


def _bencoded(body: bytes) -> Response:
    return Response(body, media_type="text/plain")
