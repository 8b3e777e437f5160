"""The task lifecycle in the store: cancel in every state, kill, interrupt and resume, each a status
event that says who asked; idempotent submissions; the priority queue; retention."""

from __future__ import annotations

import time

import pytest

from robocortex.memory.schemas import SubtaskState, SubtaskStatus, TaskOptions, TaskStatus
from robocortex.memory.tasks import IdempotencyConflict, InvalidTransition, TaskNotFound, TaskStore

S = TaskStatus


@pytest.fixture
def tasks(r, keys):
    return TaskStore(r, keys, retention_s=3600)


def _at(tasks: TaskStore, status: TaskStatus, task_id: str = "t") -> None:
    tasks.create("put the apple in the fridge", task_id=task_id)
    path = {S.pending: [], S.planning: [S.planning], S.running: [S.planning, S.running],
            S.awaiting_approval: [S.planning, S.awaiting_approval],
            S.interrupted: [S.planning, S.running, S.interrupted]}[status]
    for step in path:
        tasks.transition(task_id, step)


def _status_events(tasks: TaskStore, task_id: str = "t"):
    return [e for _, e in tasks.events(task_id) if e.kind == "status"]


@pytest.mark.parametrize("status", [S.pending, S.awaiting_approval, S.interrupted])
def test_cancel_ends_a_task_no_runner_works_on_at_once_and_says_who(tasks, status):
    _at(tasks, status)
    rec = tasks.get("t")
    rec.subtasks = [SubtaskState(id="s1", robot="robot1", description="go", status=SubtaskStatus.waiting)]
    tasks.save(rec)
    got = tasks.cancel("t", actor="alice")
    assert got.status == S.cancelled and tasks.get("t").status == S.cancelled
    assert tasks.get("t").subtasks[0].status == SubtaskStatus.cancelled
    last = _status_events(tasks)[-1]
    assert (last.data, last.actor) == ({"status": "cancelled", "from": status.value}, "alice")
    assert tasks.cancel_requested("t"), "robots and a waiting runner see the signal too"


@pytest.mark.parametrize("status", [S.planning, S.running])
def test_cancel_of_a_task_at_work_is_a_signal_its_runner_carries_out_with_the_askers_name(tasks, status):
    _at(tasks, status)
    assert tasks.cancel("t", actor="bob").status == status
    control = tasks.control("t")
    assert (control.action, control.actor) == ("cancel", "bob")
    events = [e for _, e in tasks.events("t")]
    assert events[-1].kind == "control" and events[-1].actor == "bob" and events[-1].data["action"] == "cancel"
    tasks.transition("t", S.cancelled, "cancelled by request")  # the runner, without naming anyone
    assert _status_events(tasks)[-1].actor == "bob"


@pytest.mark.parametrize("status", [S.succeeded, S.failed, S.cancelled, S.killed])
def test_nothing_acts_on_a_finished_task(tasks, status):
    tasks.create("x", task_id="t")
    if status == S.succeeded:
        tasks.transition("t", S.planning)
        tasks.transition("t", S.running)
    tasks.transition("t", status)
    for act in (tasks.cancel, tasks.kill, tasks.interrupt, tasks.resume):
        with pytest.raises(InvalidTransition):
            act("t", "carol")
    assert tasks.get("t").status == status and tasks.control("t") is None
    assert tasks.request_cancel("t") is None


def test_unknown_tasks_are_reported(tasks):
    for act in (tasks.cancel, tasks.kill, tasks.interrupt, tasks.resume):
        with pytest.raises(TaskNotFound):
            act("nope", "x")


@pytest.mark.parametrize("status", [S.pending, S.planning, S.awaiting_approval, S.running, S.interrupted])
def test_kill_stops_now_in_every_unfinished_state(tasks, status):
    _at(tasks, status)
    rec = tasks.get("t")
    rec.subtasks = [SubtaskState(id="s1", robot="robot1", description="a", status=SubtaskStatus.dispatched),
                    SubtaskState(id="s2", robot="robot2", description="b", status=SubtaskStatus.succeeded)]
    tasks.save(rec)
    assert tasks.kill("t", actor="ops").status == S.killed
    got = tasks.get("t")
    assert got.status == S.killed and [s.status for s in got.subtasks] == [SubtaskStatus.cancelled,
                                                                            SubtaskStatus.succeeded]
    last = _status_events(tasks)[-1]
    assert (last.data["status"], last.data["from"], last.actor) == ("killed", status.value, "ops")
    assert tasks.control("t").action == "kill" and tasks.cancel_requested("t")
    stale = rec.model_copy(update={"reason": "a runner that has not seen the kill", "status": S.running})
    tasks.save(stale)  # a runner's save over a finished record changes nothing
    assert tasks.get("t").subtasks[0].status == SubtaskStatus.cancelled


