"""The tracker table of ``docs/configuration.md``, made from the :class:`~tracker_app.config.Settings` declarations.

``python -m tracker_app.configdoc docs/configuration.md`` rewrites the table between its
marker comments; ``tests/test_config.py`` fails while the file differs from what this makes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tracker_app.config import Declaration, declarations

BEGIN = "<!-- tracker settings: generated from tracker_app/config.py by `python -m tracker_app.configdoc` -->"
END = "<!-- end of tracker settings -->"


def table() -> str:
    """The Markdown table of every tracker setting, in declaration order."""
    rows = ["| Variable | Flag | Default | Meaning |", "| --- | --- | --- | --- |"]
    for declared in declarations():
        flag = f" `{declared.option}` " if declared.flag else " "
        rows.append(f"| `{declared.env}` |{flag}| {_default(declared)} | {_meaning(declared)} |")
    return "\n".join(rows) + "\n"


def _default(declared: Declaration) -> str:
    value = declared.default
    if value is None or value == "":
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{declared.format(value)}`"


def _meaning(declared: Declaration) -> str:
    choices = ", ".join(f"`{choice}`" for choice in declared.choices)
    return declared.help + (f" One of {choices}." if choices else "")


def update(document: str) -> str:
    """``document`` with the text between the markers replaced by :func:`table`."""
    return splice(document, BEGIN, END, table())


def splice(document: str, begin: str, end: str, text: str) -> str:
    """``document`` with ``text`` between the lines ``begin`` and ``end``: the seeder's table uses it too."""
    try:
        head, rest = document.split(begin + "\n", 1)
        _, tail = rest.split(end, 1)
    except ValueError:
        raise ValueError(f"the markers {begin!r} and {end!r} are missing") from None
    return f"{head}{begin}\n{text}{end}{tail}"


def rewrite(argv: list[str], module: str, make: Callable[[str], str]) -> int:
    """``python -m <module> FILE``: ``FILE`` rewritten by ``make``, or one line naming the problem."""
    if len(argv) != 1:
        print(f"usage: python -m {module} docs/configuration.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        path.write_text(make(path.read_text()))
    except (OSError, ValueError) as error:
        print(f"configdoc: error: {path}: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    return rewrite(argv, "tracker_app.configdoc", update)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
