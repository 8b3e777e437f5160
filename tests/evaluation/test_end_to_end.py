"""A small suite end to end through the real components: worker processes, real Redis, the
brain's graph, robot workers and the emulator; ground truth read from the world."""

from __future__ import annotations

import uuid

import pytest
from PIL import Image

from robocortex.evaluation.batch import run_suite
from robocortex.evaluation.metrics import run_metrics
from robocortex.evaluation.suite import parse_suite
from robocortex.evaluation.topdown import draw_map
from robocortex.agents.settings import Settings

MINI = """
name: mini
timeout_s: 120
tasks:
  - id: fridge-and-light
    scene: Kitchen-0
    category: simple
    robots: [mobile_manipulator, light_manipulator]
    instruction: put the apple in the fridge and turn off the light
    goals:
      - {object: Apple, relation: in, target: Fridge}
      - {object: LightSwitch, state: isToggled, value: false}
  - id: not-understood
    scene: Kitchen-0
    category: elemental
    robots: [mobile_manipulator]
    instruction: juggle the apple
    goals:
      - {object: Apple, relation: in, target: Fridge}
"""


@pytest.fixture(scope="module")
def traces(redis_url):
    settings = Settings(redis_url=redis_url, key_prefix=f"test:{uuid.uuid4().hex[:8]}", planner="offline",
                        world_backend="emulator")
    done, wall_s, workers = run_suite(parse_suite(MINI, "mini.yaml"), settings, workers=2)
    assert workers == 2 and wall_s > 0
    return {t.task_id: t for t in done}


def test_the_team_succeeds_and_the_world_agrees(traces):
    t = traces["fridge-and-light"]
    assert t.status == "succeeded", t.reason
    assert [(g.goal, g.met) for g in t.goals] == [("Apple in Fridge", True), ("LightSwitch isToggled=False", True)]
    m = run_metrics(t)
    assert m.success and m.goal_condition_recall == 1.0
    assert {r for r, tally in m.per_robot.items() if tally.actions} == {"robot1", "robot2"}  # both worked
    assert m.makespan_actions < m.actions  # ... in parallel
    assert {e.kind for e in t.events} >= {"plan", "dispatch", "action", "result", "finished"}


def test_a_task_the_planner_cannot_do_is_a_failure_not_a_gap(traces):
    t = traces["not-understood"]
    m = run_metrics(t)
    assert (t.status, m.success, m.goal_condition_recall) == ("failed", False, 0.0)
    assert "juggle" in t.reason  # the offline parser names the word it does not know


def test_the_map_is_a_png_with_every_robot_path(traces, tmp_path):
    t = traces["fridge-and-light"]
    assert all(len(path) > 1 for path in t.paths().values())
    path = draw_map(t, tmp_path / "map.png")
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 300


@pytest.mark.thor_data
def test_a_floor_plan_task_runs_from_the_layouts(redis_url):
    import os

    from robocortex.evaluation.harness import RunRequest, run_task
    from robocortex.brain.plan import Goal

    data = os.environ.get("ROBOCORTEX_THOR_DATA")
    if not data:
        pytest.skip("needs ROBOCORTEX_THOR_DATA")
    settings = Settings(redis_url=redis_url, key_prefix=f"test:{uuid.uuid4().hex[:8]}", planner="offline",
                        world_backend="emulator", thor_data=data)
    goal = Goal(object="LightSwitch", state="isToggled", value=False)
    t = run_task(RunRequest(instruction="turn off the light", scene="FloorPlan301", robots=["mobile_manipulator"],
                            goals=[goal]), settings)
    assert t.status == "succeeded" and t.goals[0].met and t.scene_map.reachable
