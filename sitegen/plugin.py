"""The mkdocs plugin: turns a folder of ``<slug>.md`` video entries into a video site.

mkdocs' ``docs_dir`` is the content folder. In ``on_files`` the plugin takes each
top-level ``*.md`` as a video entry (see :mod:`videoswarm_content`), drops it and the
poster and torrent it names from the build, and adds generated pages in their place:

- ``index.html``: every video, with poster, start of the description and live peers;
- ``<slug>/index.html``: the player, title, description, tags and share box, with sharing
  metadata (:mod:`sitegen.metadata`); ``<slug>/embed/``: that video's player alone (for
  iframes, og:video and oEmbed); ``<slug>/oembed.json`` when ``site_url`` is set;
- ``tags/`` and ``tags/<tag>/``: the tags, and each tag's videos (:mod:`sitegen.tags`);
- ``embed/``, ``share/`` and ``publish/``: player-only, paste-a-magnet and seed-from-browser;
- ``assets/``: our scripts and styles, and webtorrent's verified browser bundle;
- ``sw.js``: the service worker that streams torrents to ``<video>``;
- ``allowlist.txt``: every info hash, for the tracker's ``TRACKER_ALLOWLIST``;
- ``csp.txt``: the Content-Security-Policy the site works under (see :mod:`sitegen.csp`);
- ``site.json``, last: every file of the site, hashed and signed (see :mod:`sitegen.manifest`).

Pages render with the configured theme, by default Videoswarm's own (:mod:`sitegen.theme`):
the templates in ``templates/videoswarm/`` extend its ``main.html`` and fill
``{% block content %}`` (and ``extrahead``, with the sharing metadata).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastbencode import bdecode
from markupsafe import Markup, escape
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.theme import Theme
from tqdm import tqdm

from videoswarm_content.entry import Entry
from videoswarm_content.errors import ContentError, ContentErrors
from videoswarm_content.files import outside_problem
from videoswarm_content.magnet import web_seed_url
from videoswarm_content.reader import load_entries
from videoswarm_content.schemes import HTTP_SCHEMES, WEBSOCKET_SCHEMES, has_scheme, spelled

from .bundle import load_bundle
from .csp import inline_script_hashes, policy
from .description import DescriptionError, DescriptionRenderer
from .errors import SitegenError
from .feeds import JSON_PATH, RSS_PATH, FeedItem, Site, discovery_tags, json_feed, rss
from .manifest import check_site_mirror, head_tags, write_manifest
from .metadata import VideoLinks, VideoMetadata, video_metadata
from .mirrors import check_mirror, torrent_with_web_seeds, with_mirrors
from .signing import public_key
from .tags import Tag, group_by_tag, tag_slug

log = logging.getLogger("mkdocs.plugins.videoswarm")

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
ASSETS = PACKAGE / "assets"
_OUR_ASSETS = (
    "player.js",
    "format.js",
    "video-page.js",
    "embed-page.js",
    "share-page.js",
    "publish-page.js",
    "index-page.js",
    "videoswarm.css",
)
_PAGES = {
    "index.md": "index",
    "share/index.md": "share",
    "publish/index.md": "publish",
    "embed/index.md": "embed",
    "tags/index.md": "tags",
}
_TITLES = {"share": "Share a video", "publish": "Publish", "embed": "Player", "tags": "Tags"}
#: The theme a mkdocs.yml without ``theme:`` gets (sitegen/theme, entry point ``mkdocs.themes``).
THEME = "videoswarm"
#: What a site without ``ice_servers`` gets: two public STUN services of different operators, so
#: viewers behind NATs learn their public address and reach each other. Google's is the one
#: libtorrent's seeder uses by default; Cloudflare's is the fallback. Each sees a viewer's IP
#: address when a player starts, not what is watched (docs/networks.md weighs that).
DEFAULT_ICE_SERVERS = (
    {"urls": "stun:stun.l.google.com:19302"},
    {"urls": "stun:stun.cloudflare.com:3478"},
)
_ICE_SCHEMES = ("stun", "stuns", "turn", "turns")


class VideoswarmConfig(Config):  # type: ignore[no-untyped-call]  # mkdocs' Config.__init_subclass__
    #: WebSocket trackers every player announces to, besides the magnet's own ``tr=``.
    trackers = c.ListOfItems(c.Type(str), default=[])
    #: RTCPeerConnection ``iceServers`` (STUN/TURN) for the players; ``[]`` for none (docs/networks.md).
    ice_servers = c.ListOfItems(c.Type(dict), default=list(DEFAULT_ICE_SERVERS))
    #: Where in the site the info hash list for ``TRACKER_ALLOWLIST`` goes; empty for none.
    allowlist = c.Type(str, default="allowlist.txt")
    #: Where in the site the recommended Content-Security-Policy goes; empty for none.
    csp = c.Type(str, default="csp.txt")
    #: Fetch the player bundle from the npm registry when it is not cached.
    fetch = c.Type(bool, default=True)
    #: Web seed base URLs of volunteers' mirrors (``seed run --webseed-port``), added to every video.
    mirrors = c.ListOfItems(c.Type(str), default=[])
    #: How many videos ``feed.xml`` and ``feed.json`` list, newest first; 0 for all.
    feed_limit = c.Type(int, default=0)
    #: https URLs of full copies of the site (not web seeds): in the footer, the feeds, site.json and <link>s.
    site_mirrors = c.ListOfItems(c.Type(str), default=[])


@dataclass(frozen=True)
class _Generated:
    kind: str
    entry: Entry | None = None
    tag: Tag | None = None


class VideoswarmPlugin(BasePlugin[VideoswarmConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self._pages: dict[str, _Generated] = {}
        self._entries: list[Entry] = []
        self._descriptions: dict[str, Markup] = {}
        self._renderer = DescriptionRenderer()
        self._script_hashes: set[str] = set()
        self._progress: tqdm[Any] | None = None
        self._tags: dict[str, Tag] = {}
        #: The .torrent published for each slug: the entry's, with the mirrors in its url-list.
        self._torrents: dict[str, bytes] = {}
        #: Each slug's description as plain text, and its sharing metadata: made once, shown on several pages.
        self._excerpts: dict[str, str] = {}
        self._metadata: dict[str, VideoMetadata] = {}
        #: The publisher's key, which ``sitegen build --sign`` sets; None builds an unsigned site.json.
        self.signing_key: Ed25519PrivateKey | None = None
        self._site_mirrors: list[str] = []

    # --- mkdocs events, in build order ---

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for url in self.config.trackers:
            if not has_scheme(url, WEBSOCKET_SCHEMES):
                raise PluginError(
                    f"videoswarm: trackers must be WebSocket URLs ({spelled(WEBSOCKET_SCHEMES)}), not {url!r}"
                )
        for index, server in enumerate(self.config.ice_servers):
            problem = _ice_server_problem(server)
            if problem:
                raise PluginError(f"videoswarm: ice_servers entry {index + 1} ({_ice_name(server)}): {problem}")
        if not _names_theme(config):
            config.theme = Theme(THEME, locale=str(config.theme.locale))
        try:
            for url in self.config.mirrors:
                check_mirror(url)
            self._site_mirrors = [check_site_mirror(url) for url in self.config.site_mirrors]
        except SitegenError as error:
            raise PluginError(str(error)) from None
        if self.config.feed_limit < 0:
            raise PluginError(f"videoswarm: feed_limit must be 0 (all) or more, not {self.config.feed_limit}")
        config.theme.dirs.append(str(TEMPLATES))
        config.extra_css.append("assets/videoswarm.css")
        if config.nav is None:
            config.nav = [
                {"Videos": "index.md"},
                {"Tags": "tags/index.md"},
                {"Share": "share/index.md"},
                {"Publish": "publish/index.md"},
            ]
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        docs_dir = Path(config.docs_dir)
        try:
            self._entries = [with_mirrors(e, self.config.mirrors) for e in load_entries(docs_dir)]
            self._torrents = self._published_torrents()
            self._descriptions = self._render_descriptions()
            self._excerpts = {slug: self._renderer.excerpt(html) for slug, html in self._descriptions.items()}
            self._metadata = {e.slug: self._make_metadata(e, config) for e in self._entries}
            bundle = load_bundle(fetch=self.config.fetch)
        except ContentError as error:
            raise PluginError(str(error)) from None

        # The entries' own files are published through their pages, not copied as they are.
        used = {
            p.resolve()
            for e in self._entries
            for p in (e.source, e.torrent, e.poster, *(c.path for c in e.captions))
            if p is not None
        }
        for file in list(files):
            if file.abs_src_path and Path(file.abs_src_path).resolve() in used:
                files.remove(file)
            elif file.src_uri in _PAGES or file.src_uri.startswith(("assets/", "sw.js", "tags/")):
                raise PluginError(f"videoswarm: {file.src_uri} in {docs_dir} clashes with a generated file")
            elif file.abs_src_path and file.src_dir == config.docs_dir:
                _check_inside(Path(file.abs_src_path), docs_dir)

        self._pages = {}
        self._tags = group_by_tag(self._entries)
        for src_uri, kind in _PAGES.items():
            self._add_page(files, config, src_uri, _Generated(kind))
        for tag in self._tags.values():
            self._add_page(files, config, f"{tag.uri}index.md", _Generated("tag", tag=tag))
        for entry in self._entries:
            self._add_page(files, config, f"{entry.slug}/index.md", _Generated("video", entry))
            self._add_page(files, config, f"{entry.slug}/embed/index.md", _Generated("embed", entry))
            if entry.torrent:
                files.append(File.generated(config, _torrent_uri(entry), content=self._torrents[entry.slug]))
            if entry.poster:
                files.append(File.generated(config, _poster_uri(entry), abs_src_path=str(entry.poster)))
            for caption in entry.captions:
                files.append(
                    File.generated(config, f"{entry.slug}/{caption.path.name}", abs_src_path=str(caption.path))
                )
            oembed = self._metadata[entry.slug].oembed
            if oembed is not None:
                files.append(File.generated(config, f"{entry.slug}/oembed.json", content=oembed + "\n"))
        for name in _OUR_ASSETS:
            files.append(File.generated(config, f"assets/{name}", abs_src_path=str(ASSETS / name)))
        files.append(File.generated(config, "sw.js", abs_src_path=str(ASSETS / "sw.js")))
        files.append(File.generated(config, "assets/webtorrent.min.js", content=bundle.webtorrent))
        if self.config.allowlist:
            files.append(File.generated(config, self.config.allowlist, content=self._allowlist()))
        for feed in self._feeds(config):
            files.append(feed)
        self._check_page_folders(files, config)
        self._script_hashes = set()
        # Shown only on a terminal (tqdm turns itself off otherwise): reading, then writing, every page.
        self._progress = tqdm(
            total=len(files.documentation_pages()), desc="Reading pages", unit=" pages", disable=None, leave=False
        )
        return files

    def on_pre_page(self, page: Page, config: MkDocsConfig, files: Files) -> Page:
        if self._progress is not None:
            self._progress.update()
        return page

    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        if self._progress is not None:
            self._progress.reset()
            self._progress.set_description("Writing pages")
        # For the footer of every page (404.html too): where else the site lives.
        env.globals["videoswarm_site_mirrors"] = [
            {"url": url, "label": url.split("://", 1)[1].rstrip("/")} for url in self._site_mirrors
        ]
        return env

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        generated = self._pages.get(page.file.src_uri)
        if generated is None:
            return None
        page.meta["template"] = f"videoswarm/{generated.kind}.html"
        if generated.entry is not None:
            # Themes print page.title unescaped (in <title>, the nav, ...): hand them escaped text.
            page.meta["title"] = escape(generated.entry.title)
        elif generated.tag is not None:
            page.meta["title"] = escape(f"Tagged {generated.tag.name}")
        elif generated.kind in _TITLES:
            page.meta.setdefault("title", _TITLES[generated.kind])
        return ""

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        generated = self._pages.get(page.file.src_uri)
        if generated is None or generated.entry is None or generated.kind != "video":
            return None
        return self._description(generated.entry)

    def on_page_context(  # type: ignore[override]  # mkdocs' TemplateContext has no key for our data
        self, context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any
    ) -> dict[str, Any]:
        generated = self._pages.get(page.file.src_uri)
        if generated is not None:
            context["videoswarm"] = self._context(generated, config)
        return context

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        self._script_hashes |= inline_script_hashes(output)
        if self._progress is not None:
            self._progress.update()
        head = discovery_tags(_base(config.site_url), config.site_name) if config.site_url else ""
        head += head_tags(page.url, self._site_mirrors, self._public_key())
        if head and "</head>" in output:
            output = output.replace("</head>", head + "</head>", 1)
        return output

    def on_post_template(self, output_content: str, template_name: str, config: MkDocsConfig) -> str:
        self._script_hashes |= inline_script_hashes(output_content)
        return output_content

    @event_priority(-100)  # after every other plugin's files: site.json lists them all
    def on_post_build(self, config: MkDocsConfig) -> None:
        self._close_progress()
        if not config.site_url:
            log.warning(
                "videoswarm: no site_url in mkdocs.yml, so no feed.xml or feed.json (which mirrors follow), "
                "no link previews (og:image, og:video, twitter:player) and no oEmbed; "
                "set it to the site's public URL"
            )
        if self.config.csp:
            path = Path(config.site_dir) / self.config.csp
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(policy(self._script_hashes, self.config.trackers) + "\n")
        if self.signing_key is None:
            log.warning(
                "videoswarm: no signing key (sitegen build --sign KEYFILE, or SITEGEN_SIGNING_KEY; make one with "
                "sitegen keygen), so site.json is unsigned and mirrors cannot copy the site"
            )
        try:
            write_manifest(Path(config.site_dir), config.site_url, self._site_mirrors, self.signing_key)
        except SitegenError as error:
            raise PluginError(str(error)) from None

    def on_build_error(self, error: Exception) -> None:
        self._close_progress()

    # --- helpers ---

    def _public_key(self) -> str | None:
        return public_key(self.signing_key) if self.signing_key is not None else None

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def _add_page(self, files: Files, config: MkDocsConfig, src_uri: str, generated: _Generated) -> None:
        self._pages[src_uri] = generated
        files.append(File.generated(config, src_uri, content=""))

    def _render_descriptions(self) -> dict[str, Markup]:
        """Every entry's description, rendered once; :class:`ContentErrors` names each that cannot be."""
        rendered: dict[str, Markup] = {}
        errors: list[ContentError] = []
        for entry in self._entries:
            try:
                rendered[entry.slug] = self._renderer.html(entry.description)
            except DescriptionError as error:
                errors.append(ContentError(str(error), entry.source, entry.description_line))
        if errors:
            raise ContentErrors(errors)
        return rendered

    def _description(self, entry: Entry) -> Markup:
        return self._descriptions[entry.slug]

    def _check_page_folders(self, files: Files, config: MkDocsConfig) -> None:
        """A page folder ``<slug>/`` must not take the name of a file the build writes (csp.txt, 404.html...)."""
        written = {file.dest_uri for file in files if "/" not in file.dest_uri}
        written |= {name for template in config.theme.static_templates for name in (template, f"{template}.gz")}
        written |= set(config.extra_templates) | {self.config.csp}
        errors = [
            ContentError(
                f"file name {entry.slug!r} would make the page folder {entry.slug}/, but the build "
                f"writes a file of that name; rename the entry",
                entry.source,
            )
            for entry in self._entries
            if entry.slug in written
        ]
        if errors:
            raise PluginError(str(ContentErrors(errors)))

    def _trackers(self, entry: Entry | None = None) -> list[str]:
        """The magnet's trackers, then the site's, without repeats."""
        own = list(entry.magnet.trackers) if entry else []
        return list(dict.fromkeys(own + list(self.config.trackers)))

    def _context(self, generated: _Generated, config: MkDocsConfig) -> dict[str, Any]:
        settings: dict[str, Any] = {"trackers": self._trackers(), "iceServers": self.config.ice_servers}
        context: dict[str, Any] = {"kind": generated.kind, "settings": settings}
        entry = generated.entry
        if generated.kind == "index":
            context["entries"] = [self._card(e) for e in self._entries]
        elif generated.kind == "tags":
            context["tags"] = list(self._tags.values())
        elif generated.tag is not None:
            context.update(tag=generated.tag, entries=[self._card(e) for e in generated.tag.entries])
        elif entry is not None:
            # Paths are relative to the page: <slug>/index.html, or <slug>/embed/index.html.
            up = "../" if generated.kind == "embed" else ""
            settings.update(
                magnet=entry.magnet.uri,
                trackers=self._trackers(entry),
                webSeeds=list(entry.magnet.web_seeds),
                torrent=f"{up}{entry.slug}.torrent" if entry.torrent else None,
                poster=up + Path(_poster_uri(entry)).name if entry.poster else None,
                duration=entry.duration,
            )
            context.update(
                entry=entry,
                duration=_duration(entry.duration),
                torrent_url=_torrent_uri(entry) if entry.torrent else None,
                captions=[{"src": up + c.path.name, "lang": c.lang, "label": c.label} for c in entry.captions],
                # The <video> starts on the first web seed that names the file, before any script runs.
                http_src=next((url for url in entry.magnet.web_seeds if not url.endswith("/")), None),
                tags=[self._tags[slug] for slug in dict.fromkeys(map(tag_slug, entry.tags))],
                metadata=self._metadata[entry.slug],
            )
        return context

    def _card(self, entry: Entry) -> dict[str, Any]:
        """What the index and tag pages show of a video."""
        return {
            "entry": entry,
            "poster_url": _poster_uri(entry) if entry.poster else None,
            "excerpt": self._excerpts[entry.slug],
            "duration": _duration(entry.duration),
            "trackers": self._trackers(entry),
        }

    def _make_metadata(self, entry: Entry, config: MkDocsConfig) -> VideoMetadata:
        summary = self._excerpts[entry.slug]
        links = None
        if config.site_url:
            page = f"{config.site_url.rstrip('/')}/{entry.slug}/"
            links = VideoLinks(
                page=page,
                embed=page + "embed/",
                oembed=page + "oembed.json",
                poster=page + Path(_poster_uri(entry)).name if entry.poster else None,
            )
        return video_metadata(entry, summary, config.site_name, links)

    def _published_torrents(self) -> dict[str, bytes]:
        torrents = {}
        for entry in self._entries:
            if entry.torrent is not None and entry.magnet.name:
                urls = [web_seed_url(base, entry.magnet.name) for base in self.config.mirrors]
                torrents[entry.slug] = torrent_with_web_seeds(entry.torrent.read_bytes(), urls, str(entry.torrent))
            elif entry.torrent is not None:
                torrents[entry.slug] = entry.torrent.read_bytes()
        return torrents

    def _feeds(self, config: MkDocsConfig) -> list[File]:
        """``feed.xml`` and ``feed.json``, which need absolute URLs: none without ``site_url``."""
        if not config.site_url:
            return []
        base = _base(config.site_url)
        site = Site(
            config.site_name,
            base,
            config.site_description or f"Videos from {config.site_name}",
            self._public_key(),
            tuple(self._site_mirrors),
        )
        entries = self._entries[: self.config.feed_limit] if self.config.feed_limit else self._entries
        items = [
            FeedItem(
                entry=e,
                page_url=f"{base}{e.slug}/",
                torrent_url=base + _torrent_uri(e) if e.slug in self._torrents else None,
                torrent_size=len(self._torrents.get(e.slug, b"")),
                content_size=_content_size(self._torrents.get(e.slug)),
                poster_url=base + _poster_uri(e) if e.poster else None,
                description_html=str(self._description(e)),
            )
            for e in entries
        ]
        try:
            feed = rss(site, items)
        except ValueError as error:  # lxml: a character XML cannot hold, e.g. from site_name in mkdocs.yml
            raise PluginError(f"videoswarm: cannot write {RSS_PATH}: {error}") from None
        return [
            File.generated(config, RSS_PATH, content=feed),
            File.generated(config, JSON_PATH, content=json_feed(site, items)),
        ]

    def _allowlist(self) -> str:
        lines = ["# Info hashes of every video on this site, for the tracker's TRACKER_ALLOWLIST."]
        lines += [f"{e.magnet.info_hash}  # {e.slug}" for e in sorted(self._entries, key=lambda e: e.slug)]
        return "\n".join(lines) + "\n"


