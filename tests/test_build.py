"""The mypyc build (setup.py, built by scripts/install into .venv/compiled) runs the tracker's tests, and says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.processes import start_tracker

ROOT = Path(__file__).resolve().parents[1]
COMPILED_TREE = ROOT / ".venv/compiled"
#: A process started with these imports the compiled tree, not the checkout (-P: no cwd on sys.path).
COMPILED_ENV = {"PYTHONPATH": str(COMPILED_TREE), "PYTHONSAFEPATH": "1"}


def test_health_names_the_build_that_runs() -> None:
    assert list(COMPILED_TREE.glob("tracker_app/tracker.*.so")), "no compiled build: run scripts/install with cc"
    for env, build in (({}, "pure"), (COMPILED_ENV, "compiled")):
        server = start_tracker(**env)
        try:
            assert httpx.get(f"{server.http_url}/health").json()["build"] == build
        finally:
            server.stop()


def test_the_protocol_and_transport_tests_pass_against_the_compiled_build() -> None:
    env = {**os.environ, **COMPILED_ENV}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_protocol.py",
            "tests/test_transport.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout
