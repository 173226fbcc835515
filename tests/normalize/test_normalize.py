"""Feed entries to stories: the values consumers of the stream read.

Expected values were read off the feed files in tests/feeds/ (see SOURCES.md there).
"""

from __future__ import annotations

import html
import html.entities
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from worker.normalize import body, normalize_entry
from worker.normalize.dateline import split_dateline
from worker.normalize.dates import story_date
from worker.normalize.media import media_type
from worker.normalize.people import split_contributors, split_names
from worker.parse import ParsedFeed, parse_feed
from worker.story import Media, Story
from worker.story.identity import story_id

FEEDS = Path(__file__).parent.parent / "feeds"
FETCHED_AT = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))


def feed(name: str) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}")


def story(name: str, index: int = 0, **kwargs: object) -> Story:
    parsed = feed(name)
    options: dict[str, object] = {"feed_key": "test", "source": None, "fetched_at": FETCHED_AT}
    options.update(kwargs)
    return normalize_entry(parsed.entries[index], parsed, **options)  # type: ignore[arg-type]


# --- whole stories from real feeds -----------------------------------------------------------


def test_nytimes_news_item() -> None:
    s = story("nytimes_us.xml", source="The New York Times", tags=["us", "Water"])
    url = "https://www.nytimes.com/2021/10/16/us/benton-harbor-michigan-water.html"
    assert s.title == "Another Michigan Water Crisis Underscores Infrastructure Woes"
    assert (s.url, s.guid, s.feed) == (url, url, "test")
    assert s.published == "2021-10-16T09:00:15Z"
    assert s.updated is None
    assert s.authors == ["Mitch Smith"]
    assert s.source == "The New York Times"
    assert s.language == "en-us"
    assert s.body == [
        "The crises in Benton Harbor and Flint expose broader failures as a congressional push"
        " to address the country’s troubled water system stalls."
    ]
    assert s.summary == s.body[0]
    assert s.highlights == []
    assert s.media == [
        Media(
            type="image",
            url="https://static01.nyt.com/images/2021/10/17/us/15bentonharbor-1/"
            "merlin_196270980_89576622-5015-4b25-9117-fe766cf8b45b-moth.jpg",
            caption="In Benton Harbor, state officials said Thursday that they would continue"
            " distributing free bottled water.",
            credit="Sebastian Hidalgo for The New York Times",
            width=151,
            height=151,
        )
    ]
    # The entry's categories first, then the configured tags; "Water" only once.
    assert s.tags[:3] == ["Water Pollution", "Lead", "Water"]
    assert s.tags[-2:] == ["Natural Resources Defense Council", "us"]
    assert s.tags.count("Water") == 1
    assert s.fetched_at == "2024-05-01T12:30:00Z"
    assert s.id == story_id("test", url, url)


def test_source_defaults_to_the_feed_title() -> None:
    assert story("nytimes_us.xml").source == "NYT > U.S. News"


def test_content_encoded_is_the_body_and_the_description_a_highlight() -> None:
    s = story("heated_substack.xml")
    assert s.title == "A conversation about Keystone XL"
    assert s.url == "https://heated.world/p/a-conversation-about-keystone-xl"
    assert s.authors == ["Emily Atkin"]
    assert s.published == "2021-02-03T12:00:47Z"
    assert s.body[0].startswith("Hello, dear paid subscriber fam! I have some good news")
    assert s.body[0].endswith("I didn’t have time to write a newsletter for today.")
    assert s.body[1:] == ["Fortunately, I stil…"]  # the "Read more" link is dropped
    highlight = (
        "This past weekend, I was interviewed by Walt Hickey, the author and creator of"
        " Numlock News."
    )
    assert s.highlights == [highlight]
    assert s.summary == highlight
    assert [(m.type, m.mime) for m in s.media] == [("image", "image/jpeg")]
    assert s.media[0].url is not None and s.media[0].url.endswith("_3024x4032.jpeg")


