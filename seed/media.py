"""What ``seed add`` learns about a video from ffprobe, and what it makes of it with ffmpeg.

Browsers play MP4 (H.264/AAC, also AV1), WebM (VP8/VP9/AV1, Opus/Vorbis) and Ogg. A file
that is none of these still seeds, but viewers would get an error instead of a picture,
so ``seed add`` warns, or with ``--transcode`` makes an H.264/AAC MP4 of it.

An MP4 whose ``moov`` index sits after the media (most phone and editor exports) makes
the player wait for the whole file before the first frame, because the index is what
tells it where the frames are. Such a file, and a QuickTime ``.mov`` of browser codecs,
is remuxed losslessly (``-c copy -movflags +faststart``) into a copy in the state
directory, and the copy is what gets seeded. Every file ffmpeg writes goes to a
temporary name first and is renamed once complete, so a failure leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from videoswarm_content.entry import PLAYABLE_EXTENSIONS

from .errors import SeedError

#: Extensions that claim to be a video: ffprobe failing on one of these means a damaged file.
VIDEO_EXTENSIONS = frozenset(PLAYABLE_EXTENSIONS) | frozenset(
    {".mov", ".mkv", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts", ".3gp", ".ogg"}
)
_MP4_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2"})
_OPEN_FORMATS = frozenset({"webm", "matroska", "ogg"})
_PLAYABLE_VIDEO = frozenset({"h264", "vp8", "vp9", "av1", "theora"})
_PLAYABLE_AUDIO = frozenset({"aac", "mp3", "opus", "vorbis", "flac"})
#: The poster is a frame this far into the video: past opening black frames and titles.
POSTER_AT = 0.10
POSTER_WIDTH = 1280


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a file. ``problem`` is why a browser would not play it as it is."""

    problem: str | None = None
    duration: float | None = None
    #: True for an MP4/MOV with browser codecs that needs a lossless remux (index at the end, or .mov).
    remux: bool = False
    has_video: bool = False

    @property
    def seconds(self) -> int | None:
        return round(self.duration) if self.duration is not None else None


def probe(path: Path) -> Probe:
    """Ask ffprobe; a file with a video extension that ffprobe cannot read is an error."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return Probe(_extension_problem(path))
    info, run = _ffprobe(ffprobe, path)
    fmt = info.get("format") or {}
    if run is None or run.returncode != 0 or not fmt:
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            why = _last_line(run.stderr if run else "") or "ffprobe cannot read it"
            raise SeedError(f"{path}: not a readable video ({why})", exit_code=2)
        return Probe("not a browser-playable video (ffprobe does not recognise an MP4, WebM or Ogg container)")
    return _judge(path, fmt, info.get("streams") or [])


def _ffprobe(ffprobe: str, path: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str] | None]:
    """ffprobe's JSON about ``path`` and its run (None if it could not run or answer)."""
    try:
        run = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-show_entries",
                "format=format_name,duration:stream=codec_type,codec_name:stream_disposition=attached_pic",
                "-of",
                "json",
                "--",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            errors="replace",
        )
        info = json.loads(run.stdout or "{}")
    except subprocess.TimeoutExpired:
        raise SeedError(f"{path}: ffprobe took over 60 s to read it", exit_code=2) from None
    except (OSError, ValueError):
        return {}, None
    return (info if isinstance(info, dict) else {}), run


