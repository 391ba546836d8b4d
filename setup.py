"""The tracker's announce path compiled with mypyc where it can be, pure Python where it cannot.

Everything else about the package is in pyproject.toml. Compiling needs mypy (which ships
mypyc), a C compiler, and the tracker's dependencies importable for type-checking, so it
happens in builds without isolation: ``scripts/install`` (into ``.venv/compiled``) and the
Dockerfile's build stage, both with the ``compile`` extra installed. An isolated
``pip install .`` has no mypyc, a machine without ``cc`` has no compiler, and
``VIDEOSWARM_PURE=1`` asks for neither: each builds the same package in pure Python
(``/health`` says which build runs: tracker_app/build.py).

Measured under bench/throughput.py's load (bench/README.md, "Compiled with mypyc"):
these modules are the announce path, from a frame in to the frames out and the Redis
script's reply; the rest (configuration, HTTP endpoints, start-up) runs once or rarely.
transport/http.py stays Python: it subclasses uvicorn's protocol and runs once per socket.
"""

from __future__ import annotations

import os
import shutil
import sys

from setuptools import Extension, setup

COMPILED = [
    "tracker_app/wire/websocket.py",
    "tracker_app/wire/errors.py",
    "tracker_app/peers.py",
    "tracker_app/tracker.py",
    "tracker_app/eager.py",
    "tracker_app/connections.py",
    "tracker_app/transport/sockets.py",
    "tracker_app/store/base.py",
    "tracker_app/store/memory.py",
    "tracker_app/store/redis.py",
    "tracker_app/store/pipelining.py",
    "tracker_app/relay/base.py",
    "tracker_app/relay/memory.py",
    "tracker_app/relay/redis.py",
    # Not on the hot path, but its class subclasses the compiled Connection, and an
    # interpreted class cannot (mypyc: "interpreted classes cannot inherit from compiled").
    "tracker_app/endpoints/websocket.py",
]


def extensions() -> list[Extension]:
    """mypyc's extension modules for :data:`COMPILED`, or none (a pure-Python build) and why."""
    if os.environ.get("VIDEOSWARM_PURE") == "1":
        return _pure("VIDEOSWARM_PURE=1")
    compiler = os.environ.get("CC", "cc").split()[0]
    if shutil.which(compiler) is None:
        return _pure(f"no C compiler ({compiler})")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return _pure("mypyc is not installed (the compile extra, in a build without isolation)")
    return list(mypycify(COMPILED, opt_level="3"))


def _pure(reason: str) -> list[Extension]:
    print(f"videoswarm: building pure Python: {reason}", file=sys.stderr)
    return []


setup(ext_modules=extensions())
