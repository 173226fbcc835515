"""worker/story/schema/message.json: the documented shape of one output stream message.

The stream's ``story`` field is a JSON string; the schema describes the message after a
consumer decodes it, which is what :func:`message` builds here.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import tomllib
from collections.abc import Callable
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from worker.publish import story_json
from worker.story import MEDIA_TYPES, SCHEMA_VERSION, Extraction, Media, Story

SCHEMA_RESOURCE = "schema/message.json"
PYPROJECT = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files("worker.story").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))
    return schema


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return load_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def full_story() -> Story:
    """A story with every field filled in."""
    return Story(
        id="3f2a9c0e5b7d41e6a8c9d0e1f2a3b4c5",
        feed="cnn-top",
        url="https://edition.cnn.com/2016/02/20/politics/example/index.html",
        guid="https://edition.cnn.com/2016/02/20/politics/example/index.html",
        title="An example headline",
        published="2016-02-20T12:00:00Z",
        updated="2016-02-20T13:30:05Z",
        source="CNN",
        authors=["Jane Doe", "John Roe"],
        media=[
            Media(type="image", url="https://cdn.example.com/a.jpg", title="A photo",
                  caption="People gather on Saturday.", credit="Getty Images",
                  mime="image/jpeg", width=1600, height=900),
            Media(type="video", url="https://cdn.example.com/v.mp4", title="Watch: the scene",
                  caption="Video caption", duration=78, duration_text="01:18", credit="CNN",
                  mime="video/mp4", width=1280, height=720),
            Media(type="audio", url="https://cdn.example.com/p.mp3", title="The podcast",
                  caption="Listen", duration=3725, duration_text="1:02:05", credit="NPR",
                  mime="audio/mpeg", width=0, height=0),
        ],
        highlights=["First key point", "Second key point"],
        dateline="WASHINGTON (CNN)",
        body=["First paragraph.", "Second paragraph, “quoted” — with non-ASCII."],
        contributors=["Alex Poe"],
        summary="A short summary.",
        language="en",
        tags=["world", "politics"],
        fetched_at="2016-02-20T13:31:00Z",
        first_seen="2016-02-20T13:31:00Z",
        flags=["date-without-zone"],
        extraction=Extraction(status="failed", reason="HTTP 404 Not Found"),
        duplicate_of="0f2a9c0e5b7d41e6a8c9d0e1f2a3b4c5",
        cluster="0f2a9c0e5b7d41e6a8c9d0e1f2a3b4c5",
        schema_version=SCHEMA_VERSION,
    )


def test_the_full_story_really_fills_every_field() -> None:
    """So that a field added later cannot escape the schema checks below by staying empty."""
    empty = {name for name, value in full_story().to_dict().items() if value in (None, [], "")}
    assert empty == set()


def message(story: Story) -> dict[str, Any]:
    """A stream entry as a consumer sees it once it decoded the ``story`` JSON string."""
    return {"event": "new", "id": story.id, "feed": story.feed or "",
            "story": json.loads(story_json(story))}


def errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


# --- the schema document --------------------------------------------------------------------


def test_a_story_as_data_is_what_dataclasses_make_of_it() -> None:
    """``Story.to_dict`` skips ``asdict``'s deep copies, and gives the same data in the same
    order; the lists are the story's own no more."""
    for story in (full_story(), Story(id="abc")):
        data = story.to_dict()
        assert list(data.items()) == list(dataclasses.asdict(story).items())
        assert json.dumps(data) == json.dumps(dataclasses.asdict(story))
        data["body"].append("x")
        assert "x" not in story.body
        if story.media:
            data["media"][0]["url"] = "changed"
            assert story.media[0].url != "changed"
    odd = Story(id="abc", tags=("a", "b"), media=[_Picture(type="image", url="u")])  # type: ignore[arg-type]
    assert odd.to_dict() == dataclasses.asdict(odd)
    assert json.loads(json.dumps(odd.to_dict()))["media"][0]["url"] == "u"


@dataclasses.dataclass
class _Picture(Media):
    """A Media subclass, as an extension might make: turned into data like any dataclass."""


def test_schema_is_a_valid_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_ships_with_the_package() -> None:
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["worker.story"]
    assert any(fnmatch.fnmatch(SCHEMA_RESOURCE, pattern) for pattern in patterns)


@pytest.mark.parametrize(("definition", "cls"), [("story", Story), ("media", Media)])
def test_schema_describes_every_field_and_requires_those_always_emitted(
    schema: dict[str, Any], definition: str, cls: type,
) -> None:
    described = schema["$defs"][definition]
    names = {f.name for f in fields(cls)}
    assert set(described["properties"]) == names
    assert set(described["required"]) == names
    assert described["additionalProperties"] is True


