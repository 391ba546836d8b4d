"""``site.json``: the signed list of every file of a built site, which mirrors check their copy against.

``sitegen build`` writes it at the site's root; ``seed follow`` will read it. Both use this
module, which does no I/O. The file is a JSON object of two members::

    {"manifest": "<the body: a JSON text, as a string>", "signature": "<base64>" or null}

The Ed25519 signature covers the UTF-8 bytes of the ``manifest`` string exactly as they
stand, so a verifier needs no JSON canonicalisation: it checks those bytes, then parses
them (``jq '.manifest | fromjson' site.json`` shows the body). The body holds the format
version, the build time, the canonical ``site_url``, the ``site_mirrors`` (full copies of
the site), the publisher's public key and every other file of the site (relative POSIX
path, size in bytes, SHA-256 in hex), sorted by path.

Parsing is strict, because a manifest may come from anyone: each problem is one line (a
:class:`ManifestError`), paths that could leave the site's folder are refused, and so are
more than :data:`MAX_FILES` files or more than :data:`MAX_BYTES` bytes.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import ContentError

#: Where the manifest goes, at the site's root.
PATH = "site.json"
FORMAT = 1
#: A site of 10,000 videos has about 60,000 files (page, embed page, .torrent, poster, oEmbed, captions).
MAX_FILES = 200_000
#: 200,000 entries of about 160 bytes each, with room to spare.
MAX_BYTES = 64 * 2**20
#: How a public key is written everywhere it is published: ``ed25519:`` and its 32 bytes in base64.
KEY_PREFIX = "ed25519:"
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_ENVELOPE_KEYS = {"manifest", "signature"}
_BODY_KEYS = {"format", "built", "site_url", "site_mirrors", "public_key", "files"}
_FILE_KEYS = {"path", "size", "sha256"}


class ManifestError(ContentError):
    """A manifest that cannot be trusted or read; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative POSIX path inside the site, checked by :func:`path_problem`
    size: int
    sha256: str  # lowercase hex

    def check(self, data: bytes) -> None:
        """Refuse ``data`` (one :class:`ManifestError` line) unless it is this file, byte for byte."""
        if len(data) != self.size:
            raise ManifestError(f"{self.path}: {len(data):,} bytes, but the manifest says {self.size:,}")
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise ManifestError(f"{self.path}: SHA-256 does not match the manifest's (changed or damaged)")


