"""``sitegen build``: the pages, the files next to them, escaping, and every way content can be bad."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitegen.bundle import WEBTORRENT_VERSION, cache_dir
from sitegen.cli import main
from sitegen.csp import inline_script_hashes
from tests.support.libtorrent_peer import info_hash, make_torrent
from tests.support.site import add_video, build_site, make_video, run_sitegen, write_config, write_entry
from tracker_app.allowlist import read_allowlist
from videoswarm_content.magnet import magnet_uri
from videoswarm_content.writer import write_entry as seed_entry

TRACKER = "ws://127.0.0.1:9/announce"
HASH = "0123456789abcdef0123456789abcdef01234567"
MAGNET = f"magnet:?xt=urn:btih:{HASH}&dn=clip.mp4&tr=ws%3A%2F%2F127.0.0.1%3A9%2Fannounce"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "mkdocs.yml", [TRACKER])


@pytest.fixture
def built(tmp_path: Path, video: Path, config: Path) -> tuple[Path, Path, bytes]:
    """A content folder with one full entry (torrent and poster) and one minimal one, built."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(Path(__file__).parent / "support" / "pages" / "peer.html", content / "unused.txt")
    (content / "clip.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    torrent = add_video(
        content,
        "clip",
        video,
        [TRACKER],
        title="The clip",
        poster="clip.png",
        date="2025-03-01",
        duration=125,
        tags=["test", "demo"],
    )
    write_entry(content, "bare", {"title": "Bare", "magnet": MAGNET}, body="Only a magnet.\n")
    return content, build_site(content, tmp_path / "site", config), torrent


def test_pages_and_files(built: tuple[Path, Path, bytes]) -> None:
    content, site, torrent = built
    for page in (
        "index.html",
        "clip/index.html",
        "bare/index.html",
        "embed/index.html",
        "share/index.html",
        "publish/index.html",
        "sw.js",
        "assets/player.js",
        "assets/webtorrent.min.js",
    ):
        assert (site / page).is_file(), page
    assert (site / "clip/clip.torrent").read_bytes() == torrent, "the .torrent is next to its page"
    assert (site / "clip/poster.png").is_file()
    assert not (site / "clip.md").exists() and not (site / "clip.torrent").exists()

    index = (site / "index.html").read_text()
    assert index.index("The clip") < index.index("Bare"), "newest first; undated last"
    assert 'src="./clip/poster.png"' in index and "Only a magnet." in index
    assert f'data-info-hash="{info_hash(torrent).hex()}"' in index

    page = (site / "clip/index.html").read_text()
    assert "<h1>The clip</h1>" in page and "A test video." in page and "2:05" in page
    assert f"xt=urn:btih:{info_hash(torrent).hex()}&amp;dn=clip.mp4" in page
    assert "vs-copy-embed" in page and '"torrent": "clip.torrent"' in page
    assert "<video controls muted autoplay playsinline" in page

    embed = (site / "embed/index.html").read_text()
    assert "magnet:" not in embed, "the embed page takes its magnet from the URL fragment only"
    publish = (site / "publish/index.html").read_text()
    assert "only\nwhile this window stays open" in publish


def test_bundle_is_the_pinned_webtorrent(built: tuple[Path, Path, bytes]) -> None:
    _, site, _ = built
    bundle = (site / "assets/webtorrent.min.js").read_bytes()
    assert (cache_dir() / f"webtorrent-{WEBTORRENT_VERSION}.tgz").is_file()
    assert bundle.rstrip().endswith(b"as default};") or b"export" in bundle[-200:], "an ES module"
    assert b"importScripts" not in (site / "sw.js").read_bytes(), "our own worker, not webtorrent's"


def _directives(site: Path) -> dict[str, str]:
    return dict(d.split(" ", 1) for d in (site / "csp.txt").read_text().strip().split("; "))


def test_csp_allows_exactly_the_theme_inline_scripts(built: tuple[Path, Path, bytes], tmp_path: Path) -> None:
    content, site, _ = built
    directives = _directives(site)
    assert directives["script-src"] == "'self'", "our theme has no inline script"
    assert directives["object-src"] == "'none'"
    assert "ws:" in directives["connect-src"], "a ws:// tracker (testing) is allowed"
    # Another theme's inline scripts (mkdocs' sets base_url) are allowed by hash, and nothing else.
    other = build_site(
        content,
        tmp_path / "other",
        write_config(tmp_path / "other.yml", [TRACKER], theme={"name": "mkdocs", "highlightjs": False}),
    )
    inline = set().union(*(inline_script_hashes(p.read_text()) for p in other.rglob("*.html")))
    assert inline and set(_directives(other)["script-src"].split()) == {"'self'", *inline}


