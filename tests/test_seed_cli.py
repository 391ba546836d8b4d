"""``seed add`` and ``seed status`` as an operator runs them: what they write, and how
each kind of bad input is refused with one line, a non-zero exit and the state unchanged."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from seed import settings
from seed.cli import _parser
from tests.support.seeder import add, make_clip, seed
from videoswarm_content.reader import load_entry

NOBODY = 65534
TRACKERS = ["wss://tracker.example.org/announce", "https://tracker.example.org/announce"]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("videos") / "Big Buck Bünny (2008).mp4", seconds=2)


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every path under ``directory`` with its bytes (None for a directory)."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): None if p.is_dir() else p.read_bytes() for p in directory.rglob("*")}


def refuse(*args: str | Path, state: Path, exit_code: int, message: str, user: int | None = None) -> None:
    """The command fails with one error line containing ``message`` and leaves ``state`` as it was."""
    before = snapshot(state)
    done = seed(*args, "--state", state, user=user)
    assert done.returncode == exit_code, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("seed: error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(state) == before


def test_add_writes_the_entry_the_site_generator_reads(video: Path, tmp_path: Path) -> None:
    content, state = tmp_path / "content", tmp_path / "state"
    magnet = add(
        video,
        *[a for url in TRACKERS for a in ("--tracker", url)],
        "--webseed",
        "https://cdn.example.org/v/",
        "--state",
        state,
        "--content",
        content,
    )

    entry = load_entry(content / "big-buck-bunny-2008.md")
    assert entry.magnet.uri == magnet
    assert entry.title == "Big Buck Bünny (2008)"
    assert entry.magnet.name == video.name
    assert list(entry.magnet.trackers) == TRACKERS
    assert [unquote(url) for url in entry.magnet.web_seeds] == [f"https://cdn.example.org/v/{video.name}"]
    assert entry.torrent == content / "big-buck-bunny-2008.torrent"
    assert entry.duration == 2
    assert (state / "torrents" / f"{entry.magnet.info_hash}.torrent").read_bytes() == entry.torrent.read_bytes()
    assert "torrent: big-buck-bunny-2008.torrent" in (content / "big-buck-bunny-2008.md").read_text()


def test_adding_twice_is_harmless_and_keeps_the_publishers_text(video: Path, tmp_path: Path) -> None:
    content, state = tmp_path / "content", tmp_path / "state"
    first = add(video, "--tracker", TRACKERS[0], "--state", state, "--content", content)
    entry = content / "big-buck-bunny-2008.md"
    entry.write_text(entry.read_text().replace("Describe this video here", "A rabbit"))

    second = add(video, "--tracker", TRACKERS[0], "--state", state, "--content", content)

    assert second == first
    assert "A rabbit" in entry.read_text()
    assert sorted(p.name for p in content.iterdir()) == [
        "big-buck-bunny-2008.jpg",
        "big-buck-bunny-2008.md",
        "big-buck-bunny-2008.torrent",
    ]
    assert len(list((state / "torrents").glob("*.json"))) == 1


def test_a_file_that_is_not_a_browser_video_is_added_with_a_warning(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n" * 100)
    done = seed(
        "add", "-q", notes, "--tracker", TRACKERS[0], "--state", tmp_path / "state", "--content", tmp_path / "content"
    )
    assert done.returncode == 0, done.stderr
    assert "seed: warning:" in done.stderr and "not a browser-playable video" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("magnet:?xt=urn:btih:")


@pytest.fixture
def state(tmp_path: Path, video: Path) -> Path:
    """A state directory that already holds one torrent."""
    add(video, "--tracker", TRACKERS[0], "--state", tmp_path / "state", "--content", tmp_path / "content")
    return tmp_path / "state"


def test_missing_file(state: Path, tmp_path: Path) -> None:
    refuse("add", tmp_path / "nope.mp4", "--tracker", TRACKERS[0], state=state, exit_code=2, message="no such file")


def test_directory(state: Path, tmp_path: Path) -> None:
    refuse("add", tmp_path, "--tracker", TRACKERS[0], state=state, exit_code=2, message="is a directory")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can reach (pytest's tmp_path is private to root)."""
    with tempfile.TemporaryDirectory(prefix="videoswarm-seed-") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


def test_unreadable_file(shared_dir: Path, video: Path) -> None:
    assert os.geteuid() == 0, "runs seed as another user to make a file unreadable"
    secret = shared_dir / "secret.mp4"
    secret.write_bytes(video.read_bytes())
    secret.chmod(0)
    state = shared_dir / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    refuse(
        "add",
        secret,
        "--tracker",
        TRACKERS[0],
        "--content",
        shared_dir,
        state=state,
        exit_code=2,
        message="cannot read it: Permission denied",
        user=NOBODY,
    )