def test_podcast_episode_with_enclosure_and_media_content_of_one_file() -> None:
    s = story("bbc_in_our_time_podcast.xml")
    assert (s.title, s.guid) == ("Marcus Aurelius", "urn:bbc:podcast:m000sjxt")
    assert s.url == "http://www.bbc.co.uk/programmes/m000sjxt"
    assert s.authors == ["BBC Radio 4"]
    assert s.published == "2021-02-25T10:15:00Z"
    assert s.media == [
        Media(
            type="audio",
            url="http://open.live.bbc.co.uk/mediaselector/6/redir/version/2.0/mediaset/"
            "audio-nondrm-download/proto/http/vpid/p097wt5b.mp3",
            mime="audio/mpeg",
            duration=3156,
            duration_text="52:36",
        )
    ]
    # The full itunes:summary goes on from the shortened description: it is the body.
    assert s.body == ["Melvyn Bragg and guests discuss the man who, according to Machiavelli..."]
    assert s.highlights == []


def test_podcast_with_untyped_enclosures_and_minute_durations() -> None:
    stories = [story("le_show_podcast.xml", i) for i in range(4)]
    first = stories[0]
    assert first.media == [
        Media(
            type="audio",
            url="http://a1.phobos.apple.com/Podcasts/y2005/m08/d01/h14/eosmhmit.mp3",
            duration=46 * 60 + 34,
            duration_text="46:34",
        )
    ]
    assert first.published == "2005-07-31T16:00:00Z"
    assert first.authors == ["Harry Shearer"]
    assert first.tags == ["Comedy"]
    assert first.body == [] and first.summary is None
    assert stories[1].media[0].duration_text == "44:00"
    # Same title, no link: the guids keep the four episodes apart.
    assert len({s.id for s in stories}) == 4


def test_youtube_video_and_thumbnail() -> None:
    s = story("youtube_pbs_space_time.xml")
    assert s.url == "https://www.youtube.com/watch?v=0A1ouV7iD8o"
    assert s.guid == "yt:video:0A1ouV7iD8o"
    assert (s.published, s.updated) == ("2020-12-22T19:15:01Z", "2020-12-25T23:12:12Z")
    assert s.authors == ["PBS Space Time"]
    assert s.media == [
        Media(
            type="video",
            url="https://www.youtube.com/v/0A1ouV7iD8o?version=3",
            mime="application/x-shockwave-flash",
            width=640,
            height=390,
        ),
        Media(
            type="image",
            url="https://i1.ytimg.com/vi/0A1ouV7iD8o/hqdefault.jpg",
            width=480,
            height=360,
        ),
    ]
    assert s.summary == (
        "Check Out Weathered on PBS Terra"
        " https://www.youtube.com/watch?v=znSN7ZFIaOg&ab_channel=PBSTerra"
    )


def test_atom_entry_with_only_updated_is_published_then() -> None:
    s = story("heise_atom.xml", 5)
    assert s.title == "Noch mehr Ärger für Siemens: Steuern hinterzogen?"
    assert s.url == "http://www.heise.de/newsticker/meldung/85112/from/atom10"
    assert s.guid == "http://www.heise.de/newsticker/meldung/85112"
    assert s.published == s.updated == "2007-02-11T12:31:05Z"  # 13:31:05+01:00


def test_rss10_item_with_escaped_markup_and_date_only() -> None:
    s = story("debian_rss10.rdf")
    assert s.title == "Updated Debian 11: 11.6 released"
    assert s.published == "2022-12-17T00:00:00Z"
    assert s.language == "en"  # from xml:lang on the root
    assert s.body[0].startswith(
        "The Debian project is pleased to announce the sixth update of its stable distribution"
        " Debian 11 (codename bullseye). This point release"
    )


def test_rss091_latin1_item() -> None:
    s = story("stadtfeuerwehr_rss091_latin1.xml", 1)
    assert s.title == "[17.08.2018 - 20:35 Uhr] Technische Hilfeleistung"
    assert s.url == "http://www.stadtfeuerwehr-weiz.at/einsaetze/einsatz-detail/5218/"
    assert s.published == "2018-08-17T19:35:00Z"
    assert s.body[0].startswith("Einsatzort: Weiz, Birkfelder Straße Alarmierung: telefonisch")
    assert s.source == "Stadtfeuerwehr Weiz - Einsätze"


