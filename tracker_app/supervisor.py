"""Background tasks that restart when they fail, so one bad moment never stops a replica's work.

A task that dies unwatched takes its job with it and nothing notices: after a Redis
outage the relay listener once died on a ``RuntimeError`` from redis-py and
cross-replica signalling stayed dead with ``/health`` at 200. Every background task
of a replica runs under :func:`supervise`, which restarts it on any exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("tracker_app.supervisor")

#: First wait before a restart; doubled on each failure in a row.
FIRST_BACKOFF = 0.1
#: Longest wait: what a task may lag behind its dependency (Redis) coming back.
MAX_BACKOFF = 0.5


def supervise(name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Run ``run()`` in a task and run it again, with backoff, whenever it raises or returns.

    The wait starts again from :data:`FIRST_BACKOFF` once a run lasted longer than
    :data:`MAX_BACKOFF`, so a task that failed once long ago restarts quickly.
    """
    return asyncio.create_task(_forever(name, run), name=name)


async def _forever(name: str, run: Callable[[], Awaitable[None]]) -> None:
    loop = asyncio.get_running_loop()
    backoff = FIRST_BACKOFF
    while True:
        started = loop.time()
        try:
            await run()
            reason = "stopped"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever killed it, the job must go on
            reason = f"failed ({type(exc).__name__}: {exc})"
        if loop.time() - started > MAX_BACKOFF:
            backoff = FIRST_BACKOFF
        # The first failure of a streak is news; the retries of an outage would flood the log.
        level = logging.WARNING if backoff == FIRST_BACKOFF else logging.DEBUG
        log.log(level, "%s %s; restarting in %.1f s", name, reason, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