def test_entry_written_by_seed_add_builds(tmp_path: Path, video: Path, config: Path) -> None:
    """seed add's writer (videoswarm_content.writer) makes entries the site accepts: tr=, ws=, .torrent, duration."""
    content = tmp_path / "content"
    torrent = make_torrent(video, [TRACKER])
    web_seed = "https://cdn.example/videos/clip.mp4"
    magnet = magnet_uri(info_hash(torrent).hex(), video.name, [TRACKER], [web_seed])
    entry = seed_entry(content, "Holiday 2024.mp4", info_hash(torrent).hex(), magnet, torrent, duration=2)
    site = build_site(content, tmp_path / "site", config)
    page = (site / entry.stem / "index.html").read_text()
    assert "<h1>Holiday 2024</h1>" in page and f'"webSeeds": ["{web_seed}"]' in page
    assert (site / entry.stem / f"{entry.stem}.torrent").read_bytes() == torrent


def test_allowlist_lists_every_info_hash(built: tuple[Path, Path, bytes], tmp_path: Path) -> None:
    _, site, torrent = built
    assert read_allowlist(site / "allowlist.txt") == {info_hash(torrent), bytes.fromhex(HASH)}


def test_titles_and_descriptions_are_escaped(tmp_path: Path, config: Path) -> None:
    content = tmp_path / "content"
    write_entry(
        content,
        "evil",
        {"title": "</title><script>alert('t')</script>", "magnet": MAGNET, "tags": ["<script>alert('g')</script>"]},
        body="<script>alert('d')</script> <img src=x onerror=alert(1)>\n\n[click](javascript:alert(2))\n",
    )
    site = build_site(content, tmp_path / "site", config)
    for page in ("index.html", "evil/index.html"):
        html = (site / page).read_text()
        assert "<script>alert" not in html and "<img src=x" not in html and "javascript:" not in html, page
        assert "&lt;script&gt;alert(" in html, page
    assert "<title>&lt;/title&gt;&lt;script&gt;" in (site / "evil/index.html").read_text()


# --- Bad input: each gets one line naming the file (and line), exit 1, and no site ---

GOOD = {"title": "Fine", "magnet": MAGNET}

BAD_ENTRIES = {
    "missing title": ({"magnet": MAGNET}, None, "missing 'title'", None),
    "missing magnet": ({"title": "T"}, None, "missing 'magnet'", None),
    "malformed magnet": ({"title": "T", "magnet": "magnet:?xt=urn:btih:xyz"}, None, "malformed magnet", 3),
    "not a magnet": ({"title": "T", "magnet": "https://example.com/a.torrent"}, None, "malformed magnet", 3),
    "magnet with markup": (
        {"title": "T", "magnet": f'{MAGNET}"><script>alert(1)</script>'},
        None,
        "malformed magnet",
        3,
    ),
    "udp tracker": ({"title": "T", "magnet": f"{MAGNET}&tr=udp%3A%2F%2Ft.example%3A80"}, None, "tr= must be", 3),
    "bad yaml": (None, "title: T\nmagnet: [unclosed\n", "bad YAML", 3),
    "missing poster": ({**GOOD, "poster": "nope.jpg"}, None, "poster file not found", 4),
    "missing torrent": ({**GOOD, "torrent": "nope.torrent"}, None, "torrent file not found", 4),
    "bad torrent": ({**GOOD, "torrent": "junk.torrent"}, None, "not a valid .torrent", 4),
    "poster outside": ({**GOOD, "poster": "../secret.png"}, None, "inside the content folder", 4),
    "bad date": ({**GOOD, "date": "yesterday"}, None, "must be a date", 4),
    "bad duration": ({**GOOD, "duration": "long"}, None, "whole number of seconds", 4),
    "unknown key": ({**GOOD, "titel": "typo"}, None, "unknown key 'titel'", 4),
    "captions not a list": ({**GOOD, "captions": "talk.vtt"}, None, "'captions' must be a list like", 4),
    "caption outside": ({**GOOD, "captions": [{"src": "../talk.vtt"}]}, None, "inside the content folder", 4),
    "missing caption": (
        {**GOOD, "captions": [{"src": "talk.en.vtt", "lang": "en"}]},
        None,
        "captions file not found",
        4,
    ),
    "caption not vtt": ({**GOOD, "captions": [{"src": "talk.srt"}]}, None, "must end in one of .vtt", 4),
    "no front matter": (None, "", "no YAML front matter", 1),
}


