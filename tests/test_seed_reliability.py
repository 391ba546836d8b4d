"""The seeder under faults: a source file changed or truncated after ``seed add``, and a
state directory on a disk that is full (a real 1 MiB tmpfs in a private mount namespace)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import libtorrent as lt
import pytest

from tests.support.processes import free_port
from tests.support.seeder import SEED, SeedRun, add, make_clip

pytestmark = pytest.mark.timeout(120)
TRACKER = "ws://127.0.0.1:9/announce"  # nobody listens: these tests need no peer


@pytest.fixture
def videos(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tuple(make_clip(tmp_path / "videos" / f"{name}.mp4", seconds=1) for name in ("intact", "edited", "cut"))


def test_changed_and_truncated_files_are_reported_and_not_served(
    videos: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    intact, edited, cut = videos
    state, port = tmp_path / "state", free_port()
    for video in videos:
        add(video, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content")
    data = bytearray(edited.read_bytes())
    data[len(data) // 2] ^= 0xFF
    edited.write_bytes(data)  # same size, other bytes
    with cut.open("r+b") as stream:
        stream.truncate(cut.stat().st_size // 2)

    seeder = SeedRun(state, "--webseed-port", str(port), log=tmp_path / "run.log")
    try:
        seeder.wait_for("status ")
        status = seeder.status()
        assert status["intact.mp4"]["state"] == "seeding"
        assert status["edited.mp4"]["state"] == "not seeding"
        assert "was modified after `seed add`" in status["edited.mp4"]["problem"]
        assert status["cut.mp4"]["state"] == "not seeding"
        assert "changed size since `seed add`" in status["cut.mp4"]["problem"]
        assert httpx.get(f"http://127.0.0.1:{port}/intact.mp4").content == intact.read_bytes()
        assert httpx.get(f"http://127.0.0.1:{port}/edited.mp4").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/cut.mp4").status_code == 404

        # Changed while running: dropped at the next rescan.
        with intact.open("ab") as stream:
            stream.write(b"appended")
        seeder.wait_for("stopped seeding intact.mp4")
        assert httpx.get(f"http://127.0.0.1:{port}/intact.mp4").status_code == 404

        # Adding the new version replaces the old record, and the running seeder serves it.
        magnet = add(cut, "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content")
        seeder.wait_for(f"status cut.mp4 {magnet.split('btih:')[1][:8]}: seeding")
        assert httpx.get(f"http://127.0.0.1:{port}/cut.mp4").content == cut.read_bytes()
        assert len(list((state / "torrents").glob("*.json"))) == 3
    finally:
        assert seeder.stop() == 0


class SmallDisk:
    """A 1 MiB tmpfs mounted at ``inside`` in a mount namespace of its own, so nothing on
    the machine is touched. Commands run in that namespace; the test reads the files
    through ``/proc/<pid>/root``."""

    def __init__(self, inside: Path) -> None:
        inside.mkdir(parents=True)
        self.inside = inside
        self._holder = subprocess.Popen(
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                f"mount -t tmpfs -o size=1m tmpfs '{inside}' && echo ready && exec sleep 600",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._holder.stdout.readline().strip() == "ready"
        self.outside = Path(f"/proc/{self._holder.pid}/root") / inside.relative_to("/")

    @property
    def prefix(self) -> list[str]:
        """Runs a command in the namespace that has the tmpfs."""
        return ["nsenter", "-t", str(self._holder.pid), "-m", "--"]

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *map(str, args)], capture_output=True, text=True, timeout=60)

    def fill(self) -> None:
        done = self.run("dd", "if=/dev/zero", f"of={self.inside / 'filler'}", "bs=4k")
        assert "No space left on device" in done.stderr

    def close(self) -> None:
        self._holder.kill()
        self._holder.wait()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.close()


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_full_disk_is_a_clear_error_and_leaves_the_state_whole(
    small_disk: SmallDisk, videos: tuple, tmp_path: Path
) -> None:
    state = small_disk.inside / "state"
    first = small_disk.run(
        SEED, "add", "-q", videos[0], "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content"
    )
    assert first.returncode == 0, first.stderr
    small_disk.fill()
    before = files(small_disk.outside / "state")

    done = small_disk.run(
        SEED, "add", "-q", videos[1], "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content"
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("seed: error: ")
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert files(small_disk.outside / "state") == before


def test_resume_data_is_replaced_atomically_or_not_at_all(small_disk: SmallDisk, videos: tuple, tmp_path: Path) -> None:
    state = small_disk.inside / "state"
    magnet = small_disk.run(
        SEED, "add", "-q", videos[0], "--tracker", TRACKER, "--state", state, "--content", tmp_path / "content"
    ).stdout.split()[-1]
    resume = small_disk.outside / "state" / "resume" / f"{magnet.split('btih:')[1][:40]}.resume"

    seeder = SeedRun(state, log=tmp_path / "first.log", prefix=small_disk.prefix)
    seeder.wait_for("ready to serve")
    assert seeder.stop() == 0, seeder.log
    saved = resume.read_bytes()
    small_disk.fill()

    seeder = SeedRun(state, log=tmp_path / "second.log", prefix=small_disk.prefix)
    seeder.wait_for("ready to serve")
    assert seeder.stop() == 1
    assert "cannot write resume data for intact.mp4: No space left on device" in seeder.log
    assert resume.read_bytes() == saved
    assert lt.read_resume_data(saved).info_hashes.v1 == lt.sha1_hash(bytes.fromhex(magnet.split("btih:")[1][:40]))
    assert not [p for p in resume.parent.iterdir() if p.name.endswith(".tmp")]


def test_stops_quickly_when_a_websocket_tracker_never_answers(videos: tuple, tmp_path: Path) -> None:
    """A tracker that accepts the connection and then says nothing: libtorrent's own
    shutdown would wait for it forever (it hung for minutes on Ctrl-C)."""
    with socket.create_server(("127.0.0.1", 0)) as mute:
        tracker = f"ws://127.0.0.1:{mute.getsockname()[1]}/announce"
        add(videos[0], "--tracker", tracker, "--state", tmp_path / "state", "--content", tmp_path / "content")
        seeder = SeedRun(tmp_path / "state", log=tmp_path / "run.log")
        seeder.wait_for("ready to serve")
        accepted, _ = mute.accept()  # the seeder's announce: read by nobody, answered never
        with accepted:
            stopping = time.monotonic()
            assert seeder.stop(timeout=8) == 0
            took = time.monotonic() - stopping
    assert "stopped" in seeder.log.splitlines()[-1], seeder.log
    print(f"seed run stopped {took:.2f} s after SIGTERM")