def test_every_property_has_a_title_and_a_description(schema: dict[str, Any]) -> None:
    objects = [schema, schema["$defs"]["story"], schema["$defs"]["media"]]
    for obj in objects:
        for name, prop in obj["properties"].items():
            if "$ref" in prop and prop["$ref"] == "#/$defs/story":
                prop = schema["$defs"]["story"]
            assert prop.get("title"), name
            assert prop.get("description"), name


def test_media_type_enum_matches_the_code(schema: dict[str, Any]) -> None:
    assert schema["$defs"]["media"]["properties"]["type"]["enum"] == list(MEDIA_TYPES)
    assert schema["$defs"]["story"]["properties"]["schema_version"]["const"] == SCHEMA_VERSION


# --- messages that must be accepted ---------------------------------------------------------


def test_a_story_with_every_field_filled_validates(validator: Draft202012Validator) -> None:
    assert errors(validator, message(full_story())) == []


def test_a_story_with_only_an_id_validates(validator: Draft202012Validator) -> None:
    assert errors(validator, message(Story(id="abc"))) == []


def test_fields_added_later_do_not_break_validation(validator: Draft202012Validator) -> None:
    msg = message(full_story())
    msg["story"]["later_field"] = {"anything": [1, 2]}
    msg["story"]["media"][0]["focal_point"] = [0.5, 0.5]
    msg["trace"] = "x"
    assert errors(validator, msg) == []


@pytest.mark.parametrize("shown", ["01:18", "59:59", "0:05", "1:02:05", "12:00:00"])
def test_duration_text_accepts_mm_ss_and_h_mm_ss(
    validator: Draft202012Validator, shown: str,
) -> None:
    story = Story(id="abc", media=[Media(type="video", duration_text=shown)])
    assert errors(validator, message(story)) == []


# --- messages that must be rejected ---------------------------------------------------------


def _media(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["story"]["media"][index].update(changes)


def _story(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["story"].update(changes)


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("media type gif", _media(0, type="gif")),
    ("published yesterday", _story(published="yesterday")),
    ("published with an offset, not Z", _story(published="2016-02-20T12:00:00+00:00")),
    ("updated without seconds", _story(updated="2016-02-20T12:00Z")),
    ("fetched_at month 13", _story(fetched_at="2016-13-20T12:00:00Z")),
    ("first_seen without a zone", _story(first_seen="2016-02-20T12:00:00")),
    ("flags as one string", _story(flags="date-without-zone")),
    ("extraction status unknown", _story(extraction={"status": "maybe", "reason": None})),
    ("negative duration", _media(1, duration=-1)),
    ("fractional duration", _media(1, duration=1.5)),
    ("duration_text in bare seconds", _media(1, duration_text="78")),
    ("duration_text with 60 seconds", _media(1, duration_text="01:60")),
    ("media without a type", lambda m: m["story"]["media"][0].pop("type")),
    ("schema_version 2", _story(schema_version=2)),
    ("authors as a string", _story(authors="Jane Doe")),
    ("body with a non-string paragraph", _story(body=["ok", 3])),
    ("feed key with capitals", _story(feed="CNN")),
    ("story without a title field", lambda m: m["story"].pop("title")),
    ("story without an id", lambda m: m["story"].pop("id")),
    ("message without id", lambda m: m.pop("id")),
    ("message without story", lambda m: m.pop("story")),
    ("unknown event", lambda m: m.update(event="deleted")),
    ("story still a JSON string", lambda m: m.update(story=json.dumps(m["story"]))),
]


@pytest.mark.parametrize(("what", "breakage"), BROKEN, ids=[what for what, _ in BROKEN])
def test_a_bad_message_is_rejected(
    validator: Draft202012Validator, what: str, breakage: Callable[[dict[str, Any]], None],
) -> None:
    msg = copy.deepcopy(message(full_story()))
    breakage(msg)
    assert errors(validator, msg), f"a message with {what} was accepted"


def test_a_story_built_with_bad_fields_is_rejected(validator: Draft202012Validator) -> None:
    story = full_story()
    story.published = "yesterday"
    story.media = [Media(type="gif")]  # type: ignore[arg-type]
    found = errors(validator, message(story))
    assert any(e.startswith("story/published:") for e in found)
    assert any(e.startswith("story/media/0/type:") for e in found)
