"""The deployment files start what they promise, the way a PaaS runs them."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT, free_port


def procfile() -> dict[str, str]:
    lines = Path(ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_procfile_web_runs_a_replica_on_port_on_all_interfaces() -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(["sh", "-c", procfile()["web"]], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        health = None
        deadline = time.monotonic() + 20
        while health is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, f"no replica answered on port {port}"
        assert health.json()["status"] == "ok"
        listening = subprocess.run(["ss", "-ltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert f"0.0.0.0:{port}" in listening
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()


def test_procfile_worker_seeds_on_seed_port_on_all_interfaces(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SEED_PORT": str(port),
        "SEED_STATE": str(tmp_path / "state"),
        "SEED_STUN_SERVER": "",
        "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        ["sh", "-c", f"exec {procfile()['worker']}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        assert f"BitTorrent port {port}" in first
        # libtorrent turns 0.0.0.0 into one socket per interface (here only loopback).
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert listening.startswith("LISTEN")
    finally:
        proc.terminate()
        assert proc.wait(15) == 0
        proc.stdout.close()
