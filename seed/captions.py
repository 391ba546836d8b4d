"""Caption files found beside a video, checked and made WebVTT for the site's ``<track>``s.

``talk.vtt``, ``talk.en.vtt`` and ``talk.fr.srt`` beside ``talk.mp4`` are its captions:
the part between the video's name and the extension is a BCP 47 language tag, and the
label a viewer picks from is that language's name (``en`` → English). Browsers read
only WebVTT, so SubRip (``.srt``) files are converted. Each file is parsed (webvtt-py)
before anything is written, so a broken one stops ``seed add`` with its name instead of
publishing a track that shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import langcodes
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from .errors import SeedError

_KINDS = (".vtt", ".srt")


@dataclass(frozen=True)
class Caption:
    """One caption track, ready to write beside the entry."""

    source: Path
    lang: str | None
    label: str
    vtt: bytes

    def file_name(self, slug: str) -> str:
        """``<slug>.<lang>.vtt``, or ``<slug>.vtt`` when the file named no language."""
        return f"{slug}.{self.lang}.vtt" if self.lang else f"{slug}.vtt"


def find(video: Path, warn: Callable[[str], None]) -> list[Caption]:
    """The caption files beside ``video``, one per language (a ``.vtt`` wins over an ``.srt``), checked."""
    chosen: dict[str | None, Path] = {}
    for path in sorted(
        video.parent.glob(f"{_glob_escape(video.stem)}.*"),
        key=lambda p: _KINDS.index(p.suffix) if p.suffix in _KINDS else len(_KINDS),
    ):
        if path.suffix not in _KINDS or not path.is_file():
            continue
        middle = path.name[len(video.stem) : -len(path.suffix)]
        if middle and not (middle.startswith(".") and langcodes.tag_is_valid(middle[1:])):
            if middle.startswith(".") and "." not in middle[1:]:  # talk.x.en.vtt is another video's
                warn(
                    f"{path}: {middle[1:]!r} is not a language tag (as in {video.stem}.en{path.suffix}); "
                    "not used as captions"
                )
            continue
        chosen.setdefault(langcodes.standardize_tag(middle[1:]) if middle else None, path)
    return [_load(path, lang) for lang, path in sorted(chosen.items(), key=lambda item: item[0] or "")]


def _load(path: Path, lang: str | None) -> Caption:
    try:
        if path.suffix == ".srt":
            vtt = webvtt.from_srt(str(path)).content.rstrip("\n").encode("utf-8") + b"\n"
            cues = len(webvtt.from_string(vtt.decode("utf-8")).captions)
        else:
            vtt = path.read_bytes()
            cues = len(webvtt.read(str(path), strict=True).captions)
    except OSError as error:
        raise SeedError(f"{path}: cannot read it: {error.strerror}", exit_code=2) from None
    except (MalformedFileError, MalformedCaptionError, UnicodeDecodeError, ValueError, IndexError) as error:
        raise _invalid(path, str(error) or "unreadable") from None
    if cues == 0:
        raise _invalid(path, "no cues in it")
    label = langcodes.Language.get(lang).display_name() if lang else "Captions"
    return Caption(path, lang, label, vtt)


def _invalid(path: Path, why: str) -> SeedError:
    kind = "SubRip (.srt)" if path.suffix == ".srt" else "WebVTT"
    return SeedError(f"{path}: not a valid {kind} caption file ({why})", exit_code=2)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
