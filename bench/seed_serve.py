"""How fast ``seed run`` serves a browser: start to first byte, and throughput, libtorrent → Chromium.

Run inside a private network namespace (WebRTC on loopback only):

    unshare -rn sh -c 'ip link set lo up && .venv/bin/python -m bench.seed_serve --size-mb 50'

A video of ``--size-mb`` is added with ``seed add``; then ``seed run`` is started and, at
once, a Chromium tab (webtorrent 2.8.5) starts downloading the magnet through the
project's tracker. Reported: seconds from starting ``seed run`` to the first byte the
browser received, and MB/s from that first byte to the last (1 MB = 10^6 bytes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.browser import BrowserPeer, chromium
from tests.support.processes import start_tracker
from tests.support.seeder import SeedRun, add
from tests.support.site import ffmpeg
from tests.support.static import StaticSite

# Resolves with the times (ms since the page's time origin) of the first and last byte.
_DOWNLOAD = """async ([magnet, announce]) => {
  const { default: WebTorrent } = await import('/webtorrent.min.js')
  const client = new WebTorrent({ dht: false, lsd: false, utPex: false, webSeeds: false,
                                  tracker: { rtcConfig: { iceServers: [] } } })
  const torrent = client.add(magnet, { announce })
  let first = null
  torrent.on('download', () => { if (first === null) first = performance.now() })
  await new Promise((resolve, reject) => { torrent.on('done', resolve); torrent.on('error', reject) })
  return { first, last: performance.now(), bytes: torrent.length, origin: performance.timeOrigin }
}"""


def make_video(path: Path, size_mb: int) -> Path:
    """An MP4 of about ``size_mb`` MB: noise at 8 Mbit/s, one second is ~1 MB."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=1280x720:rate=25:duration={size_mb},noise=alls=40:allf=t",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        "8M",
        "-maxrate",
        "8M",
        "-bufsize",
        "2M",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(path),
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=50, help="size of the test video (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seed-bench-") as work_dir:
        work = Path(work_dir)
        video = make_video(work / "bench.mp4", args.size_mb)
        tracker = start_tracker()
        magnet = add(video, "--tracker", tracker.ws_url, "--state", work / "state", "--content", work / "content")
        with sync_playwright() as playwright, chromium(playwright) as context, StaticSite() as site:
            page = BrowserPeer.open(context, site.url).page
            started = time.time() * 1000
            seeder = SeedRun(work / "state", log=work / "run.log")
            try:
                result = page.evaluate(_DOWNLOAD, [magnet, [tracker.ws_url]])
            finally:
                seeder.stop()
                tracker.stop()
    first_ms = result["origin"] + result["first"] - started
    seconds = (result["last"] - result["first"]) / 1000
    print(f"file: {result['bytes'] / 1e6:.1f} MB")
    print(f"seed run start -> first byte in Chromium: {first_ms / 1000:.2f} s")
    print(
        f"throughput libtorrent -> Chromium: {result['bytes'] / 1e6 / seconds:.1f} MB/s "
        f"({seconds:.1f} s first to last byte)"
    )


if __name__ == "__main__":
    main()