def test_interrupt_then_resume(tasks):
    _at(tasks, S.running)
    tasks.interrupt("t", actor="dave")
    assert tasks.get("t").status == S.running, "the runner lets the robots finish their step first"
    assert tasks.cancel_requested("t") and tasks.control("t").action == "interrupt"
    with pytest.raises(InvalidTransition):
        tasks.resume("t", "dave")  # not interrupted yet
    tasks.transition("t", S.interrupted, "robots hold")
    assert _status_events(tasks)[-1].actor == "dave"
    queued = tasks.r.xlen(tasks.keys.task_queue)
    assert tasks.resume("t", actor="erin").status == S.planning
    assert tasks.control("t") is None and not tasks.cancel_requested("t"), "robots may work on it again"
    assert tasks.r.xlen(tasks.keys.task_queue) == queued + 1, "queued again, for a brain to replan it"
    last = _status_events(tasks)[-1]
    assert (last.data, last.actor) == ({"status": "planning", "from": "interrupted"}, "erin")


@pytest.mark.parametrize("status", [S.pending, S.awaiting_approval, S.interrupted])
def test_interrupt_acts_only_on_planning_or_running_tasks(tasks, status):
    _at(tasks, status)
    with pytest.raises(InvalidTransition) as err:
        tasks.interrupt("t", "x")
    assert err.value.current == status and err.value.wanted == S.interrupted
    assert tasks.control("t") is None


def test_a_preempting_task_is_recorded(tasks):
    _at(tasks, S.running, "low")
    tasks.interrupt("low", actor="task:high", preempted_by="high")
    assert tasks.get("low").preempted_by == "high" and tasks.control("low").preempted_by == "high"
    tasks.transition("low", S.interrupted)
    tasks.resume("low", "brain")
    assert tasks.get("low").preempted_by is None


def test_the_same_idempotency_key_returns_the_same_task(tasks):
    opts = TaskOptions(idempotency_key="k1", priority=2)
    first, created = tasks.submit("go", options=opts, fingerprint="f1", enqueue=True)
    again, created_again = tasks.submit("go", options=opts, fingerprint="f1", enqueue=True)
    assert created and not created_again and again.id == first.id
    assert tasks.r.xlen(tasks.keys.task_queue) == 1 and len(tasks.list()) == 1
    with pytest.raises(IdempotencyConflict) as err:
        tasks.submit("something else", options=opts, fingerprint="f2")
    assert err.value.task_id == first.id


def test_the_queue_hands_out_the_highest_priority_first(r, keys, tasks):
    for name, prio in (("low", 0), ("mid", 3), ("high", 7), ("mid2", 3)):
        tasks.create(name, task_id=name, options=TaskOptions(priority=prio), enqueue=True)
    other = TaskStore(r, keys)
    order = [tasks.take("b1", block_ms=10)[1], other.take("b2", block_ms=10)[1], tasks.take("b1", block_ms=10)[1],
             other.take("b2", block_ms=10)[1]]
    assert order == ["high", "mid", "mid2", "low"]
    assert tasks.take("b1", block_ms=10) is None


def test_trim_removes_old_and_surplus_finished_tasks_only(tasks, r, keys):
    for i in range(5):
        tasks.create(f"t{i}", task_id=f"t{i}", options=TaskOptions(idempotency_key=f"k{i}") if i == 0 else TaskOptions())
        time.sleep(0.002)
    for i in (0, 1, 2, 3):
        tasks.transition(f"t{i}", S.failed, "x")
    r.xadd(keys.results("t0"), {"result": "{}"})
    old = tasks.get("t0")
    old.updated_at -= 10_000
    r.hset(keys.tasks, "t0", old.model_dump_json())
    assert tasks.trim(max_age_s=5_000) == ["t0"]
    assert tasks.get("t0") is None and not r.exists(keys.task_events("t0"), keys.results("t0"),
                                                    keys.task_idempotency("k0"))
    assert sorted(tasks.trim(max_finished=1)) == ["t1", "t2"], "the newest finished one stays"
    assert {t.id for t in tasks.list()} == {"t3", "t4"}, "an unfinished task is never trimmed"