def test_windows1251_item() -> None:
    s = story("ibash_windows1251.xml", 1)
    assert s.title == "Цитата #17705"
    assert s.url == s.guid == "http://ibash.org.ru/quote.php?id=17705"
    assert s.published == "2018-03-21T07:27:22Z"
    assert "предоставлялась бо'льшая свобода действий. ууу: Я склоняюсь" in s.body[0]


def test_malformed_feed_entries_still_normalize() -> None:
    s = story("malformed/unescaped_ampersands.xml", 1)
    assert s.title == "Mozilla Project Hurt by Apple's Decision to use KH"
    assert s.url == (
        "http://developers.slashdot.org/article.pl?sid=03/01/14/1514205&mode=nested&tid=154&threshold=3"
    )
    assert s.source == "My weblog — tech news & stuff"


def test_the_same_entry_always_gets_the_same_id() -> None:
    first = story("heise_atom.xml", 3, feed_key="heise")
    again = story("heise_atom.xml", 3, feed_key="heise")
    other_feed = story("heise_atom.xml", 3, feed_key="other")
    assert first.id == again.id != other_feed.id


# --- every story of every copied feed ----------------------------------------------------------

WELL_FORMED = sorted(
    p.relative_to(FEEDS).as_posix() for p in FEEDS.glob("*.*") if p.suffix != ".md"
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


def _text_fields(s: Story) -> list[str]:
    texts = [s.title, s.summary, s.dateline, s.source, *s.body, *s.highlights, *s.authors]
    texts += [*s.contributors, *s.tags]
    texts += [t for m in s.media for t in (m.caption, m.credit, m.title)]
    return [t for t in texts if t]


def _has_entity(text: str) -> bool:
    for match in _ENTITY.finditer(text):
        name = match[1]
        if name.startswith("#") or f"{name};" in html.entities.html5:
            return True
    return False


@pytest.mark.parametrize("name", WELL_FORMED)
def test_every_entry_normalizes_to_clean_text(name: str) -> None:
    parsed = feed(name)
    assert parsed.entries
    for entry in parsed.entries:
        s = normalize_entry(entry, parsed, feed_key=name, source=None, fetched_at=FETCHED_AT)
        assert s.title or s.body
        for text in _text_fields(s):
            assert not _TAG.search(text), text
            assert not _has_entity(text), text
            assert text == text.strip() and "  " not in text and "\n" not in text


# --- the parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "dateline", "rest"),
    [
        # Openings of CNN stories in shared/corpus/articles/cnn_dailymail_stories.
        (
            "WASHINGTON (CNN) -- As he awaits a crucial progress report",
            "WASHINGTON (CNN)",
            "As he awaits a crucial progress report",
        ),
        (
            "MINNEAPOLIS, Minnesota (CNN) -- Drivers who were on the",
            "MINNEAPOLIS, Minnesota (CNN)",
            "Drivers who were on the",
        ),
        (
            "(CNN)Seventy years ago, Anne Frank died of typhus",
            "(CNN)",
            "Seventy years ago, Anne Frank died of typhus",
        ),
        (
            "Marseille, France (CNN)The French prosecutor",
            "Marseille, France (CNN)",
            "The French prosecutor",
        ),
        ("(CNN) \u00a0\u2014\u00a0Syria’s embattled leader", "(CNN)", "Syria’s embattled leader"),
        ("(CNN)  -- The", "(CNN)", "The"),
        (
            "CNN \u00a0\u2013 Syria’s embattled leader is ready",
            "CNN",
            "Syria’s embattled leader is ready",
        ),
    ],
)
def test_dateline_is_split_off(first: str, dateline: str, rest: str) -> None:
    assert split_dateline([first, "Second."]) == (dateline, [rest, "Second."])


def test_dateline_alone_in_the_first_paragraph_removes_it() -> None:
    # tests/data/seed_story.txt: "CNN  — " is a block of its own.
    assert split_dateline(["CNN \u00a0—\u00a0", "Syria’s embattled leader"]) == (
        "CNN",
        ["Syria’s embattled leader"],
    )


