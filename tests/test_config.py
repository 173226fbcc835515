"""The config file: what loads, and the one-message-per-problem errors a user gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from worker.config import load_settings, parse_settings
from worker.exceptions import ConfigError

GOOD = """
stream: news:stories
defaults:
  interval: 120
feeds:
  - key: cnn-top
    url: http://rss.cnn.com/rss/cnn_topstories.rss
    source: CNN
    interval: 600
    tags: [world]
  - key: bbc
    url: https://feeds.bbci.co.uk/news/rss.xml
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_with_defaults_filled_in(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.stream == "news:stories"
    assert settings.redis_url is None
    cnn, bbc = settings.feeds
    assert (cnn.key, cnn.source, cnn.interval, cnn.tags) == ("cnn-top", "CNN", 600, ("world",))
    assert bbc.interval == 120, "a feed without interval takes defaults.interval"
    assert [f.key for f in settings.enabled_feeds] == ["cnn-top"]
    assert settings.feed_by_key["bbc"] is bbc


def test_every_problem_is_reported_once_naming_feed_and_field(tmp_path: Path) -> None:
    text = """
stream: s
defaults: {interval: 60, colour: blue}
feeds:
  - key: Bad Key
    url: http://example.com/a
  - key: ok-one
    url: ftp://example.com/feed
    interval: fast
  - key: ok-two
    url: http://example.com/b
    tags: world
    enabled: "yes"
  - key: ok-one
    url: http://example.com/c
  - url: http://example.com/d
"""
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    problems = caught.value.problems
    assert "defaults: unknown field 'colour'" in problems
    assert any(p.startswith("feeds[0] (Bad Key): key:") for p in problems)
    assert ("feeds[1] (ok-one): url: must be an http:// or https:// URL, "
            "got 'ftp://example.com/feed'") in problems
    assert "feeds[1] (ok-one): interval: must be whole seconds > 0, got 'fast'" in problems
    assert "feeds[2] (ok-two): tags: must be a list of words, got 'world'" in problems
    assert "feeds[2] (ok-two): enabled: must be true or false, got 'yes'" in problems
    assert "feeds[4]: key: required, letters a-z, digits, '_' or '-' only" in problems
    assert len(problems) == 7, problems
    assert str(tmp_path / "feeds.yaml") in str(caught.value)


@pytest.mark.parametrize("url", ["http://example.com:99999/feed", "http://example.com:0/feed",
                                 "http://example.com:8o/feed", "http://[::1/feed"])
def test_a_feed_url_that_cannot_be_requested_is_a_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f"feeds:\n  - key: a\n    url: {url}\n"))
    assert caught.value.problems == [
        f"feeds[0] (a): url: must be an http:// or https:// URL, got {url!r}"]


def test_a_duplicate_key_names_both_places(tmp_path: Path) -> None:
    text = "feeds:\n  - {key: a, url: 'http://x/1'}\n  - {key: a, url: 'http://x/2'}\n"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert caught.value.problems == ["feeds[1] (a): key: 'a' is already used by feeds[0]"]


@pytest.mark.parametrize(("text", "expected"), [
    ("feeds: [", "not valid YAML"),
    ("- just\n- a list\n", "the file must be a mapping"),
    ("stream: s\n", "feeds: must be a list"),
])
def test_unusable_files_say_why(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert expected in str(caught.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(tmp_path / "nope.yaml")


def test_the_shipped_default_config_is_valid() -> None:
    settings = load_settings(Path(__file__).parent.parent / "config" / "feeds.yaml")
    assert len(settings.enabled_feeds) >= 5
    assert settings.redis_url is None, "the default must run on the embedded Valkey"


def test_check_config_command_exits_nonzero_with_the_problems(tmp_path: Path) -> None:
    bad = write(tmp_path, "feeds:\n  - {key: a, url: 'not a url'}\n")
    run = subprocess.run([sys.executable, "-m", "worker.cli", "check-config", str(bad)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert "feeds[0] (a): url: must be an http:// or https:// URL" in run.stderr
    good = write(tmp_path, GOOD)
    run = subprocess.run([sys.executable, "-m", "worker.cli", "check-config", str(good)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0
    assert "ok, 2 feeds (1 enabled)" in run.stdout


def test_parse_settings_rejects_non_positive_numbers() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"tick": 0, "retention": {"max_length": -5}, "feeds": []})
    assert caught.value.problems == [
        "top level: tick: must be seconds > 0, got 0",
        "retention: max_length: must be a whole number > 0, got -5",
    ]


def test_pool_processes_are_pinned_unless_the_config_says_not() -> None:
    assert parse_settings({"feeds": []}).pin_processes is True
    assert parse_settings({"pin_processes": False, "feeds": []}).pin_processes is False
    with pytest.raises(ConfigError) as caught:
        parse_settings({"pin_processes": "no", "feeds": []})
    assert caught.value.problems == ["top level: pin_processes: must be true or false, got 'no'"]


def test_poll_threads_default_to_256_and_must_be_a_positive_whole_number() -> None:
    assert parse_settings({"feeds": []}).poll_threads == 256
    assert parse_settings({"poll_threads": 16, "feeds": []}).poll_threads == 16
    with pytest.raises(ConfigError) as caught:
        parse_settings({"poll_threads": 0, "feeds": []})
    assert caught.value.problems == ["top level: poll_threads: must be a whole number > 0, got 0"]
