"""How fast and how cheaply ``seed follow`` + ``seed run`` mirror a site, on loopback.

Run inside a private network namespace, as ``bench/run`` does:

    unshare -rn sh -c 'ip link set lo up && .venv/bin/python -m bench.mirror'

1. **One 50 MB video** (``--size-mb``): ``seed add`` (WebSocket + HTTP tracker, no web
   seed, so the copy comes over BitTorrent), ``sitegen build`` with ``site_url``, the site
   served, an origin ``seed run``. Timed: from ``seed follow <site>`` to the mirror's
   ``seed run`` reporting the video complete and seeding. The reference is a bare
   libtorrent session downloading the same ``.torrent`` from the same origin (what any
   BitTorrent client would take), so the ratio is the mirror's own overhead: one feed
   fetch, one ``.torrent`` fetch, a full allocation.
2. **One feed of ``--videos`` small videos** (200 of 256 KiB by default; random bytes:
   the mirror never looks inside): time from starting the mirror's ``seed run`` until it
   seeds them all, its CPU time meanwhile, its peak memory (VmHWM), and its CPU use while
   it then just seeds and polls (``--follow-interval 5``) for 20 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from bench.seed_serve import make_video
from tests.support.libtorrent_peer import LibtorrentPeer
from tests.support.processes import Server, start_tracker
from tests.support.seeder import SEED, SeedRun, seed
from tests.support.site import build_site, write_config
from tests.support.static import StaticSite

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def publish(work: Path, tracker: Server, files: list[Path], server: StaticSite) -> SeedRun:
    """``seed add`` every file, build the site at ``server``'s URL, start the origin's ``seed run``."""
    trackers = ["--tracker", tracker.ws_url, "--tracker", f"{tracker.http_url}/announce"]
    for start in range(0, len(files), 50):
        done = subprocess.run(
            [
                SEED,
                "add",
                "-q",
                *map(str, files[start : start + 50]),
                *trackers,
                "--state",
                str(work / "origin"),
                "--content",
                str(work / "content"),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    config = write_config(work / "mkdocs.yml", [tracker.ws_url])
    settings = yaml.safe_load(config.read_text())
    settings["site_url"] = server.url + "/"
    config.write_text(yaml.safe_dump(settings))
    build_site(work / "content", work / "site", config)
    origin = SeedRun(work / "origin", log=work / "origin.log")
    origin.wait_for(f"announced to {tracker.http_url}/announce", timeout=120)
    return origin


def wait_count(run: SeedRun, text: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while run.log.count(text) < count:
        if time.monotonic() > deadline or run.proc.poll() is not None:
            raise AssertionError(f"{run.log.count(text)} of {count} {text!r} in {timeout} s:\n{run.log[-3000:]}")
        time.sleep(0.05)


def one_large(work: Path, size_mb: int) -> None:
    tracker = start_tracker()
    (work / "site").mkdir(parents=True)
    (work / "media").mkdir()
    video = make_video(work / "media" / "large.mp4", size_mb)
    with StaticSite(work / "site") as server:
        origin = publish(work, tracker, [video], server)
        try:
            torrent = next((work / "content").glob("*.torrent")).read_bytes()
            reference = LibtorrentPeer()
            started = time.monotonic()
            handle = reference.download(torrent, work / "reference")
            reference.wait_finished(handle, timeout=300)
            bare = time.monotonic() - started
            reference.close()

            started = time.monotonic()
            done = seed("follow", "--allow-private", server.url + "/", "--state", work / "mirror")
            assert done.returncode == 0, done.stderr
            followed = time.monotonic() - started
            mirror = SeedRun(work / "mirror", "--follow-interval", "5", log=work / "mirror.log")
            try:
                mirror.wait_for("mirror: 127.0.0.1: downloading", timeout=300)
                added = time.monotonic() - started
                mirror.wait_for("complete and checked", timeout=300)
                took = time.monotonic() - started
            finally:
                mirror.stop()
        finally:
            origin.stop()
            tracker.stop()
    size = video.stat().st_size / 1e6
    print(
        f"| seed follow -> seeding, one {size:.0f} MB video | {took:.2f} s ({size / took:.0f} MB/s) "
        f"| bare libtorrent download of the same .torrent: {bare:.2f} s | x{took / bare:.2f} |"
    )
    print(
        f"|   of which `seed follow` | {followed:.2f} s | torrent added by `seed run` at {added:.2f} s, "
        f"downloaded and checked {took - added:.2f} s later | x{(took - added) / bare:.2f} for the download |"
    )


def many_small(work: Path, videos: int, kib: int) -> None:
    tracker = start_tracker()
    media = work / "media"
    media.mkdir(parents=True)
    files = []
    for n in range(videos):
        files.append(media / f"video-{n:03}.mp4")
        files[-1].write_bytes(os.urandom(kib * 1024))
    (work / "site").mkdir()
    with StaticSite(work / "site") as server:
        origin = publish(work, tracker, files, server)
        try:
            done = seed("follow", "--allow-private", server.url + "/", "--state", work / "mirror")
            assert done.returncode == 0, done.stderr
            started = time.monotonic()
            mirror = SeedRun(
                work / "mirror", "--follow-interval", "5", "--status-interval", "5", log=work / "mirror.log"
            )
            try:
                wait_count(mirror, "complete and checked", videos, timeout=900)
                took = time.monotonic() - started
                cpu = cpu_seconds(mirror.proc.pid)
                time.sleep(20)
                idle = (cpu_seconds(mirror.proc.pid) - cpu) / 20
                peak = peak_memory_mb(mirror.proc.pid)
            finally:
                mirror.stop()
        finally:
            origin.stop()
            tracker.stop()
    print(
        f"| one feed of {videos} videos of {kib} KiB | all seeding after {took:.1f} s | CPU {cpu:.1f} s "
        f"to get there, then {idle * 100:.1f}% of a core seeding and polling; peak memory {peak:.0f} MB | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=50, help="size of the large video (default 50)")
    parser.add_argument("--videos", type=int, default=200, help="videos in the feed (default 200)")
    parser.add_argument("--kib", type=int, default=256, help="size of each small video in KiB (default 256)")
    parser.add_argument("--only", choices=["large", "many"], help="run one part")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, states) and print it")
    args = parser.parse_args()
    print("| Figure | Result | Reference or cost | Ratio |\n| --- | --- | --- | --- |")
    work = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    try:
        if args.only in (None, "large"):
            one_large(work / "large", args.size_mb)
        if args.only in (None, "many"):
            many_small(work / "many", args.videos, args.kib)
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
