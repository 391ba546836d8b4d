"""Fast in-process checks of the small parts behind proxy addresses, rate limits and supervision."""

from __future__ import annotations

import asyncio

import pytest

from tracker_app.endpoints.addresses import forwarded_ip
from tracker_app.peers import Claim
from tracker_app.ratelimit import AddressRate
from tracker_app.supervisor import supervise


@pytest.mark.parametrize(
    ("header", "hops", "expected"),
    [
        ("203.0.113.5", 1, "203.0.113.5"),
        ("6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),
        ("6.6.6.6, 203.0.113.5, 10.0.0.2", 2, "203.0.113.5"),
        ("203.0.113.5", 3, "203.0.113.5"),
        ("203.0.113.5:4711", 1, "203.0.113.5"),
        ("[2001:db8::7]:443", 1, "2001:db8::7"),
        ("2001:db8::7", 1, "2001:db8::7"),
        ("", 1, "127.0.0.1"),
        ("not-an-ip", 1, "127.0.0.1"),
        ("203.0.113.5, ", 1, "127.0.0.1"),
    ],
)
def test_forwarded_ip(header: str, hops: int, expected: str) -> None:
    assert forwarded_ip(header, "127.0.0.1", hops) == expected


async def test_address_rate_counts_per_window_and_ipv6_per_64() -> None:
    rate = AddressRate(limit=2, window=0.3)
    assert [rate.allow("192.0.2.1") for _ in range(3)] == [True, True, False]
    assert rate.allow("192.0.2.2"), "another address has its own allowance"
    assert [rate.allow(f"2001:db8::{i}") for i in range(1, 4)] == [True, True, False], "one /64"
    await asyncio.sleep(0.35)
    assert rate.allow("192.0.2.1"), "a new window"


def test_address_rate_table_stays_bounded() -> None:
    rate = AddressRate(limit=5, window=60, max_addresses=100)
    for i in range(1000):
        rate.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(rate) <= 100


def test_claims_go_to_the_first_user_or_the_same_key() -> None:
    held = Claim(1000, "k")
    assert Claim(999).beats(held) and not Claim(1001).beats(held)
    assert Claim(5000, "k").beats(held) and not Claim(5000, "other").beats(held)
    assert not Claim(1).beats(None), "a holder without a claim (an old entry) keeps its peer_id"
    assert Claim.decode(held.encode()) == held and Claim.decode(b"garbage") is None


async def test_a_supervised_task_restarts_after_any_exception() -> None:
    runs = 0
    done = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("pubsub connection not set")
        if runs == 2:
            raise OSError("connection refused")
        done.set()
        await asyncio.sleep(3600)

    task = supervise("flaky", flaky)
    await asyncio.wait_for(done.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert runs == 3 and task.cancelled()
