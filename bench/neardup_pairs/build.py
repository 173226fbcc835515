"""Build pairs.json, the labelled near-duplicate pairs, from the feeds in /work/shared/corpus.

Every feed file is parsed and normalized by feedwatch itself; a story is named by its file and
its position among that file's stories (``file#n``). Two kinds of pairs are written:

- pairs found mechanically: the same canonical URL in two different files (one site's RSS and
  Atom documents, or two captures of one feed), labelled ``duplicate``;
- pairs chosen by hand from a search for stories with many words in common (listed in
  ``CHOSEN`` with the reason for the label), labelled ``duplicate`` or ``different``.

Every label was then checked by reading both sides (``--show`` prints them); see README.md.

    .venv/bin/python bench/neardup_pairs/build.py [--corpus DIR] [--show]
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.config import FeedConfig
from worker.dedupe.neardup import MAX_WORDS, WORD, story_text, words
from worker.normalize.entries import normalize_all
from worker.parse import parse_feed
from worker.story import Story

HERE = Path(__file__).resolve().parent
SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"
PER_FILE_PAIR = 8
"""Same-URL pairs kept per pair of files, so that one big feed does not fill the set."""

# (label, kind, side a, side b, why)
CHOSEN: list[tuple[str, str, str, str, str]] = [
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20JapanTimes.xml#11",
     "codehollow-feedreader/Rss20JapanToday.xml#19",
     "same AP story, headline edited, one lead cut short"),
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20JapanTimes.xml#10",
     "codehollow-feedreader/Rss20JapanToday.xml#9", "same Kyodo story, lead cut short"),
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20JapanTimes.xml#28",
     "codehollow-feedreader/Rss20JapanToday.xml#2", "same tennis report, lightly edited"),
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20CTVNews.xml#8",
     "codehollow-feedreader/Rss20JapanTimes.xml#3",
     "same AP headline, but each outlet quotes a different paragraph"),
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20CTVNews.xml#5",
     "codehollow-feedreader/Rss20IndianExpress.xml#17",
     "same AP story; Indian Express gives the headline only"),
    ("duplicate", "wire copy", "speedparser/1717.xml#6", "speedparser/4881.xml#48",
     "Khaleej Times and ABC carry one Reuters lead, lightly edited"),
    ("duplicate", "wire copy", "speedparser/0822.xml#40", "speedparser/4881.xml#67",
     "one Reuters story, the lead rewritten between versions"),
    ("duplicate", "wire copy", "google-news/speedparser_1309.xml#0", "speedparser/1035.xml#6",
     "Google News snippet of the AP story that The Independent carries"),
    ("duplicate", "wire copy", "cnn/simplepie-ng_cnn.xml#6",
     "google-news/simplepie-ng_google-news.xml#2", "Google News carries CNN's lead"),
    ("duplicate", "wire copy", "nytimes/greatfire_nyt-chinese.xml#7",
     "wordpress/greatfire_chinadigitaltimes.xml#7",
     "China Digital Times reprints the NYT Chinese article"),
    ("duplicate", "wire copy", "codehollow-feedreader/Rss20ISO88591Intranet30.xml#8",
     "codehollow-feedreader/Rss20ISO88591Intranet30.xml#15",
     "one Swedish story from two outlets in a press-cutting feed"),
    ("duplicate", "reissued", "speedparser/1035.xml#19", "speedparser/1035.xml#23",
     "The Independent reissued the story under a new URL and headline"),
    ("duplicate", "reissued", "speedparser/1035.xml#20", "speedparser/1035.xml#24",
     "reissued under a new URL and headline"),
    ("duplicate", "reissued", "speedparser/1035.xml#11", "speedparser/1035.xml#12",
     "reissued under a new URL and headline"),
    ("duplicate", "reissued", "reddit/speedparser_0548.xml#7", "reddit/speedparser_3166.xml#35",
     "one article submitted to two subreddits"),
    ("different", "same topic", "codehollow-feedreader/Rss20IndianExpress.xml#46",
     "nytimes/codehollow-feedreader_Rss20NYTimes.xml#27",
     "Tilikum's death: an agency headline and NYT's own story"),
    ("different", "same topic", "ap/speedparser_1446.xml#4", "speedparser/4881.xml#65",
     "Warne and Hurley engaged: AP's and ABC's own reports"),
    ("different", "same topic", "speedparser/4881.xml#65", "speedparser/4881.xml#47",
     "engagement reported, then confirmed: two stories"),
    ("different", "same topic", "bbc/speedparser_1359.xml#3", "speedparser/4881.xml#4",
     "Typhoon Nalgae: a BBC gallery and an ABC report"),
    ("different", "same topic", "nytimes/speedparser_4666.xml#8", "speedparser/1035.xml#9",
     "mosque arson in Israel: NYT's and The Independent's own reports"),
    ("different", "same topic", "codehollow-feedreader/Rss20IndianExpress.xml#129",
     "codehollow-feedreader/Rss20JapanTimes.xml#17",
     "Japan recalls its envoy: two outlets' own reports"),
    ("different", "templated", "codehollow-feedreader/Rss20FinanzenNet.xml#8",
     "codehollow-feedreader/Rss20FinanzenNet.xml#12", "one template, different companies"),
    ("different", "templated", "codehollow-feedreader/Rss20FinanzenNet.xml#10",
     "codehollow-feedreader/Rss20FinanzenNet.xml#11", "one template, different companies"),
    ("different", "templated", "codehollow-feedreader/Rss20FinanzenNet.xml#7",
     "codehollow-feedreader/Rss20FinanzenNet.xml#13", "one template, different companies"),
    ("different", "templated", "codehollow-feedreader/Rss20FinanzenNet.xml#9",
     "codehollow-feedreader/Rss20FinanzenNet.xml#14", "one template, different companies"),
    ("different", "templated", "google-news/feedjira_google_alerts_atom.xml#2",
     "google-news/feedjira_google_alerts_atom.xml#17",
     "generated articles on two different share sales"),
    ("different", "templated", "github/speedparser_0072.xml#20", "github/speedparser_0574.xml#19",
     "two users' 'created branch' events"),
    ("different", "templated", "github/speedparser_0072.xml#19", "github/speedparser_0574.xml#19",
     "two users' 'created branch' events"),
    ("different", "same topic", "speedparser/4853.xml#14", "speedparser/4853.xml#62",
     "two wine festivals announced in the same words"),
    ("different", "same topic", "nytimes/speedparser_1790.xml#2", "nytimes/speedparser_1790.xml#8",
     "two days' picture galleries"),
    ("different", "same topic", "stringer/macrumors_feed.xml#3",
     "stringer/macrumors_feed_updated.xml#0", "two Apple stories"),
    ("different", "same topic", "stringer/macrumors_feed.xml#4",
     "stringer/macrumors_feed_updated.xml#4", "two Apple stories"),
    ("different", "same topic", "stringer/macrumors_feed.xml#1",
     "stringer/macrumors_feed_updated.xml#3", "two Apple stories"),
    ("different", "same topic", "simplepie-ng/planetdebian_rss10.xml#44",
     "simplepie-ng/planetdebian_rss20.xml#37", "two blog posts on LDAP address books"),
    ("different", "same topic", "speedparser/1717.xml#8", "speedparser/4881.xml#39",
     "Israel and the Quartet's talks plan: two outlets' own reports"),
    ("different", "same topic", "codehollow-feedreader/Rss20TheMirror.xml#17",
     "codehollow-feedreader/Rss20TheMirror.xml#18", "airport shooting: two articles"),
    ("different", "same topic", "speedparser/4881.xml#97", "speedparser/4881.xml#108",
     "a shooting, then the police's reaction: two stories"),
    ("different", "same topic", "speedparser/3258.xml#4", "speedparser/3258.xml#6",
     "one cabinet vote, two stories"),
    ("different", "same topic", "speedparser/0687.xml#15", "speedparser/0687.xml#49",
     "Google+ growth and Facebook copying it"),
    ("different", "same topic", "codehollow-feedreader/Rss20MassaNews.xml#12",
     "codehollow-feedreader/Rss20MassaNews.xml#27", "two bodies found in two places"),
    ("different", "templated", "google-news/feedjira_google_alerts_atom.xml#2",
     "google-news/feedjira_google_alerts_atom.xml#6", "two share sales by one insider"),
    ("different", "templated", "google-news/feedjira_google_alerts_atom.xml#5",
     "google-news/feedjira_google_alerts_atom.xml#9", "share sales by two officers"),
    ("different", "templated", "speedparser/0124.xml#22", "speedparser/0124.xml#24",
     "football round-ups of two leagues"),
    ("different", "templated", "cnn/speedparser_4087.xml#4", "cnn/speedparser_4087.xml#7",
     "two days' link round-ups"),
    ("different", "templated", "speedparser/4853.xml#76", "speedparser/4853.xml#84",
     "two columns of one series"),
    ("different", "templated", "speedparser/4853.xml#77", "speedparser/4853.xml#86",
     "two columns of one series"),
    ("different", "templated", "codehollow-feedreader/Rss20RomaToday.xml#22",
     "codehollow-feedreader/Rss20RomaToday.xml#23", "line-ups of two matches"),
    ("different", "same topic", "codehollow-feedreader/Rss20LeFigaro.xml#13",
     "codehollow-feedreader/Rss20LeFigaro.xml#14", "two songs of one band"),
    ("different", "same topic", "articles/017d27d00eb43678c15cb4a8dd4723a035323219.story",
     "articles/24521a2abb2e1f5e34e6824e0f9e56904a2b0e88.story",
     "two CNN White House stories from Washington"),
    ("different", "same topic", "articles/017d27d00eb43678c15cb4a8dd4723a035323219.story",
     "articles/5e22bbfc7232418b8d2dd646b952e404df5bd048.story",
     "two CNN White House stories from Washington"),
    ("different", "same topic", "articles/7c0e61ac829a3b3b653e2e3e7536cc4881d1f264.story",
     "articles/a1ebb8bb4d370a1fdf28769206d572be60642d70.story",
     "two CNN stories from Baghdad"),
]
# Same URL in both files, but not pairs a reader can label: BBC's explainer pages, captured
# 18 months apart, were rewritten under their old URLs (2020's rules, 2021's rules).
SKIPPED_FILES = {
    ("bbc/headlines_bbc_news-home_2020-04-26_a903a75.xml",
     "bbc/headlines_bbc_news-home_2021-10-18_9e6d80d.xml"),
}
# Same URL, yet not the same story: read and relabelled.
RELABELLED = {
    ("github/speedparser_0072.xml#28", "github/speedparser_0574.xml#15"):
        ("different", "two users' 'started watching' events on one repository"),
    ("simplepie-ng/bortzmeyer.xml#2", "simplepie-ng/dupelinks.xml#0"):
        ("different", "a parser test feed that reuses another feed's links"),
}


def load_stories(corpus: Path) -> dict[str, Story]:
    """Every story of every well-formed feed file, by ``file#n``, and the CNN articles."""
    stories = {f"articles/{path.name}": article(path)
               for path in sorted((corpus / "articles").rglob("*.story"))}
    config = FeedConfig(key="corpus", url="http://corpus.invalid/")
    feeds = corpus / "feeds"
    for path in sorted(p for p in feeds.rglob("*") if p.is_file()):
        name = str(path.relative_to(feeds))
        if name.startswith("malformed/"):
            continue
        try:
            parsed = parse_feed(path.read_bytes(), url=f"http://corpus.invalid/{name}")
        except Exception:  # not a feed feedwatch reads: no stories from it
            continue
        found, _problems = normalize_all(parsed, config, datetime(2026, 1, 1, tzinfo=UTC))
        stories.update({f"{name}#{n}": story for n, story in enumerate(found)})
    return stories


