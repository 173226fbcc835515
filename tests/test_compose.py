"""docker-compose.yml and the Dockerfile: valid Compose, and wired the way feedwatch needs.

``tests/data/compose-spec.json`` is the Compose Specification JSON Schema (Apache-2.0), copied
unchanged from github.com/compose-spec/compose-spec, file ``schema/compose-spec.json`` at
commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6. It is a draft-07 schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import compose
import pytest
from jsonschema import Draft7Validator

from worker.config import load_settings

DATA = Path(__file__).resolve().parent / "data"
DOCKERFILE = compose.ROOT / "Dockerfile"

WORKER_COMMAND = ["celery", "-A", "worker.celery_app", "worker", "--loglevel", "INFO"]
BEAT_COMMAND = [
    "celery", "-A", "worker.celery_app", "beat", "--loglevel", "INFO",
    "--schedule", "/tmp/celerybeat-schedule",
]
REDIS_URL = "redis://redis:6379/0"
CONFIG_IN_CONTAINER = "/app/config/feeds.yaml"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads((DATA / "compose-spec.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema)


@pytest.fixture()
def spec() -> dict[str, Any]:
    return compose.load_compose()


def _problems(validator: Draft7Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<top>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of KEY=VALUE."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    instructions = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


# --- the schema itself ----------------------------------------------------------------------


def test_bundled_compose_schema_is_a_valid_draft07_schema(validator: Draft7Validator) -> None:
    assert "draft-07" in validator.schema["$schema"]
    Draft7Validator.check_schema(validator.schema)


# --- docker-compose.yml against the Compose Specification ------------------------------------


def test_compose_file_conforms_to_the_compose_specification(
    validator: Draft7Validator, spec: dict[str, Any],
) -> None:
    assert _problems(validator, spec) == []


@pytest.mark.parametrize(
    ("what", "breakage"),
    [
        ("ports as a string", lambda c: c["services"]["redis"].update(ports="not-a-list")),
        ("unknown top-level key", lambda c: c.update(servicez={})),
        ("unknown service key", lambda c: c["services"]["worker"].update(comand=["celery"])),
        ("command as a mapping", lambda c: c["services"]["beat"].update(command={"a": 1})),
        ("depends_on bad condition",
         lambda c: c["services"]["worker"]["depends_on"]["redis"].update(condition=7)),
    ],
)
def test_the_same_validation_rejects_a_broken_compose_file(
    validator: Draft7Validator, spec: dict[str, Any], what: str, breakage: Any,
) -> None:
    broken = copy.deepcopy(spec)
    breakage(broken)
    assert _problems(validator, broken), f"a compose file with {what} was accepted"


# --- what feedwatch needs from it -----------------------------------------------------------


def test_redis_runs_valkey_with_append_only_persistence_on_a_named_volume(
    spec: dict[str, Any],
) -> None:
    redis = spec["services"]["redis"]
    assert "valkey" in redis["image"]
    command = redis["command"]
    assert isinstance(command, list)
    assert command[0] == "valkey-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    volume, _, target = redis["volumes"][0].partition(":")
    assert target == "/data"
    assert volume in spec["volumes"], "the /data volume must be a named volume"


def test_redis_has_a_ping_healthcheck(spec: dict[str, Any]) -> None:
    test = spec["services"]["redis"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert test[1:] == ["valkey-cli", "ping"]


def test_every_service_has_a_healthcheck(spec: dict[str, Any]) -> None:
    assert all("healthcheck" in service for service in spec["services"].values())


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_are_checked_by_the_health_command_the_end_to_end_test_runs(
    name: str,
) -> None:
    assert compose.healthcheck_command(name) == ["feedwatch", "health", name]


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_are_built_here_and_wait_for_a_healthy_redis(
    spec: dict[str, Any], name: str,
) -> None:
    service = spec["services"][name]
    assert service["build"] == "."
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_use_the_compose_redis_and_the_mounted_config(
    spec: dict[str, Any], name: str,
) -> None:
    service = spec["services"][name]
    env = _environment(service)
    assert env["REDIS_URL"] == REDIS_URL
    assert env["FEEDWATCH_CONFIG"] == CONFIG_IN_CONTAINER
    assert "./config:/app/config:ro" in service["volumes"]


def test_the_mounted_config_folder_holds_a_valid_config(spec: dict[str, Any]) -> None:
    mount = next(v for v in spec["services"]["worker"]["volumes"] if ":/app/config" in v)
    host_dir = compose.ROOT / mount.split(":")[0]
    settings = load_settings(host_dir / Path(CONFIG_IN_CONTAINER).name)
    assert settings.enabled_feeds


@pytest.mark.parametrize(("name", "expected"), [("worker", WORKER_COMMAND), ("beat", BEAT_COMMAND)])
def test_services_run_the_celery_app_with_these_exact_commands(
    name: str, expected: list[str],
) -> None:
    command = compose.service_command(name)
    assert command[:3] == ["celery", "-A", "worker.celery_app"]
    assert command == expected


def test_service_command_refuses_an_unknown_service() -> None:
    with pytest.raises(KeyError):
        compose.service_command("no-such-service")


# --- the Dockerfile -------------------------------------------------------------------------


def test_dockerfile_default_command_is_the_worker_service_command() -> None:
    cmds = [rest for keyword, rest in _dockerfile_instructions() if keyword == "CMD"]
    assert len(cmds) == 1
    assert json.loads(cmds[0]) == compose.service_command("worker")


def test_dockerfile_installs_the_package_on_python_311_slim_as_a_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert ("WORKDIR", "/app") in instructions
    copied = " ".join(rest for keyword, rest in instructions if keyword == "COPY")
    for needed in ("pyproject.toml", "README.md", "worker/", "tasks/", "config/"):
        assert needed in copied
    assert ("RUN", "pip install --no-cache-dir .") in instructions
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
