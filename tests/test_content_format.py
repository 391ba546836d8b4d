"""The content format (videoswarm_content) and the player's copy of its rules (sitegen/assets/format.js).

One table of good and bad magnets, tests/data/magnets.json, is run through the Python
parser here and through the player's validator in node: both must agree with it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import ROOT
from videoswarm_content import entry, schemes
from videoswarm_content.errors import ContentError
from videoswarm_content.files import atomic_write, writable_problem
from videoswarm_content.magnet import MagnetError, magnet_uri, parse_magnet, web_seed_url
from videoswarm_content.reader import read_front_matter

TABLE_PATH = ROOT / "tests/data/magnets.json"
TABLE: dict[str, list[dict[str, str]]] = json.loads(TABLE_PATH.read_text())


def _cases(kind: str) -> Any:
    return pytest.mark.parametrize("magnet", [c["magnet"] for c in TABLE[kind]], ids=[c["case"] for c in TABLE[kind]])


@_cases("good")
def test_python_accepts_the_good_magnets(magnet: str) -> None:
    assert parse_magnet(magnet).info_hash == "0123456789abcdef0123456789abcdef01234567", "every good case has it"


@_cases("bad")
def test_python_refuses_the_bad_magnets(magnet: str) -> None:
    with pytest.raises(MagnetError):
        parse_magnet(magnet)


@pytest.fixture(scope="module")
def player() -> dict[str, Any]:
    """What the player's format.js says of the table, and its lists, run in node."""
    done = subprocess.run(
        ["node", str(ROOT / "tests/support/format_check.mjs"), str(TABLE_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_player_agrees_with_the_table(player: dict[str, Any]) -> None:
    accepted = [c["case"] for c, problem in zip(TABLE["bad"], player["verdicts"]["bad"], strict=True) if not problem]
    refused = {
        c["case"]: problem for c, problem in zip(TABLE["good"], player["verdicts"]["good"], strict=True) if problem
    }
    assert accepted == [] and refused == {}, f"the player accepts {accepted} and refuses {refused}"


def test_player_lists_are_the_content_format_lists(player: dict[str, Any]) -> None:
    assert player["lists"] == {
        "TRACKER_SCHEMES": list(schemes.TRACKER_SCHEMES),
        "WEBSOCKET_SCHEMES": list(schemes.WEBSOCKET_SCHEMES),
        "HTTP_SCHEMES": list(schemes.HTTP_SCHEMES),
        "PLAYABLE_EXTENSIONS": list(entry.PLAYABLE_EXTENSIONS),
    }


def test_built_magnets_parse_back() -> None:
    info_hash = "ab" * 20
    web_seed = web_seed_url("https://cdn.example/videos/", "Holiday 2024 & co.mp4")
    uri = magnet_uri(info_hash, "Holiday 2024 & co.mp4", ["wss://t.example/announce?k=1&x=2"], [web_seed])
    magnet = parse_magnet(uri)
    assert (magnet.info_hash, magnet.name) == (info_hash, "Holiday 2024 & co.mp4")
    assert magnet.trackers == ("wss://t.example/announce?k=1&x=2",)
    assert magnet.web_seeds == ("https://cdn.example/videos/Holiday%202024%20%26%20co.mp4",)


def test_scheme_rules() -> None:
    assert schemes.has_scheme("WSS://t.example/a", schemes.WEBSOCKET_SCHEMES)
    for url in ("ws://", "http://t.example/a", "wss:t.example", "//t.example/a", "ws://[::1/a"):
        assert not schemes.is_websocket(url), url


def test_atomic_write_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "entry.md"
    target.write_text("old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["entry.md"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_writable_problem(tmp_path: Path) -> None:
    assert writable_problem(tmp_path / "new" / "deeper") is None, "a folder that can be made is fine"
    (tmp_path / "file").write_text("x")
    assert writable_problem(tmp_path / "file" / "below") == f"{tmp_path / 'file'} is not a directory"
    assert list(tmp_path.iterdir()) == [tmp_path / "file"], "the check leaves nothing behind"


@pytest.mark.parametrize("char", ["\x00", "\x02", "\x1b", "\x7f", "\ufffe"])
def test_control_characters_are_refused_with_file_and_line(char: str, tmp_path: Path) -> None:
    """XML cannot hold them (the site's feed failed) and Python-Markdown uses \\x02/\\x03 itself."""
    path = tmp_path / "clip.md"
    path.write_text(f"---\ntitle: Clip\nmagnet: 'magnet:?xt=urn:btih:{'a' * 40}'\n---\nFine.\nNot{char}fine.\n")
    with pytest.raises(ContentError) as raised:
        read_front_matter(path)
    assert str(raised.value) == (
        f"{path}:6: holds the control character U+{ord(char):04X}; remove it (an editor may show it as a box)"
    )
    path.write_text(path.read_text().replace(char, "\t"))
    assert read_front_matter(path).body.endswith("Not\tfine.\n"), "tab, newline and CR are text"