def article(path: Path) -> Story:
    """A CNN/DailyMail ``.story`` file: its paragraphs up to the first ``@highlight``."""
    text = path.read_text(encoding="utf-8").split("@highlight")[0]
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return Story(id=path.stem, source="CNN", body=paragraphs)


def same_url_pairs(stories: dict[str, Story]) -> list[tuple[str, str, str, str, str]]:
    by_url: dict[str, list[str]] = defaultdict(list)
    for name, story in stories.items():
        if story.url:
            by_url[story.url].append(name)
    by_files: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for names in by_url.values():
        # One pair per URL: a feed that repeats one item many times adds one pair, not many.
        for a, b in itertools.combinations(names, 2):
            file_a, file_b = a.split("#")[0], b.split("#")[0]
            if file_a != file_b:
                by_files[(file_a, file_b)].append((a, b))
                break
    chosen = []
    for (file_a, file_b), pairs in sorted(by_files.items()):
        if (file_a, file_b) in SKIPPED_FILES:
            continue
        kind = "rss and atom" if _formats_differ(file_a, file_b) else "captures of one feed"
        for a, b in pairs[:PER_FILE_PAIR]:
            label, why = RELABELLED.get((a, b), ("duplicate", "same URL"))
            chosen.append((label, kind, a, b, why))
    return chosen


