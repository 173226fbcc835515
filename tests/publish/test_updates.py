"""Story updates: a story whose content really changed is published again, and only then."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import redis
from feedserver import FeedServer, item, rss
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from worker import state
from worker.config import FeedConfig, Settings, parse_settings
from worker.exceptions import ConfigError
from worker.fetch import HttpClient, new_client
from worker.poll import Poller
from worker.publish import Published, Publisher
from worker.publish.revision import comparable_text, field_digests
from worker.story import Media, Story
from worker.story.identity import story_id

STREAM = "test:stories"


def story(title: str = "Quake hits coast", body: tuple[str, ...] = ("First.", "Second."),
          media: tuple[str, ...] = ("http://img.example/a.jpg",), **extra: object) -> Story:
    return Story(id=story_id("f", "g1", None), feed="f", guid="g1", url="http://x.example/q",
                 title=title, body=list(body), media=[Media(type="image", url=u) for u in media],
                 **extra)  # type: ignore[arg-type]


def messages(client: redis.Redis) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in fields.items()}
            for _id, fields in client.xrange(STREAM)]


def test_a_real_change_is_published_as_an_update_with_its_revision_and_fields(
        redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    assert publisher.publish([story()]).new
    retitled = story(title="Quake hits coast, 12 dead")
    assert publisher.publish([retitled]).updated == [retitled]
    assert publisher.publish([retitled]).updated == [], "the same content again is no update"
    rewritten = story(title="Quake hits coast, 12 dead", body=("First.", "New details."),
                      media=("http://img.example/b.jpg",))
    assert publisher.publish([rewritten]).updated == [rewritten]

    first, second, third = messages(redis_client)
    assert (first["event"], first["revision"]) == ("new", "1")
    assert (second["event"], second["revision"], second["changed"]) == ("updated", "2", "title")
    assert (third["revision"], third["changed"]) == ("3", "body,media")
    assert second["id"] == first["id"], "the id stays the idempotency key of the story"
    assert json.loads(third["story"])["body"] == ["First.", "New details."]


def test_an_update_keeps_the_time_the_story_was_first_seen(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    publisher.publish([story(first_seen="2026-11-24T08:00:00Z",
                             fetched_at="2026-11-24T08:00:00Z")])
    publisher.publish([story(title='He said "first_seen":"x"', first_seen="2026-11-24T09:30:00Z",
                             fetched_at="2026-11-24T09:30:00Z")])
    publisher.publish([story(title="Third", first_seen="2026-11-24T10:00:00Z")])
    stories = [json.loads(m["story"]) for m in messages(redis_client)]
    assert [s["first_seen"] for s in stories] == ["2026-11-24T08:00:00Z"] * 3
    assert stories[1]["fetched_at"] == "2026-11-24T09:30:00Z", "fetched_at is this poll's"
    assert stories[1]["title"] == 'He said "first_seen":"x"', "text that looks like the key"


def test_changes_that_are_not_news_publish_nothing(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    publisher.publish([story(body=("Updated 9:30 a.m. ET", "Rescue teams arrived. More soon."),
                             media=("http://img.example/a.jpg", "http://img.example/c.jpg"))])
    same_news = story(
        body=("Last updated 10:45 AM EST", "Rescue  teams arrived.", "More soon."),
        media=("http://img.example/c.jpg", "http://img.example/a.jpg?utm_source=rss"),
        published="2026-11-24T12:00:00Z", updated="2026-11-24T12:45:00Z")
    assert publisher.publish([same_news]) == Published(new=[], updated=[])
    assert [m["event"] for m in messages(redis_client)] == ["new"]


def test_a_story_that_flips_back_and_forth_is_capped(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000, max_revisions=3)
    for n in range(6):
        publisher.publish([story(title=f"Headline {'AB'[n % 2]}")])
    assert [m["revision"] for m in messages(redis_client)] == ["1", "2", "3"]


def test_a_feed_with_updates_off_publishes_each_story_once(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, STREAM, 1000)
    publisher.publish([story()], updates=False)
    assert publisher.publish([story(title="Changed")], updates=False).updated == []
    assert publisher.publish([story(title="Changed")]).updated == [], "nothing to compare with"
    assert len(messages(redis_client)) == 1


@pytest.fixture
def http() -> HttpClient:
    return new_client("feedwatch-test", timeout=1.0)


def test_a_reordered_feed_with_a_new_build_date_and_tracking_links_is_no_update(
        feed_server: FeedServer, redis_client: redis.Redis, http: HttpClient) -> None:
    one = item(1, description="<p>Updated 9:30 a.m.</p><p>Rescue teams arrived.</p>")
    url = feed_server.serve("/u.xml", rss([one, item(2)]))
    feed = FeedConfig(key="u", url=url)
    poller = Poller(Settings(path="<t>", feeds=(feed,), stream=STREAM, timeout=1.0),
                    redis_client, http)
    assert poller.poll(feed).new == 2
    same = item(1, description="<div>Updated 10:05 a.m.</div>\n<p>Rescue   teams <b>arrived</b>.</p>",
                link="http://news.example.com/2026/11/24/story-1.html?utm_source=twitter")
    feed_server.serve("/u.xml", rss([item(2), same]).replace(
        b"<channel>", b"<channel><lastBuildDate>Tue, 24 Nov 2026 11:00:00 GMT</lastBuildDate>"))
    assert poller.poll(feed).new == 0
    assert [m["event"] for m in messages(redis_client)] == ["new", "new"]

    feed_server.serve("/u.xml", rss([item(2), item(1, title="Story number 1: rescue under way")]))
    poller.poll(feed)
    assert (state.load(redis_client, "u").last_result or "").endswith(", 1 updated")
    last = messages(redis_client)[-1]
    assert (last["event"], last["revision"], last["changed"]) == ("updated", "2", "title,body")


timestamps = st.sampled_from(["10:32", "9:05 a.m.", "10:32 AM ET", "2026-11-24T10:00:00Z",
                              "5 minutes ago", "Nov. 24, 2026", "24 November 2026", "3pm"])
words = st.lists(st.sampled_from(["Rescue", "teams", "arrived", "in", "the", "city", "."]),
                 min_size=1, max_size=12)


@given(words, timestamps, timestamps, st.sampled_from([" ", "  ", "\n", " \t "]))
def test_timestamps_and_whitespace_never_change_the_digest(
        text: list[str], before: str, after: str, gap: str) -> None:
    first = story(body=(f"Updated {before}", " ".join(text)))
    second = story(body=(f"Updated {after}", gap.join(text) + gap))
    assert field_digests(first) == field_digests(second)


@given(words, words)
def test_different_words_do_change_the_digest(one: list[str], other: list[str]) -> None:
    if comparable_text(" ".join(one)) != comparable_text(" ".join(other)):
        assert field_digests(story(body=(" ".join(one),))) != field_digests(
            story(body=(" ".join(other),)))


def test_new_and_updated_messages_match_the_published_schema(redis_client: redis.Redis) -> None:
    schema = json.loads(resources.files("worker.story").joinpath("schema/message.json").read_text())
    publisher = Publisher(redis_client, STREAM, 1000)
    publisher.publish([story()])
    publisher.publish([story(title="Other headline", body=("Other body.",))])
    for message in messages(redis_client):
        decoded = {**message, "story": json.loads(message["story"])}
        Draft202012Validator(schema).validate(decoded)
    assert messages(redis_client)[-1]["changed"] == "title,body"


def test_the_config_names_the_feed_and_field_of_a_bad_update_or_retention_setting() -> None:
    data = {"updates": {"max_revisions": 0, "window": 3}, "retention": {"max_age_days": -1},
            "feeds": [{"key": "a", "url": "http://a.example/feed", "updates": "yes"}]}
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    assert sorted(caught.value.problems) == sorted([
        "retention: max_age_days: must be days >= 0 (0: no age limit), got -1",
        "updates: unknown field 'window'",
        "updates: max_revisions: must be a whole number > 0, got 0",
        "feeds[0] (a): updates: must be true or false, got 'yes'",
    ])
    settings = parse_settings({"feeds": [{"key": "b", "url": "http://b.example/feed",
                                          "updates": False}]})
    assert (settings.updates_max_revisions, settings.updates_window_days) == (5, 7)
    assert settings.retention_max_age_days == 30
    assert settings.feeds[0].updates is False
