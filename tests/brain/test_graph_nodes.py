"""Each node of the brain's graph alone: a state in, an update out, on a real Redis (no graph run).

The nodes are module-level functions; their dependencies come as LangGraph's Runtime context."""

from __future__ import annotations

import pytest
from langgraph.runtime import Runtime

from robocortex.brain import graph as g
from robocortex.brain.planner import InvalidReply, ModelCall, PlanningError
from robocortex.memory.schemas import Failure, SubtaskResult, TaskStatus


APPLE_IN_FRIDGE = {  # hand-made plans: these tests are about the nodes, not about a planner's choices
    "goals": [{"object": "Apple|1", "relation": "in", "target": "Fridge|1"}],
    "subtasks": [{"id": "s1", "robot": "robot1", "description": "apple to the fridge", "steps": [
        {"skill": "navigate_to", "args": {"object": "Apple|1"}}, {"skill": "pick_up", "args": {"object": "Apple|1"}},
        {"skill": "navigate_to", "args": {"object": "Fridge|1"}}, {"skill": "open", "args": {"object": "Fridge|1"}},
        {"skill": "put", "args": {"receptacle": "Fridge|1"}}]}]}
LIGHT_OFF = {"goals": [{"object": "LightSwitch|1", "state": "isToggled", "value": False}],
             "subtasks": [{"id": "s1", "robot": "robot1", "description": "light off",
                           "steps": [{"skill": "toggle_off", "args": {"object": "LightSwitch|1"}}]}]}


def _state(deps, text="put the apple in the fridge", **extra) -> g.TaskState:
    record = deps.tasks.create(text)
    return {**g.initial_state(record.id, text), **extra}


def _events(deps, state, kind):
    return [e for _, e in deps.tasks.events(state["task_id"], count=1000) if e.kind == kind]


@pytest.fixture
def online(brain, r, keys, make_profile):
    """Two robots registered and heartbeating (their threads never started: nothing executes)."""
    from tests.brain.conftest import ScriptedRobot

    return [ScriptedRobot(r, keys, make_profile(name, agent_id=i)) for i, name in enumerate(("robot1", "robot2"))]


def test_perceive_marks_the_task_planning_and_says_who_is_online(brain, online):
    deps = brain[0]
    state = _state(deps)
    update = g.perceive(state, Runtime(context=deps))
    assert update["status"] == "planning" and update["started_at"] > 0
    assert deps.tasks.get(state["task_id"]).status == TaskStatus.planning
    (event,) = _events(deps, state, "perceive")
    assert sorted(event.data["robots"]) == ["robot1", "robot2"]


def test_plan_puts_the_plan_its_reports_and_the_planning_time_in_the_event_and_the_record(brain, online):
    deps = brain[0]
    state = _state(deps, status="planning")
    update = g.plan(state, Runtime(context=deps))
    assert update["problems"] == [] and update["plan"]["subtasks"]
    (event,) = _events(deps, state, "plan")
    assert event.data["planning_ms"] > 0 and event.data["reports"] == update["plan"].get("reports", [])
    assert isinstance(event.data["timing"], dict)
    assert update["metrics"]["planning_ms"] == event.data["planning_ms"] and update["metrics"]["planner_calls"] == 1
    record = deps.tasks.get(state["task_id"])
    assert record.plan == update["plan"] and record.metrics["planning_ms"] == event.data["planning_ms"]


class Raising:
    name = "raising"

    def __init__(self, exc):
        self.exc, self.requests = exc, []

    def plan(self, request):
        self.requests.append(request)
        raise self.exc


def test_plan_that_cannot_be_made_fails_the_task_with_the_reason(brain, online):
    deps = brain[0]
    deps.planner = Raising(PlanningError("no fridge here"))
    state = _state(deps, status="planning")
    update = g.plan(state, Runtime(context=deps))
    assert update["status"] == "failed" and update["reason"] == "planning failed: no fridge here"
    assert _events(deps, state, "plan_failed")[0].data["planning_ms"] >= 0
    g.finish({**state, **update}, Runtime(context=deps))  # the end is recorded after its event
    assert deps.tasks.get(state["task_id"]).status == TaskStatus.failed
    kinds = [e.kind for _, e in deps.tasks.events(state["task_id"], "0", None)]
    assert kinds.index("finished") < len(kinds) - 1 and kinds[-1] == "status", kinds


