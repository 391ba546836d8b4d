"""``site.json``: the signed manifest of a built site, its signing key, and where pages say the site also lives."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sitegen.signing import public_key
from tests.support.site import add_video, build_site, make_video, run_sitegen, write_config
from videoswarm_content.manifest import (
    MAX_FILES,
    PATH,
    Manifest,
    ManifestError,
    dumps,
    parse,
    verify,
)

TRACKER = "ws://127.0.0.1:9/announce"
SITE_URL = "https://videos.example.org/"
SITE_MIRRORS = ["https://mirror.example.net/videos", "https://copy.example.com/"]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=1)


@pytest.fixture(scope="module")
def keyfile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A key made by ``sitegen keygen``, and the public key it printed."""
    path = tmp_path_factory.mktemp("key") / "site.key"
    result = run_sitegen("keygen", path)
    assert result.returncode == 0, result.stderr
    return path, result.stdout.strip()


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory, video: Path) -> Path:
    content = tmp_path_factory.mktemp("content")
    (content / "clip.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    add_video(content, "clip", video, [TRACKER], title="The clip", poster="clip.png", date="2025-03-01")
    (content / "notes.txt").write_text("copied as it is\n")
    return content


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, content: Path, keyfile: tuple[Path, str]) -> Path:
    """The site built with ``--sign``, a site_url and two full copies."""
    work = tmp_path_factory.mktemp("signed")
    config = write_config(work / "mkdocs.yml", [TRACKER], site_url=SITE_URL, site_mirrors=SITE_MIRRORS)
    result = run_sitegen("build", "--content", content, "--out", work / "site", "-f", config, "--sign", keyfile[0])
    assert result.returncode == 0, result.stderr
    assert "unsigned" not in result.stderr
    return work / "site"


def test_a_signed_build_lists_every_file_and_verifies(signed: Path, keyfile: tuple[Path, str]) -> None:
    manifest = verify((signed / PATH).read_bytes(), pinned_key=keyfile[1])
    on_disk = {p.relative_to(signed).as_posix() for p in signed.rglob("*") if p.is_file()} - {PATH}
    assert {f.path for f in manifest.files} == on_disk, "every built file, and nothing else"
    assert {"index.html", "clip/index.html", "csp.txt", "notes.txt", "feed.json", "sw.js"} <= on_disk
    for entry in manifest.files:
        data = (signed / entry.path).read_bytes()
        assert (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest()), entry.path
    assert [f.path for f in manifest.files] == sorted(on_disk)
    assert manifest.site_url == SITE_URL
    assert manifest.site_mirrors == ("https://mirror.example.net/videos/", "https://copy.example.com/")
    assert manifest.public_key == keyfile[1] and keyfile[1].startswith("ed25519:")
    assert manifest.built.utcoffset() is not None and manifest.built.utcoffset().total_seconds() == 0


def test_a_changed_file_is_refused(signed: Path) -> None:
    manifest = verify((signed / PATH).read_bytes())
    entry = next(f for f in manifest.files if f.path == "clip/index.html")
    data = (signed / entry.path).read_bytes()
    entry.check(data)
    flipped = data.replace(b"The clip", b"The clop", 1)
    with pytest.raises(ManifestError, match=r"^clip/index.html: SHA-256 does not match") as error:
        entry.check(flipped)
    assert "\n" not in str(error.value)
    with pytest.raises(ManifestError, match=r"bytes, but the manifest says"):
        entry.check(data + b"more")


def _envelope(site: Path) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((site / PATH).read_bytes())
    return loaded


def test_a_changed_manifest_or_signature_is_refused(signed: Path) -> None:
    envelope = _envelope(signed)
    body = json.loads(envelope["manifest"])
    body["files"][0]["sha256"] = "0" * 64
    changed = {**envelope, "manifest": json.dumps(body, separators=(",", ":"), sort_keys=True)}
    with pytest.raises(ManifestError, match="^bad signature"):
        verify(json.dumps(changed).encode())
    # Only the spacing of the JSON: still other bytes than the ones signed.
    respaced = {**envelope, "manifest": json.dumps(json.loads(envelope["manifest"]))}
    with pytest.raises(ManifestError, match="^bad signature"):
        verify(json.dumps(respaced).encode())
    signature = bytearray(base64.b64decode(envelope["signature"]))
    signature[10] ^= 1
    bad = {**envelope, "signature": base64.b64encode(bytes(signature)).decode()}
    with pytest.raises(ManifestError, match="^bad signature"):
        verify(json.dumps(bad).encode())
    with pytest.raises(ManifestError, match="^manifest is not signed$"):
        verify(json.dumps({**envelope, "signature": None}).encode())


