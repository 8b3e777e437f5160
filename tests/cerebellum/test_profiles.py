"""Heterogeneous robots: skill subsets, payload limits (AI2-THOR mass) and a fixed arm that only
reaches what is around its base; user profiles from the config file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from robocortex.agents.settings import Settings
from robocortex.cerebellum.profiles import BUILTIN_PROFILES, resolve_profile

from tests.cerebellum.robots import Team, run_steps


def test_builtin_kinds():
    assert {"mobile_manipulator", "fixed_arm", "mobile_base"} <= set(BUILTIN_PROFILES)
    assert "navigate_to" not in BUILTIN_PROFILES["fixed_arm"].skills
    assert BUILTIN_PROFILES["fixed_arm"].mobility == "fixed"
    assert "pick_up" not in BUILTIN_PROFILES["mobile_base"].skills


def test_base_without_an_arm_cannot_pick_up(team: Team):
    base = team.robot("base", 0, "mobile_base")
    result = run_steps(base, ("pick_up", {"object": team.oid("Apple")}))
    assert not result.success and result.failure_kind == "precondition"
    assert "base has no skill pick_up" in result.error
    assert run_steps(base, ("navigate_to", {"object": team.oid("Apple")})).success


def test_payload_limit_uses_the_mass_the_world_reports(team: Team):
    light = team.robot("light", 0, "light_manipulator")
    mug = team.oid("Mug")
    assert team.truth(mug)["mass"] > BUILTIN_PROFILES["light_manipulator"].payload_kg
    result = run_steps(light, ("pick_up", {"object": mug}))
    assert not result.success and result.failure_kind == "precondition"
    assert f"over light's payload of {BUILTIN_PROFILES['light_manipulator'].payload_kg} kg" in result.error
    assert team.world.metadata(0)["inventoryObjects"] == []


def test_fixed_arm_works_within_reach_of_its_base_only(team: Team):
    apple = team.oid("Apple")
    pose = next(p for p in team.world.step(0, "GetInteractablePoses", objectId=apple)["actionReturn"] if p["standing"])
    team.world.step(0, "Teleport", x=pose["x"], z=pose["z"], rotation=(pose["rotation"] + 180) % 360, horizon=0)
    arm = team.robot("arm", 0, "fixed_arm")
    start = team.world.metadata(0)["agent"]["position"]
    assert run_steps(arm, ("pick_up", {"object": apple})).success, "it turns to the apple without moving"
    assert team.world.metadata(0)["inventoryObjects"][0]["objectId"] == apple
    assert team.world.metadata(0)["agent"]["position"] == start
    far = run_steps(arm, ("open", {"object": team.oid("Fridge")}))
    assert not far.success and far.failure_kind == "blocked" and "out of reach of fixed robot arm" in far.error
    nav = run_steps(arm, ("navigate_to", {"object": team.oid("Fridge")}))
    assert not nav.success and "arm has no skill navigate_to" in nav.error


CONFIG = """
profiles:
  dishwasher_arm:
    embodiment: fixed_arm
    skills: [pick_up, put, open, close, clean, toggle_on, toggle_off]
    payload_kg: 1.5
    mobility: fixed
"""


def test_user_profile_from_the_config_file(tmp_path, monkeypatch):
    path = tmp_path / "robocortex.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("ROBOCORTEX_CONFIG", str(path))
    spec = resolve_profile("dishwasher_arm", Settings().profiles)
    robot = spec.for_robot("sink-arm", 3)
    assert (robot.mobility, robot.payload_kg, robot.agent_id) == ("fixed", 1.5, 3)
    assert "clean" in robot.skills and "navigate_to" not in robot.skills


def test_worker_command_names_the_config_profiles_when_one_is_unknown(tmp_path):
    path = tmp_path / "robocortex.toml"
    path.write_text('[profiles.sorter]\nembodiment = "mobile_manipulator"\nskills = ["navigate_to", "pick_up"]\n'
                    'payload_kg = 2.0\n')
    proc = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "worker", "--name", "x", "--profile", "nope"],
                          env={"ROBOCORTEX_CONFIG": str(path), "PATH": ""}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "unknown robot profile 'nope'" in proc.stderr and "sorter" in proc.stderr


@pytest.mark.parametrize("skills, problem", [(["fly"], "unknown skills: fly")])
def test_a_profile_with_unknown_skills_is_refused(skills, problem):
    from robocortex.cerebellum.profiles import ProfileSpec

    with pytest.raises(ValueError, match=problem):
        resolve_profile("odd", {"odd": ProfileSpec(embodiment="x", skills=skills, payload_kg=1)})
