"""``seed add`` makes videos stream: remuxed and transcoded copies that Chromium plays, posters,
captions, and one clear line for each kind of bad media input (issue 14), duplicate names
(issue 11, finding 7) and a file name that is not UTF-8 (issue 11, finding 8).

Real ffmpeg makes every input; the copies are served by ``seed run``'s web seed and
played by Chromium in a plain ``<video src>``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Playwright

from tests.support.browser import chromium
from tests.support.processes import free_port
from tests.support.seeder import SEED, SeedRun, add, make_clip, seed
from tests.support.site import wait_true
from tests.test_seed_cli import refuse, snapshot
from tests.test_seed_reliability import SmallDisk
from videoswarm_content.reader import load_entry

pytestmark = pytest.mark.timeout(180)
TRACKER = "ws://127.0.0.1:9/announce"  # nobody listens: these tests need no peer
JPEG = b"\xff\xd8\xff"


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_index_last(path: Path, seconds: int = 4) -> Path:
    """An H.264/AAC MP4 as phones and editors write it: ``moov`` after ``mdat`` (no +faststart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=320x180:rate=25:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=duration={seconds}",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        path,
    )
    return path


def make_hevc_mkv(path: Path, seconds: int = 4, size: str = "321x181") -> Path:
    """HEVC and Vorbis in Matroska, which Chromium does not play; odd dimensions on purpose."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate=25:duration={seconds},noise=alls=40:allf=t",
        "-f",
        "lavfi",
        "-i",
        f"sine=duration={seconds}",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=error",
        "-c:a",
        "libvorbis",
        "-shortest",
        path,
    )
    return path


def make_avi(path: Path, seconds: int, size: str) -> Path:
    """MPEG-4 part 2 in AVI, quick to make and not playable in browsers."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate=25:duration={seconds},noise=alls=40:allf=t",
        "-c:v",
        "mpeg4",
        "-q:v",
        "2",
        path,
    )
    return path


def boxes(path: Path) -> list[bytes]:
    """The MP4's top-level box types, in file order."""
    data, offset, found = path.read_bytes(), 0, []
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        found.append(data[offset + 4 : offset + 8])
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return found


def front_matter(entry: Path) -> dict:
    return yaml.safe_load(entry.read_text().split("---")[1])


def seeded_copy(state: Path, name: str) -> Path:
    """The file ``seed run`` serves under ``name``, from the state's records."""
    for record in (state / "torrents").glob("*.json"):
        path = Path(json.loads(record.read_text())["path"])
        if path.name == name:
            return path
    raise AssertionError(f"no record for {name}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int, dict[str, str]]]:
    """An index-last MP4 and an HEVC MKV added (the second with --transcode), served by ``seed run``'s web seed.

    Yields the state, the content folder, the web seed's port and each ``seed add``'s stderr.
    """
    root = tmp_path_factory.mktemp("served")
    state, content, port = root / "state", root / "content", free_port()
    late = make_index_last(root / "videos" / "late.mp4")
    hevc = make_hevc_mkv(root / "videos" / "phone.mkv")
    logs = {}
    for video, flags in ((late, []), (hevc, ["--transcode"])):
        done = seed("add", "-q", video, *flags, "--tracker", TRACKER, "--state", state, "--content", content)
        assert done.returncode == 0, done.stderr
        logs[video.name] = done.stderr
    seeder = SeedRun(state, "--webseed-port", str(port), log=root / "run.log")
    try:
        seeder.wait_for("seeding phone.mp4")
        seeder.wait_for("seeding late.mp4")
        yield state, content, port, logs
    finally:
        assert seeder.stop() == 0


def plays_in_chromium(playwright: Playwright, url: str) -> None:
    """A plain ``<video src>`` shows frames and its clock moves."""
    with chromium(playwright) as context:
        page = context.new_page()
        page.set_content(f'<video src="{url}" muted autoplay playsinline></video>')
        wait_true(page, "document.querySelector('video').currentTime > 1", 30_000)
        assert page.evaluate("document.querySelector('video').videoWidth") > 0
        assert page.evaluate("document.querySelector('video').error") is None


def test_an_mp4_with_its_index_at_the_end_is_remuxed_and_the_copy_is_seeded_and_plays(
    served: tuple[Path, Path, int, dict[str, str]],
    playwright: Playwright,
) -> None:
    state, content, port, logs = served
    original = state.parent / "videos" / "late.mp4"
    assert boxes(original).index(b"mdat") < boxes(original).index(b"moov")

    copy = seeded_copy(state, "late.mp4")
    assert copy.is_relative_to(state) and copy != original
    assert boxes(copy).index(b"moov") < boxes(copy).index(b"mdat")
    assert f"seed: remuxed {original} for streaming; seeding the copy {copy}" in logs["late.mp4"]
    entry = load_entry(content / "late.md")
    assert entry.magnet.name == "late.mp4"
    plays_in_chromium(playwright, f"http://127.0.0.1:{port}/late.mp4")


def test_transcode_turns_hevc_in_matroska_into_an_mp4_that_plays(
    served: tuple[Path, Path, int, dict[str, str]],
    playwright: Playwright,
) -> None:
    state, content, port, logs = served
    copy = seeded_copy(state, "phone.mp4")
    codecs = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", copy],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert codecs == ["h264", "aac"]
    assert "transcoded" in logs["phone.mkv"]
    assert load_entry(content / "phone.md").magnet.name == "phone.mp4"
    plays_in_chromium(playwright, f"http://127.0.0.1:{port}/phone.mp4")


def test_without_transcode_an_unplayable_video_is_added_with_a_warning_suggesting_it(tmp_path: Path) -> None:
    video = make_hevc_mkv(tmp_path / "raw.mkv", seconds=1)
    done = seed("add", "-q", video, "--tracker", TRACKER, "--state", tmp_path / "state", "--content", tmp_path / "c")
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if line.startswith("seed: warning:")]
    assert len(warning) == 1 and "video codec hevc" in warning[0] and "--transcode" in warning[0]
    assert not (tmp_path / "state" / "media").exists()


