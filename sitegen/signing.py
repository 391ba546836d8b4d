"""The publisher's Ed25519 key: ``sitegen keygen`` makes it, ``sitegen build --sign`` signs ``site.json`` with it.

The crypto is pyca's ``cryptography`` (the OpenSSL bindings most of Python's TLS and
signing code uses, released every few weeks), not PyNaCl: it was the better-kept of the
two, and its key files are plain PKCS#8 PEM that ``openssl pkey`` reads too.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from videoswarm_content.manifest import encode_key

from .errors import SitegenError


def keygen(path: Path) -> Ed25519PrivateKey:
    """A new key pair, its private half written to ``path`` (owner-only), never over an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        # O_EXCL: refuse to overwrite even if the file appears between a check and the write.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SitegenError(
            "already exists: refusing to overwrite a key (mirrors pinned its public key); move it away first", path
        ) from None
    with os.fdopen(fd, "wb") as stream:
        stream.write(pem)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``, or one :class:`SitegenError` line naming the file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SitegenError(f"cannot read the signing key ({error.strerror})", path) from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SitegenError(f"not a signing key from `sitegen keygen` ({str(error).splitlines()[0]})", path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SitegenError(f"a {type(key).__name__}, not an Ed25519 key from `sitegen keygen`", path)
    return key


def public_key(key: Ed25519PrivateKey) -> str:
    """The public half as published: ``ed25519:<base64>``."""
    return encode_key(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
