"""Config files are checked strictly (unknown keys with their file and line), the example file ships
and loads, and `robocortex config` says where every effective setting came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robocortex.agents.settings import Settings
from robocortex.cerebellum.profiles import resolve_profile

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "robocortex.yaml"


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")}
    return subprocess.run([sys.executable, "-m", "robocortex.agents.cli", *args], env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_example_config_file_loads(monkeypatch):
    monkeypatch.setenv("ROBOCORTEX_CONFIG", str(EXAMPLE))
    settings = Settings()
    assert settings.planner == "auto" and settings.llm.mode == "goals" and settings.brain_workers == 4
    robot = resolve_profile("careful_manipulator", settings.profiles).for_robot("r1", 0)
    assert robot.payload_kg == 1.0 and "pick_up" in robot.skills


@pytest.mark.parametrize("name, text, line", [
    ("c.yaml", "scene: Kitchen-1\nplaner: llm\n", 2),
    ("c.toml", 'scene = "Kitchen-1"\n\nplaner = "llm"\n', 3),
])
def test_an_unknown_key_is_refused_with_its_file_and_line(tmp_path, name, text, line):
    path = tmp_path / name
    path.write_text(text)
    proc = cli("config", ROBOCORTEX_CONFIG=str(path))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"unknown setting 'planer' ({path}:{line}); did you mean 'planner'?" in proc.stderr


def test_an_unknown_nested_key_names_its_line_in_a_toml_table(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[llm]\nmode = "goals"\nbse_url = "http://x"\n')
    proc = cli("config", ROBOCORTEX_CONFIG=str(path))
    assert proc.returncode == 2
    assert f"unknown setting 'llm.bse_url' ({path}:3); did you mean 'llm.base_url'?" in proc.stderr


def test_a_bad_profile_is_reported_under_its_file_key_not_an_env_var(tmp_path):
    path = tmp_path / "robocortex.yaml"
    path.write_text("profiles:\n  sorter:\n    embodiment: mobile_manipulator\n    skills: [pick_up]\n"
                    "    payload_kg: -2\n    colour: red\n")
    proc = cli("worker", "--name", "x", "--profile", "sorter", ROBOCORTEX_CONFIG=str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"bad setting profiles.sorter.payload_kg ({path}:5)" in proc.stderr
    assert f"unknown setting 'profiles.sorter.colour' ({path}:6)" in proc.stderr
    assert "ROBOCORTEX_PROFILES" not in proc.stderr


def test_config_says_where_each_setting_came_from(tmp_path):
    path = tmp_path / "robocortex.yaml"
    path.write_text("scene: Bedroom-2\nbrain_workers: 7\nllm:\n  mode: plan\n  api_key: secret\n")
    proc = cli("config", "--json", "--planner", "offline", ROBOCORTEX_CONFIG=str(path),
               ROBOCORTEX_BRAIN_WORKERS="3", ROBOCORTEX_LLM__TIMEOUT_S="9")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows["scene"] == {"value": "Bedroom-2", "source": f"{path}:1"}
    assert rows["brain_workers"] == {"value": 3, "source": "env ROBOCORTEX_BRAIN_WORKERS"}
    assert rows["llm.mode"] == {"value": "plan", "source": f"{path}:4"}
    assert rows["llm.timeout_s"] == {"value": 9.0, "source": "env ROBOCORTEX_LLM__TIMEOUT_S"}
    assert rows["llm.api_key"]["value"] == "***", "secrets are not printed"
    assert rows["planner"] == {"value": "offline", "source": "CLI --planner"}
    assert rows["port"] == {"value": 8000, "source": "default"}


def test_config_prints_one_line_per_setting():
    proc = cli("config")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.startswith("redis_socket ") and line.endswith("# default") for line in lines)
    assert all(" = " in line and " # " in line for line in lines)


@pytest.mark.parametrize("name, text, problem", [
    ("c.yaml", "- a\n- b\n", "a config file holds settings as keys and values, not a list"),
    ("c.yaml", "planner: [\n", "not valid YAML: "),
    ("c.toml", "planner = \n", "not valid TOML: Invalid value (at line 1, column 11)"),
])
def test_a_file_that_is_not_settings_is_one_line_naming_it(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text)
    proc = cli("config", ROBOCORTEX_CONFIG=str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"{path}: {problem}" in proc.stderr