@pytest.mark.parametrize(
    "first",
    [
        "Unfortunately, that fits the pattern seen time and again in Syria – there’s been talk.",
        "The ceasefire -- negotiated in Munich -- came after talks.",
        "CNN reported — on Saturday — that talks had stalled.",
        "Officials (CNN has learned) are divided.",
        "",
    ],
)
def test_no_dateline_in_ordinary_sentences(first: str) -> None:
    assert split_dateline([first]) == (None, [first])


@pytest.mark.parametrize(
    ("last", "names"),
    [
        (
            "CNN's Vasco Cotovio, Kareem Khadder and Faith Karimi contributed to this report.",
            ["Vasco Cotovio", "Kareem Khadder", "Faith Karimi"],
        ),
        (
            "CNN’s Richard Beltran and Don Melvin contributed to this report.",
            ["Richard Beltran", "Don Melvin"],
        ),
        ("CNN's Mike Phelan contributed to this report.", ["Mike Phelan"]),
        (
            "Pamela Boykoff, Antonia Mortensen, Sandrine Amiel and Anna-Maja Rappard contributed to this report.",
            ["Pamela Boykoff", "Antonia Mortensen", "Sandrine Amiel", "Anna-Maja Rappard"],
        ),
        (
            "Ann Lee, Bo Chen, and Cy Diaz contributed to this report.",
            ["Ann Lee", "Bo Chen", "Cy Diaz"],
        ),
    ],
)
def test_contributors_line_is_taken_off(last: str, names: list[str]) -> None:
    assert split_contributors(["Body.", last]) == (["Body."], names)


@pytest.mark.parametrize(
    "last",
    [
        "CNN.com senior producer Wayne Drash contributed to this report in Atlanta.",
        "He said that everyone who was there contributed to this report, in a way.",
        "the staff contributed to this report.",
    ],
)
def test_other_last_paragraphs_stay(last: str) -> None:
    assert split_contributors(["Body.", last]) == (["Body.", last], [])


def test_bylines_are_split_and_deduplicated() -> None:
    bylines = ["By Ann Lee and Bo Chen", "Bo Chen, Cy Diaz & Dee Eve", "by ANN LEE", "ann@x.org"]
    assert split_names(bylines) == ["Ann Lee", "Bo Chen", "Cy Diaz", "Dee Eve"]


@pytest.mark.parametrize(
    ("medium", "mime", "url", "expected"),
    [
        ("image", None, "https://e.com/x", "image"),
        (None, "audio/mpeg", "https://e.com/x", "audio"),
        (None, "", "http://a1.phobos.apple.com/Podcasts/y2005/eosmhmit.mp3", "audio"),
        (None, None, "https://e.com/clip.MP4?x=1", "video"),
        (None, "application/pdf", "https://e.com/report.pdf", None),
        ("document", None, "https://e.com/a.jpg", None),
        (None, None, "https://e.com/page.html", None),
    ],
)
def test_media_type(medium: str | None, mime: str | None, url: str, expected: str | None) -> None:
    assert media_type(medium, mime, url) == expected


def iso(parsed: object, raw: str | None) -> str | None:
    return story_date(parsed, raw, zone=UTC, fetched_at=FETCHED_AT)[0]  # type: ignore[arg-type]


def test_dates_to_iso_utc() -> None:
    parsed = datetime(2021, 10, 16, 9, 0, 15, tzinfo=UTC).timetuple()
    assert iso(parsed, "Sat, 16 Oct 2021 09:00:15 GMT") == "2021-10-16T09:00:15Z"
    assert iso(None, "2018-02-13T01:02:03+01:00") == "2018-02-13T00:02:03Z"
    assert iso(None, "Tue, 17 Oct 2017 22:17:00 +0000") == "2017-10-17T22:17:00Z"
    assert iso(None, "1518478934") is None
    assert iso(None, "next Tuesday") is None
    assert iso(None, None) is None


