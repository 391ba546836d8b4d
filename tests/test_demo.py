"""``scripts/demo``, the README's first command: it serves a site whose video plays, and Ctrl-C stops it all.

Runs the real script in the loopback-only namespace (scripts/test), with its own
ports and folder, so it needs no network: scripts/install inside is a quick check.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.support.browser import chromium
from tests.support.processes import ROOT
from tests.support.site import wait_playing

START_TIMEOUT = 240  # a first run makes the video and hashes it; scripts/install only checks
STOP_TIMEOUT = 30  # the demo kills what has not stopped 10 s after SIGTERM


class Demo:
    """``scripts/demo`` in its own session, so every process it starts can be found by session id."""

    def __init__(self, folder: Path, port: int, sigint_ignored: bool = False) -> None:
        env = {**os.environ, "DEMO_DIR": str(folder), "PORT": str(port)}
        # A background job of a script (how a CI runner may start the suite) inherits SIGINT ignored.
        command = ["env", "--ignore-signal=INT"] if sigint_ignored else []
        self.proc = subprocess.Popen(
            [*command, str(ROOT / "scripts/demo")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_url(self) -> str:
        while True:
            try:
                line = self.lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"scripts/demo printed no URL:\n{''.join(self.output)}")
            if match := re.match(r"Open (http://127\.0\.0\.1:\d+/)", line):
                return match[1]

    def stopped(self) -> int:
        """The demo's exit code, once it has ended after a SIGINT; its output if it does not end."""
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"scripts/demo had not exited {STOP_TIMEOUT} s after SIGINT; its processes "
                f"{self.processes()} and output:\n{''.join(self.output)}",
                pytrace=False,
            )

    def processes(self) -> dict[int, str]:
        """Every live process of the demo's session: pid -> command line."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session ...
            if int(fields[3]) == self.proc.pid and fields[0] != "Z":
                found[int(entry.name)] = command
        return found

    def kill(self) -> None:
        """Leave nothing behind, even when the demo failed to stop its parts."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(tmp_path / "demo", free_ports(3))
    yield running
    running.kill()


@pytest.fixture
def demo_without_sigint(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(tmp_path / "demo", free_ports(3), sigint_ignored=True)
    yield running
    running.kill()


def test_demo_plays_the_example_video_and_ctrl_c_stops_everything(demo: Demo, playwright: Playwright) -> None:
    url = demo.wait_for_url()
    parts = demo.processes()
    for part in ("bin/tracker", "bin/seed run", "http.server"):
        assert any(part in command for command in parts.values()), f"no {part!r} among {parts}"

    with chromium(playwright) as context:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("link", name="Test pattern").first.click()
        wait_playing(page)
        # The magnet names no web seed, so every byte came from the demo's seeder over WebRTC.
        assert page.evaluate("window.videoswarm.player.torrent.urlList.length") == 0
        assert page.evaluate("window.videoswarm.player.torrent.received") > 0

    os.killpg(demo.proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground group
    assert demo.stopped() == 0, "".join(demo.output)
    assert demo.processes() == {}
    assert "stopped" in "".join(demo.output)


def test_sigint_stops_a_demo_started_with_sigint_ignored(demo_without_sigint: Demo) -> None:
    """A shell cannot trap a signal ignored on entry: the CI run where the demo ran on after SIGINT."""
    demo_without_sigint.wait_for_url()
    demo_without_sigint.proc.send_signal(signal.SIGINT)  # `kill -INT` of the script alone
    assert demo_without_sigint.stopped() == 0, "".join(demo_without_sigint.output)
    assert demo_without_sigint.processes() == {}
    assert "saved resume data for 1 of 1 torrents" in "".join(demo_without_sigint.output)
