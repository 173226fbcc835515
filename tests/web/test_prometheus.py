"""The monitoring profile's files against the real thing: Debian's Prometheus scrapes a real
``feedwatch serve`` with the committed scrape config and loads and evaluates every committed
alert; the dashboard and the alerts name only metrics that serve exposes.

The Prometheus test runs where the ``prometheus`` binary is installed (``.ci/run`` installs
Debian's package when it can) and is skipped, saying so, where it is not."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from compose import ROOT, service_command
from processes import Process, command, environment, wait_for
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.e2e

DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
SCRAPE = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "feedwatch.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


@pytest.fixture
def serve(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Any:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds: []\n", encoding="utf-8")
    port = free_port()
    argv = command(service_command("web"))
    argv[argv.index("--listen") + 1] = f"127.0.0.1:{port}"
    process = Process(argv, tmp_path / "web.log",
                      environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config)))
    wait_for(lambda: get_json(f"http://127.0.0.1:{port}/healthz"), 30, "serve", [process])
    yield port, process
    process.stop()


def exposed_names(port: int) -> set[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {sample.name for family in text_string_to_metric_families(text)
            for sample in family.samples} | {
        family.name for family in text_string_to_metric_families(text)}


def test_the_dashboard_and_the_alerts_name_only_metrics_serve_exposes(serve: Any) -> None:
    port, _ = serve
    exposed = exposed_names(port)
    wanted = set(re.findall(r"feedwatch_[a-z_]+", ALERTS.read_text(encoding="utf-8")))
    wanted |= set(re.findall(r"feedwatch_[a-z_]+", DASHBOARD.read_text(encoding="utf-8")))
    assert wanted, "the files name metrics"
    assert wanted - exposed == set()


def test_the_compose_profile_mounts_the_committed_files() -> None:
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name in ("prometheus", "grafana"):
        service = spec["services"][name]
        assert service["profiles"] == ["monitoring"]
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
    scrape = yaml.safe_load(SCRAPE.read_text(encoding="utf-8"))
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["web:8080"]
    datasource = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    assert "http://prometheus:9090" in datasource.read_text(encoding="utf-8")
    assert json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]


@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Debian's prometheus package is not installed here")
def test_prometheus_scrapes_serve_and_evaluates_every_alert(tmp_path: Path, serve: Any) -> None:
    port, web = serve
    check = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    scrape = yaml.safe_load(SCRAPE.read_text(encoding="utf-8"))
    scrape["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    scrape["rule_files"] = [str(ALERTS)]
    scrape["scrape_configs"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{port}"]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(scrape), encoding="utf-8")
    api = free_port()
    prometheus = Process(["prometheus", f"--config.file={config}",
                          f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                          f"--web.listen-address=127.0.0.1:{api}"],
                         tmp_path / "prometheus.log", environment())
    base = f"http://127.0.0.1:{api}/api/v1"
    try:
        def redis_up() -> bool:
            found = get_json(f"{base}/query?query=feedwatch_redis_up")
            result = (found or {}).get("data", {}).get("result", [])
            return bool(result) and result[0]["value"][1] == "1"

        wait_for(redis_up, 60, "Prometheus to scrape serve", [prometheus, web])

        def evaluated() -> list[dict[str, Any]] | None:
            found = get_json(f"{base}/rules") or {}
            rules = [r for g in found.get("data", {}).get("groups", []) for r in g["rules"]]
            return rules if rules and all(r["health"] == "ok" for r in rules) else None

        rules = wait_for(evaluated, 60, "every alert evaluated", [prometheus])
        committed = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
        assert sorted(r["name"] for r in rules) == sorted(
            r["alert"] for g in committed["groups"] for r in g["rules"])
    finally:
        prometheus.stop()
