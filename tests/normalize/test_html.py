"""Feed HTML to plain text: what readers of the output stream see instead of markup."""

from __future__ import annotations

import pytest

from worker.normalize.html import html_to_paragraphs, html_to_text

# The description of the first item of tests/feeds/stadtfeuerwehr_rss091_latin1.xml.
STADTFEUERWEHR = """
\t\tEinsatzort: Weiz, Elingasse (Fa. Andritz Hydro Werk Nord) <br />
\t\tAlarmierung: Sammelruf<br />
\t\tEingesetzte Fahrzeuge: KDO 1 / TLF-A 4000 8a<br />
\t\tWeitere Informationen und Details zu diesem Einsatz finden Sie auf unserer Website
\t"""

# The content:encoded of tests/feeds/heated_substack.xml, shortened.
HEATED = (
    "<p>Hello, dear paid subscriber fam! The good news: Yesterday&#8217;s newsletter about "
    '<a href="https://heated.world/subscribe?utm_medium=rss&amp;utm_content=32137990">'
    "Twitter&#8217;s Big Oil ad loophole</a> went so well.<br><br>Fortunately, I stil&#8230;</p>"
    '\n   <p>\n      <a href="https://heated.world/p/a-conversation-about-keystone-xl">\n'
    "         Read more\n      </a>\n   </p>\n"
)


def test_single_br_is_a_space_and_whitespace_collapses() -> None:
    assert html_to_paragraphs(STADTFEUERWEHR) == [
        "Einsatzort: Weiz, Elingasse (Fa. Andritz Hydro Werk Nord) Alarmierung: Sammelruf "
        "Eingesetzte Fahrzeuge: KDO 1 / TLF-A 4000 8a Weitere Informationen und Details zu "
        "diesem Einsatz finden Sie auf unserer Website"
    ]


def test_single_br_without_surrounding_whitespace_still_separates_words() -> None:
    # As in tests/feeds/ibash_windows1251.xml: "...программер <br />xxx: кот..."
    assert html_to_paragraphs("Line one<br>line two<br/>line three") == [
        "Line one line two line three"
    ]


def test_double_br_and_blocks_split_paragraphs_and_entities_decode() -> None:
    assert html_to_paragraphs(HEATED) == [
        "Hello, dear paid subscriber fam! The good news: Yesterday’s newsletter about "
        "Twitter’s Big Oil ad loophole went so well.",
        "Fortunately, I stil…",
        "Read more",
    ]


@pytest.mark.parametrize(
    "tag", ["script", "style", "noscript", "iframe", "form", "button", "template"]
)
def test_dropped_elements_take_their_content_with_them(tag: str) -> None:
    markup = f"<p>Before</p><{tag}>var x = '<p>hidden</p>';</{tag}><p>After</p>"
    assert html_to_paragraphs(markup) == ["Before", "After"]


def test_images_and_tracking_pixels_leave_no_trace() -> None:
    markup = (
        '<p>Text<img src="https://feeds.feedburner.com/~r/x/~4/abc" height="1" width="1"'
        ' alt="pixel"/> goes on.</p><figure><img src="a.jpg" alt="A photo"/>'
        "<figcaption>The caption</figcaption></figure>"
    )
    assert html_to_paragraphs(markup) == ["Text goes on.", "The caption"]


def test_block_elements_each_make_a_paragraph() -> None:
    markup = (
        "<h2>Title</h2><div>One</div><ul><li>Two</li><li>Three</li></ul>"
        "<blockquote>Four</blockquote><table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert html_to_paragraphs(markup) == ["Title", "One", "Two", "Three", "Four", "a b"]


def test_inline_tags_do_not_add_spaces() -> None:
    assert html_to_text("un<b>believ</b>able, <a href='x'>link</a>.") == "unbelievable, link."


def test_no_break_space_is_kept_but_tabs_and_newlines_collapse() -> None:
    assert html_to_text("10&nbsp;km\t\tand\n\n 5\u00a0m") == "10\u00a0km and 5\u00a0m"


def test_control_and_invisible_characters_are_stripped() -> None:
    assert html_to_text("<p>bad\x00\x08 bytes\x1b here\x7f</p>") == "bad bytes here"
    # Soft hyphens, as in tim-bray.xml's summaries ("pub&shy;lished"), and zero-width spaces.
    assert html_to_text("pub&shy;lished, zero\u200bwidth") == "published, zerowidth"


def test_plain_text_splits_on_blank_lines() -> None:
    text = "First paragraph,\nstill first.\n\n  \nSecond &amp; last."
    assert html_to_paragraphs(text) == ["First paragraph, still first.", "Second & last."]


def test_html_escaped_twice_is_still_read_as_html() -> None:
    # feedparser's double-encoded-html test: the feed escapes its escaped HTML once more.
    assert html_to_paragraphs("&lt;p&gt;AT&amp;amp;T &amp;lt;3&lt;/p&gt;&lt;p&gt;x&lt;/p&gt;") == [
        "AT&T <3",
        "x",
    ]


def test_empty_paragraphs_are_dropped() -> None:
    markup = "<p> </p><p>&nbsp;</p><div><br><br></div><p>Text</p><p>\t</p>"
    assert html_to_paragraphs(markup) == ["Text"]


def test_empty_input_gives_nothing() -> None:
    assert html_to_paragraphs("") == []
    assert html_to_text("<p></p>") == ""


def test_share_widgets_and_read_more_links_are_dropped_by_their_class() -> None:
    markup = (
        '<p>The story. <a class="read_more" href="/x">Read More Here <span>&#8594;</span></a></p>'
        '<div class="sharedaddy sd-sharing-enabled"><div><h3>Share this:</h3>'
        "<ul><li><div>Twitter</div></li></ul></div></div>"
        '<div id="jp-relatedposts"><p>Related</p></div><p>After.</p>'
    )
    assert html_to_paragraphs(markup) == ["The story.", "After."]


def test_code_samples_keep_the_markup_they_show() -> None:
    markup = "<p>Although the <code>&lt;title&gt;</code> tag reads “X”, it is not.</p>"
    assert html_to_paragraphs(markup) == ["Although the <title> tag reads “X”, it is not."]


def test_formatting_escaped_twice_inside_code_is_still_read() -> None:
    markup = "<pre>&lt;div&gt;Start-Service WinRM&lt;/div&gt;&lt;div&gt;Get-Item&lt;/div&gt;</pre>"
    assert html_to_paragraphs(markup) == ["Start-Service WinRM", "Get-Item"]


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("If youâ€™re reading this", "If you’re reading this"),
        ("VIDÃ‰O - Le cÃ©lÃ¨bre chef", "VIDÉO - Le célèbre chef"),
        ("Ça va? “Quoted” naïve – 10\u00a0km", "Ça va? “Quoted” naïve – 10\u00a0km"),
    ],
)
def test_mojibake_is_repaired_and_good_text_left_alone(text: str, repaired: str) -> None:
    assert html_to_text(text) == repaired
