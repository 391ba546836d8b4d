"""Viewers behind NATs: the ICE servers a build gives its players, and the tracker's
time-limited TURN credentials (docs/networks.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.site import build_site, run_sitegen, write_config
from tracker_app import Settings, create_app

SECRET = "test-turn-secret"
STUN = {"urls": "stun:198.51.100.1:3478"}


# --- ice_servers in the build ---


def built_settings(tmp_path: Path, ice_servers: list[dict[str, object]] | None) -> dict[str, object]:
    (tmp_path / "content").mkdir(exist_ok=True)
    site = build_site(
        tmp_path / "content", tmp_path / "site", write_config(tmp_path / "mkdocs.yml", ice_servers=ice_servers)
    )
    html = (site / "share/index.html").read_text()
    start = html.index('"iceServers": ') + len('"iceServers": ')
    return {"iceServers": json.JSONDecoder().raw_decode(html[start:])[0]}


def test_a_site_without_ice_servers_gets_public_stun(tmp_path: Path) -> None:
    servers = built_settings(tmp_path, None)["iceServers"]
    assert servers == [{"urls": "stun:stun.l.google.com:19302"}, {"urls": "stun:stun.cloudflare.com:3478"}]


def test_empty_ice_servers_means_none(tmp_path: Path) -> None:
    assert built_settings(tmp_path, [])["iceServers"] == []


def test_turn_entries_reach_the_player(tmp_path: Path) -> None:
    turn = {"urls": ["turn:turn.example.org:3478", "turns:turn.example.org:5349"], "username": "u", "credential": "p"}
    short = {"urls": "turn:turn.example.org", "credentials_url": "https://tracker.example.org/turn-credentials"}
    assert built_settings(tmp_path, [STUN, turn, short])["iceServers"] == [STUN, turn, short]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"username": "u"}, "ice_servers entry 2 (no urls): needs 'urls'"),
        (
            {"urls": "http://stun.example.org"},
            "ice_servers entry 2 (http://stun.example.org): 'http://stun.example.org' is not",
        ),
        ({"urls": ["stun:a.example", 7]}, "ice_servers entry 2 (stun:a.example, 7): needs 'urls'"),
        (
            {"urls": "turn:t.example.org", "credential": "hunter2"},
            "ice_servers entry 2 (turn:t.example.org): a TURN URL needs 'username' and 'credential'",
        ),
        (
            {"urls": "turns:t.example.org", "credentials_url": "ftp://x"},
            "credentials_url must be an http:// or https:// URL",
        ),
    ],
)
def test_a_malformed_entry_stops_the_build_in_one_line(tmp_path: Path, entry: dict[str, object], problem: str) -> None:
    (tmp_path / "content").mkdir()
    config = write_config(tmp_path / "mkdocs.yml", ice_servers=[STUN, entry])
    done = run_sitegen("build", "--content", tmp_path / "content", "--out", tmp_path / "site", "-f", config)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and problem in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr  # credentials are never shown


# --- the tracker's TURN credentials ---


def test_turn_credentials_are_what_coturn_checks() -> None:
    settings = Settings(turn_secret=SECRET, turn_ttl=600, turn_origins="https://videos.example.org")
    with TestClient(create_app(settings)) as client:
        before = int(time.time())
        answer = client.get("/turn-credentials", headers={"Origin": "https://videos.example.org"})
        assert answer.headers["access-control-allow-origin"] == "https://videos.example.org"
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        expiry, label = body["username"].split(":")
        assert before + 600 <= int(expiry) <= int(time.time()) + 600 and label == "videoswarm"
        expected = base64.b64encode(hmac.new(SECRET.encode(), body["username"].encode(), hashlib.sha1).digest())
        assert body["credential"] == expected.decode() and body["ttl"] == 600
        other = client.get("/turn-credentials", headers={"Origin": "https://elsewhere.example"})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_no_secret_no_turn_credentials() -> None:
    with TestClient(create_app(Settings())) as client:
        answer = client.get("/turn-credentials")
        assert answer.status_code == 404 and "TURN_SECRET" in answer.json()["error"]
