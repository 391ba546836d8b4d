"""A followed feed cannot make the seeder reach a private address (issue 23, finding 4).

An "internal service" listens on 127.0.0.1. A "public" site needs an address outside
seed/netguard.py's table, so the test adds 198.51.100.7 (TEST-NET-2) to the loopback
interface of the test's own network namespace (scripts/test): it never exists outside it.
The public site then names the internal service as an enclosure, redirects to it and
links to it as its feed: each is refused before any connection, and the internal service
gets no request. The same URLs with --allow-private work, so the refusal is the guard's.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastbencode import bdecode, bencode

from seed import feed
from seed.feed import FeedError, check_torrent, fetch, fetch_torrent
from seed.netguard import is_private
from seed.torrent import make_torrent
from tests.support.feedserver import Answer, FeedServer, item, rss
from tests.support.seeder import seed
from tests.test_mirrors import refused

PUBLIC = "198.51.100.7"


def refusal(host: str) -> str:
    return f"refused: {host} is a private address (seed follow --allow-private allows it)"


@pytest.fixture(scope="module")
def public_address() -> Iterator[str]:
    """``PUBLIC`` on loopback, only inside the test namespace (whose only interface is lo)."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"], "run me with scripts/test"
    subprocess.run(["ip", "addr", "add", f"{PUBLIC}/32", "dev", "lo"], check=True)
    try:
        yield PUBLIC
    finally:
        subprocess.run(["ip", "addr", "del", f"{PUBLIC}/32", "dev", "lo"], check=True)


@pytest.fixture
def internal() -> Iterator[FeedServer]:
    with FeedServer("127.0.0.1") as server:
        server.routes["/feed.xml"] = rss(item("Inside", "/v.torrent"))
        yield server


@pytest.fixture
def public(public_address: str, internal: FeedServer) -> Iterator[FeedServer]:
    with FeedServer(public_address) as server:
        server.routes["/feed.xml"] = rss(item("Enclosure", f"{internal.url}/v.torrent"))
        server.routes["/go"] = Answer(status=302, headers={"Location": f"{internal.url}/feed.xml"})
        server.routes["/"] = Answer(
            f'<!doctype html><link rel="alternate" type="application/rss+xml" href="{internal.url}/feed.xml">'.encode(),
            headers={"Content-Type": "text/html"},
        )
        server.routes["/magnets.xml"] = rss(
            "<title>Magnet</title><link>magnet:?xt=urn:btih:"
            + "a" * 40
            + "&amp;dn=v.mp4&amp;tr=ws%3A%2F%2F127.0.0.1%3A8000%2Fannounce</link>"
        )
        yield server


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.2", True),
        ("10.1.2.3", True),
        ("172.31.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("::", True),
        ("fd00::1", True),
        ("fe80::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        (PUBLIC, False),
    ],
)
def test_the_table_of_private_addresses(address: str, private: bool) -> None:
    assert is_private(address) is private


def test_enclosure_redirect_and_feed_link_to_a_private_address_are_refused(
    public: FeedServer, internal: FeedServer
) -> None:
    with feed.client() as http:
        [video] = fetch(http, f"{public.url}/feed.xml").videos or []
        with pytest.raises(FeedError) as enclosure:
            fetch_torrent(http, video)
        with pytest.raises(FeedError) as redirect:
            fetch(http, f"{public.url}/go")
        with pytest.raises(FeedError) as link:
            fetch(http, f"{public.url}/", discover=True)
        [magnet] = fetch(http, f"{public.url}/magnets.xml").videos or []
        with pytest.raises(FeedError) as by_name:
            fetch(http, f"http://localhost:{internal.url.rsplit(':', 1)[1]}/feed.xml")
    assert str(enclosure.value) == f"{internal.url}/v.torrent: cannot fetch its .torrent: {refusal('127.0.0.1')}"
    assert str(redirect.value) == f"{public.url}/go: cannot fetch the feed: {refusal('127.0.0.1')}"
    assert str(link.value) == f"{internal.url}/feed.xml: cannot fetch the feed: {refusal('127.0.0.1')}"
    assert str(by_name.value).endswith(refusal("localhost")), "checked on the address the name resolves to"
    assert magnet.magnet is None and magnet.problem == (
        "its magnet link's trackers or web seeds name 127.0.0.1, a private address "
        "(seed follow --allow-private allows it)"
    )
    assert internal.requests == [], "the internal service never saw a request"

    with feed.client(allow_private=True) as http:
        assert [v.title for v in fetch(http, f"{public.url}/go").videos or []] == ["Inside"]
        assert [v.title for v in fetch(http, f"{public.url}/", discover=True).videos or []] == ["Inside"]
        with pytest.raises(FeedError, match="its .torrent answered HTTP 404"):
            fetch_torrent(http, video)
    assert internal.requests == ["/feed.xml", "/feed.xml", "/v.torrent"]


def test_a_public_host_that_refuses_reads_as_before(public_address: str) -> None:
    """No port scanner: what a public host says is shown, and nothing is tried on a private one."""
    with feed.client() as http, pytest.raises(FeedError) as closed:
        fetch(http, f"http://{public_address}:9/feed.xml")
    assert "Connection refused" in str(closed.value) and "private" not in str(closed.value)


def test_seed_follow_needs_allow_private_for_a_private_site(internal: FeedServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    refused(seed("follow", f"{internal.url}/feed.xml", "--state", state), refusal("127.0.0.1"))
    assert not (state / "follow").exists() or not any((state / "follow").iterdir())

    done = seed("follow", "--allow-private", f"{internal.url}/feed.xml", "--name", "lan", "--state", state)
    assert done.returncode == 0, done.stderr
    assert json.loads((state / "follow" / "lan.json").read_text())["allow_private"] is True


@pytest.mark.parametrize("field", ["announce", "url-list"])
def test_a_torrent_naming_a_private_ip_is_refused(field: str, tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 40_000)
    torrent = bdecode(make_torrent(video, ["https://tracker.example.org/announce"], progress=False))
    if field == "announce":
        torrent[b"announce"] = b"http://10.0.0.1:8080/announce"
        torrent.pop(b"announce-list", None)
    else:
        torrent[b"url-list"] = [b"https://videos.example.org/v.mp4", b"http://[fd00::1]/v.mp4"]
    data = bencode(torrent)
    host = "10.0.0.1" if field == "announce" else "fd00::1"
    with pytest.raises(FeedError) as error:
        check_torrent(data, "v.torrent", None, allow_private=False)
    assert str(error.value) == (
        f"v.torrent: its trackers or web seeds name {host}, a private address (seed follow --allow-private allows it)"
    )
    assert check_torrent(data, "v.torrent", None, allow_private=True).name == "v.mp4"
