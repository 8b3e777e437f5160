"""The brain's closed loop on a real Redis, with the offline planner and scripted robots (conftest)."""

from __future__ import annotations

import threading

from robocortex.brain.graph import compile_graph, graph_builder, initial_state
from robocortex.memory.schemas import NodePatch, SceneDelta, TaskStatus

from tests.brain.conftest import run


def test_two_goals_two_robots_succeed(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots()
    record = run(deps, saver, "put the apple in the fridge and turn off the light")
    assert record.status == TaskStatus.succeeded, record.reason
    assert r1.received and r2.received
    kinds = [e.kind for _, e in deps.tasks.events(record.id, count=1000)]
    assert kinds.index("plan") < kinds.index("dispatch") < kinds.index("result") < kinds.index("goals_met")


def _picks(message, object_id="Apple|1"):
    return any(s.skill == "pick_up" and s.args.get("object") == object_id for s in message.steps)


def test_failure_is_replanned_without_redoing_finished_work(brain):
    deps, start_robots, saver = brain
    failed = []

    def apple_once(message):  # the first subtask that picks up the apple fails, whoever runs it
        if not failed and _picks(message):
            failed.append(message.subtask_id)
            return True
        return False

    r1, r2 = start_robots(robot1={"fail_when": apple_once}, robot2={"fail_when": apple_once})
    record = run(deps, saver, "put the apple in the fridge and turn off the light")
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.replans == 1 and failed
    messages = r1.messages + r2.messages
    assert sum(any(s.skill == "toggle_off" for s in m.steps) for m in messages) == 1, "the light was not switched twice"
    assert sum(_picks(m) for m in messages) == 2, "the failed job was planned and sent again"
    assert {s.id for s in record.subtasks if s.status.value == "failed"} == set(failed)


def test_a_failure_reaches_the_planner_typed(brain):
    """The executor's typed failure (code, the failing call, details) is what the replan is given."""
    from robocortex.brain.offline import OfflinePlanner

    seen = []

    class Recording(OfflinePlanner):
        def plan(self, request):
            seen.append(list(request.failures))
            return super().plan(request)

    deps, start_robots, saver = brain
    deps.planner = Recording()
    failed_ids = []

    def apple_once(message):
        if not failed_ids and _picks(message):
            failed_ids.append(message.subtask_id)
            return True
        return False

    start_robots(robot1={"fail_when": apple_once}, robot2={"fail_when": apple_once})
    record = run(deps, saver, "put the apple in the fridge")
    assert record.status == TaskStatus.succeeded, record.reason
    (failed,) = seen[1]
    assert failed.code == "action_failed" and failed.failed_step.skill == "pick_up"
    assert failed.failed_step.args == {"object": "Apple|1"} and failed.details["world_error"] == "object not visible"
    assert failed.steps[failed.step_index] == failed.failed_step
    (first,) = [s for s in record.subtasks if s.id == failed_ids[0]]
    assert first.failure.code == "action_failed" and first.failure.skill == "pick_up", "the task record shows it too"


def test_never_succeeding_robot_ends_failed_with_reason(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots(robot1={"fail_when": _picks}, robot2={"fail_when": _picks})
    record = run(deps, saver, "put the apple in the fridge")
    assert record.status == TaskStatus.failed
    assert 1 <= record.replans <= deps.config.max_replans
    assert "pick_up" in record.reason, "the reason says what kept failing"
    assert len(r1.messages + r2.messages) <= deps.config.max_replans + 1


def test_cancel_stops_the_task(brain):
    deps, start_robots, saver = brain
    start_robots(robot1={"delay_s": 2.0}, robot2={"delay_s": 2.0})
    record = deps.tasks.create("put the apple in the fridge")
    threading.Timer(0.5, deps.tasks.request_cancel, args=(record.id,)).start()
    graph = compile_graph(saver)
    graph.invoke(initial_state(record.id, record.instruction),
                 {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000}, context=deps)
    final = deps.tasks.get(record.id)
    assert final.status == TaskStatus.cancelled
    assert all(s.status.value == "cancelled" for s in final.subtasks)


def test_resume_from_checkpoint_does_not_redispatch(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots()
    record = deps.tasks.create("put the apple in the fridge and turn off the light")
    config = {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000}
    first = compile_graph(saver)
    first.invoke(initial_state(record.id, record.instruction), config, context=deps, interrupt_after=["dispatch"])
    assert deps.tasks.get(record.id).status == TaskStatus.running
    # a new brain (new graph object, same Redis) picks the thread up where the checkpoint left it
    second = graph_builder().compile(checkpointer=saver)
    assert second.get_state(config).next == ("reflect",)
    second.invoke(None, config, context=deps)
    assert deps.tasks.get(record.id).status == TaskStatus.succeeded
    assert sorted(r1.received + r2.received) == ["s1", "s2"], "each subtask dispatched exactly once"


def test_plan_that_cannot_be_made_fails_with_the_words(brain):
    deps, start_robots, saver = brain
    start_robots()
    record = run(deps, saver, "levitate the apple")
    assert record.status == TaskStatus.failed
    assert record.reason.startswith("planning failed: ") and "levitate" in record.reason


def test_changed_world_is_replanned_before_the_next_subtask(brain):
    deps, start_robots, saver = brain

    def hide_the_apple(subtask_id, scene):  # someone shuts the apple in the microwave meanwhile
        if subtask_id == "s1":
            scene.apply(SceneDelta(patches=[NodePatch(id="Apple|1", set={"relations": [
                {"rel": "in", "target": "Microwave|1"}]})], source="someone"))

    start_robots(robot1={"then": hide_the_apple}, robot2={"then": hide_the_apple})
    record = run(deps, saver, "turn off the light then put the apple in the fridge")
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.replans == 1
    replan = next(e for _, e in deps.tasks.events(record.id, count=1000) if e.kind == "replan")
    assert "the world changed" in replan.message and "Microwave|1" in replan.message
    assert [s.id for s in record.subtasks if s.status.value == "succeeded"] == ["s1", "r1.1"]


def test_a_goal_that_cannot_be_leaves_the_task_failed_with_its_reason_after_the_rest_is_done(brain):
    deps, start_robots, saver = brain
    start_robots()
    # AI2-THOR's placement rules let no knife into a fridge; the apple can go.
    record = run(deps, saver, "put the apple and the knife in the fridge")
    assert record.status == TaskStatus.failed
    assert record.reason.startswith("done but for what cannot be: ") and "Knife" in record.reason, record.reason
    kinds = [e.kind for _, e in deps.tasks.events(record.id, count=1000)]
    assert "dispatch" in kinds and "goals_met" in kinds, "the feasible part ran"
