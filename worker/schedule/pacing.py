"""What a poll's outcome means for the feed's future: its next poll, a learned new address, or
retirement. Pure: the caller loads the state before and saves :attr:`Decision.fields` after.

- 410 Gone retires a feed at once; 404 retires it once it has lasted :data:`RETIRE_AFTER_404`
  (and at least :data:`RETIRE_AFTER_404_POLLS` polls), so a site's bad afternoon costs nothing.
  Any other error never retires a feed: it backs off up to ``max_interval`` and keeps trying.
- A permanent redirect (301/308) is learned after it led to the same address
  :data:`LEARN_AFTER` polls in a row; temporary ones (302/303/307) are followed, never learned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from worker.config import FeedConfig, Settings
from worker.hints import DAY
from worker.outcome import PollOutcome
from worker.schedule import interval
from worker.state import FeedState

RETIRE_AFTER_404 = 3 * DAY
RETIRE_AFTER_404_POLLS = 5
LEARN_AFTER = 3


@dataclass(frozen=True)
class Decision:
    plan: interval.Plan | None
    """The next poll; None when the feed is retired."""
    fields: dict[str, object] = field(default_factory=dict)
    """State fields to save (see :func:`worker.state.save_pacing`)."""
    learned: str | None = None
    """A new address learned by this poll, to report."""

    @property
    def retired(self) -> str | None:
        return str(self.fields["retired"]) if self.plan is None else None


def bounds(feed: FeedConfig, settings: Settings) -> interval.Bounds:
    """The feed's interval limits, its own settings first, then the config's defaults."""
    lowest = feed.min_interval or settings.default_min_interval or feed.interval
    highest = feed.max_interval or settings.default_max_interval
    return interval.Bounds(feed.interval, min(lowest, feed.interval), max(highest, feed.interval))


def schedule_plan(feed: FeedConfig, settings: Settings) -> str:
    """What shapes when and where a feed is polled: when it changes, the feed is due at once."""
    limits = bounds(feed, settings)
    return f"{limits.interval} {limits.min_interval} {limits.max_interval} {feed.url}"


def decide(
    feed: FeedConfig, settings: Settings, before: FeedState, outcome: PollOutcome, now: float,
) -> Decision:
    limits = bounds(feed, settings)
    if outcome.result == "asked to wait" and outcome.wait_until is not None:
        plan = interval.after_wait(outcome.wait_until, now, outcome.status or 429,
                                   shortest=limits.min_interval)
        return Decision(plan, {"interval": plan.interval, "interval_why": plan.why})
    if outcome.result == "error":
        return _after_error(limits, before, outcome, now)
    decision = _after_success(limits, before, outcome, now)
    if before.url != feed.url:
        decision.fields["location"] = None  # learned for a URL the config no longer has
    return decision


def _after_error(
    limits: interval.Bounds, before: FeedState, outcome: PollOutcome, now: float,
) -> Decision:
    errors = before.errors + 1
    if outcome.status == 410:
        return Decision(None, {"retired": f"410 Gone ({_day(now)})"})
    fields: dict[str, object] = {"missing_since": None}
    if outcome.status == 404:
        since = before.missing_since or now
        fields["missing_since"] = since
        if now - since >= RETIRE_AFTER_404 and errors >= RETIRE_AFTER_404_POLLS:
            return Decision(None, {"retired": f"404 Not Found since {_day(since)}"})
    plan = interval.after_error(limits, errors)
    return Decision(plan, {**fields, "interval": plan.interval, "interval_why": plan.why})


def _after_success(
    limits: interval.Bounds, before: FeedState, outcome: PollOutcome, now: float,
) -> Decision:
    watched_since = before.watched_since or now
    rhythm = interval.count_new(before.rhythm, _day(now), outcome.new)
    document = _latest(outcome.document_minimum, outcome.result == "new",
                       before.document_minimum, before.document_minimum_why)
    header = _latest(outcome.publisher_minimum, outcome.status != 304,
                     before.header_minimum, before.header_minimum_why)
    plan = interval.after_success(
        limits,
        stories_per_day=interval.stories_per_day(rhythm, now - watched_since),
        publisher=[m for m in (header, document) if m is not None],
    )
    fields: dict[str, object] = {
        "interval": plan.interval, "interval_why": plan.why, "missing_since": None,
        "rhythm": rhythm, "watched_since": watched_since, "retired": None,
        "document_minimum": document[0] if document else None,
        "document_minimum_why": document[1] if document else None,
        "header_minimum": header[0] if header else None,
        "header_minimum_why": header[1] if header else None,
    }
    learned = None
    if outcome.moved_to is None:
        fields.update(moved_to=None, moved_polls=0)
    else:
        polls = before.moved_polls + 1 if outcome.moved_to == before.moved_to else 1
        fields.update(moved_to=outcome.moved_to, moved_polls=polls)
        if polls >= LEARN_AFTER:
            learned = outcome.moved_to
            fields.update(location=learned, moved_to=None, moved_polls=0)
    return Decision(plan, fields, learned)


def _latest(
    asked: tuple[float, str] | None, fresh: bool, seconds: float | None, why: str | None,
) -> tuple[float, str] | None:
    """What the publisher asks: this poll's answer when it said (a body was read, or a
    response carried the header), else what the last one that said asked for. A 304 often
    leaves out the caching headers, and never carries the document."""
    if asked is not None or fresh:
        return asked
    return (seconds, why or "publisher") if seconds is not None else None


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
