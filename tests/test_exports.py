"""Each package's public names, pinned: a change to them is a change of API, made on purpose here."""

from __future__ import annotations

import importlib
import types

import pytest

EXPORTS = {
    "tracker_app": ["Settings", "create_app"],
    "tracker_app.relay": ["Deliver", "Delivery", "MemoryRelay", "RedisRelay", "Relay", "RelayUnavailable"],
    "tracker_app.store": ["MemoryStore", "RedisStore", "StoreUnavailable", "SwarmStore"],
    "tracker_app.transport": ["HttpProtocol", "TrackerSocket"],
    "tracker_app.wire": ["WireError"],
    "seed": ["SeedError"],
    "sitegen": ["SitegenError"],
    "videoswarm_content": [],  # its modules are its API (see its docstring)
}


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_exported_names_are_pinned(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", [])
    assert sorted(exported) == EXPORTS[package]
    for name in exported:
        value = getattr(module, name)
        if isinstance(value, type | types.FunctionType):  # ours, re-exported (not a type alias)
            assert value.__module__.startswith(package.partition(".")[0]), name


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_every_public_name_is_exported(package: str) -> None:
    """As httpx checks: a name imported into ``__init__`` without a ``_`` is in ``__all__``."""
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public == set(getattr(module, "__all__", []))
