"""The one exception the site generator raises for anything the user must fix."""

from __future__ import annotations

from videoswarm_content.errors import ContentError


class SitegenError(ContentError):
    """A problem with the configuration or the player bundle (bad content is a plain :class:`ContentError`).

    ``str()`` is one line that names the file (and line, where known), so the CLI can
    print it as is.
    """