def test_a_changed_key_is_refused_when_pinned(signed: Path, keyfile: tuple[Path, str]) -> None:
    """Someone re-signs the site with their own key: it verifies on its own, but not against the pinned key."""
    manifest = verify((signed / PATH).read_bytes())
    other = Ed25519PrivateKey.generate()
    forged = Manifest(manifest.built, manifest.site_url, (), public_key(other), manifest.files)
    data = dumps(forged, other.sign(forged.body()))
    assert verify(data).public_key == public_key(other)
    with pytest.raises(ManifestError, match="not by the pinned key .*refusing a changed key") as error:
        verify(data, pinned_key=keyfile[1])
    assert "\n" not in str(error.value)


def _signed(files: list[dict[str, object]]) -> bytes:
    """A correctly signed manifest whose body lists ``files`` as they are (no checks on the way out)."""
    key = Ed25519PrivateKey.generate()
    body = {
        "format": 1,
        "built": "2026-01-31T12:00:00Z",
        "site_url": None,
        "site_mirrors": [],
        "public_key": public_key(key),
        "files": files,
    }
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    signature = base64.b64encode(key.sign(text.encode())).decode()
    return json.dumps({"manifest": text, "signature": signature}).encode()


GOOD_HASH = hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../outside.html", "'..' part"),
        ("clip/../../outside.html", "'..' part"),
        ("/etc/passwd", "is absolute"),
        ("C:/Windows/win.ini", "is absolute"),
        ("clip\\..\\..\\outside.html", "backslash"),
        ("clip/index.html\x00.txt", "NUL"),
        ("", "is empty"),
        ("clip//index.html", "empty, '.' or '..' part"),
    ],
)
def test_paths_outside_the_site_are_refused(path: str, problem: str) -> None:
    data = _signed(
        [{"path": "index.html", "size": 0, "sha256": GOOD_HASH}, {"path": path, "size": 0, "sha256": GOOD_HASH}]
    )
    with pytest.raises(ManifestError) as error:
        verify(data)
    message = str(error.value)
    assert message.startswith("manifest file 2: path ") and problem in message and "\n" not in message


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"path": "a.html", "size": -1, "sha256": GOOD_HASH}, "size -1 is not a whole number >= 0"),
        ({"path": "a.html", "size": 1.5, "sha256": GOOD_HASH}, "size 1.5 is not a whole number"),
        ({"path": "a.html", "size": True, "sha256": GOOD_HASH}, "size True is not a whole number"),
        ({"path": "a.html", "size": 0, "sha256": GOOD_HASH.upper()}, "sha256 is not 64 lowercase hex digits"),
        ({"path": "a.html", "size": 0, "sha256": GOOD_HASH, "x": 1}, "exactly the keys path, size and sha256"),
    ],
)
def test_bad_sizes_and_digests_are_refused(entry: dict[str, object], problem: str) -> None:
    with pytest.raises(ManifestError, match="^manifest file 1") as error:
        verify(_signed([entry]))
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_a_listed_path_twice_is_refused() -> None:
    entry = {"path": "a.html", "size": 0, "sha256": GOOD_HASH}
    with pytest.raises(ManifestError, match="^manifest file 2: path 'a.html' is listed twice$"):
        verify(_signed([entry, entry]))


def test_a_million_entries_are_refused() -> None:
    many = [{"path": f"f{i}", "size": 0, "sha256": GOOD_HASH} for i in range(1_000_000)]
    with pytest.raises(ManifestError, match=r"^manifest is [\d,]+ bytes, more than the [\d,]+ allowed$"):
        verify(_signed(many))
    # Short of the byte limit, the count is capped too.
    with pytest.raises(ManifestError, match=rf"^manifest lists {MAX_FILES + 1:,} files, more than the {MAX_FILES:,}"):
        parse(_signed(many[: MAX_FILES + 1]))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b'{"manifest": "{}"}',
        b'{"manifest": 5, "signature": null}',
        b'{"manifest": "{}", "signature": "AA"}',
    ],
)
def test_malformed_manifests_are_refused_with_one_line(data: bytes) -> None:
    with pytest.raises(ManifestError) as error:
        verify(data)
    assert str(error.value) and "\n" not in str(error.value)


def test_keygen_makes_an_owner_only_key_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "site.key"
    first = run_sitegen("keygen", path)
    assert first.returncode == 0 and first.stdout.startswith("ed25519:")
    assert path.stat().st_mode & 0o777 == 0o600
    kept = path.read_bytes()
    again = run_sitegen("keygen", path)
    assert again.returncode == 1
    assert again.stderr == f"sitegen: error: {path}: already exists: refusing to overwrite a key " + (
        "(mirrors pinned its public key); move it away first\n"
    )
    assert path.read_bytes() == kept


