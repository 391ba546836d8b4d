"""Time to first frame: Chromium opens a video page that ``sitegen build`` made, a seeder serves the video.

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python bench/first_frame.py --runs 5'

A ~50 MB faststart H.264 MP4 is added with ``seed add`` (which writes the content
entry and the .torrent next to it) and served by ``seed run`` (libtorrent) through our
tracker on loopback. Two sites are built with ``sitegen build``: the entry as written
(the player starts from the .torrent next to the page) and the same entry with its
``torrent:`` removed (the player starts from the magnet, fetching metadata from peers).
Each run is a fresh Chromium profile; the figure is the player's ``firstFrameAt``, i.e.
``performance.now()`` at the video's first frame: milliseconds since navigation started.
Needs a loopback-only network namespace, as the tests do (``bench/run`` enters one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, start_tracker  # noqa: E402
from tests.support.site import run_sitegen, write_config  # noqa: E402
from tests.support.static import StaticSite  # noqa: E402

SLUG = "bench-clip"


def make_video(path: Path, megabytes: int, seconds: int = 60) -> Path:
    """A noisy 720p test pattern at the bitrate that makes it ``megabytes`` big, moov atom first."""
    kbits = megabytes * 8000 // seconds
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds},noise=alls=30:allf=t",
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{kbits}k", "-maxrate", f"{kbits}k",
         "-bufsize", f"{kbits}k", "-g", "50", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )
    return path


def seeding(tracker_url: str) -> int:
    """Peers the tracker knows (the seeder shows up here once it has announced)."""
    return httpx.get(f"{tracker_url}/stats.json", timeout=5).json()["peers"]


def first_frames(url: str, runs: int) -> list[dict[str, float]]:
    """The player's ``metadataAt`` and ``firstFrameAt`` for ``runs`` page loads, after one uncounted load that warms
    Chromium's files."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import chromium

    samples = []
    with sync_playwright() as playwright:
        for _ in range(runs + 1):
            with chromium(playwright) as context:
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("window.videoswarm?.player?.firstFrameAt != null", timeout=120_000)
                samples.append(page.evaluate("({metadata: window.videoswarm.player.metadataAt,"
                                             " frame: window.videoswarm.player.firstFrameAt})"))
    return samples[1:]


def run(runs: int, megabytes: int = 50) -> dict[str, tuple[float, float, float, float]]:
    """Median, min and max ms to first frame, and median ms to metadata, for a .torrent and a magnet-only start."""
    if [name for _, name in socket.if_nameindex() if name != "lo"]:
        sys.exit("first_frame needs a loopback-only network namespace: run it through bench/run")
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        work = Path(tmp)
        tracker = start_tracker(LOG_LEVEL="warning")
        video = make_video(work / f"{SLUG}.mp4", megabytes)
        content, state = work / "content", work / "state"
        subprocess.run([ROOT / ".venv/bin/seed", "add", video, "--tracker", tracker.ws_url, "--content", content,
                        "--state", state, "-q"], check=True, stdout=subprocess.DEVNULL)
        magnet_only = work / "magnet-content"
        magnet_only.mkdir()
        entry = (content / f"{SLUG}.md").read_text()
        (magnet_only / f"{SLUG}.md").write_text("".join(
            line for line in entry.splitlines(keepends=True) if not line.startswith("torrent:")))
        config = write_config(work / "mkdocs.yml", [tracker.ws_url])
        sites = {}
        for start, folder in ((".torrent", content), ("magnet-only", magnet_only)):
            sites[start] = work / f"site-{len(sites)}"
            built = run_sitegen("build", "--content", folder, "--out", sites[start], "-f", config)
            if built.returncode:
                raise RuntimeError(f"sitegen build failed: {built.stderr.strip()}")
        seeder = subprocess.Popen([ROOT / ".venv/bin/seed", "run", "--state", state, "--stun-server", "",
                                   "--listen", f"127.0.0.1:{free_port()}", "--status-interval", "60"],
                                  stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while seeding(tracker.http_url) < 1:
                if time.monotonic() > deadline or seeder.poll() is not None:
                    raise RuntimeError("the seeder did not announce within 60 s")
                time.sleep(0.2)
            results = {}
            for start, site in sites.items():
                with StaticSite(site) as server:
                    samples = first_frames(f"{server.url}/{SLUG}/", runs)
                frames = [sample["frame"] for sample in samples]
                metadata = statistics.median(sample["metadata"] for sample in samples)
                results[start] = (statistics.median(frames), min(frames), max(frames), metadata)
            return results
        finally:
            seeder.terminate()
            seeder.wait(20)
            tracker.stop()
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="page loads per start kind (default 5)")
    parser.add_argument("--video-mb", type=int, default=50, help="video size in MB (default 50)")
    args = parser.parse_args()
    print(json.dumps(run(args.runs, args.video_mb)))


if __name__ == "__main__":
    main()
