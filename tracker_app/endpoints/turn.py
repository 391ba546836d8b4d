"""``GET /turn-credentials``: short-lived TURN credentials, so a static site publishes no password.

coturn's REST scheme (``use-auth-secret`` with ``static-auth-secret``): the username is
the expiry time in Unix seconds, a colon and a label, and the password is the base64 of
HMAC-SHA1 over the username, keyed with the secret that coturn and this tracker share.
coturn checks both without asking the tracker, and refuses them once the time has passed.
The player fetches them before it connects (an ``ice_servers`` entry's ``credentials_url``).
Off (404) unless ``TURN_SECRET`` is set; the credentials are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tracker_app.config import Settings


def credentials(secret: str, ttl: int, now: float, label: str = "videoswarm") -> dict[str, object]:
    """The username and password coturn accepts until ``now + ttl``."""
    username = f"{int(now) + ttl}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode(), "ttl": ttl}


async def turn_credentials(request: Request) -> Response:
    settings: Settings = request.app.state.tracker.settings
    if not settings.turn_secret:
        return JSONResponse({"error": "this tracker hands out no TURN credentials (TURN_SECRET is unset)"}, 404)
    origins = [origin.strip() for origin in settings.turn_origins.split(",") if origin.strip()]
    origin = request.headers.get("origin")
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    if origin and ("*" in origins or origin in origins):
        headers["Access-Control-Allow-Origin"] = origin
    elif origin:
        return JSONResponse({"error": f"origin {origin} is not in TURN_ORIGINS"}, 403, headers=headers)
    return JSONResponse(credentials(settings.turn_secret, settings.turn_ttl, time.time()), headers=headers)
