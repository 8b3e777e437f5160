"""Planners are chosen by name: the built-ins, one registered in code, one an installed package declares
through the "robocortex.planners" entry-point group. The brain (TaskRunner) runs whichever is named."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from robocortex.memory.stores import Memory
from robocortex.brain.runner import TaskRunner
from robocortex.agents.settings import Settings
from robocortex.brain import planner as registry
from robocortex.brain.plan import Plan
from robocortex.brain.planner import (
    PlanOutcome,
    PlanRequest,
    UnknownPlanner,
    available_planners,
    make_planner,
    register_planner,
)
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import TaskStatus

from tests.brain.conftest import ScriptedRobot


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(registry._FACTORIES)
    yield
    registry._FACTORIES.clear()
    registry._FACTORIES.update(before)


class LightsOut:
    """A planner that ignores the words and switches the light off: proof of whose plan ran."""

    name = "lights-out"

    def __init__(self, settings):
        self.settings, self.requests = settings, []

    def plan(self, request: PlanRequest) -> PlanOutcome:
        self.requests.append(request)
        return PlanOutcome(plan=Plan.model_validate({
            "goals": [{"object": "LightSwitch|1", "state": "isToggled", "value": False}],
            "subtasks": [{"id": "s1", "robot": request.robots[0].name, "description": "switch the light off",
                          "steps": [{"skill": "navigate_to", "args": {"object": "LightSwitch|1"}},
                                    {"skill": "toggle_off", "args": {"object": "LightSwitch|1"}}]}]}))


@pytest.fixture
def brain_settings(redis_url, keys, r, kitchen, make_profile):
    """Settings for a TaskRunner on the test's Redis prefix, with the kitchen and two scripted robots."""
    SceneGraphStore(r, keys).reset(list(kitchen.nodes.values()))
    robots = [ScriptedRobot(r, keys, make_profile(name, agent_id=i)) for i, name in enumerate(("robot1", "robot2"))]
    for robot in robots:
        robot.start()
    yield lambda **kw: Settings(redis_url=redis_url, key_prefix=keys.prefix, **kw)
    for robot in robots:
        robot.stop.set()
        robot.join(5)


def run_with(settings: Settings, instruction: str):
    memory = Memory.from_settings(settings)
    runner = TaskRunner(memory, settings.runner_config(), settings.make_planner())
    record = memory.tasks.create(instruction)
    runner.run_task(record.id)
    return runner, memory.tasks.get(record.id)


def test_the_builtins_are_registered():
    assert {"offline", "llm"} <= set(available_planners())
    assert make_planner("offline", Settings()).name == "offline"


def test_a_planner_registered_in_code_is_the_one_the_brain_runs(brain_settings):
    register_planner("lights-out", LightsOut)
    settings = brain_settings(planner="lights-out")
    runner, record = run_with(settings, "words no built-in planner understands")
    assert isinstance(runner.deps.planner, LightsOut) and runner.deps.planner.settings is settings
    assert record.status == TaskStatus.succeeded, record.reason
    assert runner.deps.planner.requests[0].instruction == "words no built-in planner understands"


def test_a_planner_from_an_installed_package_entry_point(tmp_path, monkeypatch, brain_settings):
    (tmp_path / "tiny_planner_pkg.py").write_text(textwrap.dedent('''
        from tests.brain.test_planner_registry import LightsOut

        class Tiny(LightsOut):
            name = "tiny"

        def make(settings):
            return Tiny(settings)
    '''))
    dist = tmp_path / "tiny_planner_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-planner-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[robocortex.planners]\ntiny = tiny_planner_pkg:make\n")
    assert "tiny" not in available_planners()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "tiny" in available_planners(), "one entry point is the whole registration"
    runner, record = run_with(brain_settings(planner="tiny"), "anything")
    assert type(runner.deps.planner).__name__ == "Tiny"
    assert record.status == TaskStatus.succeeded, record.reason


def test_an_unknown_name_is_one_clear_error():
    with pytest.raises(ValidationError, match=r"no planner named 'oflline' \(did you mean 'offline'\?\); "
                                              r"registered planners: .*llm, offline"):
        Settings(planner="oflline")
    with pytest.raises(UnknownPlanner, match="registered planners"):
        make_planner("nope", Settings())


def test_a_taken_name_is_not_silently_replaced():
    register_planner("lights-out", LightsOut)
    register_planner("lights-out", LightsOut)  # the same factory again is fine
    with pytest.raises(ValueError, match="already registered"):
        register_planner("lights-out", lambda settings: LightsOut(settings))
    register_planner("lights-out", lambda settings: LightsOut(settings), replace=True)
    with pytest.raises(ValueError, match="reserved"):
        register_planner("auto", LightsOut)


def test_the_llm_planner_without_an_endpoint_says_what_to_set():
    with pytest.raises(registry.PlanningError, match="ROBOCORTEX_LLM__BASE_URL"):
        make_planner("llm", Settings())