@dataclass(frozen=True)
class Manifest:
    built: datetime.datetime  # UTC
    site_url: str | None
    site_mirrors: tuple[str, ...]
    public_key: str | None  # ``ed25519:<base64>``; None in an unsigned manifest
    files: tuple[FileEntry, ...]
    format: int = FORMAT

    def body(self) -> bytes:
        """The bytes that are signed: compact, sorted, ASCII-only JSON (so the string form holds them exactly)."""
        return json.dumps(
            {
                "format": self.format,
                "built": self.built.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "site_url": self.site_url,
                "site_mirrors": list(self.site_mirrors),
                "public_key": self.public_key,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
            },
            ensure_ascii=True,
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")


@dataclass(frozen=True)
class Envelope:
    """A parsed ``site.json`` whose signature is not checked yet (see :func:`verify`)."""

    manifest: Manifest
    body: bytes
    signature: bytes | None


def encode_key(raw: bytes) -> str:
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def decode_key(text: str) -> bytes:
    """The 32 raw bytes of an ``ed25519:<base64>`` key, or a :class:`ManifestError`."""
    raw = _base64(text.removeprefix(KEY_PREFIX), 32) if text.startswith(KEY_PREFIX) else None
    if raw is None:
        raise ManifestError(f"{text[:80]!r} is not a public key (ed25519: and 32 bytes in base64)")
    return raw


def dumps(manifest: Manifest, signature: bytes | None) -> bytes:
    """The whole ``site.json``: the body as a string member, the signature beside it."""
    envelope = {
        "manifest": manifest.body().decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii") if signature is not None else None,
    }
    return json.dumps(envelope, indent=1).encode("ascii") + b"\n"


def parse(data: bytes) -> Envelope:
    """``site.json`` checked for form (every path, size and digest), but not for its signature."""
    if len(data) > MAX_BYTES:
        raise ManifestError(f"manifest is {len(data):,} bytes, more than the {MAX_BYTES:,} allowed")
    outer = _json(data, "manifest file")
    if not isinstance(outer, dict) or set(outer) != _ENVELOPE_KEYS:
        raise ManifestError("manifest file is not a JSON object of exactly 'manifest' and 'signature'")
    text, signature_text = outer["manifest"], outer["signature"]
    if not isinstance(text, str) or not text.isascii():
        raise ManifestError("manifest member is not an ASCII string")
    signature = None
    if signature_text is not None:
        signature = _base64(signature_text, 64) if isinstance(signature_text, str) else None
        if signature is None:
            raise ManifestError("signature is not 64 bytes in base64, nor null")
    body = text.encode("ascii")
    return Envelope(_manifest(_json(body, "manifest member")), body, signature)


def verify(data: bytes, pinned_key: str | None = None) -> Manifest:
    """The manifest in ``site.json`` if its signature holds (and is by ``pinned_key``, when given).

    Refuses, with one line each: a malformed manifest, an unsigned one, a bad signature,
    and a key other than the pinned one (as SSH refuses a changed host key).
    """
    envelope = parse(data)
    key = envelope.manifest.public_key
    if envelope.signature is None or key is None:
        raise ManifestError("manifest is not signed")
    if pinned_key is not None and key != pinned_key:
        raise ManifestError(f"manifest is signed by {key}, not by the pinned key {pinned_key}: refusing a changed key")
    try:
        Ed25519PublicKey.from_public_bytes(decode_key(key)).verify(envelope.signature, envelope.body)
    except InvalidSignature:
        raise ManifestError(f"bad signature: the manifest was changed after {key} signed it") from None
    return envelope.manifest


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a file inside a site's folder on any system, or None."""
    if not path:
        return "is empty"
    if "\x00" in path or any(ord(ch) < 0x20 for ch in path):
        return "has a NUL or control character"
    if "\\" in path:
        return "has a backslash"
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "is absolute"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "has an empty, '.' or '..' part"
    return None


def _manifest(body: object) -> Manifest:
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise ManifestError(f"manifest body must have exactly the keys {', '.join(sorted(_BODY_KEYS))}")
    if body["format"] != FORMAT or isinstance(body["format"], bool):
        raise ManifestError(f"manifest format {body['format']!r} is not {FORMAT}; a newer sitegen wrote it")
    built = _built(body["built"])
    site_url = body["site_url"]
    if site_url is not None and not isinstance(site_url, str):
        raise ManifestError("site_url is not a string nor null")
    mirrors = body["site_mirrors"]
    if not isinstance(mirrors, list) or not all(isinstance(url, str) for url in mirrors):
        raise ManifestError("site_mirrors is not a list of URLs")
    key = body["public_key"]
    if key is not None:
        if not isinstance(key, str):
            raise ManifestError("public_key is not a string nor null")
        decode_key(key)
    return Manifest(built, site_url, tuple(mirrors), key, _files(body["files"]))


def _files(files: object) -> tuple[FileEntry, ...]:
    if not isinstance(files, list):
        raise ManifestError("files is not a list")
    if len(files) > MAX_FILES:
        raise ManifestError(f"manifest lists {len(files):,} files, more than the {MAX_FILES:,} allowed")
    entries: list[FileEntry] = []
    seen: set[str] = set()
    for number, item in enumerate(files, 1):
        if not isinstance(item, dict) or set(item) != _FILE_KEYS:
            raise ManifestError(f"manifest file {number} must have exactly the keys path, size and sha256")
        path, size, digest = item["path"], item["size"], item["sha256"]
        problem = path_problem(path) if isinstance(path, str) else "is not a string"
        if problem:
            raise ManifestError(f"manifest file {number}: path {str(path)[:200]!r} {problem}: refused")
        if path in seen:
            raise ManifestError(f"manifest file {number}: path {path!r} is listed twice")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"manifest file {number} ({path}): size {size!r} is not a whole number >= 0")
        if not isinstance(digest, str) or not _HEX_SHA256.match(digest):
            raise ManifestError(f"manifest file {number} ({path}): sha256 is not 64 lowercase hex digits")
        seen.add(path)
        entries.append(FileEntry(path, size, digest))
    return tuple(entries)


def _built(text: object) -> datetime.datetime:
    try:
        if not isinstance(text, str) or not text.endswith("Z"):
            raise ValueError
        return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)
    except ValueError:
        raise ManifestError(f"built {str(text)[:40]!r} is not a UTC time like 2026-01-31T12:00:00Z") from None


def _json(data: bytes, what: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ManifestError(f"{what} is not JSON ({str(error).splitlines()[0][:120]})") from None


def _base64(text: str, length: int) -> bytes | None:
    """Strict base64 of exactly ``length`` bytes, or None."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == length and base64.b64encode(raw).decode() == text else None
