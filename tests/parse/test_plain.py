"""The fast reader of plain RSS and Atom (worker/parse/plain/): wherever it reads a document,
the stories are those feedparser gives; whatever it does not reproduce, it leaves to feedparser.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plaincheck import plain_differences

from worker.parse import parse_feed
from worker.parse.plain import read_plain

TESTS = Path(__file__).parent.parent
DOCUMENTS = sorted(p for folder in ("feeds", "golden/feeds") for p in (TESTS / folder).rglob("*")
                   if p.is_file() and p.suffix not in (".md", ".json"))
FETCHED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
URL = "https://news.example/section/feed.xml"

NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
    'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:x="urn:example:extension"')
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM_NAMESPACES = 'xmlns="http://www.w3.org/2005/Atom" ' + NAMESPACES.replace(
    'xmlns:atom="http://www.w3.org/2005/Atom" ', "")


DECLARATIONS = ('<?xml version="1.0" encoding="{}"?>', "<?xml version='1.0' encoding='{}'?>",
                '<?xml version="1.0" encoding = "{}"?>', '<?xml version="1.0"\n encoding="{}"?>')
"""Layouts of the XML declaration: feedparser's own pattern finds the charset in the first two."""


def rss(channel: str, *, charset: str = "UTF-8", root: str = "", layout: int = 0) -> bytes:
    """An RSS document in ``charset``, what it cannot hold written as character references."""
    return (f'{DECLARATIONS[layout].format(charset)}\n<rss version="2.0" {NAMESPACES}{root}>'
            f'<channel>{channel}</channel></rss>').encode(charset, "xmlcharrefreplace")


def rdf(body: str, *, charset: str = "UTF-8", root: str = "", layout: int = 0) -> bytes:
    return (f'{DECLARATIONS[layout].format(charset)}\n<rdf:RDF xmlns:rdf="{RDF}" xmlns='
            f'"http://purl.org/rss/1.0/" {NAMESPACES}{root}>{body}</rdf:RDF>').encode(
        charset, "xmlcharrefreplace")


def atom(feed: str, *, charset: str = "UTF-8", root: str = "", layout: int = 0) -> bytes:
    return (f'{DECLARATIONS[layout].format(charset)}\n<feed {ATOM_NAMESPACES}{root}>{feed}'
            f'</feed>').encode(charset, "xmlcharrefreplace")


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(TESTS)) for p in DOCUMENTS])
def test_the_feed_files_give_the_stories_feedparser_gives(path: Path) -> None:
    """bench/plain_check.py runs this over the whole shared corpus (bench/RESULTS.md)."""
    _read, problems = plain_differences(path.read_bytes(), f"https://feeds.example/{path.name}",
                                        FETCHED_AT)
    assert problems == []


def test_the_fast_reader_reads_the_plain_feeds_of_the_tests() -> None:
    read = [p.name for p in DOCUMENTS if read_plain(p.read_bytes(), URL, None) is not None]
    assert {"nytimes_us.xml", "bbc_news_home.xml", "wired.xml", "hackernews.xml"} <= set(read)


# Generated documents: every element the fast reader knows, in any order and number, with text
# that trips feedparser's guesses: HTML-looking or not, entities, relative links, UTF-8 that
# was decoded as Latin-1, windows-1252 control codes, padding whitespace.
TEXT = st.lists(
    st.sampled_from([
        *"ab Z09.,;:/?=#-_'\"&<>\t\n", "é", "Ã©", "\x92", "\x85", "\xa0", "—", "“", "漢", "<b>", "</b>", "<p>", "</p>",
        "&amp;", "&copy;", "&#233;", "&bogus;", "<br/>", "<script>", "http://x.example/a?b=1&c=2",
        "/relative/path", "../up", "  "]),
    max_size=12,
).map("".join)
DATES = st.sampled_from(["Sat, 16 Oct 2021 09:00:15 +0000", "2021-10-16T09:00:15Z",
                         "16 Oct 2021", "yesterday", "", "Mon, 03 Oct 2011 20:20:59 +0200"])