def _judge(path: Path, fmt: dict[str, Any], streams: list[dict[str, Any]]) -> Probe:
    """Whether browsers play what ffprobe found: container, video codec, audio codec."""
    formats = set(str(fmt.get("format_name", "")).split(","))
    duration = _float(fmt.get("duration"))
    video = [
        s.get("codec_name")
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [s.get("codec_name") for s in streams if s.get("codec_type") == "audio"]
    if not video:
        return Probe("not a browser-playable video (no video stream)", duration)
    if video[0] not in _PLAYABLE_VIDEO:
        return Probe(
            f"not a browser-playable video (video codec {video[0]}; browsers play H.264, VP9, AV1)",
            duration,
            has_video=True,
        )
    if audio and audio[0] not in _PLAYABLE_AUDIO:
        return Probe(
            f"not a browser-playable video (audio codec {audio[0]}; browsers play AAC, MP3, Opus)",
            duration,
            has_video=True,
        )
    return _container(path, formats, video[0], duration)


def _container(path: Path, formats: set[str], video: str, duration: float | None) -> Probe:
    """A playable video stream: whether its container (and its extension) suits the player."""
    if formats & _MP4_FORMATS:
        if video not in {"h264", "av1"}:
            return Probe(
                f"not a browser-playable video ({video} in an MP4; browsers play H.264 or AV1 there)",
                duration,
                has_video=True,
            )
        remux = path.suffix.lower() not in PLAYABLE_EXTENSIONS or not index_first(path)
        return Probe(None, duration, remux=remux, has_video=True)
    if formats & _OPEN_FORMATS and path.suffix.lower() in PLAYABLE_EXTENSIONS:
        return Probe(None, duration, has_video=True)
    shown = path.suffix or "no extension"
    return Probe(
        f"not a browser-playable video ({shown}; the player plays {', '.join(PLAYABLE_EXTENSIONS)})",
        duration,
        has_video=True,
    )


def index_first(path: Path) -> bool:
    """Whether the MP4's ``moov`` box comes before its first ``mdat`` (what ``+faststart`` does).

    Walks the top-level boxes: 4-byte size, 4-byte type, a 64-bit size when size is 1,
    "to the end of the file" when size is 0.
    """
    with path.open("rb") as stream:
        end = os.fstat(stream.fileno()).st_size
        offset = 0
        while offset + 8 <= end:
            stream.seek(offset)
            header = stream.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                break
            if size < 8:
                break
            offset += size
    return True  # no mdat before a moov was found: nothing to move


def output_name(path: Path, probed: Probe, transcode: bool) -> str | None:
    """The name of the file to seed instead of ``path``, or None to seed ``path`` itself."""
    if probed.remux or (transcode and probed.problem and probed.has_video):
        return f"{path.stem}.mp4"
    return None


def remux(source: Path, target: Path) -> None:
    """Move the index to the front without touching a frame (lossless, about disk speed)."""
    _ffmpeg(source, target, ["-map", "0", "-c", "copy", "-movflags", "+faststart"], "remuxing")


def transcode(source: Path, target: Path, duration: float | None, progress: bool = True) -> None:
    """H.264/AAC MP4 for every browser, with a progress bar fed by ``-progress pipe:1``."""
    _ffmpeg(
        source,
        target,
        [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "21",
            # 4:2:0, which every browser decodes, needs even dimensions.
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-movflags",
            "+faststart",
        ],
        "transcoding",
        duration if progress else None,
    )


def poster(video: Path, target: Path, duration: float | None) -> None:
    """A JPEG of the frame about 10 % in, at most 1280 px wide.

    JPEG rather than WebP: every sharing-card crawler (Open Graph, Twitter, chat apps)
    takes it, and the site shows one poster per video.
    """
    at = (duration or 0) * POSTER_AT
    _ffmpeg(
        video,
        target,
        [
            "-frames:v",
            "1",
            "-vf",
            f"scale='min({POSTER_WIDTH},iw)':-2",
            "-q:v",
            "3",
            "-f",
            "image2",
            "-update",
            "1",
            "-c:v",
            "mjpeg",
        ],
        "making a poster of",
        seek=at,
    )
    if not target.is_file() or target.stat().st_size == 0:  # ffmpeg found no frame to write
        target.unlink(missing_ok=True)
        raise SeedError(f"{video}: cannot make a poster: no video frame at {at:.1f} s")


def _ffmpeg(
    source: Path,
    target: Path,
    arguments: Sequence[str],
    doing: str,
    duration: float | None = None,
    seek: float | None = None,
) -> None:
    """Run ffmpeg into a temporary file beside ``target``, renamed over it once complete."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SeedError(f"{source}: {doing} it needs ffmpeg, which is not installed (scripts/install brings it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(target) as temporary:
        command = [
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            *(["-ss", f"{seek:.3f}"] if seek else []),
            "-i",
            str(source),
            *arguments,
        ]
        if duration:
            command += ["-progress", "pipe:1", "-nostats"]
        if "-f" not in arguments:
            command += ["-f", "mp4"]
        command.append(str(temporary))
        if duration:
            returncode, errors = _with_progress(command, duration, f"{doing} {source.name}")
        else:
            done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
            returncode, errors = done.returncode, done.stderr
        if returncode != 0:
            raise SeedError(f"{source}: {doing} it failed: ffmpeg: {_last_line(errors) or f'exit {returncode}'}")
        os.replace(temporary, target)


def _with_progress(command: list[str], duration: float, description: str) -> tuple[int, str]:
    """Run ffmpeg, moving a tqdm bar (seconds of output written) from its ``out_time_us=`` lines."""
    with (
        tqdm(
            total=round(duration, 1),
            unit="s",
            file=sys.stderr,
            desc=description,
            leave=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]",
        ) as bar,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
        ) as process,
    ):
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                bar.update(min(int(value) / 1e6, duration) - bar.n)
        errors = process.stderr.read()
        return process.wait(), errors


@contextmanager
def _temporary(target: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``target``, removed unless it was renamed into place."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _extension_problem(path: Path) -> str | None:
    if path.suffix.lower() in PLAYABLE_EXTENSIONS:
        return None
    shown = path.suffix or "no extension"
    return f"not a browser-playable video ({shown}; the player plays {', '.join(PLAYABLE_EXTENSIONS)})"


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _last_line(text: str) -> str:
    """ffmpeg's last complaint, which names the actual problem."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return re.sub(r"\s+", " ", lines[-1])[:200] if lines else ""
