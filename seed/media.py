"""Is this file a video a browser can play? Asked of the extension and, if installed, ffprobe.

Browsers play MP4 (H.264/AAC, also AV1), WebM (VP8/VP9/AV1, Opus/Vorbis) and Ogg; a
file that is none of these still seeds fine, but viewers would get an error instead of
a picture, so ``seed add`` warns. ffprobe also gives the duration for the content entry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from videoswarm_content.entry import PLAYABLE_EXTENSIONS

_PLAYABLE_FORMATS = frozenset({"mov", "mp4", "m4a", "webm", "matroska", "ogg"})
_PLAYABLE_VIDEO = frozenset({"h264", "vp8", "vp9", "av1", "theora"})


@dataclass(frozen=True)
class Probe:
    """What ``seed add`` reports about a file: a reason it may not play, and its length."""

    problem: str | None = None
    duration: int | None = None


def probe(path: Path) -> Probe:
    if path.suffix.lower() not in PLAYABLE_EXTENSIONS:
        shown = path.suffix or "no extension"
        return Probe(f"not a browser-playable video ({shown}; the player plays {', '.join(PLAYABLE_EXTENSIONS)})",
                     _ffprobe(path).duration)
    return _ffprobe(path)


def _ffprobe(path: Path) -> Probe:
    """Container, video codec and duration; no opinion when ffprobe is missing."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return Probe()
    try:
        run = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format=format_name,duration:stream=codec_type,codec_name",
             "-of", "json", str(path)],
            capture_output=True, text=True, timeout=30, check=False,
        )
        info = json.loads(run.stdout or "{}")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return Probe()
    fmt = info.get("format") or {}
    formats = set(str(fmt.get("format_name", "")).split(","))
    if run.returncode != 0 or not formats & _PLAYABLE_FORMATS:
        return Probe("not a browser-playable video (ffprobe does not recognise an MP4, WebM or Ogg container)")
    try:
        duration = round(float(fmt["duration"]))
    except (KeyError, TypeError, ValueError):
        duration = None
    video = [s.get("codec_name") for s in info.get("streams", []) if s.get("codec_type") == "video"]
    if not video:
        return Probe("not a browser-playable video (no video stream)", duration)
    if not set(video) & _PLAYABLE_VIDEO:
        return Probe(f"not a browser-playable video (video codec {video[0]}; browsers play H.264, VP9, AV1)",
                     duration)
    return Probe(None, duration)
