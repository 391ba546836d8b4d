"""The one exception the CLI turns into a one-line ``seed: error: ...`` message."""

from __future__ import annotations


class SeedError(Exception):
    """A problem the operator can fix: bad input, an unusable state directory, a busy port.

    ``exit_code`` follows argparse: 2 for bad command-line input, 1 for everything else.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