def test_an_invalid_reply_goes_back_as_the_last_reply(brain, online):
    deps = brain[0]
    deps.planner = Raising(InvalidReply("not a plan", ModelCall(raw="hello", prompt_tokens=7, completion_tokens=2)))
    update = g.plan(_state(deps, status="planning"), Runtime(context=deps))
    assert update["plan"] is None and update["problems"] == ["not a plan"] and update["last_reply"] == "hello"
    assert update["metrics"]["tokens"] == 9 and update["metrics"]["model_calls"] == 1


def test_the_plan_request_carries_the_stop_seam_and_the_typed_failures_of_old_and_new_checkpoints(brain, online):
    deps = brain[0]
    seen = {}

    class Probing:
        """Looks at its request; a cancel arrives while it plans, and it gives up."""

        name = "probing"

        def plan(self, request):
            seen["request"], seen["before"] = request, request.should_stop()
            deps.tasks.request_cancel(state["task_id"])
            seen["after"] = request.should_stop()
            raise PlanningError("stopped")

    deps.planner = Probing()
    old = {"robot": "robot1", "error": "put failed: whatever", "holding": "Egg|1",
           "steps": [{"skill": "put", "args": {"receptacle": "CounterTop|1"}}]}  # a checkpoint from before typed failures
    new = {**old, "code": "action_failed", "failed_step": old["steps"][0], "step_index": 0,
           "details": {"receptacle": "CounterTop|1", "world_code": "no_room"}}
    state = _state(deps, status="planning", started_at=1000.0, failures=[old, new])
    update = g.plan(state, Runtime(context=deps))
    request = seen["request"]
    assert request.deadline == 1000.0 + deps.config.task_timeout_s
    assert (seen["before"], seen["after"]) == (False, True)
    assert update["status"] == "cancelled", "a planner stopped by a cancel ends the task cancelled, not failed"
    first, second = request.failures
    assert (first.code, first.failed_step, first.details) == ("other", None, {})
    assert second.code == "action_failed" and second.failed_step.args == {"receptacle": "CounterTop|1"}
    assert second.details["world_code"] == "no_room"


def test_plan_sees_a_cancel_first(brain, online):
    deps = brain[0]
    planner = deps.planner = Raising(PlanningError("never asked"))
    state = _state(deps, status="planning")
    deps.tasks.request_cancel(state["task_id"])
    assert g.plan(state, Runtime(context=deps))["status"] == "cancelled" and planner.requests == []


def test_check_counts_repairs_and_gives_up_after_the_last(brain, online):
    deps = brain[0]
    bad = {"goals": [], "subtasks": [{"id": "s1", "robot": "robot9", "description": "x",
                                      "steps": [{"skill": "explore", "args": {}}]}]}
    state = _state(deps, status="planning", plan=bad)
    update = g.check(state, Runtime(context=deps))
    assert update["repairs"] == 1 and any("robot9" in p for p in update["problems"]) and "status" not in update
    update = g.check({**state, "repairs": deps.config.max_repairs}, Runtime(context=deps))
    assert update["status"] == "failed" and update["reason"].startswith("no valid plan after 3 repairs")


def test_dispatch_sends_only_what_is_ready(brain, online):
    deps = brain[0]
    two = {"goals": [], "subtasks": [
        {"id": "s1", "robot": "robot2", "description": "light off",
         "steps": [{"skill": "toggle_off", "args": {"object": "LightSwitch|1"}}]},
        {"id": "s2", "robot": "robot1", "description": "then look", "depends_on": ["s1"],
         "steps": [{"skill": "explore", "args": {}}]}]}
    state = _state(deps, "turn off the light then look around", status="planning", plan=two)
    update = g.dispatch(state, Runtime(context=deps))
    sent = {k: s["status"] for k, s in update["subtasks"].items()}
    assert sent == {"s1": "dispatched", "s2": "waiting"}
    assert [e.subtask_id for e in _events(deps, state, "dispatch")] == ["s1"]
    robot = state["plan"]["subtasks"][0]["robot"]
    assert deps.dispatcher.receive(robot, robot, block_ms=100).message.subtask_id == "s1"


