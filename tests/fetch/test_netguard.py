"""The private-network guard: redirects and article links cannot reach internal addresses."""

from __future__ import annotations

import ipaddress

import pytest
import redis
from feedserver import FeedServer, Route, item, rss

from worker.config import FeedConfig, Settings
from worker.exceptions import PrivateAddressRefused
from worker.fetch import HttpClient, fetch, new_client
from worker.fetch.netguard import is_private
from worker.poll import Poller
from worker.state import feed_key


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.5.6.7", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1",
    "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "ff02::1",
])
def test_internal_addresses_are_private(address: str) -> None:
    assert is_private(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "8.8.8.8", "93.184.216.34", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
])
def test_public_addresses_are_not(address: str) -> None:
    assert not is_private(ipaddress.ip_address(address))


@pytest.fixture
def guarded() -> HttpClient:
    return new_client("feedwatch-test", timeout=2.0, guard=True)


def test_a_guarded_client_refuses_loopback_by_address_and_by_name(
        feed_server: FeedServer, guarded: HttpClient) -> None:
    url = feed_server.serve("/feed.xml", rss([item(1)]))
    with pytest.raises(PrivateAddressRefused, match=r"127\.0\.0\.1.*allow_private_networks"):
        fetch(guarded, url, max_bytes=1 << 20, deadline=5)
    by_name = url.replace("127.0.0.1", "localhost")
    with pytest.raises(PrivateAddressRefused, match=r"refused to connect to localhost"):
        fetch(guarded, by_name, max_bytes=1 << 20, deadline=5)
    assert feed_server.hits("/feed.xml") == [], "nothing reached the server"


def test_a_guarded_client_refuses_the_metadata_service(guarded: HttpClient) -> None:
    with pytest.raises(PrivateAddressRefused, match=r"169\.254\.169\.254"):
        fetch(guarded, "http://169.254.169.254/latest/meta-data/", max_bytes=1 << 20, deadline=5)


def test_a_redirect_to_the_private_network_is_refused_with_a_clear_error(
        feed_server: FeedServer, guarded: HttpClient) -> None:
    feed_server.serve("/internal.xml", rss([item(1)]))
    internal = feed_server.url("/internal.xml").replace("127.0.0.1", "localhost")
    feed_server.routes["/feed.xml"] = Route(status=302, headers={"Location": internal})
    with new_client("feedwatch-test", timeout=2.0) as open_client, \
            pytest.raises(PrivateAddressRefused, match="refused to connect to localhost"):
        fetch(open_client, feed_server.url("/feed.xml"), max_bytes=1 << 20, deadline=5,
              redirect_client=guarded)
    assert len(feed_server.hits("/feed.xml")) == 1, "the configured URL itself is fetched"
    assert feed_server.hits("/internal.xml") == []


def test_a_learned_redirect_target_stays_behind_the_guard(
        feed_server: FeedServer, guarded: HttpClient, redis_client: redis.Redis) -> None:
    """A 301 learned while its host looked public must not become an unguarded first hop when
    the host later resolves to the private network (DNS rebinding)."""
    configured = feed_server.serve("/feed.xml", rss([item(1)]))
    internal = feed_server.serve("/internal.xml", rss([item(2)]))
    redis_client.hset(feed_key("f"), mapping={
        "url": configured, "location": internal.replace("127.0.0.1", "localhost")})
    feed = FeedConfig(key="f", url=configured)
    settings = Settings(path="<t>", feeds=(feed,), stream="guard:stories", timeout=2.0)
    with new_client("feedwatch-test", timeout=2.0) as open_client:
        outcome = Poller(settings, redis_client, open_client, redirect_http=guarded).poll(feed)
    assert outcome.result == "error"
    assert "refused to connect to localhost" in (outcome.error or "")
    assert feed_server.hits("/internal.xml") == []
    assert redis_client.xlen("guard:stories") == 0
