"""Offload across NATs: N Chromium viewers, each in its own home behind a port-restricted NAT
(tests/support/netsim.py), open one video one after another while ``seed run`` keeps seeding.

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python -m bench.nat_offload --viewers 2 5'

The figure is the share of all bytes the viewers downloaded that other viewers uploaded
(the sum of the pages' ``torrent.uploaded`` over the sum of their ``torrent.downloaded``):
what the publisher did not have to send. The site has coturn's STUN only, as a default site
has public STUN. Needs root in a fresh network namespace (it makes namespaces and veths).
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support import netsim
from tests.support.browser import chromium
from tests.support.processes import start_tracker
from tests.support.seeder import SeedRun, add, make_clip
from tests.support.site import build_site, wait_playing, wait_true, write_config
from tests.support.static import StaticSite


def offload(viewers: int, workdir: Path) -> float:
    """Share of the viewers' bytes that came from other viewers, once all of them have it all."""
    with ExitStack() as stack:
        net = stack.enter_context(netsim.Internet())
        stack.enter_context(netsim.coturn(workdir, "bench-secret"))
        tracker = start_tracker(host=netsim.PUBLIC)
        stack.callback(tracker.stop)
        content, state = workdir / "content", workdir / "state"
        add(make_clip(workdir / "media/clip.mp4"), "--tracker", tracker.ws_url, "--state", state, "--content", content)
        stun = [{"urls": f"stun:{netsim.PUBLIC}:3478"}]
        config = write_config(workdir / "mkdocs.yml", [tracker.ws_url], ice_servers=stun)
        site = build_site(content, workdir / "site", config)
        seeder = SeedRun(state, "--listen", f"{netsim.PUBLIC}:0", log=workdir / "seed.log")
        stack.callback(seeder.stop)
        seeder.wait_for(f"clip.mp4: announced to {tracker.ws_url}")
        server = stack.enter_context(StaticSite(site, host=netsim.PUBLIC))
        playwright = stack.enter_context(sync_playwright())
        pages = []
        for _ in range(viewers):
            home = net.home("port-restricted")
            browser = stack.enter_context(
                chromium(playwright, str(home.chromium(workdir)), netsim.viewer_flags(server.url))
            )
            page = browser.new_page()
            page.goto(f"{server.url}/clip/")
            wait_playing(page, 60_000)
            wait_true(page, "window.videoswarm.player.torrent.progress === 1", 60_000)
            pages.append(page)
        uploaded = sum(p.evaluate("window.videoswarm.player.torrent.uploaded") for p in pages)
        downloaded = sum(p.evaluate("window.videoswarm.player.torrent.downloaded") for p in pages)
        return float(uploaded / downloaded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[2, 5])
    args = parser.parse_args()
    for n in args.viewers:
        with tempfile.TemporaryDirectory(prefix="videoswarm-nat-") as workdir:
            share = offload(n, Path(workdir))
        print(f"{n} viewers behind separate NATs: {share:.0%} of their bytes from other viewers")


if __name__ == "__main__":
    main()
