"""The mirror's plan (seed/mirror/plan.py) as a pure function: no libtorrent, HTTP or subprocess."""

from __future__ import annotations

from seed.feed import Torrent
from seed.mirror.plan import SEED_ADD, Candidate, Limits, Mirrored, Owned, Skipped, plan
from seed.status import MirrorState

H1, H2, H3 = "1" * 40, "2" * 40, "3" * 40
UNLIMITED = Limits(max_size=None, free=10**12)


def new(key: str, info_hash: str, name: str, size: int = 100) -> Candidate:
    return Candidate(key, key.title(), info_hash, Torrent(b"", info_hash, name, size))


def owned(mirrored: dict[str, Mirrored] | None = None, recorded: frozenset[str] = frozenset(), **names: str) -> Owned:
    return Owned(mirrored or {}, frozenset(recorded), {k.replace("_", "."): v for k, v in names.items()})


def test_new_items_are_mirrored_in_feed_order() -> None:
    decided = plan("site", [new("a", H1, "a.mp4"), new("b", H2, "b.mp4")], owned(), UNLIMITED)
    assert [c.info_hash for c in decided.new] == [H1, H2]
    assert decided.skipped == {} and decided.gone == [] and decided.back == []


def test_an_info_hash_that_seed_add_recorded_is_already_seeded() -> None:
    decided = plan("site", [new("a", H1, "a.mp4")], owned(recorded={H1}), UNLIMITED)
    assert decided.new == []
    assert decided.skipped["a"] == Skipped("A", "already seeded (seed add)", MirrorState.ALREADY_SEEDED, H1)


def test_a_taken_name_is_refused_whoever_has_it() -> None:
    mine = plan("evil", [new("a", H1, "talk.mp4")], owned(talk_mp4=SEED_ADD), UNLIMITED)
    assert mine.skipped["a"].problem.startswith(f"talk.mp4 is taken by {SEED_ADD}")
    other = plan("evil", [new("a", H1, "talk.mp4")], owned(talk_mp4="honest"), UNLIMITED)
    assert other.skipped["a"].problem.startswith("talk.mp4 is taken by honest") and other.new == []
    twice = plan("site", [new("a", H1, "talk.mp4"), new("b", H2, "talk.mp4")], owned(), UNLIMITED)
    assert [c.key for c in twice.new] == ["a"] and "taken by site" in twice.skipped["b"].problem


def test_a_torrent_name_with_folders_is_judged_by_its_file_name() -> None:
    decided = plan("evil", [new("a", H1, "../../talk.mp4")], owned(talk_mp4="honest"), UNLIMITED)
    assert "talk.mp4 is taken by honest" in decided.skipped["a"].problem


def test_max_size_keeps_the_newest() -> None:
    items = [new("a", H1, "a.mp4", 60), new("b", H2, "b.mp4", 60), new("c", H3, "c.mp4", 200)]
    decided = plan("site", items, owned(), Limits(max_size=100, free=10**12))
    assert [c.key for c in decided.new] == ["a"]
    assert decided.skipped["b"].problem.startswith("over --max-size")
    assert decided.skipped["c"].problem.startswith("larger than --max-size")


def test_a_video_larger_than_the_free_space_is_not_started() -> None:
    decided = plan("site", [new("a", H1, "a.mp4", 60), new("b", H2, "b.mp4", 160)], owned(), Limits(None, 100))
    assert [c.key for c in decided.new] == ["a"] and decided.skipped["b"].problem.startswith("needs 160")


def test_gone_and_back() -> None:
    mirrored = {H1: Mirrored("site", 100), H2: Mirrored("site", 100, missing=True), H3: Mirrored("other", 100)}
    listed = [Candidate("b", "B", H2)]
    decided = plan("site", listed, owned(mirrored), UNLIMITED)
    assert decided.gone == [H1], "another subscription's video is not this feed's to drop"
    assert decided.back == [H2] and decided.new == []


def test_problems_and_items_without_an_info_hash_are_skipped() -> None:
    items = [Candidate("a", "A", None, problem="its .torrent answered HTTP 404"), Candidate("b", "B", None)]
    decided = plan("site", items, owned(), UNLIMITED)
    assert decided.skipped == {"a": Skipped("A", "its .torrent answered HTTP 404"), "b": Skipped("B", "no info hash")}
