"""What an outcome means for a feed: backoff, retirement, learned addresses (pure decisions)."""

from __future__ import annotations

from feedserver import item, rss

from worker.config import FeedConfig, Settings
from worker.hints import DAY
from worker.outcome import PollOutcome
from worker.parse import parse_feed
from worker.schedule.pacing import LEARN_AFTER, bounds, decide
from worker.state import FeedState

FEED = FeedConfig(key="f", url="http://old.example/feed", interval=300)
SETTINGS = Settings(path="<test>", feeds=(FEED,))
NOW = 1_800_000_000.0


def ok(**facts: object) -> PollOutcome:
    return PollOutcome("f", "not modified", status=304, **facts)  # type: ignore[arg-type]


def failed(status: int | None) -> PollOutcome:
    return PollOutcome("f", "error", error="boom", status=status)


def test_bounds_come_from_the_feed_then_the_defaults() -> None:
    limits = bounds(FEED, SETTINGS)
    assert (limits.interval, limits.min_interval, limits.max_interval) == (300, 300, 3600)
    own = FeedConfig(key="g", url="http://x/", interval=600, min_interval=60, max_interval=7200)
    limits = bounds(own, Settings(path="<t>", feeds=(own,), default_max_interval=900))
    assert (limits.min_interval, limits.max_interval) == (60, 7200)


def test_errors_back_off_and_a_success_comes_back_to_normal() -> None:
    first = decide(FEED, SETTINGS, FeedState(errors=0), failed(500), NOW)
    third = decide(FEED, SETTINGS, FeedState(errors=2), failed(None), NOW)
    assert first.plan and third.plan
    assert (first.plan.interval, third.plan.interval) == (300, 1200)
    assert third.fields["interval_why"] == "backoff after 3 errors"
    healed = decide(FEED, SETTINGS, FeedState(url=FEED.url, errors=5), ok(), NOW)
    assert healed.plan and healed.plan.interval == 300 and healed.plan.why == "configured"


def test_errors_never_retire_a_feed() -> None:
    decision = decide(FEED, SETTINGS, FeedState(errors=10_000), failed(503), NOW)
    assert decision.plan is not None and decision.plan.interval == 3600


def test_410_gone_retires_at_once() -> None:
    decision = decide(FEED, SETTINGS, FeedState(), failed(410), NOW)
    assert decision.plan is None and decision.retired and "410 Gone" in decision.retired


def test_404_retires_only_once_it_lasted() -> None:
    first = decide(FEED, SETTINGS, FeedState(errors=0), failed(404), NOW)
    assert first.plan is not None and first.fields["missing_since"] == NOW
    day_later = FeedState(errors=8, missing_since=NOW)
    assert decide(FEED, SETTINGS, day_later, failed(404), NOW + DAY).plan is not None
    long_gone = decide(FEED, SETTINGS, day_later, failed(404), NOW + 3 * DAY)
    assert long_gone.plan is None and long_gone.retired == "404 Not Found since 2027-01-15"
    few_polls = FeedState(errors=1, missing_since=NOW)
    assert decide(FEED, SETTINGS, few_polls, failed(404), NOW + 4 * DAY).plan is not None
    back = decide(FEED, SETTINGS, day_later, ok(), NOW + DAY)
    assert back.fields["missing_since"] is None


def test_a_permanent_redirect_is_learned_after_holding_for_a_few_polls() -> None:
    before = FeedState(url=FEED.url)
    new = "http://new.example/feed"
    for poll in range(1, LEARN_AFTER):
        decision = decide(FEED, SETTINGS, before, ok(moved_to=new), NOW)
        assert decision.learned is None and decision.fields["moved_polls"] == poll
        before = FeedState(url=FEED.url, moved_to=new, moved_polls=poll)
    learned = decide(FEED, SETTINGS, before, ok(moved_to=new), NOW)
    assert learned.learned == new and learned.fields["location"] == new


def test_a_redirect_that_changes_or_stops_starts_over() -> None:
    before = FeedState(url=FEED.url, moved_to="http://a.example/", moved_polls=2)
    other = decide(FEED, SETTINGS, before, ok(moved_to="http://b.example/"), NOW)
    assert other.learned is None and other.fields["moved_polls"] == 1
    stopped = decide(FEED, SETTINGS, before, ok(), NOW)
    assert stopped.fields["moved_to"] is None and stopped.fields["moved_polls"] == 0


def test_a_learned_address_is_dropped_when_the_config_url_changes() -> None:
    before = FeedState(url="http://older.example/", location="http://learned.example/")
    assert before.fetch_url("http://older.example/") == "http://learned.example/"
    assert before.fetch_url(FEED.url) == FEED.url
    assert decide(FEED, SETTINGS, before, ok(), NOW).fields["location"] is None


def test_asked_to_wait_is_not_an_error() -> None:
    outcome = PollOutcome("f", "asked to wait", status=429, wait_until=NOW + 900)
    decision = decide(FEED, SETTINGS, FeedState(errors=0), outcome, NOW)
    assert decision.plan and decision.plan.delay >= 900 and "asked to wait" in decision.plan.why
    assert decision.fields["interval_why"] == "asked to wait (HTTP 429 Retry-After)"


def test_the_feed_documents_minimum_holds_across_unchanged_polls() -> None:
    body = rss([item(1)]).replace(b"<description>", b"<ttl>60</ttl><description>", 1)
    asked = parse_feed(body, url="http://example.com/feed").poll_minimum
    assert asked == (3600.0, "<ttl>60</ttl>")
    read = decide(FEED, SETTINGS, FeedState(url=FEED.url),
                  PollOutcome("f", "new", status=200, document_minimum=asked), NOW)
    assert read.plan and (read.plan.interval, read.plan.why) == (3600, "publisher asks: <ttl>60</ttl>")
    remembered = FeedState(url=FEED.url, document_minimum=3600.0,
                           document_minimum_why="<ttl>60</ttl>")
    again = decide(FEED, SETTINGS, remembered, ok(), NOW)
    assert again.plan and again.plan.interval == 3600
    assert again.fields["document_minimum"] == 3600.0
