"""The WebTorrent tracker protocol: one JSON object per WebSocket text frame.

Binary fields (``info_hash``, ``peer_id``, ``to_peer_id``, ``offer_id``) travel as
20-character strings with one character per byte, so they are decoded as
latin-1 and anything else is refused. Messages are built as the reference
bittorrent-tracker builds them, because webtorrent clients depend on the shape:
a reply without a known ``action`` makes them drop the socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from tracker_app.peers import EVENTS, Event, InfoHash, OfferId, PeerId, ScrapeCounts
from tracker_app.wire.errors import WireError

ANNOUNCE = "announce"
SCRAPE = "scrape"

#: No ``event`` at all is an update too.
_EVENTS: dict[str | None, Event] = {None: Event.UPDATE}
_EVENTS.update(EVENTS)


@dataclass(slots=True)
class Offer:
    offer_id: OfferId
    #: The SDP object, relayed untouched.
    offer: Any


@dataclass(slots=True)
class Announce:
    info_hash: InfoHash
    peer_id: PeerId
    event: Event
    seeder: bool
    offers: list[Offer]
    #: The client's secret ``key`` (libtorrent sends one, webtorrent none): it proves a reconnect is the same client.
    key: str = ""


@dataclass(slots=True)
class Answer:
    info_hash: InfoHash
    peer_id: PeerId
    to_peer_id: PeerId
    offer_id: OfferId
    #: The SDP object, relayed untouched.
    answer: Any


@dataclass(slots=True)
class Scrape:
    #: ``None`` asks for every torrent the tracker knows.
    info_hashes: list[InfoHash] | None


Message = Announce | Answer | Scrape


def parse(frame: str | bytes, max_offers: int) -> Message:
    """Turn one frame into a message, or raise :class:`WireError` saying what is wrong."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise WireError("invalid JSON") from None
    if not isinstance(data, dict):
        raise WireError("a message must be a JSON object")
    action = data.get("action")
    if action == ANNOUNCE:
        return _parse_announce(data, max_offers)
    if action == SCRAPE:
        return _parse_scrape(data)
    raise WireError(f"invalid action: {_show(action)}", info_hash=_maybe_hash(data.get("info_hash")))


def _parse_announce(data: dict[str, Any], max_offers: int) -> Announce | Answer:
    info_hash = InfoHash(binary(data.get("info_hash"), "info_hash", ANNOUNCE))
    try:
        peer_id = PeerId(binary(data.get("peer_id"), "peer_id", ANNOUNCE))
        if data.get("answer") is not None:
            return Answer(
                info_hash=info_hash,
                peer_id=peer_id,
                to_peer_id=PeerId(binary(data.get("to_peer_id"), "to_peer_id", ANNOUNCE)),
                offer_id=OfferId(binary(data.get("offer_id"), "offer_id", ANNOUNCE)),
                answer=_sdp(data["answer"], "answer"),
            )
        event = data.get("event")
        if not (event is None or isinstance(event, str)) or event not in _EVENTS:
            raise WireError(f"invalid event: {_show(event)}")
        return Announce(
            info_hash=info_hash,
            peer_id=peer_id,
            event=_EVENTS[event],
            seeder=_left(data.get("left")) == 0,
            offers=_offers(data.get("offers"), max_offers),
            key=_key(data.get("key")),
        )
    except WireError as exc:
        raise WireError(exc.reason, ANNOUNCE, info_hash) from None


def _parse_scrape(data: dict[str, Any]) -> Scrape:
    raw = data.get("info_hash")
    if raw is None:
        return Scrape(None)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise WireError("info_hash must be a string or a list of strings", SCRAPE)
    return Scrape([InfoHash(binary(item, "info_hash", SCRAPE)) for item in raw])


def binary(value: Any, name: str, action: str | None = None) -> bytes:
    """A 20-byte identifier sent as 20 latin-1 characters."""
    if not isinstance(value, str):
        raise WireError(f"{name} must be a string of 20 characters, not {_type(value)}", action)
    if len(value) != 20:
        raise WireError(f"{name} must be 20 characters long, not {len(value)}", action)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise WireError(f"{name} must use one character per byte (U+0000 to U+00FF)", action) from None


def _key(value: Any) -> str:
    """The client's ``key``: a short string or number, else none (it is optional, so never an error)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 64:
        return ""
    return str(value)


def _left(value: Any) -> float | None:
    """Bytes left to download; missing or null means a leecher."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError(f"left must be a number, not {_type(value)}")
    try:
        left = float(value)
    except ValueError:
        raise WireError(f"left must be a number, not {_show(value)}") from None
    if left < 0:
        raise WireError("left must not be negative")
    return left


def _offers(value: Any, max_offers: int) -> list[Offer]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError(f"offers must be a list, not {_type(value)}")
    if len(value) > max_offers:
        raise WireError(f"too many offers: at most {max_offers} per announce")
    offers = []
    for item in value:
        if not isinstance(item, dict):
            raise WireError("each offer must be an object with offer_id and offer")
        offers.append(Offer(OfferId(binary(item.get("offer_id"), "offer_id")), _sdp(item.get("offer"), "offer")))
    return offers


def _sdp(value: Any, name: str) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("sdp"), str):
        raise WireError(f"{name} must be an object with an sdp string")
    return value


def _maybe_hash(value: Any) -> bytes | None:
    try:
        return binary(value, "info_hash")
    except WireError:
        return None


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__.replace("dict", "object").replace("str", "string")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(raw: bytes) -> str:
    return raw.decode("latin-1")


def _dump(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def announce_reply(info_hash: bytes, complete: int, incomplete: int, interval: int) -> str:
    return _dump(
        {
            "action": ANNOUNCE,
            "interval": interval,
            "info_hash": _text(info_hash),
            "complete": complete,
            "incomplete": incomplete,
        }
    )


def offer_message(info_hash: bytes, from_peer_id: bytes, offer: Offer) -> str:
    """An offer as the chosen peer receives it."""
    return _dump(
        {
            "action": ANNOUNCE,
            "offer": offer.offer,
            "offer_id": _text(offer.offer_id),
            "peer_id": _text(from_peer_id),
            "info_hash": _text(info_hash),
        }
    )


def answer_message(answer: Answer) -> str:
    """An answer as the offering peer receives it: from the answerer, for its offer."""
    return _dump(
        {
            "action": ANNOUNCE,
            "answer": answer.answer,
            "offer_id": _text(answer.offer_id),
            "peer_id": _text(answer.peer_id),
            "info_hash": _text(answer.info_hash),
        }
    )


def scrape_reply(files: dict[InfoHash, ScrapeCounts], interval: int) -> str:
    return _dump(
        {
            "action": SCRAPE,
            "files": {
                _text(info_hash): {"complete": c.complete, "incomplete": c.incomplete, "downloaded": c.downloaded}
                for info_hash, c in files.items()
            },
            "flags": {"min_request_interval": interval},
        }
    )


def failure(reason: str, action: str | None = None, info_hash: bytes | None = None) -> str:
    """A ``failure reason`` reply; an unknown action is answered as an announce, because a
    reply without a known ``action`` makes webtorrent clients drop the socket."""
    message: dict[str, Any] = {"action": action or ANNOUNCE, "failure reason": reason}
    if info_hash is not None:
        message["info_hash"] = _text(info_hash)
    return _dump(message)
