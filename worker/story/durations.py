"""A video's length as readers see it ("01:18", "1:02:05"), both ways."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(?:(?:(?P<h>\d+):(?P<hm>[0-5]\d))|(?P<m>\d+)):(?P<s>[0-5]\d)")


def format_duration(seconds: int) -> str:
    """A length as shown to readers: ``"mm:ss"`` below one hour, ``"h:mm:ss"`` from one hour on.

    >>> format_duration(78), format_duration(3725)
    ('01:18', '1:02:05')
    """
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def parse_duration(text: str) -> int | None:
    """Whole seconds in ``"78"``, ``"01:18"`` or ``"1:02:05"``; None for anything else."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    if match["h"] is not None:
        return int(match["h"]) * 3600 + int(match["hm"]) * 60 + int(match["s"])
    return int(match["m"]) * 60 + int(match["s"])
