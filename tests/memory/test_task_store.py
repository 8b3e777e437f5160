import threading

import pytest

from robocortex.memory.schemas import SubtaskState, TaskEvent, TaskStatus
from robocortex.memory.tasks import InvalidTransition, TaskNotFound, TaskStore

S = TaskStatus


@pytest.fixture
def tasks(r, keys):
    return TaskStore(r, keys)


def test_create_get_and_duplicate_ids(tasks):
    rec = tasks.create("put the apple in the fridge", task_id="t1", metrics={"k": 1})
    got = tasks.get("t1")
    assert got == rec and got.status == S.pending and got.metrics == {"k": 1}
    with pytest.raises(ValueError):
        tasks.create("again", task_id="t1")
    assert tasks.get("missing") is None


def test_create_with_enqueue_stores_and_queues_in_one_step(r, keys, tasks):
    rec = tasks.create("put the apple in the fridge", enqueue=True)
    assert tasks.take("brain-1", block_ms=10)[1] == rec.id
    assert [t.id for t in tasks.list()] == [rec.id]
    # a refused duplicate writes nothing: no second record, no second queue entry
    with pytest.raises(ValueError):
        tasks.create("again", task_id=rec.id, enqueue=True)
    assert r.xlen(keys.task_queue) == 1
    assert tasks.get(rec.id).instruction == "put the apple in the fridge"


def test_list_is_newest_first_and_filters_by_status(tasks):
    ids = [tasks.create(f"task {i}", task_id=f"t{i}").id for i in range(5)]
    tasks.transition("t1", S.planning)
    tasks.transition("t3", S.cancelled)
    assert [t.id for t in tasks.list()] == ids[::-1]
    assert [t.id for t in tasks.list(limit=2)] == ["t4", "t3"]
    assert [t.id for t in tasks.list(status=S.pending)] == ["t4", "t2", "t0"]
    assert [t.id for t in tasks.list(status=S.planning)] == ["t1"]
    assert tasks.list(status=S.succeeded) == []


STOP = [S.failed, S.cancelled, S.killed]
VALID = [
    *[(a, b) for a in (S.pending, S.planning, S.awaiting_approval, S.running, S.interrupted) for b in STOP],
    (S.pending, S.planning),
    (S.planning, S.planning), (S.planning, S.awaiting_approval), (S.planning, S.running), (S.planning, S.interrupted),
    (S.awaiting_approval, S.planning), (S.awaiting_approval, S.running),
    (S.running, S.planning), (S.running, S.succeeded), (S.running, S.interrupted),
    (S.interrupted, S.planning),
]
PATH_TO = {S.pending: [], S.planning: [S.planning], S.running: [S.planning, S.running],
           S.awaiting_approval: [S.planning, S.awaiting_approval], S.interrupted: [S.planning, S.running, S.interrupted]}


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table(tasks, start, target):
    tasks.create("x", task_id="t")
    if start in PATH_TO:
        for step in PATH_TO[start]:
            tasks.transition("t", step)
    else:
        for step in [S.planning, S.running, start]:
            tasks.transition("t", step)
    if (start, target) in VALID:
        assert tasks.transition("t", target, reason="because").status == target
        assert tasks.get("t").reason == "because"
    else:
        with pytest.raises(InvalidTransition):
            tasks.transition("t", target)
        assert tasks.get("t").status == start


def test_transition_of_unknown_task(tasks):
    with pytest.raises(TaskNotFound):
        tasks.transition("nope", S.planning)


