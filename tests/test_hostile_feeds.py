"""Feeds written to break a follower's seeder (issue 23, findings 1, 5, 6 and 8).

Each shape below once raised something other than FeedError out of seed/feed.py: `seed
follow` printed a traceback, and `seed run` exited 1 at its first poll (a crash loop under
systemd), so every video of the volunteer stopped seeding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from fastbencode import bdecode, bencode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seed import feed
from seed.feed import MAX_ITEMS, FeedError, check_torrent, fetch
from seed.torrent import make_torrent
from tests.support.feedserver import Answer, FeedServer, item, rss
from tests.support.seeder import SeedRun, add, make_clip, seed

TRACKER = "ws://127.0.0.1:9/announce"
JSON_FEED = {"version": "https://jsonfeed.org/version/1.1", "title": "Site"}


def json_feed(*items: object) -> Answer:
    return Answer(
        json.dumps({**JSON_FEED, "items": list(items)}).encode(), headers={"Content-Type": "application/json"}
    )


#: Each shape and what seed/feed.py now makes of it.
HOSTILE = {
    "attachments not a list": json_feed({"id": "1", "title": "One", "attachments": 1}),
    "nested 100,000 deep": Answer(b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000),
    "superscript digit size": rss(item("Two", "/v.torrent", "<torrent:contentLength>²</torrent:contentLength>")),
    "unclosed IPv6 enclosure": rss(item("Three", "http://[::1/x")),
}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.routes.update({f"/{n}": answer for n, answer in enumerate(HOSTILE.values())})
        yield server


def test_each_shape_is_an_item_problem_or_one_feed_error(server: FeedServer) -> None:
    with feed.client(allow_private=True) as http:
        [attachments] = fetch(http, f"{server.url}/0").videos or []
        with pytest.raises(FeedError) as deep:
            fetch(http, f"{server.url}/1")
        [digit] = fetch(http, f"{server.url}/2").videos or []
        [ipv6] = fetch(http, f"{server.url}/3").videos or []
    assert attachments.title == "One" and attachments.torrent_url is None and attachments.magnet is None
    assert str(deep.value) == f"{server.url}/1: the feed nests too deep to read"
    assert digit.size is None and digit.torrent_url == f"{server.url}/v.torrent"
    assert (
        ipv6.torrent_url is None and ipv6.problem == "its .torrent URL 'http://[::1/x' is not valid (Invalid IPv6 URL)"
    )


@pytest.mark.parametrize("shape", list(HOSTILE), ids=list(HOSTILE))
def test_seed_follow_says_one_line(shape: str, server: FeedServer, tmp_path: Path) -> None:
    url = f"{server.url}/{list(HOSTILE).index(shape)}"
    done = seed("follow", "--allow-private", url, "--state", tmp_path / "state")
    assert "Traceback" not in done.stderr, done.stderr
    if shape == "nested 100,000 deep":
        assert done.returncode == 1
        assert done.stderr.splitlines() == [f"seed: error: not following {url}: {url}: the feed nests too deep to read"]
    else:
        assert done.returncode == 0 and len(done.stderr.splitlines()) == 1 and "lists 1 video," in done.stderr


_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(["²", "http://[::1/x", "http://h:99999/x", "magnet:?xt=urn:btih:" + "a" * 40, "magnet:?x"]),
)
_JSON = st.recursive(
    _VALUE,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["url", "mime_type", "title", "id", "attachments", "external_url"]), inner)
    ),
    max_leaves=12,
)


_TAGS = st.sampled_from(["title", "link", "guid", "torrent:contentLength", "torrent:magnetURI", "torrent:infoHash"])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=st.lists(_JSON, max_size=3), tags=st.lists(st.tuples(_TAGS, _VALUE.map(str)), max_size=4))
def test_any_feed_body_is_videos_or_a_feed_error(items: list[object], tags: list[tuple[str, str]]) -> None:
    """Whatever a JSON Feed's items hold, and whatever an RSS item's text: nothing but FeedError."""
    with FeedServer() as server, feed.client(allow_private=True) as http:
        server.routes["/feed.json"] = json_feed(*items)
        server.routes["/feed.xml"] = rss("".join(f"<{t}>{escape(v)}</{t}>" for t, v in tags))
        for path in ("/feed.json", "/feed.xml"):
            try:
                videos = fetch(http, server.url + path).videos or []
            except FeedError as error:
                assert "\n" not in str(error)
                continue
            for video in videos:
                assert isinstance(video.title, str) and video.title.isprintable()
                assert video.size is None or isinstance(video.size, int)


def test_a_running_seeder_outlives_hostile_feeds(server: FeedServer, tmp_path: Path) -> None:
    """Followed while they were fine, then turned hostile: the seeder logs, stays up, keeps seeding."""
    state = tmp_path / "state"
    own = make_clip(tmp_path / "own.mp4", seconds=1)
    add(own, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content")
    for n in range(len(HOSTILE)):
        server.routes[f"/{n}"] = rss()
        done = seed("follow", "--allow-private", f"{server.url}/{n}", "--name", f"site{n}", "--state", state)
        assert done.returncode == 0, done.stderr
    server.routes.update({f"/{n}": answer for n, answer in enumerate(HOSTILE.values())})
    server.routes["/v.torrent"] = Answer(b"d4:infod6:lengthi1e4:name1:xee")  # for the item with a .torrent
    mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "run.log")
    try:
        checks: dict[str, list[float]] = {}
        deadline = time.monotonic() + 60
        while min((len(set(c)) for c in checks.values()), default=0) < 3 or len(checks) < len(HOSTILE):
            assert mirror.proc.poll() is None, f"seed run ended:\n{mirror.log}"
            assert time.monotonic() < deadline, f"not every feed was polled three times:\n{mirror.log}"
            time.sleep(0.5)
            done = seed("status", "--json", "--state", state)
            if done.returncode == 0:
                for sub in json.loads(done.stdout)["subscriptions"]:
                    if sub["last_check"] is not None:
                        checks.setdefault(sub["name"], []).append(sub["last_check"])
        report = json.loads(seed("status", "--json", "--state", state).stdout)
        assert report["running"] and [t["state"] for t in report["torrents"] if t["name"] == "own.mp4"] == ["seeding"]
        assert all("\n" not in sub["problem"] for sub in report["subscriptions"])
        assert "Traceback" not in mirror.log
    finally:
        assert mirror.stop() == 0, mirror.log


def test_a_trickling_feed_is_cut_off_at_the_deadline(server: FeedServer) -> None:
    """1 byte every 3 s never trips the 10 s read timeout; the total deadline ends it."""
    server.routes["/slow.xml"] = Answer(b"<rss>" + b" " * 100, trickle=3.0)
    with feed.client(allow_private=True) as http, pytest.raises(FeedError) as slow:
        fetch(http, f"{server.url}/slow.xml", deadline=4)
    assert str(slow.value).startswith(f"{server.url}/slow.xml: the feed took over 4 s to download (")
    assert "\n" not in str(slow.value)


def test_items_past_the_cap_are_ignored_with_one_line(server: FeedServer) -> None:
    server.routes["/many.xml"] = rss(*(item(f"Video {n}", f"/{n}.torrent") for n in range(MAX_ITEMS + 500)))
    with feed.client(allow_private=True) as http:
        fetched = fetch(http, f"{server.url}/many.xml")
    videos = fetched.videos or []
    assert len(videos) == MAX_ITEMS and videos[0].title == "Video 0" and videos[-1].title == f"Video {MAX_ITEMS - 1}"
    assert fetched.problem == f"the feed lists {MAX_ITEMS + 500:,} items; only the first {MAX_ITEMS:,} are read"


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[bytes, object]:
    """A real single-file v1 torrent, made by libtorrent (seed add's own function)."""
    video = tmp_path_factory.mktemp("torrent") / "v.mp4"
    video.write_bytes(bytes(range(256)) * 200)
    torrent: dict[bytes, object] = bdecode(make_torrent(video, [TRACKER], progress=False))
    return torrent


def _with_info(torrent: dict[bytes, object], **changes: object) -> bytes:
    info = dict(torrent[b"info"])  # type: ignore[call-overload]
    for key, value in changes.items():
        name = key.replace("_", " ").encode()
        info.pop(name) if value is None else info.__setitem__(name, value)
    return bencode({**torrent, b"info": info})


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("folder of one", "puts its file in a folder (a 'files' list); a mirror takes single-file torrents"),
        ("pad file", "its file is a pad file or a symbolic link, not a video"),
        ("symlink", "is not a valid .torrent"),
    ],
)
def test_only_single_plain_file_torrents_are_mirrored(shape: str, message: str, single: dict[bytes, object]) -> None:
    length = single[b"info"][b"length"]  # type: ignore[index]
    data = {
        "folder of one": lambda: _with_info(single, length=None, files=[{b"length": length, b"path": [b"v.mp4"]}]),
        "pad file": lambda: _with_info(single, attr=b"p"),
        "symlink": lambda: _with_info(single, attr=b"l", symlink_path=[b"other.mp4"]),
    }[shape]()
    assert check_torrent(bencode(single), "v.torrent", None, allow_private=True).name == "v.mp4"
    with pytest.raises(FeedError) as refused:
        check_torrent(data, "v.torrent", None, allow_private=True)
    assert message in str(refused.value)
