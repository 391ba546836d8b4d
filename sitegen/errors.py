"""The one exception the site generator raises for anything the user must fix."""

from __future__ import annotations

from pathlib import Path


class SitegenError(Exception):
    """A problem with the content, the configuration or the player bundle.

    ``str()`` is one line that names the file (and line, where known), so the CLI can
    print it as is.
    """

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        super().__init__(where + message)


class ContentErrors(SitegenError):
    """Every problem found in a content folder, so one build reports them all."""

    def __init__(self, errors: list[SitegenError]) -> None:
        self.errors = errors
        Exception.__init__(self, "\n".join(str(e) for e in errors))