def test_the_poster_is_a_jpeg_beside_the_entry_and_a_named_poster_is_kept(
    served: tuple[Path, Path, int, dict[str, str]],
    tmp_path: Path,
) -> None:
    _, content, _, _ = served
    for slug in ("late", "phone"):
        assert front_matter(content / f"{slug}.md")["poster"] == f"{slug}.jpg"
        assert (content / f"{slug}.jpg").read_bytes()[:3] == JPEG
        assert load_entry(content / f"{slug}.md").poster == content / f"{slug}.jpg"

    # The publisher's own poster stays, also when the video is added again.
    video, mine = make_clip(tmp_path / "talk.mp4", seconds=1), tmp_path / "content" / "cover.png"
    add(video, "--tracker", TRACKER, "--state", tmp_path / "state", "--content", tmp_path / "content")
    entry = tmp_path / "content" / "talk.md"
    mine.write_bytes(b"\x89PNG\r\n\x1a\n")
    entry.write_text(entry.read_text().replace("poster: talk.jpg", "poster: cover.png"))
    add(video, "--tracker", TRACKER, "--state", tmp_path / "state", "--content", tmp_path / "content")
    assert front_matter(entry)["poster"] == "cover.png"


def test_vtt_and_srt_files_beside_the_video_become_listed_captions(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "videos" / "talk.mp4", seconds=2)
    (tmp_path / "videos" / "talk.en.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n")
    (tmp_path / "videos" / "talk.pt-BR.srt").write_text("1\n00:00:00,000 --> 00:00:01,500\nOlá <i>mundo</i>\n")
    (tmp_path / "videos" / "talk.vtt").write_text("WEBVTT\n\n00:00.500 --> 00:01.000\n[music]\n")
    (tmp_path / "videos" / "talk.final.vtt").write_text("not even looked at\n")
    content = tmp_path / "content"
    done = seed("add", "-q", video, "--tracker", TRACKER, "--state", tmp_path / "state", "--content", content)
    assert done.returncode == 0, done.stderr
    assert "talk.final.vtt: 'final' is not a language tag" in done.stderr

    assert front_matter(content / "talk.md")["captions"] == [
        {"src": "talk.vtt", "label": "Captions"},
        {"src": "talk.en.vtt", "lang": "en", "label": "English"},
        {"src": "talk.pt-BR.vtt", "lang": "pt-BR", "label": "Portuguese (Brazil)"},
    ]
    tracks = load_entry(content / "talk.md").captions
    assert [(t.path.name, t.lang, t.label) for t in tracks] == [
        ("talk.vtt", None, "Captions"),
        ("talk.en.vtt", "en", "English"),
        ("talk.pt-BR.vtt", "pt-BR", "Portuguese (Brazil)"),
    ]
    converted = (content / "talk.pt-BR.vtt").read_text()
    assert converted.startswith("WEBVTT") and "00:00:00.000 --> 00:00:01.500" in converted and "Olá" in converted
    assert (content / "talk.en.vtt").read_bytes() == (tmp_path / "videos" / "talk.en.vtt").read_bytes()


