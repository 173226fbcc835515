"""The near-duplicate index against real Valkey, and near-duplicates through a whole poll."""

from __future__ import annotations

import hashlib
import json
import struct
import time

import pytest
import redis
from feedserver import FeedServer, item, rss
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.config import FeedConfig, NearDuplicates, Settings, parse_settings
from worker.dedupe import neardup, neardup_index
from worker.dedupe.neardup_index import NearDuplicateIndex, screen
from worker.exceptions import ConfigError
from worker.fetch import new_client
from worker.poll import Poller
from worker.story import Story

STREAM = "test:stories"
LEAD = (
    "The defense and foreign ministers of Japan and France agreed at their two-plus-two meeting "
    "on Friday to start negotiations for a bilateral accord on sharing defense supplies and "
    "services, and opposed unilateral action that would raise tension in the region."
)
EDITED = LEAD.replace("on Friday", "Friday").replace("negotiations for", "negotiations over")
OTHER = (
    "Kei Nishikori beat Stan Wawrinka in straight sets on Saturday to reach the final of the "
    "Brisbane International for the first time, and will face Grigor Dimitrov on Sunday."
)


def sid(name: str) -> str:
    """A story id (32 hex digits, as every story gets) standing for a readable name."""
    return hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


def story(name: str, text: str, title: str = "Japan, France to start talks") -> Story:
    return Story(id=sid(name), feed="f", title=title, body=[text])


def sig(text: str) -> neardup.Signature:
    found = neardup.story_signature(story("x", text))
    assert found is not None
    return found


# --- the index ------------------------------------------------------------------------------


