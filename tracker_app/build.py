"""Which build of the tracker runs: compiled by mypyc (setup.py) or pure Python.

A build that silently fell back to pure Python serves the same protocol at about half
the speed (bench/README.md), so ``/health`` and the start-up log name the build.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES

from tracker_app import tracker

#: Whether the announce path is mypyc's extension modules (the tracker core stands for them all).
COMPILED: bool = tracker.__file__ is not None and tracker.__file__.endswith(tuple(EXTENSION_SUFFIXES))
BUILD = "compiled" if COMPILED else "pure"
