"""All tracker configuration in one place.

Every setting comes from an environment variable (12-factor, so a PaaS can set it)
and most can be overridden by a command-line flag of ``python -m tracker_app``.
``docs/configuration.md`` documents the same table for operators.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value the tracker cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    #: TCP port to listen on (``PORT``, set by every PaaS).
    port: int = 8000
    #: Interface to bind (``HOST``); a PaaS needs ``0.0.0.0``.
    host: str = "127.0.0.1"
    #: Shared swarm state; empty means in-process state for a single replica (``REDIS_URL``).
    redis_url: str = ""
    #: Treat ``REDIS_URL`` as one node of a Redis Cluster (``REDIS_CLUSTER``).
    redis_cluster: bool = False
    #: Seconds between announces that clients are told to keep (``TRACKER_INTERVAL``).
    interval: int = 120
    #: A peer that has not announced for ``interval * peer_ttl_factor`` seconds leaves its swarms.
    peer_ttl_factor: float = 2.5
    #: File of hex info hashes; when set, other torrents are refused (``TRACKER_ALLOWLIST``).
    allowlist: Path | None = None
    #: Take the client address from ``X-Forwarded-For`` (``TRACKER_TRUST_PROXY``).
    trust_proxy: bool = False
    #: Most offers in one announce (``TRACKER_MAX_OFFERS``); webtorrent sends 5, libtorrent 10.
    max_offers: int = 32
    #: Most peers returned to an HTTP announce (``TRACKER_MAX_NUMWANT``).
    max_numwant: int = 200
    #: Most info hashes answered in one scrape (``TRACKER_MAX_SCRAPE``).
    max_scrape: int = 256
    #: Largest WebSocket frame in bytes (``TRACKER_MAX_FRAME``).
    max_frame: int = 64 * 1024
    #: Seconds between WebSocket pings that detect dead connections (``TRACKER_PING_INTERVAL``).
    ping_interval: float = 30.0
    #: Offers a socket may have received and not yet answered (``TRACKER_PENDING_OFFERS``).
    pending_offers: int = 256
    #: WebSocket connections one address may hold on one replica (``TRACKER_MAX_CONNECTIONS_PER_IP``).
    max_connections_per_ip: int = 1024
    #: Announces and scrapes one connection may send per interval (``TRACKER_MAX_ANNOUNCES``).
    max_announces: int = 600

    @property
    def peer_ttl(self) -> float:
        """Seconds after its last announce that a peer expires."""
        return self.interval * self.peer_ttl_factor

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from the environment; ``overrides`` (CLI flags) win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = _ENV_NAMES[f.name]
            if name in env and env[name] != "":
                values[f.name] = _convert(name, env[name], f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings._validate()
        return settings

    def _validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, not {self.port}")
        for name in ("interval", "max_offers", "max_numwant", "max_scrape", "max_frame", "pending_offers",
                     "max_connections_per_ip", "max_announces"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{_ENV_NAMES[name]} must be a positive number, not {getattr(self, name)}")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {self.redis_url!r}")


_ENV_NAMES = {
    "port": "PORT",
    "host": "HOST",
    "redis_url": "REDIS_URL",
    "redis_cluster": "REDIS_CLUSTER",
    "interval": "TRACKER_INTERVAL",
    "peer_ttl_factor": "TRACKER_PEER_TTL_FACTOR",
    "allowlist": "TRACKER_ALLOWLIST",
    "trust_proxy": "TRACKER_TRUST_PROXY",
    "max_offers": "TRACKER_MAX_OFFERS",
    "max_numwant": "TRACKER_MAX_NUMWANT",
    "max_scrape": "TRACKER_MAX_SCRAPE",
    "max_frame": "TRACKER_MAX_FRAME",
    "ping_interval": "TRACKER_PING_INTERVAL",
    "pending_offers": "TRACKER_PENDING_OFFERS",
    "max_connections_per_ip": "TRACKER_MAX_CONNECTIONS_PER_IP",
    "max_announces": "TRACKER_MAX_ANNOUNCES",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: str, kind: object) -> object:
    kind = str(kind)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise ValueError(raw)
        if kind.startswith("Path"):
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.split(' ')[0].lower()}") from None
