"""Prometheus metrics of one replica, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.announces = Counter("tracker_announces", "Announces handled", ["transport"], registry=self.registry)
        self.scrapes = Counter("tracker_scrapes", "Scrapes handled", ["transport"], registry=self.registry)
        self.offers = Counter("tracker_offers_relayed", "WebRTC offers relayed to peers", registry=self.registry)
        self.answers = Counter("tracker_answers_relayed", "WebRTC answers relayed to peers", registry=self.registry)
        #: The WebSocket children, looked up once: ``labels()`` takes a lock and a dict lookup per call.
        self.websocket_announces = self.announces.labels("websocket")
        self.websocket_scrapes = self.scrapes.labels("websocket")
        self.failures = Counter(
            "tracker_failures", "Requests answered with a failure reason", ["kind"], registry=self.registry
        )
        self.connections = Gauge(
            "tracker_websocket_connections", "Open WebSocket connections on this replica", registry=self.registry
        )
        self.torrents = Gauge("tracker_torrents", "Torrents with peers, all replicas", registry=self.registry)
        self.seeders = Gauge("tracker_seeders", "Seeding peers, all replicas", registry=self.registry)
        self.leechers = Gauge("tracker_leechers", "Leeching peers, all replicas", registry=self.registry)
