"""Screenshots of the site's index and a video page, at phone and desktop widths, for docs/ and the README.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Builds a small example site with ``sitegen build`` (three ffmpeg test-pattern videos with
posters, tags and a caption track), serves the videos from a web seed on 127.0.0.1 so the
player shows a frame without any peer, and photographs the pages in Chromium (Playwright).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import ViewportSize  # noqa: E402

from seed.webseed import WebSeed  # noqa: E402
from tests.support.site import add_video, build_site, ffmpeg, write_config  # noqa: E402
from tests.support.static import StaticSite  # noqa: E402

TRACKER = "wss://tracker.example.org/announce"
VIDEOS = [
    (
        "city-lights",
        "City lights at night",
        "testsrc2",
        "2025-06-14",
        ["timelapse", "city"],
        "Four hours of a city's evening, **sped up** to half a minute.",
    ),
    (
        "colour-bars",
        "Colour bars, explained",
        "smptebars",
        "2025-05-02",
        ["tutorial"],
        "What the bars on an old broadcast test card were for, and how to calibrate a screen with them.",
    ),
    (
        "mandelbrot-zoom",
        "A slow zoom into the Mandelbrot set",
        "mandelbrot",
        "2025-03-21",
        ["maths", "timelapse"],
        "A deep zoom, rendered frame by frame. Captions explain where we are.",
    ),
]
SIZES: dict[str, ViewportSize] = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def example_site(work: Path, web_seed: WebSeed) -> Path:
    content = work / "content"
    content.mkdir()
    files = {}
    for slug, title, source, date, tags, description in VIDEOS:
        video = work / f"{slug}.mp4"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"{source}=size=640x360:rate=25",
            "-t",
            "12",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(video),
        )
        ffmpeg("-ss", "1.2", "-i", str(video), "-frames:v", "1", str(content / f"{slug}.jpg"))
        files[video.name] = video
        (content / f"{slug}.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:10.000\nAn example caption track.\n")
        add_video(
            content,
            slug,
            video,
            [TRACKER],
            web_seeds=[f"http://127.0.0.1:{web_seed.port}/{video.name}"],
            title=title,
            poster=f"{slug}.jpg",
            date=date,
            duration=12,
            tags=tags,
            captions=[{"src": f"{slug}.en.vtt", "lang": "en", "label": "English"}],
        )
        entry = content / f"{slug}.md"
        entry.write_text(entry.read_text().replace("A test video.\n", description + "\n"))
    web_seed.update(files)
    config = write_config(
        work / "mkdocs.yml", [TRACKER], site_name="Videoswarm example", site_url="https://videos.example.org/"
    )
    return build_site(content, work / "site", config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from tests.support.browser import chromium

    with tempfile.TemporaryDirectory(prefix="videoswarm-screenshots-") as tmp:
        web_seed = WebSeed(port=0)
        web_seed.start()
        try:
            site = example_site(Path(tmp), web_seed)
            with StaticSite(site) as server, sync_playwright() as playwright, chromium(playwright) as context:
                page = context.new_page()
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme)
                    for size, viewport in SIZES.items():
                        if scheme == "dark" and size == "phone":
                            continue
                        page.set_viewport_size(viewport)
                        suffix = f"{size}{'-dark' if scheme == 'dark' else ''}"
                        page.goto(f"{server.url}/")
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=args.out / f"index-{suffix}.png")
                        page.goto(f"{server.url}/{VIDEOS[2][0]}/")
                        page.wait_for_function("document.querySelector('video').currentTime > 1.5", timeout=30_000)
                        page.evaluate("document.querySelector('video').pause()")
                        time.sleep(0.3)
                        page.screenshot(path=args.out / f"video-{suffix}.png", full_page=size == "phone")
        finally:
            web_seed.stop()
    for path in sorted(args.out.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
