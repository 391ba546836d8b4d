"""Every use of a dependency's private API, one module per dependency.

A newer release may rename or remove what these modules reach into; ``pyproject.toml``
bounds each such dependency below its next release line, and ``tests/test_compat.py``
checks every hook on the installed version, so an upgrade that breaks one fails a test
that names it instead of a replica in production.
"""