def test_transitions_are_atomic_under_contention(tasks):
    """Many threads race to finish the same running task: exactly one terminal transition wins."""
    tasks.create("x", task_id="t")
    tasks.transition("t", S.planning)
    tasks.transition("t", S.running)
    wins, barrier = [], threading.Barrier(12)

    def finish(target):
        barrier.wait()
        try:
            tasks.transition("t", target)
            wins.append(target)
        except InvalidTransition:
            pass

    threads = [threading.Thread(target=finish, args=(t,)) for t in [S.succeeded, S.failed, S.cancelled] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and tasks.get("t").status == wins[0]
    statuses = [e.data["status"] for _, e in tasks.events("t") if e.kind == "status"]
    assert statuses == ["planning", "running", wins[0].value]


def test_save_bumps_updated_at_and_cannot_undo_a_transition_it_did_not_see(tasks):
    rec = tasks.create("x", task_id="t")
    tasks.transition("t", S.planning)
    mine = tasks.get("t")
    mine.subtasks = [SubtaskState(id="s1", robot="alpha", description="go")]
    before = mine.updated_at
    tasks.save(mine)
    assert mine.updated_at > before and tasks.get("t").subtasks[0].id == "s1"
    tasks.transition("t", S.cancelled, reason="user")  # someone else cancels
    stale = mine.model_copy(update={"status": S.running})
    tasks.save(stale)  # a finished record is final: the stale write changes nothing
    assert tasks.get("t").status == S.cancelled and rec.id == "t"
    other = tasks.create("y", task_id="t2")
    tasks.transition("t2", S.planning)
    with pytest.raises(InvalidTransition):  # an invalid change of an unfinished one is refused
        tasks.save(other.model_copy(update={"status": S.succeeded}))


def test_event_stream_per_task(tasks):
    tasks.create("a", task_id="a")
    tasks.create("b", task_id="b")
    first = tasks.emit(TaskEvent(kind="plan", task_id="a", message="plan ready", data={"n": 2}))
    tasks.emit(TaskEvent(kind="thought", task_id="a", robot="alpha", subtask_id="s1"))
    tasks.emit(TaskEvent(kind="plan", task_id="b"))
    events = tasks.events("a")
    assert [e.kind for _, e in events] == ["plan", "thought"] and events[0][1].data == {"n": 2}
    assert [e.kind for _, e in tasks.events("a", after=first)] == ["thought"]
    assert tasks.events("a", after=events[-1][0], block_ms=50) == []
    timer = threading.Timer(0.1, lambda: tasks.emit(TaskEvent(kind="result", task_id="a")))
    timer.start()
    assert [e.kind for _, e in tasks.events("a", after=events[-1][0], block_ms=5000)] == ["result"]
    timer.join()


def test_cancel_requests(tasks):
    tasks.create("x", task_id="t")
    tasks.transition("t", S.planning)
    assert not tasks.cancel_requested("t")
    assert tasks.request_cancel("t") and tasks.cancel_requested("t")
    assert tasks.get("t").status == S.planning, "a task being planned is signalled; its runner ends it"
    assert not tasks.request_cancel("unknown")
    tasks.transition("t", S.failed)
    tasks.create("y", task_id="u")
    tasks.transition("u", S.cancelled)
    assert not tasks.request_cancel("u")


def test_queue_delivers_each_task_once_across_replicas_and_survives_restart(r, keys, tasks):
    for i in range(4):
        tasks.enqueue(f"t{i}")
    other = TaskStore(r, keys)
    got = [tasks.take("brain-1", block_ms=10), other.take("brain-2", block_ms=10), tasks.take("brain-1", block_ms=10)]
    assert sorted(t for _, t in got) == ["t0", "t1", "t2"]
    tasks.done(got[0][0])
    # brain-1 restarts: a new store sees its unfinished entry again before any new one
    restarted = TaskStore(r, keys)
    assert restarted.take("brain-1", block_ms=10) == got[2]
    assert restarted.take("brain-1", block_ms=10)[1] == "t3"
    assert restarted.take("brain-1", block_ms=10) is None


def test_abandoned_queue_entries_can_be_claimed_unless_touched(r, keys, tasks):
    tasks.enqueue("t0")
    tasks.enqueue("t1")
    a = tasks.take("dead-brain", block_ms=10)
    b = tasks.take("live-brain", block_ms=10)
    import time
    time.sleep(0.15)
    tasks.touch("live-brain", b[0])
    claimed = TaskStore(r, keys).claim_abandoned("new-brain", min_idle_ms=100)
    assert claimed == [a]


def test_a_finished_tasks_streams_expire_after_the_retention(r, keys):
    from robocortex.memory.schemas import TaskEvent as Event

    store = TaskStore(r, keys, retention_s=60)
    t = store.create("go")
    store.emit(Event(kind="thought", task_id=t.id, message="hm"))
    r.xadd(keys.results(t.id), {"result": "{}"})
    store.transition(t.id, TaskStatus.planning)
    assert r.ttl(keys.task_events(t.id)) == -1  # running tasks keep everything
    store.transition(t.id, TaskStatus.failed, "no")
    assert 0 < r.ttl(keys.task_events(t.id)) <= 60 and 0 < r.ttl(keys.results(t.id)) <= 60
    assert store.get(t.id).status == TaskStatus.failed  # the record itself stays


def test_the_queue_group_is_made_again_when_redis_comes_back_empty(r, keys, tasks):
    r.delete(keys.task_queue)
    tasks.touch("brain-a", "1-0")  # housekeeping during the outage: no error
    assert tasks.claim_abandoned("brain-a", 0) == []
    t = tasks.create("again", enqueue=True)
    got = tasks.take("brain-a", block_ms=100) or tasks.take("brain-a", block_ms=100)
    assert got is not None and got[1] == t.id