def test_a_bad_key_file_is_one_line_naming_it(tmp_path: Path, content: Path) -> None:
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER])
    bad = tmp_path / "not-a.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    for key in (bad, tmp_path / "missing.key"):
        result = run_sitegen("build", "--content", content, "--out", tmp_path / "site", "-f", config, "--sign", key)
        assert result.returncode == 1
        assert result.stderr.startswith(f"sitegen: error: {key}: ") and result.stderr.count("\n") == 1, result.stderr
        assert not (tmp_path / "site").exists()


def test_an_unsigned_build_warns_once(tmp_path: Path, content: Path) -> None:
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER], site_url=SITE_URL)
    env = {k: v for k, v in os.environ.items() if k != "SITEGEN_SIGNING_KEY"}
    result = run_sitegen("build", "--content", content, "--out", tmp_path / "site", "-f", config, env=env)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "unsigned" in line] == [
        "sitegen: warning: videoswarm: no signing key (sitegen build --sign KEYFILE, or SITEGEN_SIGNING_KEY; "
        "make one with sitegen keygen), so site.json is unsigned and mirrors cannot copy the site"
    ]
    envelope = parse((tmp_path / "site" / PATH).read_bytes())
    assert envelope.signature is None and envelope.manifest.public_key is None
    assert "videoswarm-site-key" not in (tmp_path / "site/index.html").read_text()
    with pytest.raises(ManifestError, match="not signed"):
        verify((tmp_path / "site" / PATH).read_bytes())


def test_the_environment_variable_signs(tmp_path: Path, content: Path, keyfile: tuple[Path, str]) -> None:
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER])
    env = {**os.environ, "SITEGEN_SIGNING_KEY": str(keyfile[0])}
    result = run_sitegen("build", "--content", content, "--out", tmp_path / "site", "-f", config, env=env)
    assert result.returncode == 0 and "unsigned" not in result.stderr, result.stderr
    assert verify((tmp_path / "site" / PATH).read_bytes(), pinned_key=keyfile[1]).site_url is None


def test_pages_publish_the_key_and_the_site_mirrors(signed: Path, keyfile: tuple[Path, str]) -> None:
    key = keyfile[1]
    for page, here in (("index.html", ""), ("clip/index.html", "clip/"), ("clip/embed/index.html", "clip/embed/")):
        html = (signed / page).read_text()
        assert f'<meta name="videoswarm-site-key" content="{key}">' in html, page
        for base in ("https://mirror.example.net/videos/", "https://copy.example.com/"):
            assert f'<link rel="alternate" href="{base}{here}">' in html, page
    video = (signed / "clip/index.html").read_text()
    footer = video[video.index('<footer class="vs-footer">') :]
    assert (
        'Also at <a href="https://mirror.example.net/videos/clip/">mirror.example.net/videos</a>, '
        '<a href="https://copy.example.com/clip/">copy.example.com</a></p>'
    ) in footer
    assert '<a href="https://copy.example.com/">copy.example.com</a>' in (signed / "404.html").read_text()


def test_feeds_publish_the_key_and_the_site_mirrors(signed: Path, keyfile: tuple[Path, str]) -> None:
    rss = (signed / "feed.xml").read_text()
    assert 'xmlns:videoswarm="urn:videoswarm:site:1"' in rss
    assert f"<videoswarm:siteKey>{keyfile[1]}</videoswarm:siteKey>" in rss
    assert "<videoswarm:siteMirror>https://copy.example.com/</videoswarm:siteMirror>" in rss
    assert f"<videoswarm:manifest>{SITE_URL}site.json</videoswarm:manifest>" in rss
    extension = json.loads((signed / "feed.json").read_text())["_videoswarm"]
    assert extension == {
        "site_key": keyfile[1],
        "site_mirrors": ["https://mirror.example.net/videos/", "https://copy.example.com/"],
        "manifest_url": f"{SITE_URL}site.json",
    }


@pytest.mark.parametrize(
    "url", ["http://mirror.example.net/", "ftp://mirror.example.net/", "https:///x", "https://m.example/?a=1"]
)
def test_a_bad_site_mirror_is_one_line(tmp_path: Path, content: Path, url: str) -> None:
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER], site_mirrors=[url])
    result = run_sitegen("build", "--content", content, "--out", tmp_path / "site", "-f", config)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if "error" in line.lower()] == [
        f"sitegen: error: videoswarm: site_mirrors must be https:// URLs of copies of the site, not {url!r}"
    ], result.stderr


def test_a_loopback_mirror_may_be_http(tmp_path: Path, content: Path) -> None:
    """What a test or a demo serves with ``seed run``: a secure context too, as browsers count it."""
    config = write_config(tmp_path / "mkdocs.yml", [TRACKER], site_mirrors=["http://127.0.0.1:8002/site"])
    site = build_site(content, tmp_path / "site", config)
    assert parse((site / PATH).read_bytes()).manifest.site_mirrors == ("http://127.0.0.1:8002/site/",)
