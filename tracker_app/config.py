"""All tracker configuration in one place.

Each setting is declared once, as a field of :class:`Settings` made by :func:`setting`:
its environment variable (12-factor, so a PaaS can set it), its default, its help
text and whether it has a command-line flag. The CLI flags of ``tracker``
(``tracker_app.__main__``) and the tracker table of ``docs/configuration.md``
(``tracker_app.configdoc``) are generated from these declarations.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

LogLevel = Literal["debug", "info", "warning", "error"]


class ConfigError(ValueError):
    """A setting has a value the tracker cannot use."""


def setting(default: Any, env: str, help: str, *, flag: bool = False, positive: bool = False) -> Any:
    """Declare a setting: ``env`` names its variable, ``flag`` gives it a ``--flag`` too.

    ``positive`` makes zero and negative values a :class:`ConfigError`. ``help`` is
    Markdown (backticks, links): the docs show it as it is, ``--help`` without the marks.
    """
    return field(default=default, metadata={"env": env, "help": help, "flag": flag, "positive": positive})


@dataclass(frozen=True, slots=True)
class Settings:
    port: int = setting(8000, "PORT", "TCP port. Every PaaS sets it.", flag=True)
    host: str = setting(
        "127.0.0.1", "HOST", "Interface to bind. The Procfile uses `0.0.0.0`, as a PaaS needs.", flag=True
    )
    redis_url: str = setting(
        "",
        "REDIS_URL",
        "`redis://`, `rediss://` or `unix://` URL of the shared swarm state. "
        "Empty: in-process state, one replica only.",
        flag=True,
    )
    redis_cluster: bool = setting(
        False, "REDIS_CLUSTER", "Treat `REDIS_URL` as one node of a Redis Cluster (see [scaling.md](scaling.md))."
    )
    workers: int = setting(
        1,
        "WEB_CONCURRENCY",
        "Processes to run, each a replica. More than one needs `REDIS_URL`.",
        flag=True,
        positive=True,
    )
    log_level: LogLevel = setting(
        "info", "LOG_LEVEL", "How much to log; per-connection lines only at `debug`.", flag=True
    )
    interval: int = setting(
        120, "TRACKER_INTERVAL", "Seconds between announces that clients are told to keep.", flag=True, positive=True
    )
    peer_ttl_factor: float = setting(
        2.5,
        "TRACKER_PEER_TTL_FACTOR",
        "A peer that has not announced for this many intervals leaves its swarms.",
        positive=True,
    )
    allowlist: Path | None = setting(
        None,
        "TRACKER_ALLOWLIST",
        "File of hex info hashes, one per line (`#` comments allowed). When set, other "
        "torrents get `failure reason: torrent not allowed on this tracker`. Reloaded within a second when the file "
        "changes. `sitegen build` writes one for your site.",
        flag=True,
    )
    trust_proxy: bool = setting(
        False,
        "TRACKER_TRUST_PROXY",
        "Take the client address from `X-Forwarded-For`: the right-most entry, the "
        "one the trusted proxy appended (see `TRACKER_PROXY_HOPS` and [deploy.md](deploy.md#behind-a-proxy)). Turn "
        "on behind a PaaS router or reverse proxy, never on a tracker that clients reach directly.",
    )
    max_offers: int = setting(
        32,
        "TRACKER_MAX_OFFERS",
        "Most WebRTC offers in one announce (webtorrent sends 5, libtorrent 10); more get a `failure reason`.",
        positive=True,
    )
    max_numwant: int = setting(200, "TRACKER_MAX_NUMWANT", "Most peers returned to one HTTP announce.", positive=True)
    max_scrape: int = setting(
        256,
        "TRACKER_MAX_SCRAPE",
        "Most info hashes in one scrape; a scrape without hashes lists at most this many torrents.",
        positive=True,
    )
    max_frame: int = setting(
        64 * 1024,
        "TRACKER_MAX_FRAME",
        "Largest WebSocket frame, in bytes; a larger one closes the socket with code 1009.",
        positive=True,
    )
    ping_interval: float = setting(
        30.0,
        "TRACKER_PING_INTERVAL",
        "Seconds between WebSocket pings; a socket that does not answer within the same time is closed.",
        positive=True,
    )
    pending_offers: int = setting(
        256,
        "TRACKER_PENDING_OFFERS",
        "Offers a socket may hold unanswered; the oldest are forgotten first.",
        positive=True,
    )
    max_connections_per_ip: int = setting(
        1024,
        "TRACKER_MAX_CONNECTIONS_PER_IP",
        "WebSocket connections one address may hold on one replica; more "
        "are closed with code 1008. Viewers behind one NAT share an address, so keep it generous.",
        positive=True,
    )
    max_announces: int = setting(
        600,
        "TRACKER_MAX_ANNOUNCES",
        "Announces and scrapes one connection may send per interval; more get a "
        "`failure reason` until the next interval.",
        positive=True,
    )
    proxy_hops: int = setting(
        1,
        "TRACKER_PROXY_HOPS",
        "With `TRACKER_TRUST_PROXY`: how many trusted proxies append to `X-Forwarded-For` "
        "(a CDN in front of the PaaS router makes 2). The client is that many entries from the right, for HTTP "
        "requests and WebSocket connections alike: the per-address limits count viewers, not the CDN's edges.",
        positive=True,
    )
    max_swarms_per_socket: int = setting(
        1024,
        "TRACKER_MAX_SWARMS_PER_SOCKET",
        "Swarms one WebSocket connection may be in at once; announcing into "
        "more gets a `failure reason`. A browser watching a video is in one.",
        positive=True,
    )
    max_http_announces_per_ip: int = setting(
        2000,
        "TRACKER_MAX_HTTP_ANNOUNCES_PER_IP",
        "HTTP announces and scrapes one address may make per interval, "
        "on one replica; more get a `failure reason` until the next interval. A seeder announces each of its "
        "torrents once per interval.",
        positive=True,
    )
    send_buffer: int = setting(
        256 * 1024,
        "TRACKER_SEND_BUFFER",
        "Bytes a WebSocket may have queued and unsent. A peer that reads slower "
        "than the tracker sends is disconnected (code 1008) once it passes this, so it holds no more memory than "
        "this and never delays other peers.",
        positive=True,
    )
    header_timeout: float = setting(
        10.0,
        "TRACKER_HEADER_TIMEOUT",
        "Seconds a client has to send a request's line and headers (16 KiB at "
        "most); idle and half-sent connections are closed after it.",
        positive=True,
    )
    turn_secret: str = setting(
        "",
        "TURN_SECRET",
        "Shared secret of coturn's `static-auth-secret`: `GET /turn-credentials` then hands out "
        "TURN credentials valid for `TURN_TTL` (see [networks.md](networks.md#turn)). Empty: no endpoint.",
    )
    turn_ttl: int = setting(
        3600, "TURN_TTL", "Seconds the credentials of `/turn-credentials` stay valid.", positive=True
    )
    turn_origins: str = setting(
        "*",
        "TURN_ORIGINS",
        "Comma-separated origins (`https://videos.example.org`) whose pages may fetch `/turn-credentials`; "
        "`*` for any.",
    )

    @property
    def peer_ttl(self) -> float:
        """Seconds after its last announce that a peer expires."""
        return self.interval * self.peer_ttl_factor

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from the environment; ``overrides`` (CLI flags, already parsed) win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for declared in declarations():
            if env.get(declared.env, "") != "":
                values[declared.name] = declared.parse(env[declared.env], declared.env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings._validate()
        return settings

    def to_env(self) -> dict[str, str]:
        """These settings as the variables that :meth:`from_env` reads back to equal settings."""
        return {declared.env: declared.format(getattr(self, declared.name)) for declared in declarations()}

    def _validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, not {self.port}")
        for declared in declarations():
            if declared.positive and getattr(self, declared.name) <= 0:
                raise ConfigError(f"{declared.env} must be a positive number, not {getattr(self, declared.name)}")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {self.redis_url!r}")
        if self.workers > 1 and not self.redis_url:
            raise ConfigError(
                "WEB_CONCURRENCY (--workers) above 1 needs REDIS_URL: replicas share swarms only through Redis"
            )


@dataclass(frozen=True, slots=True)
class Declaration:
    """One :class:`Settings` field as declared, with its resolved type: what the CLI and the docs are made from."""

    name: str
    env: str
    default: object
    help: str
    flag: bool
    positive: bool
    kind: Any

    @property
    def option(self) -> str:
        """The command-line flag, ``--redis-url`` for ``redis_url``."""
        return "--" + self.name.replace("_", "-")

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed values of a ``Literal`` setting, else none."""
        return get_args(self.kind) if get_origin(self.kind) is Literal else ()

    def parse(self, raw: str, source: str) -> object:
        """Convert the text of a variable or flag (``source`` names it in the error)."""
        if self.choices:
            if raw.lower() in self.choices:
                return raw.lower()
            raise ConfigError(f"{source}={raw!r} must be one of {', '.join(self.choices)}")
        kind = next((k for k in get_args(self.kind) if k is not type(None)), self.kind)  # Path | None -> Path
        if kind is bool:
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
        else:
            with contextlib.suppress(ValueError):
                return kind(raw)
        raise ConfigError(f"{source}={raw!r} is not a valid {kind.__name__}")

    def format(self, value: object) -> str:
        """The text that :meth:`parse` turns back into ``value`` ("" for none)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@functools.cache
def declarations() -> tuple[Declaration, ...]:
    """Every setting, in declaration order."""
    hints = get_type_hints(Settings, globals())
    return tuple(
        Declaration(
            f.name,
            f.metadata["env"],
            f.default,
            f.metadata["help"],
            f.metadata["flag"],
            f.metadata["positive"],
            hints[f.name],
        )
        for f in fields(Settings)
    )


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each ``TRACKER_*`` variable that is no setting, naming the nearest one (likely a typo)."""
    known = [declared.env for declared in declarations()]
    warnings = []
    for name in sorted(environ):
        if name.startswith("TRACKER_") and name not in known:
            nearest = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {nearest[0]}?" if nearest else "; see docs/configuration.md for the settings"
            warnings.append(f"{name} is not a tracker setting and is ignored{hint}")
    return warnings
