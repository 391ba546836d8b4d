"""The lock files: what is installed is what was locked, and the locks agree with pyproject.toml.

``scripts/install`` installs ``requirements.lock`` (every extra and the dev tools) with its
hashes; the Dockerfile and render.yaml install ``requirements-tracker.lock`` (the tracker
alone). A stale environment, or a pyproject.toml range that no longer admits the locked
version, fails here with the package named, instead of as a mystery in a gate.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.processes import ROOT

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(path: Path) -> dict[str, str]:
    """Name -> version of every pin in a lock whose environment marker holds here."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            found[canonicalize_name(match[1])] = match[2]
    return found


def hashed(path: Path) -> bool:
    """Whether every pin of the lock carries at least one sha256 hash."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8"))
    return all("--hash=sha256:" in block for block in blocks if "==" in block.split("\n", 1)[0])


LOCK = ROOT / "requirements.lock"
TRACKER_LOCK = ROOT / "requirements-tracker.lock"


def declared() -> dict[str, list[Requirement]]:
    """pyproject.toml's requirements: the base ones under "", then each extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {name: [Requirement(text) for text in texts] for name, texts in groups.items()}


def test_every_locked_package_is_installed_at_its_locked_version() -> None:
    stale = []
    for name, version in sorted(pins(LOCK).items()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            stale.append(f"{name}: locked {version}, installed {installed}")
    assert not stale, "the environment differs from requirements.lock (run scripts/install): " + "; ".join(stale)


@pytest.mark.parametrize("lock", [LOCK, TRACKER_LOCK], ids=lambda path: path.name)
def test_every_pin_carries_hashes(lock: Path) -> None:
    assert pins(lock), f"{lock.name} pins nothing"
    assert hashed(lock), f"{lock.name} has a pin without --hash (pip --require-hashes would refuse it)"


def test_the_locks_pin_what_pyproject_declares_within_its_ranges() -> None:
    locked, tracker = pins(LOCK), pins(TRACKER_LOCK)
    for group, requirements in declared().items():
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            if name == "videoswarm" or (requirement.marker and not requirement.marker.evaluate()):
                continue  # the project's own extras name the project
            assert name in locked, f"{requirement} ({group or 'base'}) is not in requirements.lock: run scripts/upgrade"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"requirements.lock pins {name}=={locked[name]}, outside pyproject.toml's {requirement}"
            )
            if not group:
                assert tracker.get(name) == locked[name], f"the two locks disagree on {name}"


def test_the_tracker_lock_is_the_base_install_at_the_same_versions() -> None:
    tracker, locked = pins(TRACKER_LOCK), pins(LOCK)
    assert not {"libtorrent", "mkdocs", "pytest"} & tracker.keys(), "the tracker lock holds extras"
    differ = [
        f"{name} {version} != {locked.get(name)}" for name, version in tracker.items() if locked.get(name) != version
    ]
    assert not differ, "requirements-tracker.lock differs from requirements.lock: " + ", ".join(differ)


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("scripts/install", "--require-hashes -r requirements.lock"),
        ("Dockerfile", "--require-hashes -r requirements-tracker.lock"),
        ("render.yaml", "--require-hashes -r requirements-tracker.lock"),
    ],
)
def test_installs_go_through_the_locks(path: str, command: str) -> None:
    assert command in (ROOT / path).read_text(encoding="utf-8")
