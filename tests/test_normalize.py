"""Feed entries to stories: the values consumers of the stream read.

Expected values were read off the feed files in tests/feeds/ (see SOURCES.md there).
"""

from __future__ import annotations

import html.entities
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from worker.dedupe import story_id
from worker.normalize import normalize_entry
from worker.normalize.dateline import split_dateline
from worker.normalize.dates import to_iso_utc
from worker.normalize.media import media_type
from worker.normalize.people import split_contributors, split_names
from worker.parse import ParsedFeed, parse_feed
from worker.types import Media, Story

FEEDS = Path(__file__).parent / "feeds"
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
    assert s.body[1:] == ["Fortunately, I stil…", "Read more"]
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


def test_dates_to_iso_utc() -> None:
    parsed = datetime(2021, 10, 16, 9, 0, 15, tzinfo=UTC).timetuple()
    assert to_iso_utc(parsed, "ignored") == "2021-10-16T09:00:15Z"
    assert to_iso_utc(None, "2018-02-13T01:02:03+01:00") == "2018-02-13T00:02:03Z"
    assert to_iso_utc(None, "Tue, 17 Oct 2017 22:17:00 +0000") == "2017-10-17T22:17:00Z"
    assert to_iso_utc(None, "1518478934") is None
    assert to_iso_utc(None, "next Tuesday") is None
    assert to_iso_utc(None, None) is None