NAMES = st.one_of(TEXT, st.sampled_from([
    "jo@news.example (Jo Lee)", "Jo Lee <jo@news.example>", "(jo@news.example)",
    "jo.lee+desk@sub.news.example", "Jo &lt;&gt; jo@news.example", "x@[10.0.0.1]",
    "jo@news.example?subject=Hi there", "@handle"]))


ATOM_LINK_ATTRIBUTES = st.tuples(
    st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="enclosure"', ' rel="related"',
                     ' rel="ALTERNATE"']),
    st.sampled_from(["", ' type="text/html"', ' type="application/pdf"', ' type="TEXT/HTML"',
                     ' type="html"', ' type="audio/mpeg" length="12"'])).map("".join)
"""atom:link in RSS and link in Atom: the same element to feedparser."""


def text_element(tag: str, value: str, cdata: bool, attributes: str = "") -> str:
    body = f"<![CDATA[{value}]]>" if cdata and "]]>" not in value else escape(value)
    return f"<{tag}{attributes}>{body}</{tag}>"


@st.composite
def items(draw: st.DrawFn, rdf: bool = False) -> str:
    """An RSS 2.0 item, or an RSS 1.0 one (``rdf``: no comments, perhaps an rdf:about)."""
    once = {
        "title": TEXT, "link": TEXT, "description": TEXT, "pubDate": DATES, "dc:date": DATES,
        "comments": TEXT, "media:description": TEXT, "feedburner:origLink": TEXT,
        "itunes:duration": st.sampled_from(["1:02:03", "62", "", "x"]),
        "wfw:commentRss": TEXT, "slash:comments": TEXT, "x:thing": TEXT,
    }
    parts = []
    for tag in draw(st.lists(st.sampled_from(sorted(once)), unique=True)):
        parts.append(text_element(tag, draw(once[tag]), draw(st.booleans())))
    if draw(st.booleans()):
        permalink = draw(st.sampled_from(["", ' isPermaLink="true"', ' isPermaLink="false"',
                                          ' isPermaLink="True"']))
        parts.append(text_element("guid", draw(TEXT), draw(st.booleans()), permalink))
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from([
            text_element("category", draw(TEXT), False,
                         draw(st.sampled_from(["", ' domain="http://d.example/k"', ' domain=""']))),
            text_element(draw(st.sampled_from(["dc:creator", "author"])), draw(NAMES), False),
            text_element("content:encoded", draw(TEXT), draw(st.booleans())),
            f'<enclosure url={quoteattr(draw(TEXT))} type="Audio/MPEG" length="12"/>',
            f'<media:content url={quoteattr(draw(TEXT))} medium="image" width="640" '
            f'height="{draw(st.integers(-1, 900))}" Type="IMAGE/JPEG"/>',
            text_element("media:thumbnail", draw(TEXT), False,
                         draw(st.sampled_from(["", ' url="https://img.example/t.jpg"']))),
            text_element("media:credit", draw(NAMES), False, ' role="photographer"'),
            f'<atom:link{draw(ATOM_LINK_ATTRIBUTES)} href={quoteattr(draw(TEXT))}/>',
            '<x:flag level="2"/>',
        ])))
    draw(st.randoms()).shuffle(parts)
    if rdf:
        parts = [part for part in parts if not part.startswith("<comments")]
        about = draw(st.sampled_from(["", ' rdf:about="https://news.example/a?b=1&amp;c=2"',
                                      ' rdf:about=" padded "']))
        return f"<item{about}>" + "".join(parts) + "</item>"
    return "<item>" + "".join(parts) + "</item>"


