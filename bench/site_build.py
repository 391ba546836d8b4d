"""Site generator figures: build time for 1,000 entries, and page load to first frame.

    .venv/bin/python bench/site_build.py                 # build times only
    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python bench/site_build.py --first-frame 5'

Build: ``sitegen build`` on N generated entries, against plain ``mkdocs build`` of N
plain Markdown pages with the same theme (nav limited to the index in both, as the
video site's is), run alternately ``--runs`` times: wall-clock and CPU time of the real
commands.

First frame: a libtorrent seeder behind our tracker, the site on loopback, and a fresh
Chromium profile per run; ``performance.now()`` at the video's first frame
(requestVideoFrameCallback), i.e. milliseconds since navigation started, for the
video page with its ``.torrent`` and for the same video by magnet only. Needs a
loopback-only network namespace, as the tests do.
"""

from __future__ import annotations

import argparse
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.site import add_video, build_site, make_video, write_config, write_entry  # noqa: E402

BODY = (
    "A generated entry for the benchmark. It has a paragraph of *Markdown* with a [link](https://example.org) "
    "and enough words to make an excerpt worth cutting, like a real description would.\n\n"
    "A second paragraph, for the video page only.\n"
)


def bench_build(entries: int, runs: int, work: Path) -> None:
    content, plain = work / "content", work / "plain"
    for i in range(entries):
        info_hash = f"{i:040x}"
        write_entry(
            content,
            f"video-{i:04}",
            {
                "title": f"Video {i}",
                "date": f"2025-01-{i % 28 + 1:02}",
                "duration": 60 + i,
                "tags": ["bench"],
                "magnet": f"magnet:?xt=urn:btih:{info_hash}&dn=video-{i}.mp4&tr=wss%3A%2F%2Ftracker.example%2Fannounce",
            },
            body=BODY,
        )
        plain.mkdir(exist_ok=True)
        (plain / f"page-{i:04}.md").write_text(f"# Page {i}\n\n{BODY}")
    (plain / "index.md").write_text("# Plain\n")
    config = write_config(work / "mkdocs.yml", ["wss://tracker.example/announce"])
    (work / "plain.yml").write_text(
        "site_name: Plain\ndocs_dir: plain\nsite_dir: plain-site\n"
        "theme: {name: mkdocs, highlightjs: false}\nnav: [index.md]\n"
    )
    sitegen = [
        str(ROOT / ".venv/bin/sitegen"),
        "build",
        "--content",
        str(content),
        "--out",
        str(work / "site"),
        "-f",
        str(config),
    ]
    mkdocs = [str(ROOT / ".venv/bin/mkdocs"), "build", "-q", "-f", str(work / "plain.yml")]
    times: dict[str, list[float]] = {"sitegen build": [], "plain mkdocs build": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    for _ in range(runs):  # alternate, so load from other work on the machine hits both alike
        for name, command in (("sitegen build", sitegen), ("plain mkdocs build", mkdocs)):
            before = _children_cpu()
            start = time.perf_counter()
            subprocess.run(command, check=True, cwd=work, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - before)
    for name in times:
        print(
            f"{name:20} {entries} entries: wall best {min(times[name]):.2f} s, median "
            f"{statistics.median(times[name]):.2f} s; CPU median {statistics.median(cpu[name]):.2f} s ({runs} runs)"
        )
    ratio = statistics.median(cpu["sitegen build"]) / statistics.median(cpu["plain mkdocs build"])
    print(f"sitegen / plain mkdocs, CPU time: {ratio:.2f}x")
    pages = sum(1 for _ in (work / "site").rglob("index.html"))
    print(f"sitegen wrote {pages} index.html pages")


def _children_cpu() -> float:
    """User + system seconds of finished child processes: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_first_frame(runs: int, work: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import chromium
    from tests.support.libtorrent_peer import LibtorrentPeer
    from tests.support.processes import start_tracker
    from tests.support.static import StaticSite

    if [name for _, name in socket.if_nameindex() if name != "lo"]:
        sys.exit(
            "--first-frame needs a loopback-only network namespace: "
            "unshare -n sh -c 'ip link set lo up && exec .venv/bin/python bench/site_build.py --first-frame 5'"
        )
    tracker = start_tracker()
    seeder = LibtorrentPeer()
    try:
        video = make_video(work / "media" / "clip.mp4", seconds=10, size="640x360")
        content = work / "ff-content"
        content.mkdir()
        torrent = add_video(content, "clip", video, [tracker.ws_url])
        # The same video again, magnet only: the player must get the metadata from a peer first.
        magnet_only = (content / "clip.md").read_text().replace("torrent: clip.torrent\n", "")
        (content / "clip-magnet.md").write_text(magnet_only)
        site = build_site(content, work / "ff-site", write_config(work / "ff.yml", [tracker.ws_url]))
        seeder.wait_announced(seeder.seed(torrent, video.parent))
        samples: dict[str, list[float]] = {
            f"{slug} {event}": [] for slug in ("clip", "clip-magnet") for event in ("metadata", "first frame")
        }
        with StaticSite(site) as server, sync_playwright() as playwright:
            for _ in range(runs):
                for slug in ("clip", "clip-magnet"):
                    with chromium(playwright) as context:
                        page = context.new_page()
                        page.goto(f"{server.url}/{slug}/")
                        page.wait_for_function("window.videoswarm?.player?.firstFrameAt != null", timeout=60_000)
                        player = page.evaluate(
                            "({m: window.videoswarm.player.metadataAt, f: window.videoswarm.player.firstFrameAt})"
                        )
                        samples[f"{slug} metadata"].append(player["m"])
                        samples[f"{slug} first frame"].append(player["f"])
        print(
            f"page load -> first frame ({video.stat().st_size / 1e6:.1f} MB 640x360 H.264; clip: .torrent next "
            f"to the page, clip-magnet: magnet only; libtorrent seeder, fresh Chromium profile each run, "
            f"{runs} runs):"
        )
        for name, values in samples.items():
            print(
                f"  {name:24} median {statistics.median(values):.0f} ms, "
                f"min {min(values):.0f} ms, max {max(values):.0f} ms"
            )
    finally:
        seeder.close()
        tracker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--first-frame",
        type=int,
        default=0,
        metavar="RUNS",
        help="also measure page load to first frame in Chromium, this many times",
    )
    parser.add_argument("--no-build", action="store_true", help="skip the build benchmark")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        if not args.no_build:
            bench_build(args.entries, args.runs, Path(tmp))
        if args.first_frame:
            bench_first_frame(args.first_frame, Path(tmp))


if __name__ == "__main__":
    main()
