"""The ``seed`` and ``sitegen`` commands, which need an extra that the base install lacks.

``pip install videoswarm`` is the tracker alone (what a PaaS runs), yet it installs every
console script. Without ``videoswarm[seed]`` or ``videoswarm[site]``, these two say in one
line what to install (exit 2) instead of a traceback from deep inside an import. A module
of its own, outside ``seed`` and ``sitegen``, because importing those packages is what fails.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

_OURS = {"tracker_app", "seed", "sitegen", "videoswarm_content", "videoswarm_extras"}


def seed() -> int:
    """The ``seed`` console script."""
    return _run("seed", extra="seed")


def sitegen() -> int:
    """The ``sitegen`` console script."""
    return _run("sitegen", extra="site")


def _run(program: str, extra: str) -> int:
    try:
        main: Callable[[], int] = importlib.import_module(f"{program}.cli").main
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if not missing or missing in _OURS:
            raise  # our own bug, not a missing extra
        print(
            f"{program}: error: {program} needs the {extra} extra (no module {missing!r}): "
            f"pip install 'videoswarm[{extra}]'",
            file=sys.stderr,
        )
        return 2
    return main()
