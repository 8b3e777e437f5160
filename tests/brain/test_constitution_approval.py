"""The constitution in the graph and the `approve` node (a LangGraph interrupt), on a real Redis with the
offline planner and scripted robots (conftest); and the TaskRunner parking a waiting task and resuming it
with the operator's decision — also from a fresh runner, as after a brain restart."""

from __future__ import annotations

import time

from langgraph.types import Command

from robocortex.brain.constitution import parse
from robocortex.brain.graph import compile_graph, initial_state
from robocortex.brain.runner import RunnerConfig, TaskRunner
from robocortex.memory.approvals import ApprovalStore
from robocortex.memory.schemas import ApprovalDecision, TaskStatus
from robocortex.memory.reservations import Reservations
from robocortex.memory.stores import Memory
from robocortex.memory.tasks import TaskStore

TEXT = "put the apple in the fridge"
ASK_FRIDGE = {"name": "ask-before-opening-the-fridge", "kind": "ask_human", "skills": ["open"],
              "objects": {"types": ["Fridge"]}}


def config(task_id):
    return {"configurable": {"thread_id": task_id}, "recursion_limit": 10_000}


def start(deps, saver, text=TEXT, **fields):
    record = deps.tasks.create(text, **fields)
    graph = compile_graph(saver)
    graph.invoke(initial_state(record.id, text), config(record.id), context=deps)
    return graph, record.id


def kinds(deps, task_id):
    return [e.kind for _, e in deps.tasks.events(task_id, count=1000)]


def test_a_rejecting_rule_fails_the_task_before_anything_is_dispatched(brain):
    deps, start_robots, saver = brain
    deps.config.constitution = parse({"rules": [
        {"name": "hands-off-the-apple", "kind": "forbidden_objects", "objects": {"types": ["Apple"]}}]})
    r1, r2 = start_robots()
    _, task_id = start(deps, saver)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.failed
    assert record.reason.startswith("rejected by the constitution: rule 'hands-off-the-apple'")
    assert {v.rule for v in record.violations} == {"hands-off-the-apple"}
    assert "dispatch" not in kinds(deps, task_id) and not r1.received and not r2.received
    assert "constitution" in kinds(deps, task_id)


def test_an_escalating_rule_waits_then_approval_runs_the_plan(brain):
    deps, start_robots, saver = brain
    deps.config.constitution = parse({"rules": [ASK_FRIDGE]})
    r1, r2 = start_robots()
    graph, task_id = start(deps, saver)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.awaiting_approval
    pending = record.pending_approval
    assert pending.round == 1 and pending.reasons == ["rule:ask-before-opening-the-fridge"]
    assert [v.rule for v in pending.violations] == ["ask-before-opening-the-fridge"]
    snapshot = graph.get_state(config(task_id))
    assert snapshot.next == ("approve",) and snapshot.interrupts[0].value["round"] == 1
    assert not r1.received and not r2.received and "dispatch" not in kinds(deps, task_id)

    # resuming without a decision (a restarted brain) asks again without a second request event
    graph.invoke(None, config(task_id), context=deps)
    assert kinds(deps, task_id).count("approval_requested") == 1
    assert deps.tasks.get(task_id).status == TaskStatus.awaiting_approval

    decision = ApprovalDecision(round=1, decision="approve", by="alice", reason="fine")
    graph.invoke(Command(resume=decision.model_dump(mode="json")), config(task_id), context=deps)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.pending_approval is None
    assert [(a.round, a.decision, a.by, a.violations) for a in record.approvals] == [
        (1, "approve", "alice", ["ask-before-opening-the-fridge"])]
    k = kinds(deps, task_id)
    assert k.index("approval_requested") < k.index("approval") < k.index("dispatch")


