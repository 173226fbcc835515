"""Every error feedwatch raises on purpose derives from :class:`FeedwatchError`.

The fetch errors say what went wrong with one feed in words fit for ``feedwatch status``; a poll
turns them into that feed's recorded error and the other feeds go on.
"""

from __future__ import annotations


class FeedwatchError(Exception):
    """Base of all feedwatch errors."""


class ConfigError(FeedwatchError):
    """The config file is unusable; ``problems`` holds one message per problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n{listed}")


class FetchError(FeedwatchError):
    """A feed could not be fetched."""


class FetchTimeout(FetchError):
    """The server did not answer in time."""


class NetworkError(FetchError):
    """DNS, connection or TLS failure, or a connection cut mid-body."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class AskedToWait(HTTPStatusError):
    """429 Too Many Requests, or 503 with Retry-After: the server asks us to come back later.

    Not a failure of the feed: its whole host is paused until ``until`` (Unix seconds).
    """

    def __init__(self, status: int, message: str, until: float) -> None:
        super().__init__(status, message)
        self.until = until


class HostUnavailable(FetchError):
    """The host gave no turn in time (paused, or every slot in flight): nothing was sent."""


class BodyTooLarge(FetchError):
    """The body passed the configured size cap."""


class BrokenEncoding(FetchError):
    """The body's Content-Encoding (gzip, deflate, br) could not be undone."""


class PrivateAddressRefused(FetchError):
    """A redirect or article link led to a loopback, link-local or private address."""


class ParseError(FeedwatchError):
    """The body is not a feed feedwatch can read, and yielded no entries."""


class StoryTextError(FeedwatchError):
    """Text handed to the story-text reader does not follow the layout."""


class RedisUnavailable(FeedwatchError):
    """No Redis-protocol server could be found or reached."""