# --- dates: zones, the future, first seen ------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def dated(raw: str, zone: tzinfo = UTC) -> tuple[str | None, list[str]]:
    return story_date(None, raw, zone=zone, fetched_at=FETCHED_AT)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-15T12:00:00", "2024-01-15T11:00:00Z"),  # CET, UTC+1
        ("2024-04-15T12:00:00", "2024-04-15T10:00:00Z"),  # CEST, UTC+2
        ("Mon, 15 Jan 2024 12:00:00", "2024-01-15T11:00:00Z"),
        ("2024/1/15 12:00", "2024-01-15T11:00:00Z"),
        ("2024-01-15", "2024-01-14T23:00:00Z"),
    ],
)
def test_a_date_without_zone_is_read_in_the_feeds_zone_and_flagged(raw: str, expected: str) -> None:
    assert dated(raw, BERLIN) == (expected, ["date-without-zone"])


@pytest.mark.parametrize(
    "raw", ["2024-01-15T12:00:00Z", "2024-01-15T13:00:00+01:00", "Mon, 15 Jan 2024 07:00:00 EST"])
def test_a_date_with_a_zone_ignores_the_feeds_zone(raw: str) -> None:
    assert dated(raw, BERLIN) == ("2024-01-15T12:00:00Z", [])


def test_a_slashed_numeric_date_is_not_misread() -> None:
    # feedparser alone reads this as 1 November 2020.
    assert dated("2020/1/10 14:33:00") == ("2020-01-10T14:33:00Z", ["date-without-zone"])


def test_a_date_in_the_future_is_clamped_to_the_fetch_time_and_flagged() -> None:
    assert dated("2024-05-01T20:00:00+00:00") == ("2024-05-01T12:30:00Z", ["date-in-future-clamped"])


def test_a_few_minutes_ahead_is_clock_skew_not_the_future() -> None:
    assert dated("2024-05-01T12:35:00+00:00") == ("2024-05-01T12:35:00Z", [])


def test_story_carries_the_flags_and_first_seen() -> None:
    body = (b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            b"<pubDate>Mon, 15 Jan 2024 12:00:00</pubDate><guid>1</guid></item>"
            b"<item><title>y</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>"
            b"<guid>2</guid></item></channel></rss>")
    parsed = parse_feed(body, url="https://feeds.example/f")
    first, second = (
        normalize_entry(e, parsed, feed_key="k", source=None, fetched_at=FETCHED_AT,
                        timezone=BERLIN)
        for e in parsed.entries
    )
    assert (first.published, first.flags) == ("2024-01-15T11:00:00Z", ["date-without-zone"])
    assert (second.published, second.flags) == ("2024-05-01T12:30:00Z", ["date-in-future-clamped"])
    assert first.first_seen == first.fetched_at == "2024-05-01T12:30:00Z"


# --- links, media and body details from the golden feeds ---------------------------------------

GOLDEN_FEEDS = Path(__file__).parent.parent / "golden" / "feeds"


def golden_story(name: str, index: int = 0) -> Story:
    parsed = parse_feed((GOLDEN_FEEDS / name).read_bytes(), url=f"https://golden.example/{name}")
    return normalize_entry(parsed.entries[index], parsed, feed_key="golden", source=None,
                           fetched_at=FETCHED_AT)


def test_a_proxy_link_gives_way_to_a_guid_that_is_the_real_address() -> None:
    s = golden_story("cnn_simplepie.xml")
    assert s.url == "http://www.cnn.com/2015/09/10/politics/cnn-reagan-debate-lineup/index.html"


def test_feedburner_origlink_is_the_story_url() -> None:
    s = golden_story("rss_named_atom_slickdeals.atom")
    assert s.url is not None and s.url.startswith("http://slickdeals.net/permadeal/130160/")


def test_a_proxy_link_with_nothing_better_is_kept() -> None:
    body = (b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            b"<link>http://feedproxy.google.com/~r/X/~3/abc/story.html</link>"
            b"<guid isPermaLink='false'>tag:x,2020:1</guid></item></channel></rss>")
    parsed = parse_feed(body, url="https://feeds.example/f")
    s = normalize_entry(parsed.entries[0], parsed, feed_key="k", source=None, fetched_at=FETCHED_AT)
    assert s.url == "http://feedproxy.google.com/~r/X/~3/abc/story.html"


def test_bbc_tracking_parameters_leave_the_url() -> None:
    assert golden_story("bbc_news_home.xml").url == "https://www.bbc.co.uk/news/uk-58943184"


