"""Configuration from the environment and flags, and the torrent allowlist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, start_tracker
from tests.support.wsclient import Peer, random_id, text
from tracker_app.allowlist import AllowlistError, read_allowlist
from tracker_app.config import ConfigError, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.port, settings.interval, settings.redis_url, settings.trust_proxy) == (8000, 120, "", False)
    assert settings.peer_ttl == 300


def test_environment_and_overrides() -> None:
    env = {"PORT": "9000", "TRACKER_INTERVAL": "30", "TRACKER_TRUST_PROXY": "yes", "REDIS_URL": "redis://r:6379/0"}
    settings = Settings.from_env(env, port=9100)
    assert (settings.port, settings.interval, settings.trust_proxy, settings.redis_url) == (9100, 30, True,
                                                                                            "redis://r:6379/0")


@pytest.mark.parametrize("env, message", [
    ({"PORT": "eighty"}, "PORT='eighty' is not a valid int"),
    ({"PORT": "70000"}, "PORT must be between 1 and 65535"),
    ({"TRACKER_INTERVAL": "0"}, "TRACKER_INTERVAL must be a positive number"),
    ({"TRACKER_TRUST_PROXY": "maybe"}, "TRACKER_TRUST_PROXY='maybe' is not a valid bool"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
])
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_cli_reports_bad_configuration_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "tracker_app", "--port", "1"], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "TRACKER_INTERVAL": "-5"})
    assert result.returncode == 2
    assert result.stderr.strip() == "tracker: error: TRACKER_INTERVAL must be a positive number, not -5"


def test_cli_help_lists_every_flag() -> None:
    result = subprocess.run([sys.executable, "-m", "tracker_app", "--help"], cwd=ROOT, capture_output=True, text=True)
    for flag in ("--host", "--port", "--redis-url", "--interval", "--allowlist", "--workers"):
        assert flag in result.stdout


def test_allowlist_file_format(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(f"# my videos\n{'ab' * 20}\n\n{'CD' * 20}  # second\n")
    assert read_allowlist(path) == {bytes.fromhex("ab" * 20), bytes.fromhex("cd" * 20)}
    path.write_text("not-a-hash\n")
    with pytest.raises(AllowlistError, match=r"allow.txt:1: 'not-a-hash' is not a 40-digit hex info hash"):
        read_allowlist(path)


async def test_allowlisted_torrents_only(tmp_path: Path) -> None:
    allowed, other = random_id(), random_id()
    path = tmp_path / "allow.txt"
    path.write_text(allowed.hex() + "\n")
    server = start_tracker(TRACKER_ALLOWLIST=str(path))
    try:
        async with Peer(server.ws_url) as peer:
            assert (await peer.announce(allowed, left=0))["complete"] == 1
            refused = await peer.announce(other, left=0)
            assert refused["failure reason"] == "torrent not allowed on this tracker"
            assert refused["info_hash"] == text(other)
    finally:
        server.stop()
