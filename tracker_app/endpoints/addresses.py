"""The client's address, honouring ``X-Forwarded-For`` only when told to trust the proxy."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_ip(conn: HTTPConnection, trust_proxy: bool) -> str:
    if trust_proxy:
        forwarded = conn.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return conn.client.host if conn.client else "0.0.0.0"
