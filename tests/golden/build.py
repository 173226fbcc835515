"""Copy the golden feeds from the shared corpus (trimmed) and write DRAFT expected stories.

Usage, from the repository root with the shared corpus beside it::

    .venv/bin/python tests/golden/build.py feeds    # copy and trim the feeds listed in GOLDEN
    .venv/bin/python tests/golden/build.py draft NAME...   # write expected/NAME.json drafts

A draft is what the code produces today: it becomes an expected file only after it was read
against the source feed and corrected by hand (see README.md here). Never run ``draft`` over
reviewed files to make a failing test pass.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus" / "feeds"
KEEP_ITEMS = 5
FEWER_ITEMS = {"dcrainmaker_wordpress.xml": 2}
"""Feeds whose items are so long that fewer are kept."""

GOLDEN = {
    "cnn_international.xml": "cnn/headlines_cnn_app-international_2021-10-18_9e6d80d.xml",
    "cnn_simplepie.xml": "cnn/simplepie-ng_cnn.xml",
    "cnn_latin1.xml": "cnn/speedparser_4087.xml",
    "bbc_news_home.xml": "bbc/headlines_bbc_news-home_2021-10-18_9e6d80d.xml",
    "bbc_chinese.xml": "bbc/greatfire_bbc-chinese.xml",
    "bbc_arabic.xml": "bbc/simplepie-ng_bbc-arabic.xml",
    "nytimes_us_2020.xml": "nytimes/headlines_nytimes_us_2020-07-17_01f9724.xml",
    "nytimes_chinese.xml": "nytimes/greatfire_nyt-chinese.xml",
    "ap.xml": "ap/speedparser_1446.xml",
    "lemonde.xml": "lemonde/simplepie-ng_lemonde.xml",
    "spiegel.xml": "spiegel/feed-rs_rss_2.0_spiegel.xml",
    "heise_rdf.xml": "heise/miniflux_rdf_UTF8.xml",
    "heise.atom": "heise/rss-parser_heise.atom",
    "golem_latin1.xml": "golem/miniflux_encoding_ISO-8859-1.xml",
    "windows1251.xml": "miniflux/encoding_WINDOWS-1251.xml",
    "gb2312.rss": "rsparser/kc0011.rss",
    "shift_jis.xml": "speedparser/0850.xml",
    "windows1255.xml": "speedparser/2050.xml",
    "linuxfr_latin9.xml": "simplepie-ng/rss2_iso_text_linuxfr.xml",
    "makii_latin2_rss1.xml": "simplepie-ng/rss1_makii.xml",
    "rss091_latin1.xml": "feed-rs/rss_0.91_encoding_1.xml",
    "bold_dk_mixed_encoding.xml": "feedkit/bold.dk.xml",
    "utf16.xml": "malformed/fastfeedparser_utf16_encoded.xml",
    "atom03_bouil.xml": "simplepie-ng/atom_utf8_bouil.xml",
    "jsonfeed11_elastic.json": "jsonfeed/feed-rs_jsonfeed_elastic_1.1.json",
    "jsonfeed10_inessential.json": "jsonfeed/rsparser_inessential.json",
    "jsonfeed11_3960.json": "jsonfeed/rsparser_3960.json",
    "atom_named_rss_daringfireball.rss": "rsparser/DaringFireball.rss",
    "rss_named_atom_slickdeals.atom": "huginn/slickdeals.atom",
    "rdf_named_rss_craigslist.rss": "rss-parser/craigslist.rss",
    "youtube_media_group.xml": "youtube/huginn_youtube.xml",
    "anchorfm_podcast.xml": "podcasts/feed-rs_rss_2.0_anchorfm.xml",
    "founders_talk_podcast.xml": "podcasts/simplepie-ng_founders-talk-podcast.xml",
    "reddit_mediarss.xml": "reddit/feed-rs_atom_mediarss_reddit_1.xml",
    "github_releases.atom": "github/rss-parser_gulp-releases.atom",
    "hackernews.xml": "hackernews/rss-reader_hackernews.xml",
    "dcrainmaker_wordpress.xml": "wordpress/rsparser_dcrainmaker.xml",
    "medium_content_encoded.rss": "medium/rss-parser_content-encoded.rss",
    "blogspot.atom.xml": "blogger/simplepie-ng_blogspot_atom.xml",
    "google_news.xml": "google-news/simplepie-ng_google-news.xml",
    "slashdot.xml": "slashdot/rome_slashdot.xml",
    "wired.xml": "prettyparser/wired.xml",
    "macrumors.xml": "stringer/macrumors_feed.xml",
    "feedburner_xhtml.xml": "feedjira/FeedBurnerXHTML.xml",
    "usgs_earthquakes.atom.xml": "rome/usgs-gov-earthquakes-all-hour-atom.xml",
    "laut_de.rdf": "laminas/laut.de-rdf.xml",
}
"""Golden file name → corpus path (see corpus/SOURCES.tsv for where each came from)."""

_ITEM_END = re.compile(rb"</(?:item|entry)\s*>", re.IGNORECASE)
_ITEM_START = re.compile(rb"<(?:item|entry)[\s>/]", re.IGNORECASE)


def trimmed(content: bytes, name: str) -> bytes:
    """The feed with its first few items only, still a valid document."""
    keep = FEWER_ITEMS.get(name, KEEP_ITEMS)
    if name.endswith(".json"):
        document = json.loads(content)
        document["items"] = document.get("items", [])[:keep]
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    if b"\x00" in content[:100]:  # UTF-16: small in the corpus, kept whole
        return content
    ends = list(_ITEM_END.finditer(content))
    if len(ends) <= keep:
        return content
    cut = ends[keep - 1].end()
    last = ends[-1].end()
    # Items are consecutive in these feeds; anything between them (RSS 1.0's items sit
    # beside the channel) is dropped along with them.
    if _ITEM_START.search(content, cut, last) is None:
        return content
    return content[:cut] + content[last:]


def copy_feeds() -> None:
    for name, source in GOLDEN.items():
        (HERE / "feeds" / name).write_bytes(trimmed((CORPUS / source).read_bytes(), name))


REVIEWED = 2
"""How many stories of each feed are pinned: those read field by field against the source."""


def write_drafts(names: list[str]) -> None:
    sys.path.insert(0, str(HERE.parent))
    from test_golden import stories_of  # the same normalization the test runs

    for name in names:
        stories = [s.to_dict() for s in stories_of(name)[:REVIEWED]]
        target = HERE / "expected" / f"{name}.json"
        target.write_text(json.dumps(stories, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["feeds"]:
        copy_feeds()
    elif sys.argv[1:2] == ["draft"]:
        write_drafts(sys.argv[2:])
    else:
        sys.exit(__doc__)
