"""Time to first frame: Chromium opens a video page that ``sitegen build`` made, against plain HTTP.

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python bench/first_frame.py --runs 5'

A ~50 MB faststart H.264 MP4 is added with ``seed add --webseed`` (which writes the
content entry and the .torrent next to it) and served by ``seed run`` (libtorrent)
through our tracker on loopback, and over HTTP by the seeder's own web seed. Four pages
are timed, each in a fresh Chromium profile per run:

- ``plain HTTP``: the reference, a bare ``<video src>`` of the file on the web seed;
- ``web seed``: the entry as written, so the player starts on the web seed over HTTP and
  hands over to peers afterwards;
- ``.torrent (peers only)`` and ``magnet-only (peers only)``: the entry without its web
  seed, started from the .torrent next to the page or from the magnet alone.

The first frame is taken the same way on every page: an init script asks each
``<video>`` for its first presented frame (``requestVideoFrameCallback``) as soon as it
starts loading, so the figure is ``performance.now()`` at that frame, milliseconds since
navigation. Ratios are medians against plain HTTP from the same server in the same run.
The player's own marks say where the time goes (bundle and .torrent, service worker,
first peer, torrent ready). Needs a loopback-only network namespace (``bench/run`` enters one).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, start_tracker  # noqa: E402
from tests.support.site import ffmpeg, run_sitegen, write_config  # noqa: E402
from tests.support.static import StaticSite  # noqa: E402

SLUG = "bench-clip"
PLAIN = "plain HTTP"
#: Installed before any page script: the first frame of any <video>, however its source is set.
FIRST_FRAME = """
window.benchFirstFrame = null
document.addEventListener('loadstart', event => {
  const video = event.target
  if (video.requestVideoFrameCallback) {
    video.requestVideoFrameCallback(() => { window.benchFirstFrame ??= performance.now() })
  }
}, true)
"""
MARKS = ("addedAt", "workerAt", "peerAt", "metadataAt")


def make_video(path: Path, megabytes: int, seconds: int = 60) -> Path:
    """A noisy 720p test pattern at the bitrate that makes it ``megabytes`` big, moov atom first."""
    kbits = megabytes * 8000 // seconds
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=1280x720:rate=25:duration={seconds},noise=alls=30:allf=t",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        f"{kbits}k",
        "-maxrate",
        f"{kbits}k",
        "-bufsize",
        f"{kbits}k",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(path),
    )
    return path


def seeding(tracker_url: str) -> int:
    """Peers the tracker knows (the seeder shows up here once it has announced)."""
    return int(httpx.get(f"{tracker_url}/stats.json", timeout=5).json()["peers"])


def first_frames(url: str, runs: int) -> list[dict[str, float | None]]:
    """The first frame and the player's marks for ``runs`` page loads, after one uncounted load that warms
    Chromium's files."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import chromium

    samples = []
    with sync_playwright() as playwright:
        for _ in range(runs + 1):
            with chromium(playwright) as context:
                context.add_init_script(FIRST_FRAME)
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("window.benchFirstFrame != null", timeout=120_000)
                time.sleep(0.3)  # let the player note what happened around the frame
                samples.append(
                    page.evaluate(f"""() => {{
                    const p = (window.videoswarm || {{}}).player || {{}}
                    return {{frame: window.benchFirstFrame, {", ".join(f"{m}: p.{m} ?? null" for m in MARKS)}}} }}""")
                )
    return samples[1:]


def _without_web_seed(content: Path, out: Path, keep_torrent: bool) -> Path:
    """The entry with no ws= in its magnet and no url-list in its .torrent (the info hash is unchanged)."""
    out.mkdir()
    entry = (content / f"{SLUG}.md").read_text()
    entry = re.sub(r"&ws=[^&\s]*", "", entry)
    if not keep_torrent:
        entry = "".join(line for line in entry.splitlines(keepends=True) if not line.startswith("torrent:"))
    else:
        torrent = torf.Torrent.read(str(content / f"{SLUG}.torrent"))
        torrent.webseeds = []
        torrent.write(str(out / f"{SLUG}.torrent"))
    (out / f"{SLUG}.md").write_text(entry)
    for extra in content.glob(f"{SLUG}.*"):  # the poster and captions `seed add` wrote beside the entry
        if extra.suffix not in (".md", ".torrent"):
            shutil.copy(extra, out / extra.name)
    return out