@st.composite
def atom_entries(draw: st.DrawFn) -> str:
    typed = st.sampled_from(["", ' type="text"', ' type="html"', ' type="text/html"',
                             ' type="HTML"', ' type="text/plain"'])
    once = {"title": TEXT, "id": TEXT, "updated": DATES, "published": DATES, "summary": TEXT,
            "rights": TEXT, "media:description": TEXT, "feedburner:origLink": TEXT}
    parts = []
    for tag in draw(st.lists(st.sampled_from(sorted(once)), unique=True)):
        attributes = draw(typed) if tag in ("title", "summary", "rights") else ""
        parts.append(text_element(tag, draw(once[tag]), draw(st.booleans()), attributes))
    for _ in range(draw(st.integers(0, 4))):
        person = "".join(text_element(part, draw(TEXT), False) for part in draw(
            st.lists(st.sampled_from(["name", "email", "uri"]), unique=True, min_size=1)))
        parts.append(draw(st.sampled_from([
            f"<link{draw(ATOM_LINK_ATTRIBUTES)} href={quoteattr(draw(TEXT))}/>",
            text_element("content", draw(TEXT), draw(st.booleans()), draw(typed)),
            f"<author>{person}</author>",
            text_element("author", draw(NAMES), False),
            text_element("dc:creator", draw(NAMES), False),
            text_element("category", draw(TEXT), False, draw(st.sampled_from([
                ' term="Politics"', ' term="x" scheme="http://s.example/" label="X"', ""]))),
            f'<media:thumbnail url="https://img.example/{draw(st.integers(0, 9))}.jpg"/>',
            f'<media:content url={quoteattr(draw(TEXT))} medium="image" width="640"/>',
            text_element("x:thing", draw(TEXT), False),
        ])))
    draw(st.randoms()).shuffle(parts)
    return "<entry>" + "".join(parts) + "</entry>"


ROOT_SCOPES = st.tuples(
    st.sampled_from(["", ' xml:lang="de"', ' xml:lang="en_GB"', ' xml:lang=""']),
    st.sampled_from(["", ' xml:base="https://base.example/dir/"', ' xml:base="/elsewhere/"',
                     ' xml:base="sub/"'])).map("".join)


@st.composite
def documents(draw: st.DrawFn, charset: str, layout: int) -> bytes:
    """An RSS 2.0, RSS 1.0 or Atom document of everything the fast reader knows, in any order."""
    kind = draw(st.sampled_from(["rss", "rdf", "atom"]))
    if kind == "rdf":
        channel = [text_element("title", draw(TEXT), draw(st.booleans())),
                   text_element("link", draw(TEXT), False), "<description>d</description>",
                   '<items><rdf:Seq><rdf:li rdf:resource="https://news.example/a"/></rdf:Seq>'
                   '</items><image rdf:resource="https://news.example/l.png"/>']
        if draw(st.booleans()):
            channel.append(text_element("dc:language", draw(st.sampled_from(["en", "pt_BR"])),
                                        False))
        if draw(st.booleans()):
            channel.append("<sy:updatePeriod>daily</sy:updatePeriod><dc:subject>News"
                           "</dc:subject><dc:publisher>P</dc:publisher>")
        draw(st.randoms()).shuffle(channel)
        body = draw(st.lists(items(rdf=True), max_size=4))
        if draw(st.booleans()):
            body.append('<image rdf:about="https://news.example/l.png"><title>Logo</title>'
                        "<url>https://news.example/l.png</url><link>https://news.example/</link>"
                        "</image>")
        draw(st.randoms()).shuffle(body)  # after the channel (see the declined cases)
        return rdf(f'<channel rdf:about="https://news.example/">{"".join(channel)}</channel>'
                   + "".join(body), charset=charset, root=draw(ROOT_SCOPES), layout=layout)
    if kind == "atom":
        feed = [text_element("title", draw(TEXT), draw(st.booleans())),
                f'<link href="{draw(st.sampled_from(["https://news.example/", "/home"]))}"/>',
                "<subtitle>s</subtitle><updated>2021-10-16T09:00:15Z</updated>"
                "<author><name>Desk</name></author><x:thing>t</x:thing>"]
        if draw(st.booleans()):
            feed.append(text_element("id", draw(TEXT), False))
        feed += draw(st.lists(atom_entries(), max_size=4))
        draw(st.randoms()).shuffle(feed)
        return atom("".join(feed), charset=charset, root=draw(ROOT_SCOPES), layout=layout)
    channel = [text_element("title", draw(TEXT), draw(st.booleans())),
               text_element("link", draw(st.sampled_from(["https://news.example/", "/home", ""])),
                            False)]
    if draw(st.booleans()):
        channel.append(text_element("language", draw(st.sampled_from(["en-us", "de_DE", ""])),
                                    False))
    if draw(st.booleans()):
        channel.append("<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
                       "<sy:updateFrequency>2</sy:updateFrequency>")
    if draw(st.booleans()):
        channel.append("<image><title>Logo</title><url>https://news.example/l.png</url>"
                       "<link>https://news.example/</link></image>")
    if draw(st.booleans()):  # extensions that feedparser files away
        channel.append('<itunes:owner><itunes:name>N</itunes:name></itunes:owner><dc:creator>D'
                       '</dc:creator><feedburner:info uri="u"/><x:thing>t</x:thing><itunes:category'
                       ' text="News"><itunes:category text="Politics"/></itunes:category>')
    if draw(st.booleans()):
        channel.append(text_element("atom:id", draw(TEXT), False))
    if draw(st.booleans()):
        channel.append(f"<atom:link{draw(ATOM_LINK_ATTRIBUTES)} href={quoteattr(draw(TEXT))}/>")
    channel += draw(st.lists(items(), max_size=4))
    draw(st.randoms()).shuffle(channel)
    return rss("".join(channel), charset=charset, root=draw(ROOT_SCOPES), layout=layout)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), charset=st.sampled_from(["UTF-8", "ISO-8859-1", "windows-1252"]),
       in_header=st.booleans(), language=st.sampled_from([None, "fr", "pt_BR"]))
