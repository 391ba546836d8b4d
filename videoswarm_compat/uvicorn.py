"""uvicorn's undocumented protocol internals that the tracker and the web seed build on.

The tracker's HTTP protocol (``tracker_app.transport.http``) replaces httptools'
``data_received`` to refuse oversized heads and to hand tracker sockets their own
protocol; the web seed (``seed.webseed``) needs to know when a request's headers have
arrived. Both use methods and attributes that uvicorn keeps for itself.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def should_upgrade(protocol: HttpToolsProtocol) -> bool:
    """Whether the request just parsed asks for a WebSocket that uvicorn has a protocol for."""
    return protocol._should_upgrade()


def stop_keepalive_timer(protocol: HttpToolsProtocol | H11Protocol) -> None:
    """Bytes arrived on an idle keep-alive connection: it is no longer idle."""
    protocol._unset_keepalive_if_required()


def open_connections(protocol: HttpToolsProtocol | H11Protocol) -> set[Any]:
    """The server's open connections: what ``limit_concurrency`` counts and what a shutdown closes."""
    return protocol.connections


class H11WithRequestHook(H11Protocol):
    """uvicorn's h11 protocol, told when a request's line and headers have been parsed."""

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # uvicorn starts a request-response cycle once the headers are in
            self.on_request_headers()

    def on_request_headers(self) -> None:
        """Called once per request, before the application sees it."""
