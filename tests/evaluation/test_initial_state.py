"""Suites that state an initial state: refused set-ups are load errors naming the task, the goal
checks read the scene as the set-up leaves it, and a run starts from that state in the world."""

from __future__ import annotations

import uuid

import pytest

from robocortex.evaluation.harness import RunRequest, run_task
from robocortex.evaluation.suite import SuiteError, load_suite, parse_suite, task_problems
from robocortex.agents.settings import Settings

FRIDGE_OPEN = [{"action": "SetObjectStates",
                "SetObjectStates": {"objectType": "Fridge", "stateChange": "openable", "isOpen": True}}]


def _suite(tmp_path, initial_state: str, goal: str = "{object: Fridge, state: isOpen, value: false}",
           instruction: str = "close the fridge"):
    path = tmp_path / "s.yaml"
    path.write_text(f"""
name: s
tasks:
  - id: fridge-task
    scene: Kitchen-0
    category: elemental
    robots: [mobile_manipulator]
    instruction: {instruction}
    initial_state: {initial_state}
    goals:
      - {goal}
""")
    return str(path)


def test_a_state_change_ai2thor_does_not_know_is_rejected_naming_the_task(tmp_path):
    bad = "[{action: SetObjectStates, SetObjectStates: {objectType: Fridge, stateChange: melt, isOpen: true}}]"
    with pytest.raises(SuiteError, match=r"task fridge-task: initial state: step 0 SetObjectStates: "
                                         r"stateChange must be one of .*got 'melt'"):
        load_suite(_suite(tmp_path, bad))


def test_a_state_the_type_cannot_take_is_rejected(tmp_path):
    bad = "[{action: SetObjectStates, SetObjectStates: {objectType: Apple, stateChange: openable, isOpen: true}}]"
    with pytest.raises(SuiteError, match=r"task fridge-task: initial state: step 0 SetObjectStates"):
        load_suite(_suite(tmp_path, bad))


def test_an_action_that_is_not_a_setup_action_is_a_shape_error(tmp_path):
    with pytest.raises(SuiteError, match=r"task fridge-task: initial_state\.0\.action"):
        load_suite(_suite(tmp_path, "[{action: OpenObject, objectId: Fridge}]"))


def test_the_initial_state_decides_what_already_holds(tmp_path):
    # closed at the start: "close the fridge" would score work nobody did ...
    with pytest.raises(SuiteError, match="task fridge-task: goal 'Fridge isOpen=False' already holds at the start"):
        load_suite(_suite(tmp_path, "[]"))
    # ... left open by the set-up, it is a task; and "open the fridge" is the one that asks for nothing
    opened = "[{action: SetObjectStates, SetObjectStates: {objectType: Fridge, stateChange: openable, isOpen: true}}]"
    assert [t.initial_steps() for t in load_suite(_suite(tmp_path, opened)).tasks] == [FRIDGE_OPEN]
    with pytest.raises(SuiteError, match="goal 'Fridge isOpen=True' already holds at the start"):
        load_suite(_suite(tmp_path, opened, "{object: Fridge, state: isOpen, value: true}", "open the fridge"))


def test_the_builtin_initial_state_tasks_pass_their_checks():
    suite = load_suite("builtin")
    stated = [t for t in suite.tasks if t.initial_state]
    assert len(stated) == 3 and all(t.phrasing for t in stated)
    assert all(task_problems(t.model_copy(update={"initial_state": []})) for t in stated)  # needed, not decoration


def test_a_run_starts_from_the_initial_state(redis_url):
    task = parse_suite(_RUN_SUITE, "run.yaml").tasks[0]
    settings = Settings(redis_url=redis_url, key_prefix=f"test:{uuid.uuid4().hex[:8]}", planner="offline",
                        world_backend="emulator")
    trace = run_task(RunRequest(instruction=task.instruction, scene=task.scene, robots=task.robots, goals=task.goals,
                                task_id=task.id, initial_state=task.initial_steps(), timeout_s=120), settings)
    assert trace.status == "succeeded", trace.reason
    assert [(g.goal, g.met) for g in trace.goals] == [("Fridge isOpen=False", True)]
    assert trace.initial_state == FRIDGE_OPEN  # the trace says how the run started
    closes = [e for e in trace.events if e.kind == "action" and e.data.get("action") == "CloseObject"]
    assert closes, "the robot closed the fridge the set-up left open"


_RUN_SUITE = """
name: run
tasks:
  - id: fridge-left-open
    scene: Kitchen-2
    category: elemental
    phrasing: reference
    robots: [mobile_manipulator]
    instruction: the fridge was left open, close it
    initial_state:
      - {action: SetObjectStates, SetObjectStates: {objectType: Fridge, stateChange: openable, isOpen: true}}
    goals:
      - {object: Fridge, state: isOpen, value: false}
"""
