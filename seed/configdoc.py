"""The seeder table of ``docs/configuration.md``, made from :data:`seed.settings.SETTINGS`.

``python -m seed.configdoc docs/configuration.md`` rewrites the table between its marker
comments; ``tests/test_config.py`` fails while the file differs from what this makes.
"""

from __future__ import annotations

import sys

from tracker_app.configdoc import rewrite, splice

from .settings import COMMANDS, SETTINGS, Setting

BEGIN = "<!-- seeder settings: generated from seed/settings.py by `python -m seed.configdoc` -->"
END = "<!-- end of seeder settings -->"


def table() -> str:
    """The Markdown table of every seeder option, in declaration order."""
    rows = ["| Variable | Flag | Default | Meaning |", "| --- | --- | --- | --- |"]
    for setting in SETTINGS:
        variable = f"`{setting.env}`" if setting.env else ""
        rows.append(f"| {variable} | {_flag(setting)} | {_default(setting)} | {_meaning(setting)} |")
    return "\n".join(rows) + "\n"


def _flag(setting: Setting) -> str:
    flags = ", ".join(f"`{flag}`" for flag in setting.flags[:-1])
    last = f"`{setting.flag} {setting.metavar}`" if setting.metavar else f"`{setting.flag}`"
    notes = ["all commands" if setting.commands == COMMANDS else ", ".join(f"`{name}`" for name in setting.commands)]
    notes += ["repeatable"] * (setting.action == "append") + ["required"] * setting.required
    return f"{flags + ', ' if flags else ''}{last} ({', '.join(notes)})"


def _default(setting: Setting) -> str:
    if setting.shown:
        return setting.shown
    if setting.default:
        return f"`{setting.default}`"
    return "off" if setting.action == "store_true" else ""


def _meaning(setting: Setting) -> str:
    text = (setting.help[0].upper() + setting.help[1:] + ".").replace("<", "&lt;")  # <slug> is no HTML tag
    return f"{text} {setting.more}" if setting.more else text


def update(document: str) -> str:
    """``document`` with the text between the markers replaced by :func:`table`."""
    return splice(document, BEGIN, END, table())


if __name__ == "__main__":
    raise SystemExit(rewrite(sys.argv[1:], "seed.configdoc", update))