@pytest.mark.parametrize("url", ["udp://tracker.example.org:1337", "tracker.example.org/announce", "ws://"])
def test_tracker_url_must_be_ws_or_http(state: Path, video: Path, url: str) -> None:
    refuse("add", video, "--tracker", url, state=state, exit_code=2, message=f"tracker {url!r} is not a ws://")


def test_web_seed_url_must_be_http(state: Path, video: Path) -> None:
    refuse(
        "add",
        video,
        "--tracker",
        TRACKERS[0],
        "--webseed",
        "ftp://example.org/",
        state=state,
        exit_code=2,
        message="web seed 'ftp://example.org/' is not a http:// or https:// URL",
    )


def test_state_dir_not_writable(shared_dir: Path, video: Path) -> None:
    state = shared_dir / "state"
    state.mkdir()
    refuse("add", video, "--tracker", TRACKERS[0], state=state, exit_code=1, message="is not writable", user=NOBODY)


def test_state_dir_below_a_file(tmp_path: Path, video: Path) -> None:
    (tmp_path / "file").write_text("x")
    refuse(
        "add",
        video,
        "--tracker",
        TRACKERS[0],
        state=tmp_path / "file" / "state",
        exit_code=1,
        message="is not a directory",
    )


@pytest.mark.parametrize("damage", ["marker", "record", "torrent", "foreign"])
def test_corrupt_state_dir(state: Path, video: Path, damage: str) -> None:
    record = next((state / "torrents").glob("*.json"))
    if damage == "marker":
        (state / "seed-state.json").write_text("{not json")
    elif damage == "record":
        record.write_text(json.dumps({"path": 5}))
    elif damage == "torrent":
        record.with_suffix(".torrent").write_bytes(b"d4:infoe")
    else:
        (state / "seed-state.json").unlink()
    message = "is not empty and has no seed-state.json" if damage == "foreign" else "is corrupt"
    for command in (["add", video, "--tracker", TRACKERS[0]], ["run"], ["status"]):
        refuse(*command, state=state, exit_code=1, message=message)


def test_status_without_a_running_seeder(state: Path) -> None:
    refuse("status", state=state, exit_code=1, message="no seeder is running")


def test_bad_run_flags_are_usage_errors(state: Path) -> None:
    done = seed("run", "--state", state, "--listen", "6881")
    assert done.returncode == 2 and "'6881' is not ADDR:PORT" in done.stderr
    done = seed("run", "--state", state, env={"SEED_WEBSEED_PORT": "http"})
    assert done.returncode == 2 and "'http' is not a port number" in done.stderr


#: A value for each seeder variable, none of them its default.
ENV_VALUES = {
    "SEED_STATE": "/srv/seed",
    "SEED_CONTENT": "/srv/content",
    "SEED_LISTEN": "127.0.0.1:7000",
    "SEED_STUN_SERVER": "stun.example.org:3478",
    "SEED_WEBSEED_PORT": "8080",
    "SEED_WEBSEED_HOST": "0.0.0.0",
    "SEED_STATUS_INTERVAL": "5",
    "SEED_FOLLOW_INTERVAL": "120",
    "SEED_MIRROR_GRACE": "3600",
    "SEED_METADATA_TIMEOUT": "15",
}


@pytest.mark.parametrize("setting", [setting for setting in settings.SETTINGS if setting.env], ids=lambda s: s.env)
def test_each_variable_sets_its_option(setting: settings.Setting) -> None:
    assert {s.env for s in settings.SETTINGS if s.env} == set(ENV_VALUES)
    assert setting.env and setting.parse
    value = ENV_VALUES[setting.env]
    for command in setting.commands:
        required = {"add": ["x.mp4", "--tracker", "ws://t"], "unfollow": ["x"]}.get(command, [])
        default = getattr(_parser({}).parse_args([command, *required]), setting.dest)
        assert getattr(_parser({setting.env: value}).parse_args([command, *required]), setting.dest) == (
            setting.parse(value)
        )
        assert default != setting.parse(value)


def test_help_explains_each_command() -> None:
    for command, words in [("add", "--webseed"), ("run", "--stun-server"), ("status", "--json")]:
        done = seed(command, "--help")
        assert done.returncode == 0 and words in done.stdout and "SEED_STATE" in done.stdout


def test_state_and_entries_are_readable_by_a_web_server(state: Path) -> None:
    for path in (*state.rglob("*.torrent"), *state.parent.joinpath("content").iterdir()):
        assert path.stat().st_mode & stat.S_IROTH, path
