"""Reading the repository's docker-compose.yml, for the tests (``import compose``).

The end-to-end tests start the worker and beat with :func:`service_command`, so they run
exactly what ``docker compose up`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as loaded YAML."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return data


def service_command(name: str) -> list[str]:
    """The exec-form ``command`` of service ``name``, as an argv list."""
    services = load_compose().get("services") or {}
    if name not in services:
        raise KeyError(f"docker-compose.yml has no service {name!r}")
    command = services[name].get("command")
    if not isinstance(command, list) or not all(isinstance(arg, str) for arg in command):
        raise ValueError(
            f"docker-compose.yml: service {name!r} must give its command as a list of strings, "
            f"got {command!r}"
        )
    return list(command)


def healthcheck_command(name: str) -> list[str]:
    """The exec-form healthcheck of service ``name`` (``["CMD", ...]``), as an argv list."""
    services = load_compose().get("services") or {}
    test = (services.get(name) or {}).get("healthcheck", {}).get("test")
    if not isinstance(test, list) or test[:1] != ["CMD"]:
        raise ValueError(f"docker-compose.yml: service {name!r} needs an exec-form healthcheck "
                         f"(['CMD', ...]), got {test!r}")
    return list(test[1:])
