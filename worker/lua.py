"""The Lua scripts that run on the Redis server, each a ``.lua`` file beside the module that
runs it (a wheel carries them as package data)."""

from __future__ import annotations

from importlib import resources


def load(package: str, name: str) -> str:
    """The text of script ``name`` of ``package`` (``worker.schedule``, ``book.lua``)."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")
