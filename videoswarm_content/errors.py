"""The one error type for bad content: its text names the file and, where known, the line."""

from __future__ import annotations

from pathlib import Path


class ContentError(Exception):
    """A problem the publisher must fix; ``str()`` is one line, ``<file>:<line>: <message>``."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        super().__init__(where + message)


class ContentErrors(ContentError):
    """Every problem found in a content folder, so one build reports them all."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        Exception.__init__(self, "\n".join(str(e) for e in errors))