def test_per_task_approval_and_reject(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots()
    graph, task_id = start(deps, saver, require_approval=True)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.awaiting_approval and record.pending_approval.reasons == ["task"]
    decision = ApprovalDecision(round=1, decision="reject", by="bob", reason="not today")
    graph.invoke(Command(resume=decision.model_dump(mode="json")), config(task_id), context=deps)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.failed and record.reason == "rejected by bob: not today"
    assert [a.decision for a in record.approvals] == ["reject"]
    assert not r1.received and not r2.received


def test_a_task_without_reasons_is_not_held(brain):
    deps, start_robots, saver = brain
    start_robots()
    _, task_id = start(deps, saver)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.succeeded and record.approvals == [] and record.pending_approval is None
    assert "approval_requested" not in kinds(deps, task_id)


def test_deployment_approval_and_an_edit_reassigning_a_robot(brain):
    deps, start_robots, saver = brain
    deps.config.approve_all = True
    r1, r2 = start_robots()
    graph, task_id = start(deps, saver)
    pending = deps.tasks.get(task_id).pending_approval
    assert pending.reasons == ["deployment"]
    plan = pending.plan
    robots = {s["robot"] for s in plan["subtasks"]}
    other = "robot2" if robots == {"robot1"} else "robot1"
    for s in plan["subtasks"]:
        s["robot"] = other
    decision = ApprovalDecision(round=1, decision="edit", by="carol", reason="one robot", plan=plan)
    graph.invoke(Command(resume=decision.model_dump(mode="json")), config(task_id), context=deps)
    record = deps.tasks.get(task_id)
    assert record.status == TaskStatus.succeeded, record.reason
    assert {s.robot for s in record.subtasks} == {other}
    worker = r1 if other == "robot1" else r2
    idle = r2 if other == "robot1" else r1
    assert worker.received and not idle.received
    assert record.approvals[0].decision == "edit" and record.approvals[0].edited_plan == plan


def test_cancel_while_waiting(brain):
    deps, start_robots, saver = brain
    start_robots()
    graph, task_id = start(deps, saver, require_approval=True)
    deps.tasks.request_cancel(task_id)
    decision = ApprovalDecision(round=1, decision="cancel", by="cancel request")
    graph.invoke(Command(resume=decision.model_dump(mode="json")), config(task_id), context=deps)
    assert deps.tasks.get(task_id).status == TaskStatus.cancelled


def _until(check, timeout_s=30.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_runner_parks_a_waiting_task_and_a_new_runner_resumes_it(r, keys, brain):
    """The runner keeps the waiting task's queue entry; a runner started afresh (a restarted brain, same
    id) finds it, waits for the decision, and resumes the graph with it."""
    deps, start_robots, saver = brain
    deps.config.constitution = parse({"rules": [ASK_FRIDGE]})
    start_robots()

    def fresh_memory():  # what a (re)started brain process opens
        return Memory(r=r, keys=keys, scene=deps.scene, tasks=TaskStore(r, keys), robots=deps.robots,
                      dispatcher=deps.dispatcher, reservations=Reservations(r, keys))

    memory = fresh_memory()
    cfg = RunnerConfig(brain_id="brain-approval", workers=1, brain=deps.config)
    runner = TaskRunner(memory, cfg, deps.planner)
    runner.start()
    try:
        record = memory.tasks.create(TEXT, enqueue=True)
        _until(lambda: memory.tasks.get(record.id).status == TaskStatus.awaiting_approval)
        _until(lambda: runner._parked)
    finally:
        runner.stop()
    memory = fresh_memory()
    second = TaskRunner(memory, cfg, deps.planner)
    second.start()
    try:
        _until(lambda: second._parked)  # its own pending entry, still waiting
        assert memory.tasks.get(record.id).status == TaskStatus.awaiting_approval
        ApprovalStore(r, keys).decide(record.id, ApprovalDecision(round=1, decision="approve", by="dave"))
        final = _until(lambda: (rec := memory.tasks.get(record.id)).status.terminal and rec)
        assert final.status == TaskStatus.succeeded, final.reason
        assert [a.by for a in final.approvals] == ["dave"]
        _until(lambda: not memory.r.xlen(keys.task_queue))  # acked and dropped once finished
    finally:
        second.stop()


def test_the_first_decision_on_a_round_wins_and_a_stale_one_gives_way(r, keys):
    store = ApprovalStore(r, keys)
    assert store.get("t1") is None
    assert store.decide("t1", ApprovalDecision(round=1, decision="approve", by="alice"))
    assert not store.decide("t1", ApprovalDecision(round=1, decision="reject", by="bob", reason="late"))
    assert store.get("t1").by == "alice"
    assert store.decide("t1", ApprovalDecision(round=2, decision="reject", by="bob", reason="round two"))
    store.clear("t1", 1)  # not the round stored: kept
    assert store.get("t1").round == 2
    store.clear("t1")
    assert store.get("t1") is None
