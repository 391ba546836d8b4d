"""``seed``: the command line of the seeder (argparse only; the work is in the other modules)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from . import follow, settings, status
from .add import AddOptions, add
from .errors import SeedError
from .run import RunOptions, run
from .session import Options
from .state import State

_DESCRIPTION = """\
Seed videos to browsers (WebRTC, through WebTorrent trackers) and to BitTorrent
clients (TCP/uTP, through HTTP trackers) with one libtorrent session.

  seed add FILE... --tracker URL   hash files, store their torrents, write content entries
  seed run                         seed everything in the state directory until stopped
  seed status                      show what a running seeder is doing
  seed follow SITE_OR_FEED_URL     mirror a whole site: `seed run` downloads and seeds its videos
  seed unfollow NAME               stop mirroring a site
"""

_ADD_EPILOG = """\
Each FILE becomes a v1 torrent (what browsers' webtorrent understands), stored in the
state directory, and a content entry <slug>.md for `sitegen build` with its .torrent
copied beside it, a poster (<slug>.jpg, a frame 10 % in) and the captions found beside
the video (talk.vtt, talk.en.vtt, talk.fr.srt; .srt becomes .vtt). An MP4 or MOV whose
index is at the end is remuxed losslessly into a copy in the state directory, which is
then seeded, so playback starts before the whole file has arrived. The magnet URI of
each file is printed on stdout, one per line.
Adding the same file again is harmless: same info hash, refreshed trackers and entry.

Web seeds: --webseed is a base URL; a file is served at <base>/<url-encoded file name>,
which is where `seed run --webseed-port` serves it.

example:
  seed add talk.mp4 --tracker wss://tracker.example.org/announce \\
           --webseed https://seed.example.org/
"""

_RUN_EPILOG = """\
Torrents added with `seed add` while this runs are picked up within seconds. SIGTERM or
Ctrl-C saves resume data (so a restart does not re-hash) and exits within 10 s. A status
line per torrent is printed every --status-interval seconds and written to
<state>/status.json for `seed status`.

example:
  seed run --listen 0.0.0.0:6881 --webseed-port 8080
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SeedError as error:
        print(f"seed: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a full disk, a file that vanished: name it, no traceback
        where = f"{error.filename}: " if error.filename else ""
        print(f"seed: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("seed: interrupted", file=sys.stderr)
        return 130


def _add(args: argparse.Namespace) -> int:
    state = State.open(args.state)
    options = AddOptions(
        trackers=args.tracker,
        web_seeds=args.webseed or [],
        content_dir=args.content,
        progress=not args.quiet,
        transcode=args.transcode,
    )
    for added in add(state, args.files, options, warn=lambda text: print(f"seed: warning: {text}", file=sys.stderr)):
        if added.made:
            print(f"seed: {added.made} {added.path} for streaming; seeding the copy {added.seeded}", file=sys.stderr)
        print(f"seed: added {added.path.name} ({added.info_hash}) -> {added.entry}", file=sys.stderr)
        print(added.magnet, flush=True)
    return 0


def _run(args: argparse.Namespace) -> int:
    state = State.open(args.state)
    options = RunOptions(
        session=Options(listen=args.listen, stun_server=args.stun_server),
        webseed_port=args.webseed_port,
        webseed_host=args.webseed_host,
        status_interval=args.status_interval,
        follow_interval=args.follow_interval,
        mirror_grace=args.mirror_grace,
        metadata_timeout=args.metadata_timeout,
    )
    return run(state, options)


_FOLLOW_EPILOG = """\
The URL is a site built by `sitegen build` with site_url set (its pages link to
feed.xml) or the feed itself (RSS with BEP 36 .torrent enclosures or magnet links, or
JSON Feed).
The feed is fetched once now to check it; the running `seed run` then polls it every
--follow-interval, downloads each new video from the swarm or its web seeds into
<state>/mirror/, seeds it to browsers and desktop clients, and deletes a video that left
the feed once --mirror-grace has passed. Videos added with `seed add` are never touched.

examples:
  seed follow https://videos.example.org/
  seed follow https://videos.example.org/feed.xml --max-size 50G --latest 100
  seed follow --list
"""


def _follow(args: argparse.Namespace) -> int:
    state = State.open(args.state)
    if args.list:
        if args.url:
            raise SeedError("seed follow --list takes no URL", exit_code=2)
        for sub in follow.load_all(state):
            limits = [
                f"--max-size {status.size(sub.max_size)}" if sub.max_size else "",
                f"--latest {sub.latest}" if sub.latest else "",
            ]
            print(f"{sub.name}  {sub.url}  {' '.join(filter(None, limits))}".rstrip())
        return 0
    if not args.url:
        raise SeedError("seed follow needs the URL of a site or of its feed (or --list)", exit_code=2)
    checked = follow.follow(state, args.url, args.name, args.max_size, args.latest, args.allow_private)
    sub = checked.subscription
    unknown = f", {checked.unknown_sizes} of unknown size" if checked.unknown_sizes else ""
    if checked.magnet_only:
        unknown += (
            f", {checked.magnet_only} by magnet link only (sizes without xl= are known once their peers "
            "send the metadata)"
        )
    if checked.problem:
        unknown += f" ({checked.problem})"
    print(
        f"seed: following {sub.name}: {sub.url} lists {checked.videos} video{'s' if checked.videos != 1 else ''}, "
        f"{status.size(checked.size)}{unknown}; `seed run --state {state.root}` mirrors them",
        file=sys.stderr,
    )
    return 0


def _unfollow(args: argparse.Namespace) -> int:
    sub = follow.unfollow(State.open(args.state, create=False), args.name)
    print(
        f"seed: no longer following {sub.name} ({sub.url}); a running seeder deletes its videos after the grace period",
        file=sys.stderr,
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    state = State.open(args.state, create=False)
    report = status.read(state.status_file)
    if report is None:
        raise SeedError(f"no seeder is running with state directory {state.root} (no status.json)")
    fresh = report.is_fresh()
    if args.json:
        print(json.dumps({**asdict(report), "running": fresh}, indent=1))
    else:
        print(status.table(report.torrents) if report.torrents else "no torrents")
        for sub in report.subscriptions:
            problem = f": {sub['problem']}" if sub.get("problem") else ""
            print(
                f"following {sub['name']} ({sub['url']}): {sub['videos']} listed, {sub['mirrored']} mirrored, "
                f"{sub['downloading']} downloading{problem}"
            )
    if not fresh:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.updated))
        print(
            f"seed: warning: the seeder (pid {report.pid}) is not running; this is its last report, from {when}",
            file=sys.stderr,
        )
        return 1
    return 0


def _parser(environ: Mapping[str, str] = os.environ) -> argparse.ArgumentParser:
    """Each command's options come from :mod:`seed.settings`, their variables from ``environ``."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="seed",
        description=_DESCRIPTION,
        formatter_class=formatter,
        epilog="Every setting is documented in docs/configuration.md; deployment in docs/seeder.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_cmd = commands.add_parser(
        "add",
        help="hash video files and write their content entries",
        description="Hash video files into torrents and write their content entries.",
        epilog=_ADD_EPILOG,
        formatter_class=formatter,
    )
    add_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE", help="video files (.mp4, .webm, ...)")
    _options(add_cmd, "add", environ)
    add_cmd.set_defaults(handler=_add)

    run_cmd = commands.add_parser(
        "run",
        help="seed everything in the state directory until stopped",
        description="Seed every torrent of the state directory until SIGTERM or Ctrl-C.",
        epilog=_RUN_EPILOG,
        formatter_class=formatter,
    )
    _options(run_cmd, "run", environ)
    run_cmd.set_defaults(handler=_run)

    status_cmd = commands.add_parser(
        "status",
        help="show what the running seeder is doing",
        description="Show the running seeder's latest report: per torrent its "
        "peers, upload rate and total uploaded. Exits 1 if no seeder "
        "is running.",
    )
    _options(status_cmd, "status", environ)
    status_cmd.set_defaults(handler=_status)

    follow_cmd = commands.add_parser(
        "follow",
        help="mirror a site: seed run downloads and seeds its videos",
        description="Follow a site's feed: `seed run` mirrors its videos.",
        epilog=_FOLLOW_EPILOG,
        formatter_class=formatter,
    )
    follow_cmd.add_argument("url", nargs="?", metavar="SITE_OR_FEED_URL", help="the site's address or its feed's")
    _options(follow_cmd, "follow", environ)
    follow_cmd.set_defaults(handler=_follow)

    unfollow_cmd = commands.add_parser(
        "unfollow",
        help="stop mirroring a site",
        description="Forget a subscription; a running seeder then deletes its "
        "videos after the grace period (--mirror-grace).",
    )
    unfollow_cmd.add_argument("name", metavar="NAME", help="the subscription's name or URL (see seed follow --list)")
    _options(unfollow_cmd, "unfollow", environ)
    unfollow_cmd.set_defaults(handler=_unfollow)

    return parser


def _options(command: argparse.ArgumentParser, name: str, environ: Mapping[str, str]) -> None:
    for setting in settings.of(name):
        command.add_argument(*setting.flags, **setting.argument(environ))


if __name__ == "__main__":
    sys.exit(main())
