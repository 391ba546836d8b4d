"""A base install (``pip install videoswarm``): the tracker runs, ``seed`` and ``sitegen`` say what to install.

Tests run offline in a network namespace, where pip cannot make a fresh install. So the
commands run in this virtualenv with every module that a base install would not have
made unimportable: the distributions outside the closure of videoswarm's base
requirements, read from the installed metadata (so a new extra dependency is covered).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.processes import ROOT

BIN = Path(sys.executable).parent

# Loaded first by every Python process started with it on PYTHONPATH.
_SITECUSTOMIZE = '''
import json, os, sys

class _NotInstalled:
    """Import finder that raises for the top-level modules of distributions a base install lacks."""
    blocked = frozenset(json.loads(os.environ["VIDEOSWARM_TEST_NOT_INSTALLED"]))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
'''


def _base_closure() -> set[str]:
    """Canonical names of the distributions that ``pip install videoswarm`` brings in."""
    expanded: set[tuple[str, str]] = set()  # (distribution, one of its extras or "")
    pending = [(Requirement(text), "") for text in importlib.metadata.requires("videoswarm") or []]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted in {""} | requirement.extras:
            if (name, wanted) not in expanded:
                expanded.add((name, wanted))
                pending += [(Requirement(text), wanted) for text in importlib.metadata.requires(name) or []]
    return {name for name, _ in expanded}


def _not_installed_by_base() -> list[str]:
    base = _base_closure() | {"videoswarm"}
    return sorted(
        module
        for module, dists in importlib.metadata.packages_distributions().items()
        if not {canonicalize_name(d) for d in dists} & base
    )


@pytest.fixture(scope="module")
def base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("base-install")
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    blocked = _not_installed_by_base()
    assert {"libtorrent", "torf", "mkdocs", "tqdm", "nh3"} <= set(blocked)  # the extras' own
    assert not {"starlette", "uvicorn", "redis", "yaml"} & set(blocked)  # the base's (uvicorn[standard] has PyYAML)
    return {**os.environ, "PYTHONPATH": str(folder), "VIDEOSWARM_TEST_NOT_INSTALLED": json.dumps(blocked)}


@pytest.mark.parametrize(
    "command, extra",
    [
        (["seed", "add", "clip.mp4", "--tracker", "ws://127.0.0.1:8000"], "seed"),
        (["seed", "run"], "seed"),
        (["sitegen", "build"], "site"),
        (["sitegen", "--help"], "site"),
    ],
)
def test_without_its_extra_a_command_names_what_to_install(
    base_env: dict[str, str], command: list[str], extra: str
) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, env=base_env, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{command[0]}: error: {command[0]} needs the {extra} extra (no module ")
    assert line.endswith(f": pip install 'videoswarm[{extra}]'")


def test_the_tracker_runs_on_the_base_install(base_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "tracker"), "--port", "0"], cwd=ROOT, env=base_env, capture_output=True, text=True
    )
    assert result.returncode == 2  # got as far as checking its settings
    assert result.stderr.strip() == "tracker: error: PORT must be between 1 and 65535, not 0"
    imported = subprocess.run(
        [sys.executable, "-c", "import tracker_app.__main__, tracker_app.configdoc"],
        cwd=ROOT,
        env=base_env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr


def test_the_blocker_blocks(base_env: dict[str, str]) -> None:
    """The simulated base install really lacks the extras (else the tests above prove nothing)."""
    result = subprocess.run([sys.executable, "-c", "import torf"], env=base_env, capture_output=True, text=True)
    assert "ModuleNotFoundError: No module named 'torf'" in result.stderr
