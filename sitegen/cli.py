"""``sitegen``: build the video site (a thin wrapper over ``mkdocs build``)."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException

from videoswarm_content.errors import ContentError

from .bundle import WEBTORRENT_VERSION, cache_dir, load_bundle
from .errors import SitegenError
from .plugin import VideoswarmPlugin
from .signing import keygen, load_key, public_key

_DESCRIPTION = """\
Build a static video site from a folder of Markdown entries, one <slug>.md per video
(YAML front matter: title and magnet required; torrent, poster, date, duration, tags
optional; the body is the description). mkdocs.yml names the site, its theme, the
default trackers and the STUN/TURN servers (see docs/configuration.md).

The output is a plain static folder: serve it from any web server (https, or
loopback for testing). It is written to a temporary folder first and moved into
place only when the whole build succeeds.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sitegen", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build", help="build the site", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flags, metavar, default, text in (
        (["--content"], "DIR", "content", "folder of <slug>.md entries (default: content/)"),
        (["--out"], "DIR", "site", "where the site goes; replaced as a whole (default: site/)"),
        (["-f", "--config-file"], "FILE", "mkdocs.yml", "the mkdocs configuration (default: mkdocs.yml)"),
        (
            ["--sign"],
            "KEYFILE",
            os.environ.get("SITEGEN_SIGNING_KEY", ""),
            "sign site.json with this private key from `sitegen keygen` "
            "[SITEGEN_SIGNING_KEY, default: none, an unsigned site.json]",
        ),
    ):
        build.add_argument(*flags, metavar=metavar, type=Path, default=Path(default) if default else None, help=text)
    build.add_argument("-v", "--verbose", action="store_true", help="show mkdocs' progress messages")
    keygen_cmd = commands.add_parser(
        "keygen",
        help="make the publisher's Ed25519 key pair for `sitegen build --sign`; prints the public key",
        description="Write a new private key to KEYFILE (owner-only, never over an existing file) and print "
        "its public key, which every page, feed and site.json then publishes for mirrors to pin. "
        "Keep KEYFILE secret and backed up: mirrors refuse a site signed by another key.",
    )
    keygen_cmd.add_argument("keyfile", metavar="KEYFILE", type=Path)
    commands.add_parser(
        "fetch",
        help=f"download and verify the webtorrent {WEBTORRENT_VERSION} bundle into the "
        f"cache ($SITEGEN_CACHE, default ~/.cache/videoswarm) for offline builds",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            load_bundle(fetch=True)
            print(f"webtorrent {WEBTORRENT_VERSION} verified in {cache_dir()}")
        elif args.command == "keygen":
            print(public_key(keygen(args.keyfile)))
        else:
            key = load_key(args.sign) if args.sign is not None else None
            _configure_logging(args.verbose)
            build_site(args.content, args.out, args.config_file, key)
    except Abort:
        return 1  # mkdocs has logged the plugin's error through our handler already
    except (ContentError, MkDocsException, OSError) as error:
        print(_LineFormatter().format_lines("error", str(error) or type(error).__name__), file=sys.stderr)
        return 1
    return 0


def build_site(content: Path, out: Path, config_file: Path, key: Ed25519PrivateKey | None = None) -> None:
    """Build into a temporary folder next to ``out``, then swap it in; ``key`` signs its site.json."""
    if not config_file.is_file():
        raise SitegenError("configuration file not found", config_file)
    if not content.is_dir():
        raise SitegenError("content folder not found", content)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        with config_file.open("rb") as stream:
            config = load_config(
                stream, config_file_path=str(config_file), docs_dir=str(content.resolve()), site_dir=str(staging)
            )
        for plugin in config.plugins.values():
            if isinstance(plugin, VideoswarmPlugin):
                plugin.signing_key = key
        mkdocs_build(config)
        _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging``: the old site stays whole until the new one is."""
    staging.chmod(0o755)  # mkdtemp makes it private; a site is for everyone to read
    if not out.exists():
        os.replace(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, old / out.name)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time, as ``print`` does."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class _LineFormatter(logging.Formatter):
    """``sitegen: error: ...``, one prefixed line per line of the message."""

    def format(self, record: logging.LogRecord) -> str:
        return self.format_lines(record.levelname.lower(), record.getMessage())

    @staticmethod
    def format_lines(level: str, message: str) -> str:
        return "\n".join(f"sitegen: {level}: {line}" for line in message.strip().splitlines())


def _configure_logging(verbose: bool) -> None:
    mkdocs_log = logging.getLogger("mkdocs")
    if not any(getattr(h, "_sitegen", False) for h in mkdocs_log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_LineFormatter())
        handler._sitegen = True  # type: ignore[attr-defined]
        mkdocs_log.addHandler(handler)
    mkdocs_log.setLevel(logging.INFO if verbose else logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