def _summary(samples: list[dict[str, float | None]]) -> dict[str, float | None]:
    frames = [f for s in samples if (f := s["frame"]) is not None]
    summary: dict[str, float | None] = {"median": statistics.median(frames), "min": min(frames), "max": max(frames)}
    for mark in MARKS:
        values = [v for s in samples if (v := s[mark]) is not None]
        summary[mark] = statistics.median(values) if values else None
    return summary


def run(runs: int, megabytes: int = 50) -> dict[str, dict[str, float | None]]:
    """Per start: median, min and max ms to first frame, the player's median marks, and the ratio of the median
    to plain HTTP's."""
    if [name for _, name in socket.if_nameindex() if name != "lo"]:
        sys.exit("first_frame needs a loopback-only network namespace: run it through bench/run")
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        work = Path(tmp)
        tracker = start_tracker(LOG_LEVEL="warning")
        web_port = free_port()
        video = make_video(work / f"{SLUG}.mp4", megabytes)
        content, state = work / "content", work / "state"
        subprocess.run(
            [
                ROOT / ".venv/bin/seed",
                "add",
                video,
                "--tracker",
                tracker.ws_url,
                "--content",
                content,
                "--state",
                state,
                "--webseed",
                f"http://127.0.0.1:{web_port}/",
                "-q",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        folders = {
            "web seed": content,
            ".torrent (peers only)": _without_web_seed(content, work / "torrent-content", keep_torrent=True),
            "magnet-only (peers only)": _without_web_seed(content, work / "magnet-content", keep_torrent=False),
        }
        config = write_config(work / "mkdocs.yml", [tracker.ws_url])
        sites: dict[str, Path] = {}
        for start, folder in folders.items():
            sites[start] = work / f"site-{len(sites)}"
            built = run_sitegen("build", "--content", folder, "--out", sites[start], "-f", config)
            if built.returncode:
                raise RuntimeError(f"sitegen build failed: {built.stderr.strip()}")
        plain = work / "plain"
        plain.mkdir()
        (plain / "index.html").write_text(
            "<!doctype html><meta charset=utf-8><title>plain</title><video controls muted autoplay playsinline "
            f'preload=auto src="http://127.0.0.1:{web_port}/{video.name}"></video>'
        )
        seeder = subprocess.Popen(
            [
                ROOT / ".venv/bin/seed",
                "run",
                "--state",
                state,
                "--stun-server",
                "",
                "--listen",
                f"127.0.0.1:{free_port()}",
                "--status-interval",
                "60",
                "--webseed-port",
                str(web_port),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while seeding(tracker.http_url) < 1:
                if time.monotonic() > deadline or seeder.poll() is not None:
                    raise RuntimeError("the seeder did not announce within 60 s")
                time.sleep(0.2)
            samples: dict[str, list[dict[str, float | None]]] = {}
            # Plain HTTP first and again last (one summary of both), so a machine that slows down
            # during the run weighs on the reference as on the rest.
            pages = [(PLAIN, plain, ""), *((start, site, f"{SLUG}/") for start, site in sites.items())]
            for start, site, path in pages:
                with StaticSite(site) as server:
                    samples[start] = first_frames(f"{server.url}/{path}", runs)
            with StaticSite(plain) as server:
                samples[PLAIN] += first_frames(f"{server.url}/", runs)
            results = {start: _summary(taken) for start, taken in samples.items()}
            reference = results[PLAIN]["median"] or 0
            for summary in results.values():
                summary["ratio"] = round((summary["median"] or 0) / reference, 2)
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
    print(json.dumps(run(args.runs, args.video_mb), indent=1))


if __name__ == "__main__":
    main()
