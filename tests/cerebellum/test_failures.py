"""Failures are classified and met with bounded alternatives; every step is on the event stream."""

from __future__ import annotations

from tests.cerebellum.robots import Team, events_of, run_steps


def test_a_missing_object_is_looked_for_then_replaced_by_another_of_its_type(team: Team):
    robot, apple = team.robot("r1", 0), team.oid("Apple")
    ghost = "Apple|+09.99|+09.99|+09.99"
    result = run_steps(robot, ("navigate_to", {"object": ghost}), ("pick_up", {"object": ghost}))
    assert result.success, result.error
    assert team.world.metadata(0)["inventoryObjects"][0]["objectId"] == apple
    thoughts = [m for k, m in events_of(team, result) if k == "thought"]
    assert "looking around for the missing object" in thoughts
    assert any(f"{ghost} will not do (object_missing); using {apple} instead" in m for m in thoughts)


def test_claims_decide_which_instance_may_be_used(team: Team):
    robot = team.robot("r1", 0, claim=lambda object_id: False)
    result = run_steps(robot, ("pick_up", {"object": "Apple|+09.99|+09.99|+09.99"}))
    assert not result.success and result.failure_kind == "object_missing"
    assert "unknown object" in result.error


def test_a_refused_action_fails_with_the_worlds_message(team: Team):
    robot, apple, toaster = team.robot("r1", 0), team.oid("Apple"), team.oid("Toaster")
    result = run_steps(robot, ("pick_up", {"object": apple}), ("put", {"receptacle": toaster}))
    assert not result.success and result.failure_kind == "action_failed"
    assert "is not a valid Object Type to be placed in" in result.error
    kinds = [k for k, _ in events_of(team, result)]
    assert {"thought", "action", "observation"} <= set(kinds)
    assert result.failed_actions == 3, "the first try and two bounded retries"


def test_an_unmet_precondition_is_reported_not_attempted(team: Team):
    robot, fridge = team.robot("r1", 0), team.oid("Fridge")
    result = run_steps(robot, ("close", {"object": fridge}))
    assert not result.success and result.failure_kind == "precondition"
    assert result.error == f"close: {fridge} is already closed"
    assert result.actions == 1, "only the first look"


def test_the_action_budget_ends_in_a_timeout(team: Team):
    robot = team.robot("r1", 0, max_actions=5)
    result = run_steps(robot, ("navigate_to", {"object": team.oid("Fridge")}))
    assert not result.success and result.failure_kind == "timeout"
    assert "action budget of 5 exhausted" in result.error


def test_a_free_text_subtask_without_a_model_is_refused(team: Team):
    result = run_steps(team.robot("r1", 0), description="make coffee")
    assert not result.success and result.failure_kind == "precondition"
    assert "no model for free-text subtasks" in result.error


def test_both_of_ai2thors_unknown_object_messages_mean_object_missing():
    from robocortex.cerebellum.executor import _kind_of_world_error

    assert _kind_of_world_error("Object ID appears to be invalid.") == "object_missing"
    assert _kind_of_world_error(
        "objectId: Apple|1 is not the objectId on any object in the scene!") == "object_missing"
    assert _kind_of_world_error("agent_1 is blocking Agent 0 from moving 0") == "blocked"
    assert _kind_of_world_error("Target object not found within the specified visibility.") == "action_failed"