def test_media_group_gives_one_item_its_largest_rendition() -> None:
    [image] = golden_story("cnn_international.xml").media
    assert image.url is not None and image.url.endswith("-super-169.jpg")
    assert (image.width, image.height) == (1100, 619)


def test_images_in_the_content_become_media_with_their_alt_as_caption() -> None:
    [image] = golden_story("heise.atom").media
    assert image.url is not None and image.url.endswith("5ba35d3770232d92.jpeg")
    assert image.caption == "WildFly 10"


def test_tracking_pixels_and_ad_images_are_not_media() -> None:
    assert golden_story("rss_named_atom_slickdeals.atom").media == []  # a 1x1 FeedBurner pixel
    assert [m.url for m in golden_story("jsonfeed11_3960.json").media] == [
        "https://cdn.3960.org/favicon-192x192.png"]  # and not Matomo's stats.3960.org/p.php
    assert all("feedsportal" not in (m.url or "") for m in golden_story("cnn_simplepie.xml").media)


def test_media_description_is_the_image_caption_not_the_body() -> None:
    s = golden_story("nytimes_us_2020.xml", 1)
    assert s.body == [
        "Americans crave outdoor recreation more than ever. But national parks — sometimes many"
        " miles from equipped hospitals — are grappling with how to safely stay open."]
    assert s.media[0].caption is not None
    assert s.media[0].caption.startswith("Most national parks have at least partially reopened")


def test_itunes_image_and_duration() -> None:
    audio, image = golden_story("anchorfm_podcast.xml").media
    assert (audio.type, audio.duration, audio.duration_text) == ("audio", 2227, "37:07")
    assert image.type == "image" and image.url is not None and image.url.endswith(".jpg")


@pytest.mark.parametrize(
    ("name", "index", "tail"),
    [
        ("reddit_mediarss.xml", 0, "submitted by /u/Remarkable_Housing61 [link] [comments]"),
        ("wired.xml", 0, "The post Review: OnePlus 3 appeared first on WIRED."),
        ("dcrainmaker_wordpress.xml", 0, "Read More Here →"),
    ],
)
def test_read_more_tails_leave_the_body(name: str, index: int, tail: str) -> None:
    s = golden_story(name, index)
    assert s.body and not any(tail in p for p in s.body)
    assert not any(tail in h for h in s.highlights)


def test_a_teaser_summary_that_the_body_starts_with_is_no_highlight() -> None:
    assert golden_story("dcrainmaker_wordpress.xml").highlights == []


def test_sub_headings_stay_their_own_paragraphs() -> None:
    s = golden_story("medium_content_encoded.rss")
    assert s.body[:2] == ["Using Wild Ingredients in the\u00a0Kitchen",
                          "HEY, YOU! YES, YOU WITH THE EYEBALLS! GO OUTSIDE AND EAT SOME WILD\u00a0FOODS!"]


def test_mojibake_in_the_feed_file_is_repaired() -> None:
    s = golden_story("laut_de.rdf", 1)
    assert s.title == "Michael Jackson: Video der letzten Probe veröffentlicht"


# --- highlights carried by the HTML -------------------------------------------------------------


def html_story(content: str, summary: str = "A summary.") -> Story:
    body = ('<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            "<channel><title>t</title><item><title>x</title><guid>1</guid>"
            f"<description>{html.escape(summary)}</description>"
            f"<content:encoded>{html.escape(content)}</content:encoded></item></channel></rss>")
    parsed = parse_feed(body.encode(), url="https://feeds.example/f")
    return normalize_entry(parsed.entries[0], parsed, feed_key="k", source=None,
                           fetched_at=FETCHED_AT)


def test_a_story_highlights_block_gives_the_highlights_and_leaves_the_body() -> None:
    s = html_story("<h2>Story highlights</h2><ul><li>Bush to address veterans</li>"
                   "<li>Speech <b>reframes</b> the debate</li></ul>"
                   "<p>WASHINGTON (CNN) -- As he awaits a report, Bush will speak.</p>")
    assert s.highlights == ["Bush to address veterans", "Speech reframes the debate"]
    assert (s.dateline, s.body) == ("WASHINGTON (CNN)", ["As he awaits a report, Bush will speak."])


