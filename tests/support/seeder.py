"""The seeder's CLI as an operator runs it: ``seed add``, ``seed run`` and ``seed status``
as real subprocesses, plus small test videos and the Node webtorrent peer.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .processes import ROOT
from .site import make_video

SEED = str(Path(sys.executable).parent / "seed")
NODE_PEER = ROOT / "tests/support/node_peer.mjs"


def make_clip(path: Path, seconds: int = 8) -> Path:
    """A browser-playable 640x360 MP4 of noise, about 0.4 MB a second."""
    return make_video(path, seconds, size="640x360", noisy=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seed(
    *args: str | Path, user: int | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one ``seed`` command to completion (as uid ``user``, if given)."""
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user is not None else []
    return subprocess.run(
        [*prefix, SEED, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def add(*args: str | Path) -> str:
    """``seed add`` that must succeed; returns the magnet URI (the last line of stdout)."""
    done = seed("add", "--quiet", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def node_download(torrent: str | Path, announce: Sequence[str], workdir: Path, timeout: float = 60) -> str:
    """Download with a Node webtorrent peer; returns the SHA-256 of the file it got."""
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["node", str(NODE_PEER), str(torrent), str(int(timeout * 1000)), *announce],
        capture_output=True,
        text=True,
        timeout=timeout + 15,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(workdir)},
    )
    assert done.returncode == 0, f"node peer failed: {done.stdout}{done.stderr}"
    return done.stdout.split()[-1]


class SeedRun:
    """A ``seed run`` child process whose output goes to a log file the test can read."""

    def __init__(self, state: Path, *args: str, log: Path, prefix: Sequence[str] = ()) -> None:
        """``prefix`` runs it through another command, e.g. ``nsenter`` into a mount namespace."""
        self.state = state
        self.log_path = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    *prefix,
                    SEED,
                    "run",
                    "--state",
                    str(state),
                    "--listen",
                    "127.0.0.1:0",
                    "--stun-server",
                    "",
                    "--status-interval",
                    "1",
                    *args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        """Until ``text`` appears in the log; fail with the log if it does not."""
        deadline = time.monotonic() + timeout
        while text not in self.log:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"seed run never logged {text!r} (exit {self.proc.poll()}):\n{self.log}")
            time.sleep(0.1)

    def status(self) -> dict:
        """What ``seed status --json`` says about each torrent, by file name."""
        done = seed("status", "--json", "--state", self.state)
        assert done.returncode == 0, done.stderr
        return {t["name"]: t for t in json.loads(done.stdout)["torrents"]}

    def status_once(self, name: str, ready: Callable[[dict], bool], timeout: float = 15) -> dict:
        """The torrent's status once ``ready`` holds (status.json is rewritten every second), or the last one."""
        deadline = time.monotonic() + timeout
        status = self.status()[name]
        while not ready(status) and time.monotonic() < deadline:
            time.sleep(0.25)
            status = self.status()[name]
        return status

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as systemd and PaaS platforms stop it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"seed run ignored SIGTERM for {timeout} s:\n{self.log}") from None
        return self.proc.returncode