def test_generated_documents_give_the_stories_feedparser_gives(
    data: st.DataObject, charset: str, in_header: bool, language: str | None,
) -> None:
    layout = data.draw(st.integers(0, len(DECLARATIONS) - 1))
    document = data.draw(documents(charset, layout))
    headers = {"Content-Language": language} if language else {}
    if in_header:
        headers["Content-Type"] = f"application/xml; charset={charset}"
    read, problems = plain_differences(document, URL, FETCHED_AT, headers)
    # Where feedparser's pattern misses the declared charset of a single-byte document, the
    # reader may decline (feedparser guesses); anywhere else it must read.
    if layout < 2 or charset == "UTF-8" or in_header:
        assert read, "the fast reader declined a document made of what it knows"
    assert problems == []


DECLINED = {
    "a DOCTYPE": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]>'
                 b'<rss version="2.0"><channel><title>&e;</title></channel></rss>',
    "another charset": rss("<title>Café</title>", charset="windows-1251"),
    "xml:base below the root": rss('<item xml:base="https://b.example/"><link>a</link></item>'),
    "xml:lang below the root": rss('<item><title xml:lang="de">Hallo</title></item>'),
    "a bare lang attribute": rss('<item><media:credit lang="de">Jo</media:credit></item>'),
    "an XHTML title": atom('<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/'
                           'xhtml">a</div></title></entry>'),
    "a content elsewhere": atom('<entry><content src="https://c.example/a" type="text/html"/>'
                                '</entry>'),
    "a base64 content": atom('<entry><content type="image/png">iVBORw0K</content></entry>'),
    "an Atom contributor": atom("<entry><contributor><name>A</name></contributor></entry>"),
    "a foreign element with a prefix of feedparser's": b'<rss version="2.0" xmlns:media="urn:'
        b'x"><channel><item><media:content url="u"/></item></channel></rss>',
    "a foreign element with a prefix bound to a known namespace": rss(
        '<item><x:content xmlns:x="http://search.yahoo.com/mrss/" url="u"/>'
        '<x:content xmlns:x="urn:other" url="v"/></item>'),
    "a foreign element in the default namespace": rss('<item><title xmlns="urn:x">t</title></item>'),
    "a foreign element with children": rss("<item><x:a><x:b>t</x:b></x:a></item>"),
    "an RSS 1.0 item before the channel": rdf('<item><title>a</title></item><channel><title>'
                                              "t</title></channel>"),
    "RSS 2.0 with RSS 1.0's namespace": rss("<item><title>t</title></item>").replace(
        b"<rss ", b'<rss xmlns:r="http://purl.org/rss/1.0/" '),
    "Atom with RSS 1.0's namespace declared first": atom("<entry><title>t</title></entry>")
    .replace(b"<feed ", b'<feed xmlns:r="HTTP://purl.org/rss/1.0/" '),
    "RSS 1.0 with Atom's namespace declared first": rdf("<channel><title>t</title></channel>")
    .replace(b"<rdf:RDF ", b'<rdf:RDF xmlns:a="http://www.w3.org/2005/Atom" '),
    "a foreign element whose prefix is feedparser's in another case": rss(
        '<item><MEDIA:content xmlns:MEDIA="urn:x" url="https://n.example/p.jpg"/></item>'),
    "a standard prefix bound to another known namespace": rss(
        '<item><content:link xmlns:content="http://www.w3.org/2005/Atom" rel="related" '
        'href="https://n.example/r"/></item><item><content:encoded>b</content:encoded></item>'),
    "a standard prefix bound to another known namespace on the root": (
        b'<rss version="2.0" xmlns:c="http://purl.org/rss/1.0/modules/content/" xmlns:content='
        b'"http://purl.org/dc/elements/1.1/"><channel><item><c:encoded>b</c:encoded></item>'
        b"</channel></rss>"),
    "an Atom 0.3 feed": b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title>'
                        b'</feed>',
    "RSS 0.91": b'<rss version="0.91"><channel><title>t</title></channel></rss>',
    "an unknown element": rss("<item><title>t</title><foo>bar</foo></item>"),
    "a namespace spelled otherwise": b'<rss version="2.0" xmlns:media="http://search.yahoo.com'
                                     b'/mrss"><channel><item><media:content url="u"/></item>'
                                     b'</channel></rss>',
    "markup inside a description": rss("<item><description>a <b>b</b></description></item>"),
    "a title given twice": rss("<item><title>a</title><title>b</title></item>"),
    "an atom:link without an address": rss('<item><atom:link rel="alternate">u</atom:link></item>'),
    "an attribute on a title": rss('<item><title type="html">a</title></item>'),
}