@pytest.mark.parametrize("case", BAD_ENTRIES, ids=list(BAD_ENTRIES))
def test_bad_entry(case: str, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    front, raw, message, line = BAD_ENTRIES[case]
    content = tmp_path / "content"
    write_entry(content, "good", GOOD)
    if raw == "":
        content.joinpath("broken.md").write_text("# No front matter\n")
    else:
        write_entry(content, "broken", front, raw_front=raw)
    (content / "junk.torrent").write_bytes(b"not bencode")
    out = tmp_path / "site"
    out.mkdir()
    (out / "previous.html").write_text("the last good build")

    code = main(["build", "--content", str(content), "--out", str(out), "-f", str(config)])

    errors = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    where = f"{content / 'broken.md'}:{line}: " if line else f"{content / 'broken.md'}: "
    assert errors == [errors[0]] and errors[0].startswith(f"sitegen: error: {where}"), errors
    assert message in errors[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no staging folder is left"
    assert [p.name for p in out.iterdir()] == ["previous.html"], "the previous site is untouched"


def test_torrent_must_match_the_magnet(
    tmp_path: Path, config: Path, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    add_video(content, "real", video, [TRACKER])
    write_entry(content, "other", {**GOOD, "torrent": "real.torrent"})
    assert main(["build", "--content", str(content), "--out", str(tmp_path / "site"), "-f", str(config)]) == 1
    assert "has info hash" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_every_bad_entry_is_reported(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "content"
    write_entry(content, "one", {"title": "No magnet"})
    write_entry(content, "two", {"magnet": MAGNET})
    assert main(["build", "--content", str(content), "--out", str(tmp_path / "site"), "-f", str(config)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert [e.split(": ")[2] for e in errors] == [str(content / "one.md"), str(content / "two.md")]


def test_tampered_bundle_cache_is_refused(tmp_path: Path, config: Path, built: tuple[Path, Path, bytes]) -> None:
    content, _, _ = built
    cache = tmp_path / "cache"
    cache.mkdir()
    tarball = cache / f"webtorrent-{WEBTORRENT_VERSION}.tgz"
    data = bytearray((cache_dir() / tarball.name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    tarball.write_bytes(bytes(data))

    result = run_sitegen(
        "build",
        "--content",
        content,
        "--out",
        tmp_path / "site2",
        "-f",
        config,
        env={**os.environ, "SITEGEN_CACHE": str(cache)},
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"sitegen: error: {tarball}: cached webtorrent {WEBTORRENT_VERSION} fails")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site2").exists()


def test_unreachable_registry_is_one_line(tmp_path: Path, config: Path) -> None:
    content = tmp_path / "content"
    write_entry(content, "good", GOOD)
    result = run_sitegen(
        "build",
        "--content",
        content,
        "--out",
        tmp_path / "site",
        "-f",
        config,
        env={**os.environ, "SITEGEN_CACHE": str(tmp_path / "empty"), "SITEGEN_NPM_REGISTRY": "http://127.0.0.1:9"},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot fetch webtorrent" in result.stderr
    assert not (tmp_path / "site").exists()


def test_help_explains() -> None:
    result = run_sitegen("build", "--help")
    assert result.returncode == 0
    for words in ("--content", "--out", "-f", "title and magnet required", "mkdocs.yml"):
        assert words in result.stdout


# --- Files from outside the content folder, names the build takes, descriptions Markdown chokes on ---


def _build_fails(content: Path, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Build; it must fail with no site and no traceback. Returns the error lines."""
    code = main(["build", "--content", str(content), "--out", str(tmp_path / "site"), "-f", str(config)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    assert not (tmp_path / "site").exists()
    return err.strip().splitlines()


def test_symlinked_poster_out_of_the_content_folder_stops_the_build(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    entry = write_entry(content, "clip", {**GOOD, "poster": "p.jpg"})
    (content / "p.jpg").symlink_to("/proc/self/environ")
    errors = _build_fails(content, tmp_path, config, capsys)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"sitegen: error: {entry}:4: poster {content / 'p.jpg'} is a symlink to /proc/")
    assert errors[0].endswith(f"/environ, outside the content folder {content}; copy the file in instead")


@pytest.mark.parametrize("name", ["notes.txt", "sub/notes.txt", "linked.md"])
def test_symlinked_file_out_of_the_content_folder_stops_the_build(
    name: str, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    write_entry(content, "clip", GOOD)
    secret = write_entry(tmp_path / "private", "secret", GOOD)
    link = content / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    errors = _build_fails(content, tmp_path, config, capsys)
    assert len(errors) == 1 and errors[0].startswith(f"sitegen: error: {link}: is a symlink to {secret}"), errors


def test_symlinks_inside_the_content_folder_are_fine(tmp_path: Path, config: Path) -> None:
    content = tmp_path / "content"
    (content / "images").mkdir(parents=True)
    (content / "images" / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (content / "p.png").symlink_to(content / "images" / "p.png")
    write_entry(content, "clip", {**GOOD, "poster": "p.png"})
    site = build_site(content, tmp_path / "site", config)
    assert (site / "clip/poster.png").read_bytes() == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "slug", ["csp.txt", "404.html", "sitemap.xml", "sitemap.xml.gz", "allowlist.txt", "unused.txt"]
)
def test_entry_named_like_a_file_the_build_writes(
    slug: str, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    write_entry(content, "good", GOOD)
    entry = write_entry(content, slug, GOOD)
    (content / "unused.txt").write_text("a file the site copies as it is")
    errors = _build_fails(content, tmp_path, config, capsys)
    assert errors == [
        f"sitegen: error: {entry}: file name {slug!r} would make the page folder {slug}/, "
        "but the build writes a file of that name; rename the entry"
    ]


@pytest.mark.timeout(120)  # unbounded, Python-Markdown's link scan took minutes on these
@pytest.mark.parametrize("brackets", ["[" * 20_000, "[" * 10_000 + "]" * 10_000, "[](" * 7_000, "![" * 10_000])
def test_description_of_nested_brackets_renders(brackets: str, tmp_path: Path, config: Path) -> None:
    content = tmp_path / "content"
    write_entry(content, "brackets", GOOD, body=f"Intro [a link](https://example.org/(x)).\n\n{brackets}\n")
    page = (build_site(content, tmp_path / "site", config) / "brackets/index.html").read_text()
    assert 'Intro <a href="https://example.org/(x)"' in page, "ordinary links still work"
    assert brackets[:1000] in page


def test_description_nested_too_deep_is_one_line(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    # Lines 1-4 are the front matter, 5 is blank: the description starts on line 6.
    entry = write_entry(content, "deep", GOOD, body="\n" + "".join("    " * i + "- x\n" for i in range(300)))
    errors = _build_fails(content, tmp_path, config, capsys)
    assert errors == [
        f"sitegen: error: {entry}:6: the description nests lists or quotes too deep to render; use fewer levels"
    ]


def test_a_link_cannot_swallow_a_markdown_placeholder(tmp_path: Path) -> None:
    """The image's (url "title") scan ran into the link made before it and kept half its
    placeholder: ``\\x02`` reached the page and lxml refused the feed with a traceback."""
    content = tmp_path / "content"
    write_entry(content, "hostile", GOOD, body='![a](x" onerror="alert(6)) [y](d,<s>a</s>)\n')
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER], site_url="https://v.example.org/")
    site = build_site(content, tmp_path / "site", config)
    page = (site / "hostile/index.html").read_text()
    feed = (site / "feed.xml").read_text()
    for text in (page, feed, (site / "feed.json").read_text()):
        assert "\x02" not in text and "\x03" not in text and "klzzwxh" not in text
    assert '<a href="d,&lt;s&gt;a&lt;/s&gt;" rel="nofollow noopener noreferrer">y</a>' in page
    assert '<img alt="a"' not in page and "![a](x" in page, "the image stays text"


@pytest.mark.parametrize("where", ["description", "title"])
def test_a_control_character_is_refused_with_its_line(
    where: str, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    if where == "title":
        entry = write_entry(content, "ctl", GOOD, raw_front=f"title: 'Bad \x02 title'\nmagnet: '{MAGNET}'\n")
        line = 2
    else:
        entry = write_entry(content, "ctl", GOOD, body="Fine line.\n\nA \x02bad\x03 one.\n")
        line = 7
    assert _build_fails(content, tmp_path, config, capsys) == [
        f"sitegen: error: {entry}:{line}: holds the control character U+0002; remove it "
        "(an editor may show it as a box)"
    ]


def test_a_feed_that_cannot_be_written_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "content"
    write_entry(content, "fine", GOOD)
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER], site_name="Videos\x01", site_url="https://v.example.org/")
    [error] = _build_fails(content, tmp_path, config, capsys)
    assert error.startswith("sitegen: error: videoswarm: cannot write feed.xml: All strings must be XML compatible")
