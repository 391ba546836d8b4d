"""Process-wide settings a replica makes once: open files, garbage collection, quiet logs."""

from __future__ import annotations

import gc
import logging
import resource

#: File descriptors kept for what is not a client: Redis connections, the listening socket, files.
RESERVED_FILES = 128

log = logging.getLogger("tracker_app")
#: A hard limit of "unlimited" is capped to what Linux allows by default (``fs.nr_open``).
_MOST_FILES = 1 << 20


def connection_limit() -> int:
    """Raise the soft open-file limit to the hard one; the connections a replica may then hold.

    Past the file limit ``accept`` fails and every new client, health checks included,
    waits; under this limit uvicorn answers extra requests with 503 instead.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _MOST_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    files = _MOST_FILES if soft == resource.RLIM_INFINITY else soft
    limit = max(files - RESERVED_FILES, 16)
    log.info("accepting up to %d connections per process (open-file limit %d)", limit, files)
    return limit


def settle_gc() -> None:
    """Freeze what start-up made and collect the young generation less often.

    The hot path makes no reference cycles, so collections find little; py-spy
    put them at 7.9 % of the replica's CPU under load with Python's defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


class _PerConnectionAtDebug(logging.Filter):
    """uvicorn logs each ASGI WebSocket at info (``"WebSocket /x" 403``); those lines belong at debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"'):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def quiet_connections() -> None:
    """Nothing is logged per connection unless the log level is debug."""
    logging.getLogger("uvicorn.error").addFilter(_PerConnectionAtDebug())