def test_monitor_records_a_typed_failure_and_reflect_hands_it_to_the_replan(brain, online):
    deps = brain[0]
    state = _state(deps, status="planning", plan=APPLE_IN_FRIDGE, started_at=1e12)
    state = {**state, **g.dispatch(state, Runtime(context=deps))}
    (sub,) = state["plan"]["subtasks"]
    delivery = deps.dispatcher.receive(sub["robot"], sub["robot"], block_ms=1000)
    failure = Failure(code="action_failed", step_index=3, skill="put", args={"receptacle": "Fridge|1"},
                      details={"receptacle": "Fridge|1", "held": "Apple|1", "world_code": "no_room"})
    deps.dispatcher.complete(delivery, SubtaskResult(task_id=state["task_id"], subtask_id="s1", attempt=1,
                                                     robot=sub["robot"], success=False, error="put failed: full",
                                                     failure=failure))
    state = {**state, **g.monitor(state, Runtime(context=deps))}
    assert state["subtasks"]["s1"]["status"] == "failed" and state["subtasks"]["s1"]["failure"]["code"] == "action_failed"
    assert _events(deps, state, "result")[0].data["failure"]["details"]["world_code"] == "no_room"
    update = g.reflect(state, Runtime(context=deps))
    assert update["status"] == "planning" and update["replans"] == 1
    (record,) = update["failures"]
    assert record["code"] == "action_failed" and record["failed_step"] == {"skill": "put", "args": {"receptacle": "Fridge|1"}}
    assert record["details"]["held"] == "Apple|1" and record["steps"] == sub["steps"]
    assert g.after_reflect({**state, **update}) == "perceive"


def test_reflect_succeeds_when_the_goals_hold(brain, online):
    deps = brain[0]
    state = _state(deps, "turn off the light", status="running", started_at=1e12, plan=LIGHT_OFF)
    state["subtasks"] = {"s1": {"id": "s1", "robot": "robot1", "description": "", "depends_on": [],
                                "status": "succeeded", "attempt": 1, "error": None}}
    from robocortex.memory.schemas import NodePatch, SceneDelta

    deps.scene.apply(SceneDelta(patches=[NodePatch(id="LightSwitch|1", set={"isToggled": False})]))
    assert g.reflect(state, Runtime(context=deps))["status"] == "succeeded"
    assert _events(deps, state, "goals_met")


def test_one_compiled_graph_serves_tasks_with_different_deps(brain, online):
    """Nothing is baked into the compiled graph: each run brings its own deps as context."""
    import dataclasses

    deps, _start, saver = brain
    graph = g.compile_graph(saver)
    stopped = dataclasses.replace(deps, planner=Raising(PlanningError("this brain plans nothing")))
    outcomes = []
    for run_deps in (stopped, deps):
        record = run_deps.tasks.create("levitate the apple")
        graph.invoke(g.initial_state(record.id, record.instruction),
                     {"configurable": {"thread_id": record.id}, "recursion_limit": 1000}, context=run_deps)
        outcomes.append(run_deps.tasks.get(record.id).reason)
    assert outcomes[0] == "planning failed: this brain plans nothing"
    assert outcomes[1].startswith("planning failed: ") and "levitate" in outcomes[1]


LIGHT_THEN_LOOK = {"goals": [{"object": "LightSwitch|1", "state": "isToggled", "value": False},
                             {"object": "Apple|1", "held": True}], "subtasks": [
    {"id": "s1", "robot": "robot2", "description": "light off",
     "steps": [{"skill": "toggle_off", "args": {"object": "LightSwitch|1"}}]},
    {"id": "s2", "robot": "robot1", "description": "then the apple", "depends_on": ["s1"],
     "steps": [{"skill": "navigate_to", "args": {"object": "Apple|1"}}, {"skill": "pick_up", "args": {"object": "Apple|1"}}]}]}


def _s1_done(deps, state):
    """The plan checked and s1 dispatched, taken and finished by robot2; the state as monitor receives it."""
    state = {**state, **g.check(state, Runtime(context=deps))}
    state = {**state, **g.dispatch(state, Runtime(context=deps))}
    delivery = deps.dispatcher.receive("robot2", "robot2", block_ms=1000)
    from robocortex.memory.schemas import NodePatch, SceneDelta

    deps.scene.apply(SceneDelta(patches=[NodePatch(id="LightSwitch|1", set={"isToggled": False})],
                                source="perception:robot2"))  # what robot2 saw itself do
    deps.dispatcher.complete(delivery, SubtaskResult(task_id=state["task_id"], subtask_id="s1", attempt=1,
                                                     robot="robot2", success=True))
    return state


