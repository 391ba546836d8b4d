"""The seeder's upload by kind (seed/uploads.py): every byte libtorrent reports goes to the
kind of the connection that carried it, also when that connection closed between samples."""

from __future__ import annotations

from seed.uploads import BITTORRENT, WEBRTC, Peer, UploadCounter, kind_of

BROWSER, CLIENT = ("127.0.0.1", 50001), ("127.0.0.1", 50002)


def test_kinds_come_from_libtorrents_connect_message() -> None:
    assert kind_of("6f57ea peer 127.0.0.1:52186 outgoing connection to peer (RTC)") == WEBRTC
    assert kind_of("6f57ea peer 127.0.0.1:60579 incoming connection to peer (TCP)") == BITTORRENT
    assert kind_of("6f57ea peer 127.0.0.1:50750 incoming connection to peer (uTP)") == BITTORRENT


def test_bytes_are_split_by_kind_and_add_up_to_libtorrents_total() -> None:
    counter = UploadCounter()
    assert counter.active() == []
    counter.connected("t", BROWSER, WEBRTC)
    counter.connected("t", CLIENT, BITTORRENT)
    counter.sample("t", 300, [Peer(BROWSER, 100), Peer(CLIENT, 200)])
    assert counter.by_kind("t") == {WEBRTC: 100, BITTORRENT: 200}

    # The browser sent 50 more and left before the next sample: its tail is still its own.
    counter.sample("t", 400, [Peer(CLIENT, 250)])
    assert counter.by_kind("t") == {WEBRTC: 150, BITTORRENT: 250}

    # A browser that came and went between two samples.
    counter.connected("t", ("127.0.0.1", 50003), WEBRTC)
    counter.sample("t", 1400, [Peer(CLIENT, 250)])
    assert counter.by_kind("t") == {WEBRTC: 1150, BITTORRENT: 250}
    assert sum(counter.by_kind("t").values()) == 1400
    assert counter.active() == ["t"]  # the client is still connected
    counter.sample("t", 1400, [])  # the sample that sees it gone is the last one needed
    assert counter.active() == []

    counter.forget("t")
    assert counter.by_kind("t") == {WEBRTC: 0, BITTORRENT: 0}