def _names_theme(config: MkDocsConfig) -> bool:
    """Whether mkdocs.yml (or an override) chose a theme; mkdocs itself falls back to ``mkdocs``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # user_configs: mkdocs 1.x keeps it; we pin <2
        return any("theme" in user for user in config.user_configs)


def _check_inside(path: Path, docs_dir: Path) -> None:
    """Any other file of the content folder is copied as it is: never one a symlink leads out to."""
    problem = outside_problem(path, docs_dir)
    if problem:
        raise PluginError(str(ContentError(problem, path)))


def _ice_urls(server: dict[str, Any]) -> list[Any]:
    urls = server.get("urls")
    return urls if isinstance(urls, list) else [urls]


def _ice_name(server: dict[str, Any]) -> str:
    """An entry as an error names it: its URLs, never its credentials."""
    return ", ".join(map(str, _ice_urls(server))) if server.get("urls") else "no urls"


def _ice_server_problem(server: dict[str, Any]) -> str | None:
    """Why RTCPeerConnection would refuse ``server`` (or a TURN server would), or None.

    A TURN server needs credentials: fixed ones (``username``, ``credential``) or the
    tracker's short-lived ones (``credentials_url``, tracker_app/endpoints/turn.py)."""
    urls = _ice_urls(server)
    if not server.get("urls") or not all(isinstance(url, str) and url for url in urls):
        return "needs 'urls': a stun:, stuns:, turn: or turns: URL, or a list of them"
    for url in urls:
        scheme = url.split(":", 1)[0].lower()
        if scheme not in _ICE_SCHEMES or ":" not in url:
            return f"{url!r} is not a stun:, stuns:, turn: or turns: URL"
        if scheme.startswith("turn") and not (
            ("username" in server and "credential" in server) or "credentials_url" in server
        ):
            return "a TURN URL needs 'username' and 'credential', or a 'credentials_url'"
    if "credentials_url" in server and not has_scheme(str(server["credentials_url"]), HTTP_SCHEMES):
        return f"credentials_url must be an {spelled(HTTP_SCHEMES)} URL"
    return None


def _torrent_uri(entry: Entry) -> str:
    return f"{entry.slug}/{entry.slug}.torrent"


def _poster_uri(entry: Entry) -> str:
    assert entry.poster is not None
    return f"{entry.slug}/poster{entry.poster.suffix.lower()}"


def _base(site_url: str) -> str:
    return site_url if site_url.endswith("/") else site_url + "/"


def _content_size(torrent: bytes | None) -> int | None:
    """The video's size in bytes, from its (already checked) .torrent."""
    if torrent is None:
        return None
    info = bdecode(torrent)[b"info"]
    length = info.get(b"length")
    return length if isinstance(length, int) else sum(f[b"length"] for f in info.get(b"files", []))


def _duration(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}"