def test_monitor_dispatches_what_a_success_made_ready_before_its_bookkeeping(brain, online):
    """The handoff: s2 leaves in the same node that reads s1's result — its send comes before the
    result's event and the task-record save — and only what the rest of the plan uses is looked at."""
    deps = brain[0]
    state = _state(deps, "turn off the light then pick up the apple", status="planning", plan=LIGHT_THEN_LOOK,
                   started_at=1e12)
    state = _s1_done(deps, state)
    assert isinstance(state["checked_rev"], int), "check records the revision the plan was found sound at"
    from robocortex.memory.schemas import NodePatch, SceneDelta

    # robot2's own change (its work, in _s1_done) and someone dirtying a mug s2 does not use: no dry run
    deps.scene.apply(SceneDelta(patches=[NodePatch(id="Mug|1", set={"isDirty": True})], source="someone"))
    order = []
    send, save = deps.dispatcher.send, deps.tasks.save
    deps.dispatcher.send = lambda m: (order.append(f"send {m.subtask_id}"), send(m))[1]
    deps.tasks.save = lambda rec: (order.append("save"), save(rec))[1]
    emit = deps.tasks.emit
    deps.tasks.emit = lambda e: (order.append(e.kind), emit(e))[1]
    try:
        update = g.monitor(state, Runtime(context=deps))
    finally:
        deps.dispatcher.send, deps.tasks.save, deps.tasks.emit = send, save, emit
    assert order[:4] == ["send s2", "result", "dispatch", "save"], order
    assert update["subtasks"]["s2"]["status"] == "dispatched" and update["subtasks"]["s2"]["attempt"] == 1
    assert update["checked_rev"] == deps.scene.revision()
    assert deps.dispatcher.receive("robot1", "robot1", block_ms=100).message.subtask_id == "s2"
    assert g.after_reflect({**state, **update, **g.reflect({**state, **update}, Runtime(context=deps))}) == "monitor"


def test_monitor_leaves_the_dispatch_to_a_dry_run_when_someone_else_touched_what_the_rest_uses(brain, online):
    deps = brain[0]
    state = _state(deps, "turn off the light then pick up the apple", status="planning", plan=LIGHT_THEN_LOOK,
                   started_at=1e12)
    state = _s1_done(deps, state)
    from robocortex.memory.schemas import NodePatch, SceneDelta

    deps.scene.apply(SceneDelta(patches=[NodePatch(id="Apple|1", set={"relations": [
        {"rel": "in", "target": "Microwave|1"}]})], source="someone"))
    update = g.monitor(state, Runtime(context=deps))
    assert update["subtasks"]["s1"]["status"] == "succeeded" and update["subtasks"]["s2"]["status"] == "waiting"
    assert not _events(deps, state, "dispatch")[1:], "only s1 was sent"
    state = {**state, **update}
    decided = g.reflect(state, Runtime(context=deps))  # nothing in flight: the rest is dry-run on the scene now
    assert decided.get("status") == "planning" and "Microwave|1" in _events(deps, state, "replan")[0].message


def test_an_old_checkpoint_without_checked_rev_dry_runs_before_the_next_dispatch(brain, online):
    deps = brain[0]
    state = _state(deps, "turn off the light then pick up the apple", status="planning", plan=LIGHT_THEN_LOOK,
                   started_at=1e12)
    state = _s1_done(deps, state)
    state.pop("checked_rev")
    update = g.monitor(state, Runtime(context=deps))
    assert update["subtasks"]["s2"]["status"] == "waiting"
    state = {**state, **update}
    decided = g.reflect(state, Runtime(context=deps))
    assert decided == {"checked_rev": deps.scene.revision()} and g.after_reflect({**state, **decided}) == "dispatch"


def test_a_plan_that_fails_without_an_offline_robot_waits_for_it_and_is_made_when_it_returns(brain, online, r):
    """A worker restarting after a crash (or robots that all looked dead through a Redis blip) is back
    in seconds: the brain waits (bounded) for it instead of failing the task at once."""
    import threading

    deps = brain[0]
    r.delete(deps.robots.keys.robot_alive("robot2"))  # robot2 is registered but offline
    real = deps.planner

    class NeedsRobot2:
        name = "needs-robot2"

        def plan(self, request):
            if "robot2" not in {p.name for p in request.robots}:
                raise PlanningError("nothing to do that can be done: no robot has skill slice")
            return real.plan(request)

    deps.planner = NeedsRobot2()
    state = _state(deps, status="planning")
    threading.Timer(0.6, lambda: deps.robots.heartbeat("robot2")).start()
    update = g.plan(state, Runtime(context=deps))
    assert update["plan"]["subtasks"] and update.get("status") != "failed"
    (waited,) = _events(deps, state, "thought")
    assert waited.data["offline"] == ["robot2"]


def test_a_plan_that_fails_with_every_robot_online_fails_at_once(brain, online):
    deps = brain[0]
    deps.planner = Raising(PlanningError("no fridge here"))
    state = _state(deps, status="planning")
    update = g.plan(state, Runtime(context=deps))
    assert update["status"] == "failed" and len(deps.planner.requests) == 1 and not _events(deps, state, "thought")
