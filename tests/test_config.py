"""Configuration from the environment and flags (both made from one declaration per setting), and the allowlist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from seed import configdoc as seed_configdoc
from seed.settings import SETTINGS
from tests.support.processes import ROOT, Server, _wait_until, free_port, start_tracker
from tests.support.wsclient import Peer, random_id, text
from tracker_app import configdoc
from tracker_app.__main__ import _parser, _settings
from tracker_app.allowlist import AllowlistError, read_allowlist
from tracker_app.config import ConfigError, Settings, declarations, unknown_variables


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.port, settings.interval, settings.redis_url, settings.trust_proxy) == (8000, 120, "", False)
    assert settings.peer_ttl == 300


def test_environment_and_overrides() -> None:
    env = {"PORT": "9000", "TRACKER_INTERVAL": "30", "TRACKER_TRUST_PROXY": "yes", "REDIS_URL": "redis://r:6379/0"}
    settings = Settings.from_env(env, port=9100)
    assert (settings.port, settings.interval, settings.trust_proxy, settings.redis_url) == (
        9100,
        30,
        True,
        "redis://r:6379/0",
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PORT": "eighty"}, "PORT='eighty' is not a valid int"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535"),
        ({"TRACKER_INTERVAL": "0"}, "TRACKER_INTERVAL must be a positive number"),
        ({"TRACKER_TRUST_PROXY": "maybe"}, "TRACKER_TRUST_PROXY='maybe' is not a valid bool"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' must be one of debug, info, warning, error"),
        ({"WEB_CONCURRENCY": "4"}, r"WEB_CONCURRENCY \(--workers\) above 1 needs REDIS_URL"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_cli_reports_bad_configuration_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker_app", "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TRACKER_INTERVAL": "-5"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "tracker: error: TRACKER_INTERVAL must be a positive number, not -5"


def test_cli_help_lists_every_flag_with_its_variable() -> None:
    result = subprocess.run([sys.executable, "-m", "tracker_app", "--help"], cwd=ROOT, capture_output=True, text=True)
    flagged = [declared for declared in declarations() if declared.flag]
    assert {"--host", "--port", "--redis-url", "--interval", "--allowlist", "--workers", "--log-level"} == {
        declared.option for declared in flagged
    }
    for declared in flagged:
        assert declared.option in result.stdout
        assert f"[{declared.env}, default" in result.stdout
    assert "`" not in result.stdout  # the help is Markdown for the docs, plain text here


def test_flags_win_over_variables_without_writing_them() -> None:
    before = dict(os.environ)
    settings = _settings(["--interval", "30", "--log-level", "debug", "--allowlist", "allow.txt"])
    assert (settings.interval, settings.log_level, settings.allowlist) == (30, "debug", Path("allow.txt"))
    assert dict(os.environ) == before


def test_a_bad_flag_is_named_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        _parser().parse_args(["--interval", "soon"])
    assert exit.value.code == 2
    assert "argument --interval: --interval='soon' is not a valid int" in capsys.readouterr().err


def test_settings_survive_the_trip_to_a_worker() -> None:
    settings = Settings.from_env(
        {"TRACKER_ALLOWLIST": "a.txt", "TRACKER_TRUST_PROXY": "on"},
        interval=7,
        log_level="warning",
        peer_ttl_factor=1.5,
    )
    assert Settings.from_env(settings.to_env()) == settings


def test_unknown_tracker_variables_name_the_nearest_setting() -> None:
    warnings = unknown_variables({"TRACKER_INTERVALL": "30", "TRACKER_INTERVAL": "30", "TRACKERS": "x", "PATH": "/bin"})
    assert warnings == ["TRACKER_INTERVALL is not a tracker setting and is ignored; did you mean TRACKER_INTERVAL?"]


def test_the_configuration_doc_is_generated_from_the_settings() -> None:
    path = ROOT / "docs/configuration.md"
    document = path.read_text()
    assert configdoc.update(document) == document, (
        "docs/configuration.md is stale: run `python -m tracker_app.configdoc docs/configuration.md`"
    )
    for declared in declarations():
        assert f"| `{declared.env}` |" in document


def test_the_configuration_doc_is_generated_from_the_seeder_settings() -> None:
    document = (ROOT / "docs/configuration.md").read_text()
    assert seed_configdoc.update(document) == document, (
        "docs/configuration.md is stale: run `python -m seed.configdoc docs/configuration.md`"
    )
    for setting in SETTINGS:
        assert f"`{setting.flag}" in document


def test_workers_get_the_flags_and_the_unknown_variable_warning_is_logged(redis_url: str) -> None:
    """Two worker processes started with flags only: both answer with the flagged interval."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"},  # as start_tracker
        "TRACKER_INTERVALL": "9",
        "REDIS_URL": redis_url,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker_app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--interval",
            "7",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server("tracker", proc, port)
    try:
        _wait_until(lambda: httpx.get(f"{server.http_url}/health", timeout=2).status_code == 200, server)
        for _ in range(8):  # fresh connections, spread over both workers by the kernel
            with httpx.Client() as client:
                query = f"info_hash={'a' * 20}&peer_id={'b' * 20}&port=6881&uploaded=0&downloaded=0&left=0"
                assert b"8:intervali7e" in client.get(f"{server.http_url}/announce?{query}").content
    finally:
        server.stop()
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert "TRACKER_INTERVALL is not a tracker setting and is ignored; did you mean TRACKER_INTERVAL?" in log


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
