"""compose.yaml describes the same processes the launcher starts, with commands the CLI has."""

from pathlib import Path

import yaml
from typer.main import get_command

from robocortex.agents.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_and_commands_exist():
    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = spec["services"]
    assert {"redis", "world", "brain", "robot1", "robot2"} <= set(services)
    cli = get_command(app)
    for name, svc in services.items():
        if name == "redis":
            assert svc["image"].startswith("redis:")
            continue
        if svc.get("profiles"):  # optional services of other images (the vLLM model server)
            continue
        command = svc["command"]
        assert command[0] == "robocortex", name
        sub = cli.commands.get(command[1])
        assert sub is not None, f"{name}: no CLI command {command[1]!r}"
        known = {opt for p in sub.params for opt in getattr(p, "opts", [])}
        for token in command[2:]:
            if token.startswith("--"):
                assert token in known, f"{name}: {command[1]} has no option {token}"
        env = svc.get("environment") or spec["x-robocortex"]["environment"]
        assert env["ROBOCORTEX_REDIS_URL"].startswith("redis://redis:")


def test_robot_agent_ids_are_distinct():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    ids = [s["command"][s["command"].index("--agent-id") + 1] for s in services.values()
           if "worker" in s.get("command", [])]
    assert len(ids) == len(set(ids)) == 2


def test_every_dependency_is_a_service_and_robots_wait_for_a_healthy_world():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on should name a condition per service"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no healthcheck"
    for robot in ("robot1", "robot2"):
        assert services[robot]["depends_on"]["world"]["condition"] == "service_healthy"