@pytest.mark.parametrize("document", DECLINED.values(), ids=DECLINED.keys())
def test_what_it_does_not_reproduce_is_left_to_feedparser(document: bytes) -> None:
    assert read_plain(document, URL, None) is None
    parse_feed(document, url=URL)  # and feedparser reads it (or says why not)


def test_a_header_charset_other_than_the_documents_is_left_to_feedparser() -> None:
    """feedparser takes the header's word, and notes the override as a problem."""
    document = rss("<item><title>t</title></item>")
    assert read_plain(document, URL, {"Content-Type": "text/xml; charset=iso-8859-1"}) is None
    assert read_plain(document, URL, {"Content-Type": "text/xml; charset=UTF-8"}) is not None


def test_utf8_inside_a_latin1_document_is_read_as_feedparser_reads_it() -> None:
    """Items pasted from a UTF-8 system into a Latin-1 template (feedparser_adapter)."""
    document = rss("<item><title>Brøndby</title><description>x</description></item>",
                   charset="ISO-8859-1").replace("Brøndby".encode("latin-1"),
                                                 "Brøndby".encode())
    document = document.replace(b"<description>x", "<description>Café".encode("latin-1"))
    assert plain_differences(document, URL, FETCHED_AT) == (True, [])
    entry = read_plain(document, URL, None).entries[0]
    assert (entry.title, entry.summary) == ("Brøndby", "Café")


def test_a_single_byte_charset_that_feedparser_does_not_find_is_left_to_it() -> None:
    """feedparser's pattern does not find "encoding = ..."; it then guesses another charset."""
    title = "<item><title>\u00e6b\u00e6</title></item>"
    assert read_plain(rss(title, charset="ISO-8859-1", layout=2), URL, None) is None
    assert plain_differences(rss(title, charset="ISO-8859-1"), URL, FETCHED_AT) == (True, [])


def test_a_broken_document_is_left_to_feedparser_which_says_what_is_wrong() -> None:
    document = rss("<item><title>t</title></item>")[:-20]
    assert read_plain(document, URL, None) is None
    assert parse_feed(document, url=URL).problem is not None