def test_a_list_of_summary_points_at_the_top_is_the_highlights() -> None:
    s = html_story("<ul><li>Morgan Smithies looks ahead to the new season.</li>"
                   "<li>He says he is not a young lad anymore.</li></ul><p>The interview.</p>")
    assert s.highlights == ["Morgan Smithies looks ahead to the new season.",
                            "He says he is not a young lad anymore."]
    assert s.body == ["The interview."]


def test_a_list_of_links_at_the_top_stays_in_the_body() -> None:
    s = html_story("<ul><li>PDF: arXiv (local mirror)</li><li>Code on GitHub</li></ul>"
                   "<p>The paper.</p>")
    assert s.highlights == ["A summary."]
    assert s.body == ["PDF: arXiv (local mirror)", "Code on GitHub", "The paper."]


# --- dates, for any moment ---------------------------------------------------------------------

ZONES = [ZoneInfo(name) for name in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")]
MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2024, 4, 30))


@given(moment=MOMENTS, zone=st.sampled_from(ZONES), written_in=st.sampled_from(ZONES))
def test_a_date_with_an_offset_is_that_instant_whatever_the_feeds_zone(
        moment: datetime, zone: tzinfo, written_in: tzinfo) -> None:
    aware = moment.replace(microsecond=0, tzinfo=written_in)
    raw = aware.isoformat()
    expected = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert story_date(None, raw, zone=zone, fetched_at=FETCHED_AT) == (expected, [])


@given(moment=MOMENTS, zone=st.sampled_from(ZONES))
@example(moment=datetime(2010, 3, 14, 2, 0, fold=1), zone=ZoneInfo("America/New_York"))
def test_a_date_without_offset_is_read_in_the_feeds_zone(moment: datetime, zone: tzinfo) -> None:
    naive = moment.replace(microsecond=0, fold=0)  # the text carries no fold (the next test)
    expected = naive.replace(tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for raw in (naive.isoformat(), naive.strftime("%a, %d %b %Y %H:%M:%S")):
        assert story_date(None, raw, zone=zone, fetched_at=FETCHED_AT) == (
            expected, ["date-without-zone"])


@pytest.mark.parametrize(("raw", "expected"), [
    ("2010-03-14T02:30:00", "2010-03-14T07:30:00Z"),  # never on New York's clocks: read in EST
    ("2010-11-07T01:30:00", "2010-11-07T05:30:00Z"),  # twice on them: the first, in EDT
])
def test_a_wall_time_that_a_clock_change_skips_or_repeats_is_read_before_the_change(
        raw: str, expected: str) -> None:
    """The offset in force before the change is taken (Python's fold=0), the same whichever
    worker reads it: a date a DST change makes ambiguous is off by an hour at most."""
    assert story_date(None, raw, zone=ZoneInfo("America/New_York"), fetched_at=FETCHED_AT) == (
        expected, ["date-without-zone"])


_TAIL_PIECES = ["Read more", "read more", "[Continue reading", "[Read more]", "Weiterlesen", "the full story",
                "Lire la suite", "The post ", " appeared first on ", "APPEARED FIRST ON", "word",
                ".", " ", "\n", "\u00a0"]
_TAIL_ENDS = ["", "...", "…", "»", "→", "]", ".", "!", " ", "\n", "\u00a0"]


@given(st.lists(st.sampled_from(_TAIL_PIECES) | st.text(max_size=6), max_size=8),
       st.lists(st.sampled_from(_TAIL_ENDS), max_size=3))
def test_a_trailing_read_more_is_cut_as_its_pattern_says(
        pieces: list[str], ends: list[str]) -> None:
    """The cheap look before the "Read more" pattern never changes what it cuts."""
    paragraph = "Some text. " + "".join(pieces) + "".join(ends)
    cut = body._TRAILING_TAIL.sub("", paragraph)
    assert body.without_tail([paragraph]) == ([cut] if cut else [])


def test_an_empty_last_paragraph_is_dropped_with_the_tail() -> None:
    assert body.without_tail(["Text.", ""]) == ["Text."]
