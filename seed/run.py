"""``seed run``'s main loop: seed, notice new torrents, report, and stop cleanly.

Everything happens on one thread, between libtorrent alerts: a rescan of the state
directory every 2 s (so ``seed add`` needs no restart), a status report every interval,
resume data every 5 minutes. SIGTERM and SIGINT only set a flag; the loop then saves
resume data (at most 4 s), stops the web seed (at most 1 s) and closes the session (at
most 2 s for ``stopped`` announces), inside the 10 s that systemd and PaaS platforms allow.

At start the soft limit on open files is raised to the hard one (often 1,024 → 524,288 on
Linux), as every peer, web seed connection and seeded file takes a descriptor. A rescan
that fails (EMFILE under a connection flood, a state directory on a flaky disk) is logged
and tried again at the next one: it must not stop the seeding of everything else.
"""

from __future__ import annotations

import atexit
import logging
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn

from . import metadata, status
from .mirror import Mirror
from .session import Options, Seeder
from .state import State
from .webseed import WebSeed

RESCAN_EVERY = 2.0
SAVE_RESUME_EVERY = 300.0


@dataclass(frozen=True)
class RunOptions:
    session: Options
    webseed_port: int | None = None
    webseed_host: str = "127.0.0.1"
    status_interval: float = 30.0
    #: Seconds between two polls of a followed feed, and before a video gone from it is deleted.
    follow_interval: float = 600.0
    mirror_grace: float = 86400.0
    #: Seconds a magnet-only feed item's peers have to send its metadata (seed/metadata.py).
    metadata_timeout: float = metadata.TIMEOUT


log = logging.getLogger("seed")


def run(state: State, options: RunOptions) -> NoReturn:
    """Seed until SIGTERM or SIGINT, then end the process: 1 if the resume data could not be saved."""
    stopping: list[str] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    _log_to_stdout()
    state.prepare()
    files_limit = _raise_file_limit()
    webseed = WebSeed(options.webseed_port, options.webseed_host) if options.webseed_port is not None else None
    seeder = Seeder(state, options.session)
    fetcher = metadata.Metadata(
        options.session.listen, options.session.stun_server, options.metadata_timeout, state.root / "mirror" / "data"
    )
    mirror = Mirror(state, seeder, options.follow_interval, options.mirror_grace, fetcher)
    failed = 0
    try:
        log.info(_started(state, seeder.listen_port(), files_limit, webseed, options.webseed_host))
        seeder.sync()
        mirror.start()
        if not seeder.handles and not seeder.refused:
            log.info(f"nothing to seed yet: add a video with `seed add FILE --tracker URL --state {state.root}`")
        if webseed:
            webseed.update(seeder.files())
            webseed.start()
        _report(seeder, state, options.status_interval, webseed, mirror)  # `seed status` answers from the start
        next_rescan = time.monotonic() + RESCAN_EVERY
        next_status = time.monotonic() + min(options.status_interval, 5)
        next_resume = time.monotonic() + SAVE_RESUME_EVERY
        rescan_failed = ""
        while not stopping:
            seeder.pump(0.25)
            now = time.monotonic()
            if now >= next_rescan:
                rescan_failed = _rescan(seeder, webseed, rescan_failed)
                next_rescan = now + RESCAN_EVERY
            if mirror.tick() and webseed:
                webseed.update(seeder.files())
            if now >= next_status:
                _report(seeder, state, options.status_interval, webseed, mirror)
                next_status = now + options.status_interval
            if now >= next_resume:
                seeder.save_resume(only_if_modified=True)
                next_resume = now + SAVE_RESUME_EVERY
        log.info(f"{stopping[0]}: saving resume data and stopping")
        failed = seeder.save_resume()
        log.info(f"saved resume data for {len(seeder.handles) - failed} of {len(seeder.handles)} torrents")
    finally:
        mirror.close()
        if webseed:
            webseed.stop()
        seeder.close()
        state.status_file.unlink(missing_ok=True)
    log.info("stopped")
    end(1 if failed else 0)


def _log_to_stdout() -> None:
    """The seeder's lines, as they are, on stdout (flushed after each, for journald and tests);
    only the ``seed`` logger: httpx logs every request at INFO."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _started(state: State, port: int, files_limit: int, webseed: WebSeed | None, host: str) -> str:
    return (
        f"seed run: state {state.root}, BitTorrent port {port}"
        + (f", web seed on http://{host}:{webseed.port}/" if webseed else "")
        + f", up to {files_limit} open files"
        + (f" ({webseed.limits.max_connections} web seed connections)" if webseed else "")
    )


def _rescan(seeder: Seeder, webseed: WebSeed | None, failed: str) -> str:
    """Sync the seeder with the state directory; returns the error, said once, if it failed."""
    try:
        if seeder.sync() and webseed:
            webseed.update(seeder.files())
    except OSError as error:
        if str(error) != failed:
            log.info(
                f"cannot rescan {seeder.state.root}: {error.strerror or error}; trying again every "
                f"{RESCAN_EVERY:.0f} s, still seeding"
            )
        return str(error)
    return ""


def end(code: int) -> NoReturn:
    """End the process once everything is saved, without destroying the libtorrent session.

    Its destructor can wait forever (``Seeder.close``), so Ctrl-C would hang. Exit
    handlers still run, so buffered output and coverage data are written.
    """
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _raise_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if resource.RLIM_INFINITY not in (soft, hard) and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def _report(seeder: Seeder, state: State, interval: float, webseed: WebSeed | None, mirror: Mirror) -> None:
    torrents = mirror.statuses(seeder.statuses(webseed.sent() if webseed else None))
    for torrent in torrents:
        log.info(f"status {status.line(torrent)}")
    try:
        status.write(state.status_file, interval, torrents, mirror.subscriptions())
    except OSError as error:
        log.info(f"cannot write {state.status_file}: {error.strerror}")
