"""Redis outages of any length: the relay comes back by itself, and ``/health`` tells the truth meanwhile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Server, free_port, start_redis, start_tracker
from tests.test_reliability import signal_across, until_signalling_works


@pytest.fixture
def redis_port(tmp_path: Path) -> tuple[Path, int]:
    """Where a Redis that the test stops and starts again keeps its files, and its port."""
    return tmp_path, free_port()


def health(replica: Server) -> int:
    return httpx.get(f"{replica.http_url}/health", timeout=5).status_code


async def recovery_after(outage: float, workdir: Path, port: int) -> float:
    """Seconds from Redis answering again to an offer crossing replicas, after ``outage`` seconds down."""
    redis = start_redis(workdir, port)
    url = f"redis://127.0.0.1:{port}/0"
    replicas = [start_tracker(redis_url=url), start_tracker(redis_url=url)]
    try:
        await signal_across(replicas[0].ws_url, replicas[1].ws_url)
        redis.stop()
        down = time.monotonic()
        statuses = set()
        while time.monotonic() - down < outage:
            statuses.update(health(r) for r in replicas)
            await asyncio.sleep(0.2)
        assert statuses == {503}, f"/health answered {statuses} while Redis was down"
        redis = start_redis(workdir, port)
        back = time.monotonic()
        while {health(r) for r in replicas} != {200}:
            assert time.monotonic() - back < 20, f"/health still 503 20 s after a {outage} s outage"
            await asyncio.sleep(0.05)
        healthy = time.monotonic() - back
        await until_signalling_works(replicas[0].ws_url, replicas[1].ws_url, back, within=20, timeout=0.5)
        recovered = time.monotonic() - back
        assert all(health(r) == 200 for r in replicas)
        assert all(r.proc.poll() is None for r in replicas), "replicas stayed up"
        print(
            f"outage {outage:.0f} s: /health 200 again {healthy:.2f} s and offers cross replicas again "
            f"{recovered:.2f} s after Redis came back"
        )
        return recovered
    finally:
        for replica in replicas:
            replica.stop()
        redis.stop()


@pytest.mark.parametrize("outage", [2, 10, 30])
async def test_signalling_recovers_after_an_outage_of_any_length(outage: float, redis_port: tuple[Path, int]) -> None:
    await recovery_after(outage, *redis_port)
