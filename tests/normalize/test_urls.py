"""Canonical URLs: one spelling per story, whatever the feed added to the link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.normalize.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # The link of tests/feeds/heated_substack.xml's "subscribe" anchor.
        (
            "https://heated.world/subscribe?utm_medium=rss&utm_content=32137990",
            "https://heated.world/subscribe",
        ),
        (
            "HTTP://WWW.NYTimes.com:80/2021/10/16/us/x.html#comments",
            "http://www.nytimes.com/2021/10/16/us/x.html",
        ),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        # Other parameters stay, in their order, exactly as written.
        (
            "https://www.youtube.com/watch?v=znSN7ZFIaOg&fbclid=IwAR0&t=1s",
            "https://www.youtube.com/watch?v=znSN7ZFIaOg&t=1s",
        ),
        (
            "https://e.com/s?q=a%20b&gclid=1&z=%7E&mc_cid=2&mc_eid=3",
            "https://e.com/s?q=a%20b&z=%7E",
        ),
        # The path is kept as given: no decoding of %7E, no removal of trailing slashes.
        ("https://e.com/%7Euser/Page/", "https://e.com/%7Euser/Page/"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_relative_links_resolve_against_the_base() -> None:
    base = "https://www.debian.org/News/news.rdf"
    assert canonical_url("2022/20221217", base) == "https://www.debian.org/News/2022/20221217"
    assert canonical_url("/security/", base) == "https://www.debian.org/security/"
    assert canonical_url("//cdn.debian.org/x.png", base) == "https://cdn.debian.org/x.png"


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "mailto:a@b.c",
        "ftp://e.com/f",
        "javascript:alert(1)",
        "https://",
        "http://[::1",
        "http://e.com:99999/",
        "relative/path",
    ],
)
def test_not_http_or_unparseable_is_none(url: str | None) -> None:
    assert canonical_url(url) is None


# --- properties -------------------------------------------------------------------------------

_label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_segment = st.text(st.sampled_from("abcXYZ019-._~%!$'()*+,;=:@"), max_size=8)
_path = st.lists(_segment, max_size=4).map(lambda parts: "".join("/" + p for p in parts))
_key = st.one_of(
    st.sampled_from(["utm_source", "UTM_Medium", "utm_campaign", "fbclid", "gclid", "mc_cid"]),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_%5F"), min_size=1, max_size=10),
)
_param = st.tuples(_key, st.text(st.sampled_from("abc123%/?:@-_."), max_size=6)).map("=".join)
_query = st.lists(_param, max_size=5).map("&".join)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    url = f"{scheme}://{draw(_host)}{port}{draw(_path)}"
    query = draw(_query)
    if query or draw(st.booleans()):
        url += "?" + query
    if draw(st.booleans()):
        url += "#" + draw(st.text(max_size=8))
    return url


_any_url = st.one_of(_urls(), st.text(max_size=60), st.from_regex(r"https?://\S{0,40}"))


@given(_any_url)
def test_canonical_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(_urls())
def test_canonical_has_no_fragment_and_no_tracking_parameter(url: str) -> None:
    canonical = canonical_url(url)
    assert canonical is not None
    parts = urlsplit(canonical)
    assert "#" not in canonical
    keys = [k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not [k for k in keys if k.startswith("utm_") or k in ("fbclid", "gclid", "mc_cid")]


@given(_any_url)
def test_canonical_host_is_lower_case(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is not None:
        netloc = urlsplit(canonical).netloc
        assert netloc.rpartition("@")[2] == netloc.rpartition("@")[2].lower()
        assert canonical.startswith(("http://", "https://"))
