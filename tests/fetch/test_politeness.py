"""What publishers see of feedwatch: a User-Agent with a contact, compressed transfer, and the
config keys that tune politeness and pacing."""

from __future__ import annotations

import time

import brotli
import pytest
from feedserver import FeedServer, Route, item, rss

from worker.config import DEFAULT_USER_AGENT, parse_settings
from worker.exceptions import AskedToWait, ConfigError, HTTPStatusError
from worker.fetch import fetch, new_client


def settings_from(**top: object) -> dict[str, object]:
    return {"feeds": [{"key": "a", "url": "http://example.com/feed"}], **top}


def test_the_user_agent_carries_the_contact_url() -> None:
    contact = parse_settings(settings_from(contact="https://example.org/about-our-bot"))
    assert contact.user_agent == "feedwatch/0.1 (+https://example.org/about-our-bot)"
    both = parse_settings(settings_from(user_agent="acme-news/2", contact="https://acme.example/"))
    assert both.user_agent == "acme-news/2 (+https://acme.example/)"
    replaced = parse_settings(settings_from(user_agent=DEFAULT_USER_AGENT, contact="https://a.example/"))
    assert replaced.user_agent == "feedwatch/0.1 (+https://a.example/)", "one contact, not two"
    assert parse_settings(settings_from()).user_agent == DEFAULT_USER_AGENT


def test_brotli_and_gzip_are_accepted_and_decoded(feed_server: FeedServer) -> None:
    body = rss([item(1)])
    url = feed_server.serve("/br.xml", brotli.compress(body), headers={"Content-Encoding": "br"})
    with new_client("feedwatch-test (+https://example.org/)", timeout=2.0) as client:
        assert fetch(client, url, max_bytes=1 << 20, deadline=5).content == body
    sent = feed_server.hits("/br.xml")[0]
    assert {"gzip", "deflate", "br"} <= {e.strip() for e in sent["Accept-Encoding"].split(",")}
    assert sent["User-Agent"] == "feedwatch-test (+https://example.org/)"


def test_pacing_and_politeness_keys_are_read() -> None:
    settings = parse_settings({
        "allow_private_networks": True,
        "per_host": {"max_concurrent": 2, "min_spacing": 0.5},
        "defaults": {"min_interval": 60, "max_interval": 7200},
        "feeds": [{"key": "a", "url": "http://example.com/feed", "min_interval": 120,
                   "max_interval": 900, "max_body_bytes": 1000}],
    })
    assert settings.allow_private_networks
    assert (settings.host_max_concurrent, settings.host_min_spacing) == (2, 0.5)
    assert (settings.default_min_interval, settings.default_max_interval) == (60, 7200)
    feed = settings.feeds[0]
    assert (feed.min_interval, feed.max_interval, feed.max_body_bytes) == (120, 900, 1000)
    assert not parse_settings(settings_from()).allow_private_networks, "the guard is on by default"


def test_bad_pacing_keys_are_one_clear_message_each() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({
            "contact": "mailto:me", "allow_private_networks": "yes",
            "per_host": {"max_concurrent": 0, "min_spacing": -1, "burst": 3},
            "feeds": [{"key": "a", "url": "http://example.com/", "min_interval": 600,
                       "max_interval": 60, "max_body_bytes": "big"}],
        })
    assert caught.value.problems == [
        "per_host: unknown field 'burst'",
        "top level: contact: must be an http:// or https:// URL, got 'mailto:me'",
        "top level: allow_private_networks: must be true or false, got 'yes'",
        "per_host: max_concurrent: must be a whole number > 0, got 0",
        "per_host: min_spacing: must be seconds >= 0, got -1",
        "feeds[0] (a): max_body_bytes: must be a whole number of bytes > 0, got 'big'",
        "feeds[0] (a): min_interval: must not be above max_interval (600 > 60)",
    ]


def test_429_and_503_with_retry_after_ask_to_wait_other_errors_do_not(
        feed_server: FeedServer) -> None:
    feed_server.routes["/503-later"] = Route(status=503, headers={"Retry-After": "300"})
    feed_server.routes["/429"] = Route(status=429)
    feed_server.fail("/503", 503)
    with new_client("feedwatch-test", timeout=2.0) as client:
        def attempt(path: str) -> HTTPStatusError:
            with pytest.raises(HTTPStatusError) as caught:
                fetch(client, feed_server.url(path), max_bytes=1 << 20, deadline=5)
            return caught.value

        now = time.time()
        later = attempt("/503-later")
        assert isinstance(later, AskedToWait) and later.status == 503
        assert now + 299 <= later.until <= now + 302
        unsaid = attempt("/429")
        assert isinstance(unsaid, AskedToWait) and now + 59 <= unsaid.until <= now + 62
        assert not isinstance(attempt("/503"), AskedToWait), "a plain 503 is an error"


def test_a_host_gets_its_own_limits_else_the_most_specific_domain_s_else_per_host() -> None:
    settings = parse_settings(settings_from(
        per_host={"max_concurrent": 4, "min_spacing": 0.2},
        hosts={"www.youtube.com": {"max_concurrent": 8, "min_spacing": 0.05},
               "*.substack.com": {"min_spacing": 1.0},
               "*.eu.substack.com": {"min_spacing": 3.0},
               "Feeds.Example.org:8443": {"max_concurrent": 1},
               "feeds.example.org": {"max_concurrent": 2},
               "*.example.org": {"max_concurrent": 3}}))
    policy = settings.host_policy
    assert (policy("www.youtube.com").max_concurrent, policy("www.youtube.com").min_spacing) \
        == (8, 0.05)
    assert (policy("news.substack.com").max_concurrent, policy("news.substack.com").min_spacing) \
        == (4, 1.0), "a field left out comes from per_host"
    assert policy("a.eu.substack.com").min_spacing == 3.0, "the longest domain wins"
    assert policy("substack.com").min_spacing == 0.2, "*. covers the hosts under it, not itself"
    assert policy("news.substack.com:8080").min_spacing == 1.0, "whatever the port"
    assert policy("feeds.example.org:8443").max_concurrent == 1, "a host and port, any case"
    assert policy("feeds.example.org").max_concurrent == 2, "its name without the port next"
    assert policy("feeds.example.org:80").max_concurrent == 2, "before any domain pattern"
    assert policy("blog.example.org").max_concurrent == 3
    assert policy("youtube.com").min_spacing == 0.2


def test_bad_host_entries_are_one_clear_message_each() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(settings_from(hosts={
            "https://www.youtube.com/": {"max_concurrent": 8},
            "*.substack.com": {"min_spacing": -1, "burst": 3},
            "*.medium.com:443": {"max_concurrent": 2},
            "ok.example": "fast"}))
    shape = ("must be a host name such as www.youtube.com (with :port if need be), or *. and "
             "a domain such as *.substack.com (no port)")
    assert caught.value.problems == [
        f"hosts: 'https://www.youtube.com/': {shape}",
        "hosts: '*.substack.com': unknown field 'burst'",
        "hosts: '*.substack.com': min_spacing: must be seconds >= 0, got -1",
        f"hosts: '*.medium.com:443': {shape}",
        "hosts: 'ok.example': must be a mapping such as {min_spacing: 1.0}",
    ]
    with pytest.raises(ConfigError, match="hosts: must be a mapping"):
        parse_settings(settings_from(hosts=["www.youtube.com"]))