def _formats_differ(file_a: str, file_b: str) -> bool:
    def fmt(name: str) -> str:
        lower = name.lower()
        return "atom" if "atom" in lower else "rdf" if "rss10" in lower or "rdf" in lower else "rss"
    return fmt(file_a) != fmt(file_b)


def side(name: str, story: Story) -> dict[str, Any]:
    """One side of a pair: where it came from and the text that counts for a signature."""
    return {"from": name, "source": story.source, "url": story.url,
            "text": counted_text(story_text(story))}


def counted_text(text: str) -> str:
    """The text up to its MAX_WORDS-th word: the same signature, a smaller file."""
    ends = [match.end() for match in WORD.finditer(text)]
    if len(ends) <= MAX_WORDS:
        return text
    cut = text[:ends[MAX_WORDS - 1]]
    return cut if words(cut) == words(text)[:MAX_WORDS] else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED, help="the shared corpus folder")
    parser.add_argument("--show", action="store_true", help="print both sides of every pair")
    args = parser.parse_args()
    stories = load_stories(args.corpus)
    pairs = []
    for label, kind, a, b, why in same_url_pairs(stories) + CHOSEN:
        pairs.append({"label": label, "kind": kind, "why": why,
                      "a": side(a, stories[a]), "b": side(b, stories[b])})
        if args.show:
            print(f"== {label} / {kind}: {why}")
            for one in (pairs[-1]["a"], pairs[-1]["b"]):
                print(f"  {one['from']}: {one['text'][:300]!r}")
    (HERE / "pairs.json").write_text(
        json.dumps({"corpus": "shared/corpus", "pairs": pairs},
                   ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts: dict[str, int] = defaultdict(int)
    for pair in pairs:
        counts[f"{pair['label']} / {pair['kind']}"] += 1
    print(len(pairs), "pairs:", dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