# --- Bad input: one line naming the file and the problem, nothing half-written ---


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state directory that already holds one torrent, with its content folder beside it."""
    add(
        make_clip(tmp_path / "first.mp4", seconds=1),
        "--tracker",
        TRACKER,
        "--state",
        tmp_path / "state",
        "--content",
        tmp_path / "content",
    )
    return tmp_path / "state"


def unchanged_content(state: Path, *args: str | Path, exit_code: int, message: str) -> None:
    """``refuse``, and the content folder is left as it was too."""
    content = state.parent / "content"
    before = snapshot(content)
    refuse("add", *args, "--tracker", TRACKER, "--content", content, state=state, exit_code=exit_code, message=message)
    assert snapshot(content) == before


def test_a_corrupt_video_is_refused(state: Path, tmp_path: Path) -> None:
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(200_000))
    unchanged_content(state, noise, exit_code=2, message=f"{noise}: not a readable video")

    cut = make_index_last(tmp_path / "cut.mp4")
    with cut.open("r+b") as stream:
        stream.truncate(cut.stat().st_size // 2)  # the index at the end is gone
    unchanged_content(state, cut, exit_code=2, message=f"{cut}: not a readable video (")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("clip.vtt", "WEBVTT\n\n00:00.000 -> nonsense\nHello\n", "not a valid WebVTT caption file"),
        ("clip.en.vtt", "Hello, no header\n", "not a valid WebVTT caption file"),
        ("clip.de.srt", "1\n00:00:00,000 --> oops\nHallo\n", "not a valid SubRip (.srt) caption file"),
        ("clip.fr.vtt", "WEBVTT\n\n", "not a valid WebVTT caption file (no cues in it)"),
        (
            "clip.es.vtt",
            "WEBVTT\n\n00:00.000 --> 00:01.000\nHola\n\n00:02.000 --> later\nmal\n",
            "not a valid WebVTT caption file (Invalid cue block",
        ),
    ],
)
def test_an_invalid_caption_file_is_refused(state: Path, tmp_path: Path, name: str, text: str, problem: str) -> None:
    video = make_clip(tmp_path / "v" / "clip.mp4", seconds=1)
    (tmp_path / "v" / name).write_text(text)
    unchanged_content(state, video, exit_code=2, message=f"{tmp_path / 'v' / name}: {problem}")


def test_an_ffmpeg_failure_names_the_file_and_leaves_no_partial_copy(tmp_path: Path) -> None:
    disk = SmallDisk(tmp_path / "disk")  # 1 MiB: the transcoded copy does not fit
    try:
        state = disk.inside / "state"
        first = disk.run(
            SEED,
            "add",
            "-q",
            make_clip(tmp_path / "small.mp4", seconds=1),
            "--tracker",
            TRACKER,
            "--state",
            state,
            "--content",
            tmp_path / "content",
        )
        assert first.returncode == 0, first.stderr
        before, content_before = snapshot(disk.outside / "state"), snapshot(tmp_path / "content")
        big = make_avi(tmp_path / "big.avi", seconds=4, size="640x360")

        done = disk.run(
            SEED,
            "add",
            "-q",
            "--transcode",
            big,
            "--tracker",
            TRACKER,
            "--state",
            state,
            "--content",
            tmp_path / "content",
        )

        assert done.returncode == 1
        errors = [line for line in done.stderr.splitlines() if line.startswith("seed: error:")]
        assert len(errors) == 1 and f"{big}: transcoding it failed: ffmpeg:" in errors[0], done.stderr
        assert "Traceback" not in done.stderr
        assert snapshot(disk.outside / "state") == before
        assert snapshot(tmp_path / "content") == content_before
    finally:
        disk.close()


def test_a_poster_that_cannot_be_made_is_one_warning_and_no_poster(tmp_path: Path) -> None:
    video, content = make_clip(tmp_path / "clip.mp4", seconds=1), tmp_path / "content"
    (content / "clip.jpg").mkdir(parents=True)  # in the poster's way
    done = seed("add", "-q", video, "--tracker", TRACKER, "--state", tmp_path / "state", "--content", content)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("seed: warning:")]
    assert len(warnings) == 1 and "cannot write the poster" in warnings[0] and "clip.jpg" in warnings[0]
    assert "poster" not in front_matter(content / "clip.md")
    assert sorted(p.name for p in content.iterdir()) == ["clip.jpg", "clip.md", "clip.torrent"]
    assert not list((content / "clip.jpg").iterdir())


# --- Names (issue 11) ---


def test_two_files_with_one_name_are_refused_as_they_would_share_a_web_seed_url(state: Path, tmp_path: Path) -> None:
    one = make_clip(tmp_path / "a" / "talk.mp4", seconds=1)
    other = make_clip(tmp_path / "b" / "talk.mp4", seconds=2)
    add(one, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content")
    message = f"{other}: another seeded file is named 'talk.mp4' ({one.absolute()})"
    unchanged_content(state, other, exit_code=2, message=message)
    # Also two new files with one name in one command.
    third = make_clip(tmp_path / "c" / "clip.mp4", seconds=1)
    fourth = make_clip(tmp_path / "d" / "clip.mp4", seconds=1)
    unchanged_content(state, third, fourth, exit_code=2, message="another seeded file is named 'clip.mp4'")
    # Adding the same file again is still fine.
    add(one, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content")


def test_a_file_name_that_is_not_utf8_is_one_clear_error(state: Path, tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.mp4"
    with open(name, "wb") as out:
        out.write(make_clip(tmp_path / "plain.mp4", seconds=1).read_bytes())
    before = snapshot(state)
    done = subprocess.run(
        [SEED, "add", "-q", name, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content"],
        capture_output=True,
        timeout=60,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("seed: error:")]
    assert len(errors) == 1 and "caf\\xe9.mp4: the file name is not UTF-8" in errors[0], stderr
    assert "Traceback" not in stderr
    assert snapshot(state) == before
