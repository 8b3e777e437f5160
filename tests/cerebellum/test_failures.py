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


def _occupied_burner(team: Team) -> str:
    """The stove burner the pan stands on: AI2-THOR finds no room there for a pot (a check cannot know)."""
    return team.truth(team.oid("Pan"))["parentReceptacles"][0]


def test_a_refused_action_fails_with_the_worlds_message(team: Team):
    robot, pot, burner = team.robot("r1", 0), team.oid("Pot"), _occupied_burner(team)
    result = run_steps(robot, ("pick_up", {"object": pot}), ("put", {"receptacle": burner}))
    assert not result.success and result.failure_kind == "action_failed"
    assert result.error == "put failed: No valid positions to place object found"
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


# --------------------------------------------------------------------------- typed failures


def test_a_refused_put_is_typed_with_its_step_call_and_the_worlds_raw_error(team: Team):
    robot, pot, burner = team.robot("r1", 0), team.oid("Pot"), _occupied_burner(team)
    result = run_steps(robot, ("navigate_to", {"object": pot}), ("pick_up", {"object": pot}),
                       ("put", {"receptacle": burner}))
    failure = result.failure
    assert failure is not None and failure.code == result.failure_kind == "action_failed"
    assert (failure.step_index, failure.skill, failure.args) == (2, "put", {"receptacle": burner})
    assert failure.details["receptacle"] == burner and failure.details["held"] == pot
    assert failure.details["world_code"] == "no_room"
    assert result.error == f"put failed: {failure.details['world_error']}"


def test_an_unmet_precondition_is_typed_with_the_problem(team: Team):
    robot, fridge = team.robot("r1", 0), team.oid("Fridge")
    result = run_steps(robot, ("close", {"object": fridge}))
    assert result.failure.code == "precondition"
    assert (result.failure.step_index, result.failure.skill, result.failure.args) == (0, "close", {"object": fridge})
    assert result.failure.details == {"object": fridge, "problem": "unmet"}


def test_a_closed_receptacle_without_the_skill_to_open_it_names_the_receptacle(team: Team):
    """The executor's own recovery reads the problem's code and object, not its sentence: a robot
    that cannot open things fails with the closed receptacle as a detail."""
    from robocortex.cerebellum.executor import SubtaskExecutor
    from robocortex.cerebellum.profiles import BUILTIN_PROFILES

    bound = BUILTIN_PROFILES["mobile_manipulator"].for_robot("r1", 0)
    no_open = bound.model_copy(update={"skills": [s for s in bound.skills if s != "open"]})
    robot = SubtaskExecutor(team.world, no_open, team.scene, team.tasks)
    apple, fridge = team.oid("Apple"), team.oid("Fridge")
    result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}),
                       ("navigate_to", {"object": fridge}), ("put", {"receptacle": fridge}))
    assert result.failure.code == "precondition" and result.failure.step_index == 3
    assert result.failure.details["problem"] == "closed" and result.failure.details["problem_object"] == fridge
    assert result.error == f"put: {fridge} is closed; open it first"


def test_a_missing_object_is_typed_with_the_unknown_id(team: Team):
    ghost = "Apple|+09.99|+09.99|+09.99"
    result = run_steps(team.robot("r1", 0, claim=lambda object_id: False), ("pick_up", {"object": ghost}))
    assert result.failure.code == "object_missing"
    assert result.failure.details["problem"] == "unknown_object" and result.failure.details["problem_object"] == ghost


def test_the_worlds_errors_are_classified_in_one_table():
    from robocortex.cerebellum.executor import classify_world_error

    assert classify_world_error("No valid positions to place object found") == ("action_failed", "no_room")
    assert classify_world_error("Object ID appears to be invalid.") == ("object_missing", "invalid_object")
    assert classify_world_error("something new") == ("action_failed", "other")


def test_old_results_with_only_a_failure_kind_still_read():
    from robocortex.memory.schemas import SubtaskResult

    old = SubtaskResult.model_validate_json('{"task_id": "t", "subtask_id": "s1", "attempt": 1, "robot": "r1", '
                                            '"success": false, "error": "lost", "failure_kind": "robot_lost"}')
    assert old.failure is not None and old.failure.code == "robot_lost" and old.failure.step_index is None
