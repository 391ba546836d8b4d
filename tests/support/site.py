"""Content folders and built sites for the site generator's tests and benchmarks.

A test video is a real MP4 made by ffmpeg (H.264/AAC, ``+faststart`` so playback can
start before the whole file is there). Sites are built by the real ``sitegen`` CLI.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import yaml
from playwright.sync_api import Frame, Page

from videoswarm_content.magnet import magnet_uri

from .libtorrent_peer import info_hash, make_torrent
from .processes import ROOT


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, overwriting its output; a failure raises CalledProcessError."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def make_video(path: Path, seconds: int = 6, size: str = "320x180", noisy: bool = False) -> Path:
    """A small test-pattern MP4 with a tone, moov atom first. ``noisy`` adds noise at
    3 Mbit/s (about 0.4 MB a second), so transfers move real megabytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pattern = f"testsrc=size={size}:rate=25:duration={seconds}" + (",noise=alls=30:allf=t" if noisy else "")
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        pattern,
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        *(["-b:v", "3M"] if noisy else []),
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-shortest",
        "-movflags",
        "+faststart",
        str(path),
    )
    return path


def magnet_for(torrent: bytes, name: str, trackers: list[str], web_seeds: list[str] = ()) -> str:
    """The magnet ``seed add`` writes: xt, dn, then every tr= and ws=."""
    return magnet_uri(info_hash(torrent).hex(), name, trackers, web_seeds)


def write_entry(
    content: Path, slug: str, front: dict | None = None, body: str = "A test video.\n", raw_front: str | None = None
) -> Path:
    """``content/<slug>.md`` with YAML front matter (``raw_front`` is written as is)."""
    content.mkdir(parents=True, exist_ok=True)
    text = raw_front if raw_front is not None else yaml.safe_dump(front or {}, sort_keys=False, allow_unicode=True)
    path = content / f"{slug}.md"
    path.write_text(f"---\n{text}---\n{body}", encoding="utf-8")
    return path


def add_video(
    content: Path, slug: str, video: Path, trackers: list[str], web_seeds: list[str] = (), **front: object
) -> bytes:
    """A complete entry as the seeder writes it: the .torrent next to the .md. Returns the torrent."""
    torrent = make_torrent(video, trackers)
    (content / f"{slug}.torrent").write_bytes(torrent)
    write_entry(
        content,
        slug,
        {
            "title": front.pop("title", slug.replace("-", " ").title()),
            "magnet": magnet_for(torrent, video.name, trackers, web_seeds),
            "torrent": f"{slug}.torrent",
            **front,
        },
    )
    return torrent


def write_config(
    path: Path,
    trackers: list[str] = (),
    site_name: str = "Test videos",
    theme: dict[str, object] | None = None,
    site_url: str | None = None,
    ice_servers: list[dict[str, object]] | None = [],  # noqa: B006  # never mutated; None: the site's default
    **options: object,
) -> Path:
    """A mkdocs.yml like the project's, with the test's trackers and no STUN server (or ``ice_servers``).
    No ``theme`` means the plugin's own; ``site_url`` turns on the sharing metadata;
    ``options`` are more of the plugin's (``site_mirrors=[...]``)."""
    config: dict[str, object] = {"site_name": site_name}
    if site_url:
        config["site_url"] = site_url
    if theme:
        config["theme"] = theme
    plugin: dict[str, object] = {"trackers": list(trackers), **options}
    if ice_servers is not None:
        plugin["ice_servers"] = ice_servers
    config["plugins"] = [{"videoswarm": plugin}]
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


def run_sitegen(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``sitegen`` command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "sitegen.cli", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def build_site(content: Path, out: Path, config: Path) -> Path:
    result = run_sitegen("build", "--content", content, "--out", out, "-f", config)
    if result.returncode != 0:
        raise AssertionError(f"sitegen build failed:\n{result.stderr}")
    return out


def wait_playing(frame: Page | Frame, timeout_ms: int = 40_000) -> None:
    """The player's <video> showed a frame and its clock moves."""
    wait_true(frame, "document.querySelector('video').currentTime > 0.5", timeout_ms)
    start = frame.evaluate("document.querySelector('video').currentTime")
    wait_true(frame, f"document.querySelector('video').currentTime > {start} + 0.5", 10_000)
    assert frame.evaluate("window.videoswarm.player.firstFrameAt") is not None


#: What a failed wait reports about the page's player, <video> and service worker.
PLAYER_STATE = """() => {
  const p = window.videoswarm && window.videoswarm.player, t = p && p.torrent, v = document.querySelector('video')
  return JSON.stringify({status: p && p.status, message: p && p.message, progress: t && t.progress,
    peers: t && t.numPeers, readyState: v && v.readyState, error: v && v.error && v.error.message,
    controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller)})
}"""


def wait_true(frame: Page | Frame, expression: str, timeout_ms: int = 30_000) -> None:
    """Poll ``expression`` until true. Unlike ``wait_for_function`` this needs no eval in
    the page, so it works on pages that a Content-Security-Policy protects."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not frame.evaluate(expression):
        if time.monotonic() > deadline:
            state = frame.evaluate(PLAYER_STATE)
            raise TimeoutError(f"not true within {timeout_ms} ms: {expression}; {state}")
        time.sleep(0.1)
