"""Canonical story URLs: one spelling per story, so that the URL can serve as its mark.

Only what is certain not to change the page is changed: the case of scheme and host, a default
port, an empty path (``/``), the fragment, and the query parameters that only tell the site
where a reader came from. The path and the other parameters stay exactly as written: sites
differ on whether ``%7E`` and ``~`` are the same page, so no percent-decoding happens here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "dclid",  # Google Display
        "msclkid",  # Microsoft Ads
        "mc_cid",  # Mailchimp campaign
        "mc_eid",  # Mailchimp subscriber
        "igshid",  # Instagram share
        "ref_src",  # Twitter
        "ref_url",  # Twitter
        "_hsenc",  # HubSpot
        "_hsmi",  # HubSpot
        "yclid",  # Yandex
        "at_medium",  # AT Internet (BBC)
        "at_campaign",  # AT Internet (BBC)
    }
)
"""Query parameters that say how the reader got to the page, not which page it is."""

TRACKING_PREFIXES = ("utm_",)
"""Parameter name prefixes of the same kind (Google Analytics' ``utm_source`` and friends)."""

DEFAULT_PORTS = {"http": 80, "https": 443}

PROXY_HOSTS = ("feedproxy.google.com", "feeds.feedburner.com", "feedsportal.com")
"""Hosts of click-counting redirectors that stand in for a story's own address."""
_PROXY_PATH = re.compile(r"^/(?:~r/|c/\d+/f/\d+/)")
"""The same redirectors on a publisher's own host (``rss.cnn.com/~r/...``, ``/c/35492/f/...``)."""


def story_link(link: str | None, *, original: str | None, guid: str | None) -> str | None:
    """The story's own address: FeedBurner's ``origLink``, else the item's link; but when the
    link goes through a redirector (:data:`PROXY_HOSTS`) and the guid is a web address, the guid.

    Proxy links are kept as given when nothing better exists.
    """
    if original and canonical_url(original):
        return original
    if link and is_proxy_link(link) and guid and canonical_url(guid) and not is_proxy_link(guid):
        return guid
    return link


def is_proxy_link(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = parts.hostname or ""
    proxied_host = any(host == h or host.endswith("." + h) for h in PROXY_HOSTS)
    return proxied_host or bool(_PROXY_PATH.match(parts.path))


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of ``url``, resolved against ``base``; None if it is not http(s).

    >>> canonical_url("HTTPS://Example.COM:443/a/B?utm_source=rss&id=7#top")
    'https://example.com/a/B?id=7'
    """
    if not url or not url.strip():
        return None
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute.replace(" ", "%20"))
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
        netloc = _canonical_netloc(scheme, parts.netloc, parts.hostname, parts.port)
    except ValueError:  # bad port, bad IPv6 literal, NFKC trickery in the host...
        return None
    if netloc is None:
        return None
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _without_tracking(parts.query), ""))


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter (as written in the URL) is one :func:`canonical_url` drops."""
    key = unquote_plus(name).lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _canonical_netloc(
    scheme: str, netloc: str, hostname: str | None, port: int | None
) -> str | None:
    if not hostname or any(c in hostname for c in "% \t"):
        return None  # a space or escape in a host name: not a URL anyone can fetch
    userinfo, _, _ = netloc.rpartition("@")
    host = f"[{hostname}]" if ":" in hostname else hostname  # hostname is already lower-case
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _without_tracking(query: str) -> str:
    kept = [p for p in query.split("&") if p and not is_tracking_param(p.partition("=")[0])]
    return "&".join(kept)
