"""The wire parsers on their own: exact results, and no input makes them fail other than with WireError."""

from __future__ import annotations

import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker_app.peers import Event
from tracker_app.wire import WireError, http, websocket

# Other tests' browsers and servers share CI's two cores: slow generation is not a failure.
settings.register_profile("shared-cores", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-cores")

IDS = st.binary(min_size=20, max_size=20).map(lambda b: b.decode("latin-1"))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | IDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["announce", "scrape", "x"]),
        "info_hash": IDS | JSON,
        "peer_id": IDS | JSON,
        "event": st.sampled_from(["started", "stopped", "completed", "empty", "paused", "bogus"]) | JSON,
        "left": JSON,
        "offers": st.lists(st.fixed_dictionaries({"offer_id": IDS | JSON, "offer": JSON}), max_size=3) | JSON,
        "answer": JSON,
        "to_peer_id": IDS | JSON,
        "offer_id": IDS | JSON,
    },
)


def test_announce_with_offers() -> None:
    frame = orjson.dumps(
        {
            "action": "announce",
            "info_hash": "\x00" * 19 + "\xff",
            "peer_id": "-WW0208-" + "a" * 12,
            "event": "completed",
            "left": 0,
            "offers": [{"offer_id": "o" * 20, "offer": {"type": "offer", "sdp": "v=0"}}],
        }
    )
    message = websocket.parse(frame, max_offers=10)
    assert isinstance(message, websocket.Announce)
    assert message.info_hash == b"\x00" * 19 + b"\xff"
    assert (message.event, message.seeder, message.offers[0].offer_id) == (Event.COMPLETED, True, b"o" * 20)


def test_offers_beyond_the_limit_are_refused() -> None:
    offers = [{"offer_id": "o" * 20, "offer": {"type": "offer", "sdp": "v=0"}}] * 6
    frame = orjson.dumps({"action": "announce", "info_hash": "i" * 20, "peer_id": "p" * 20, "offers": offers})
    try:
        websocket.parse(frame, max_offers=5)
    except WireError as exc:
        assert (exc.reason, exc.info_hash) == ("too many offers: at most 5 per announce", b"i" * 20)
    else:
        raise AssertionError("six offers passed a limit of five")


@given(st.binary(max_size=200))
def test_websocket_parser_survives_any_bytes(frame: bytes) -> None:
    try:
        websocket.parse(frame, max_offers=10)
    except WireError:
        pass


@given(FIELDS)
def test_websocket_parser_survives_any_fields(fields: dict) -> None:
    try:
        websocket.parse(json.dumps(fields), max_offers=10)
    except WireError as exc:
        assert exc.reason


@given(st.binary(max_size=300))
def test_http_parsers_survive_any_query(query: bytes) -> None:
    for parse in (lambda: http.parse_announce(query, 50, 200), lambda: http.parse_scrape(query, 10)):
        try:
            parse()
        except WireError:
            pass


def test_http_query_keeps_binary_bytes() -> None:
    params = http.parse_query(b"info_hash=%00%FFabc&peer_id=a+b&x")
    assert params[b"info_hash"] == [b"\x00\xffabc"]
    assert params[b"peer_id"] == [b"a b"]
    assert params[b"x"] == [b""]