def test_a_recorded_story_is_found_by_its_edited_copy(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    assert index.find(sid("copy"), sig(LEAD)) is None
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    match = index.find(sid("copy"), sig(EDITED))
    assert match is not None and (match.duplicate_of, match.cluster) == (sid("first"),) * 2
    assert index.find(sid("copy"), sig(OTHER)) is None


def test_a_story_is_not_a_near_duplicate_of_itself_or_of_its_copies(
        redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    index.record([(sid("copy"), sig(EDITED), sid("first"))])
    assert index.find(sid("first"), sig(LEAD)) is None


def test_the_earliest_recorded_story_is_the_one_duplicated(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    index.record([(sid("second"), sig(EDITED), sid("first"))])
    match = index.find(sid("third"), sig(LEAD + " Both sides called it a step forward."))
    assert match is not None and (match.duplicate_of, match.cluster) == (sid("first"),) * 2


def test_only_story_ids_are_recorded(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="32 hex digits, not 'first'"):
        NearDuplicateIndex(redis_client).record([("first", sig(LEAD), "first")])


def test_every_key_expires_when_the_next_period_ends(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client, window=60)
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    keys = redis_client.keys("feedwatch:near:*")
    bands = [key for key in keys if key.startswith(b"feedwatch:near:band:")]
    assert 0 < len(bands) <= neardup.BANDS and len(keys) == len(bands) + 2
    assert all(59 <= redis_client.ttl(key) <= 120 for key in keys), \
        "a story is kept for at least a window, and at most two"


def test_a_story_is_found_in_the_next_period_but_not_after_it(redis_client: redis.Redis) -> None:
    now = [(int(time.time()) // 1000 + 1) * 1000.0 + 500]  # a period that has not begun
    index = NearDuplicateIndex(redis_client, window=1000, clock=lambda: now[0])
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    now[0] += 1499
    assert index.find(sid("copy"), sig(EDITED)) is not None
    now[0] += 1
    assert index.find(sid("copy"), sig(EDITED)) is None


def test_a_story_whose_record_is_gone_is_not_a_match(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    index.record([(sid("first"), sig(LEAD), sid("first"))])
    redis_client.delete(*redis_client.keys("feedwatch:near:records:*"))
    assert index.find(sid("copy"), sig(EDITED)) is None


def test_a_full_generation_is_followed_by_one_with_four_times_the_buckets(
        redis_client: redis.Redis) -> None:
    """Buckets stay small enough for Redis to keep them packed, however many stories come,
    and the stories of every generation are found; the next period starts with buckets for
    as many stories as this one recorded."""
    now = [time.time()]
    index = NearDuplicateIndex(redis_client, clock=lambda: now[0])
    first = 2 ** neardup_index.MIN_BUCKET_BITS * neardup_index.BUCKET_FILL // neardup.BANDS
    texts = [" ".join(f"w{n}x{i}" for i in range(12)) for n in range(first + 10)]
    for at in range(0, len(texts), 50):
        index.record([(sid(text), sig(text), sid(text)) for text in texts[at:at + 50]])
    period = int(now[0] // neardup_index.WINDOW)
    generation = redis_client.hgetall(f"feedwatch:near:generation:{period}")
    assert generation == {
        b"level": b"1", b"bits:0": str(neardup_index.MIN_BUCKET_BITS).encode(),
        b"bits:1": str(neardup_index.MIN_BUCKET_BITS + 2).encode(),
        b"count": b"10", b"total": str(len(texts)).encode()}
    found = index.find_all([("0" * 32, sig(text)) for text in (texts[0], texts[-1])])
    assert [m and m.duplicate_of for m in found] == [sid(texts[0]), sid(texts[-1])]
    assert {redis_client.object("encoding", key)
            for key in redis_client.keys("feedwatch:near:band:*")} == {b"listpack"}
    now[0] += neardup_index.WINDOW
    index.record([(sid("next"), sig(LEAD), sid("next"))])
    assert redis_client.hget(f"feedwatch:near:generation:{period + 1}", "bits:0") == \
        str(neardup_index.MIN_BUCKET_BITS + 1).encode()
    assert index.find("0" * 32, sig(texts[0])) is not None, "the period before is read too"


# --- the screening step ---------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kept"), [("annotate", 2), ("drop", 1), ("off", 2)])
def test_copies_within_one_batch(
        redis_client: redis.Redis, mode: NearDuplicates, kept: int) -> None:
    index = NearDuplicateIndex(redis_client)
    screened = screen(index, [story("a", LEAD), story("b", EDITED)], mode)
    assert [s.id for s in screened.stories] == [sid("a"), sid("b")][:kept]
    copy = screened.stories[-1]
    expected = (sid("a"), sid("a")) if mode == "annotate" else (None, None)
    assert (copy.duplicate_of, copy.cluster) == expected


def test_within_one_batch_the_earliest_copy_is_the_one_named(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    texts = [LEAD, OTHER, EDITED, EDITED.replace("bilateral", "two-way"), OTHER + " Rain fell."]
    screened = screen(index, [story(str(n), text) for n, text in enumerate(texts)], "annotate")
    assert [(s.duplicate_of, s.cluster) for s in screened.stories] == [
        (None, None), (None, None), (sid("0"), sid("0")), (sid("0"), sid("0")),
        (sid("1"), sid("1"))]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(LEAD.split()[:24]), min_size=8, max_size=30),
                min_size=2, max_size=12))
def test_within_one_batch_a_story_is_compared_as_with_every_earlier_one(
        redis_client: redis.Redis, texts: list[list[str]]) -> None:
    """Comparing a story only with the earlier ones that share a band with it names the same
    story as comparing it with each of them."""
    stories = [story(str(n), " ".join(words), title="") for n, words in enumerate(texts)]
    screened = screen(NearDuplicateIndex(redis_client), stories, "annotate")
    expected: list[str | None] = []
    for n, this in enumerate(stories):
        mine = neardup.story_signature(this)
        earlier = [str(m) for m in range(n) if mine is not None and (
            other := neardup.story_signature(stories[m])) is not None
            and neardup.is_near_duplicate(mine, other)]
        expected.append(sid(earlier[0]) if earlier else None)
    assert [s.duplicate_of for s in screened.stories] == expected


def test_in_drop_mode_a_dropped_copy_is_nobody_s_original(redis_client: redis.Redis) -> None:
    """A copy dropped within a poll is not published, so a later story that resembles only the
    copy is kept; annotated, it names the copy and joins the original's cluster."""
    words = LEAD.split()
    extra = [f"extra{i}" for i in range(5)]
    copy = " ".join([*words[:-5], *extra])
    copy_of_copy = " ".join([*words[:-16], *extra, *(f"more{i}" for i in range(11))])
    assert neardup.is_near_duplicate(sig(copy), sig(LEAD))
    assert neardup.is_near_duplicate(sig(copy_of_copy), sig(copy))
    assert not neardup.is_near_duplicate(sig(copy_of_copy), sig(LEAD))
    stories = [story("a", LEAD), story("b", copy), story("c", copy_of_copy)]
    index = NearDuplicateIndex(redis_client)
    assert [s.id for s in screen(index, stories, "drop").stories] == [sid("a"), sid("c")]
    assert [(s.duplicate_of, s.cluster) for s in screen(index, stories, "annotate").stories] == [
        (None, None), (sid("a"), sid("a")), (sid("b"), sid("a"))]


def test_an_id_repeated_in_one_poll(redis_client: redis.Redis) -> None:
    """A story is not a copy of itself, and each earlier story counts with its own text."""
    index = NearDuplicateIndex(redis_client)
    twice = screen(index, [story("a", LEAD), story("a", LEAD)], "annotate")
    assert [s.duplicate_of for s in twice.stories] == [None, None]
    reused = screen(index, [story("a", LEAD), story("a", OTHER), story("b", EDITED)], "annotate")
    assert [s.duplicate_of for s in reused.stories] == [None, None, sid("a")]


def test_only_published_stories_are_recorded(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    screened = screen(index, [story("a", LEAD), story("b", OTHER)], "annotate")
    screened.record([screened.stories[1]])
    assert index.find(sid("c"), sig(EDITED)) is None
    assert index.find(sid("c"), sig(OTHER + " More later.")) is not None


def test_a_copy_of_a_copy_joins_the_first_story_s_cluster(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    first = screen(index, [story("a", LEAD)], "annotate")
    first.record(first.stories)
    second = screen(index, [story("b", EDITED)], "annotate")
    second.record(second.stories)
    forget_first_record(redis_client)  # only the copy is left to be found
    third = screen(index, [story("c", EDITED + " Talks begin next month.")], "annotate")
    assert (third.stories[0].duplicate_of, third.stories[0].cluster) == (sid("b"), sid("a"))


def forget_first_record(client: redis.Redis) -> None:
    """Blank the first story recorded in this period, as if its record were lost."""
    period = int(time.time() // neardup_index.WINDOW)
    client.setrange(f"feedwatch:near:records:{period}:0:0", 0, b"\0" * neardup_index.RECORD)


# --- config ---------------------------------------------------------------------------------


def test_near_duplicates_is_set_globally_and_per_feed() -> None:
    settings = parse_settings({
        "defaults": {"near_duplicates": "drop"},
        "feeds": [{"key": "a", "url": "http://a.example/feed"},
                  {"key": "b", "url": "http://b.example/feed", "near_duplicates": "off"}],
    })
    assert [settings.near_duplicates(f) for f in settings.feeds] == ["drop", "off"]
    assert parse_settings({"feeds": []}).near_duplicates(FeedConfig("c", "http://c/")) == "annotate"


def test_a_bad_near_duplicates_value_is_reported_with_feed_and_field() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({
            "defaults": {"near_duplicates": "yes"},
            "feeds": [{"key": "a", "url": "http://a.example/feed", "near_duplicates": True}],
        })
    assert raised.value.problems == [
        "defaults: near_duplicates: must be annotate, drop or off, got 'yes'",
        "feeds[0] (a): near_duplicates: must be annotate, drop or off, got True",
    ]


# --- a whole poll ---------------------------------------------------------------------------


def published(client: redis.Redis) -> list[dict[str, object]]:
    return [json.loads(fields[b"story"]) for _id, fields in client.xrange(STREAM)]


@pytest.mark.parametrize("mode", ["annotate", "drop", "off"])
def test_two_outlets_carrying_one_wire_story(
        feed_server: FeedServer, redis_client: redis.Redis, mode: NearDuplicates) -> None:
    first_url = feed_server.serve("/first.xml", rss([
        item(1, site="http://first.example", title="Japan, France agree to start defense talks",
             description=f"<p>{LEAD}</p>"),
        item(2, site="http://first.example", title="Nishikori reaches Brisbane final",
             description=f"<p>{OTHER}</p>"),
    ]))
    second_url = feed_server.serve("/second.xml", rss([
        item(7, site="http://second.example",
             title="Politics › Japan, France to start defense talks",
             description=f"<p>{EDITED}</p>"),
    ]))
    first = FeedConfig(key="first", url=first_url)
    second = FeedConfig(key="second", url=second_url, near_duplicates=mode)
    with new_client("feedwatch-test", timeout=1.0) as http:
        poller = Poller(
            Settings(path="<test>", feeds=(first, second), stream=STREAM, timeout=1.0),
            redis_client, http)
        assert poller.poll(first).new == 2
        outcome = poller.poll(second)

    stories = published(redis_client)
    original = stories[0]
    assert (original["duplicate_of"], original["cluster"]) == (None, None)
    assert (stories[1]["duplicate_of"], stories[1]["cluster"]) == (None, None)
    if mode == "drop":
        assert outcome.new == 0 and len(stories) == 2
        return
    assert outcome.new == 1 and len(stories) == 3
    copy = stories[2]
    assert copy["feed"] == "second"
    expected = (original["id"], original["id"]) if mode == "annotate" else (None, None)
    assert (copy["duplicate_of"], copy["cluster"]) == expected


def test_a_whole_poll_is_looked_up_at_once(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    index.record([(sid("first"), sig(LEAD), sid("first")),
                  (sid("tennis"), sig(OTHER), sid("tennis"))])
    found = index.find_all([(sid("a"), sig(OTHER)), (sid("b"), sig(EDITED)),
                            (sid("c"), sig(LEAD + OTHER))])
    assert [m and m.duplicate_of for m in found] == [sid("tennis"), sid("first"), sid("first")]


def test_a_feed_with_near_duplicates_off_is_not_remembered(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    screened = screen(index, [story("a", LEAD)], "off")
    screened.record(screened.stories)
    assert index.find(sid("b"), sig(EDITED)) is None
    assert redis_client.keys("feedwatch:near:*") == []


def test_a_re_poll_looks_up_only_the_stories_not_published_before(
        feed_server: FeedServer, redis_client: redis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Screening costs milliseconds per story: a changed feed of 30 items with one new story
    must pay for one, and a published story is never screened against its own record."""
    url = feed_server.serve("/wire.xml", rss([
        item(1, description=f"<p>{LEAD}</p>"), item(2, description=f"<p>{OTHER}</p>")]))
    feed = FeedConfig(key="wire", url=url)
    looked_up: list[str] = []
    find_all = NearDuplicateIndex.find_all

    def spy(self: NearDuplicateIndex, wanted: list[tuple[str, object]]) -> object:
        looked_up.extend(story_id for story_id, _ in wanted)
        return find_all(self, wanted)  # type: ignore[arg-type]

    monkeypatch.setattr(NearDuplicateIndex, "find_all", spy)
    with new_client("feedwatch-test", timeout=1.0) as http:
        poller = Poller(Settings(path="<test>", feeds=(feed,), stream=STREAM, timeout=1.0),
                        redis_client, http)
        assert poller.poll(feed).new == 2
        assert len(looked_up) == 2
        feed_server.serve("/wire.xml", rss([
            item(3, title="Markets close higher", description="<p>" + " ".join(
                f"word{n}" for n in range(60)) + "</p>"),
            item(1, description=f"<p>{LEAD}</p>"), item(2, description=f"<p>{OTHER}</p>")]))
        assert poller.poll(feed).new == 1
    assert len(looked_up) == 3, "only the new story was screened on the re-poll"
    assert [s["duplicate_of"] for s in published(redis_client)] == [None, None, None]


def test_the_index_is_kept_under_the_same_keys_in_every_release(
        redis_client: redis.Redis) -> None:
    """Workers of different releases share one index: its keys, fields and records stay put."""
    index = NearDuplicateIndex(redis_client)
    signature = sig(LEAD)
    for _ in range(2):  # once more if a period ended in between
        redis_client.flushdb()
        now = time.time()
        period = int(now // neardup_index.WINDOW)
        index.record([(sid("a"), signature, sid("c"))])
        if period == int(time.time() // neardup_index.WINDOW):
            break
    bits = neardup_index.MIN_BUCKET_BITS
    assert redis_client.hgetall(f"feedwatch:near:generation:{period}") == {
        b"level": b"0", b"bits:0": str(bits).encode(), b"count": b"1", b"total": b"1"}
    record = redis_client.getrange(
        f"feedwatch:near:records:{period}:0:0", 0, neardup_index.RECORD - 1)
    at, size, story_id, cluster, slots = struct.unpack(f"<dH16s16s{neardup.SLOTS}s", record)
    assert (size, story_id.hex(), cluster.hex(), slots) == (
        signature.size, sid("a"), sid("c"), signature.slots)
    assert now - 1 < at <= time.time()
    for value in signature.bands:
        band = f"feedwatch:near:band:{period}:0:{value % 2 ** bits}"
        assert redis_client.hget(band, str(value >> bits)) == b"\0\0\0"


def test_under_one_band_value_only_the_latest_stories_are_kept(
        redis_client: redis.Redis) -> None:
    """Stories of one template share band values: their lists stay bounded (and packed), and
    the oldest leave them first."""
    index = NearDuplicateIndex(redis_client)
    count = neardup_index.MAX_CANDIDATES_PER_BAND + 5
    for n in range(count):  # one at a time: each recorded later than the one before
        index.record([(sid(f"s{n}"), sig(LEAD), sid(f"s{n}"))])
    match = index.find(sid("new"), sig(LEAD))
    assert match is not None and match.duplicate_of == sid("s5"), "s0 to s4 pushed out"
    for key in redis_client.keys("feedwatch:near:band:*"):
        assert all(len(packed) == 3 * neardup_index.MAX_CANDIDATES_PER_BAND
                   for packed in redis_client.hvals(key))
        assert redis_client.object("encoding", key) == b"listpack"
