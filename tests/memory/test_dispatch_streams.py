import time

import pytest
import redis

from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.keys import ROBOT_GROUP
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.schemas import RobotProfile, SubtaskMessage, SubtaskResult


def message(subtask="s1", robot="alpha", attempt=1, task="t1"):
    return SubtaskMessage(task_id=task, subtask_id=subtask, attempt=attempt, robot=robot, description="do it")


def result_for(m: SubtaskMessage, success=True):
    return SubtaskResult(task_id=m.task_id, subtask_id=m.subtask_id, attempt=m.attempt, robot=m.robot, success=success)


@pytest.fixture
def dispatcher(r, keys):
    return Dispatcher(r, keys, lease_ms=150, max_deliveries=3)


@pytest.fixture
def registry(r, keys):
    reg = RobotRegistry(r, keys, heartbeat_ttl_s=30)
    reg.register(RobotProfile(name="alpha", agent_id=0, skills=["pick_up"]))
    return reg


def test_round_trip_send_receive_complete(dispatcher):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    assert d.message == m and d.deliveries == 1
    assert dispatcher.pending("alpha") == 1
    dispatcher.complete(d, result_for(m))
    assert dispatcher.pending("alpha") == 0
    [(_, res)] = dispatcher.results("t1")
    assert res.success and res.key == m.key
    assert dispatcher.result_for(m) == res
    assert dispatcher.receive("alpha", "w1", block_ms=10) is None


def test_inboxes_are_per_robot(dispatcher):
    dispatcher.send(message("s1", robot="alpha"))
    dispatcher.send(message("s2", robot="beta"))
    assert dispatcher.receive("beta", "w", block_ms=10).message.subtask_id == "s2"
    assert dispatcher.receive("alpha", "w", block_ms=10).message.subtask_id == "s1"
    assert dispatcher.receive("beta", "w", block_ms=10) is None


def test_a_message_sent_before_any_worker_started_is_delivered(r, keys):
    Dispatcher(r, keys).send(message())
    assert Dispatcher(r, keys).receive("alpha", "w1", block_ms=10) is not None


def test_nothing_is_acked_unless_the_result_is_stored(r, keys, dispatcher):
    """If publishing the result fails, the entry is not acked (the stored result lets the retry
    skip the work) — unlike MULTI/EXEC, which would ack despite the failed command."""
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    r.set(keys.results("t1"), "not a stream")  # make the XADD inside the transaction fail
    with pytest.raises(redis.ResponseError):
        dispatcher.complete(d, result_for(m))
    assert dispatcher.pending("alpha") == 1
    r.delete(keys.results("t1"))
    again = Dispatcher(r, keys).receive("alpha", "w1", block_ms=100)  # the worker restarts
    assert again.entry_id == d.entry_id
    dispatcher.complete(again, dispatcher.result_for(again.message))
    assert dispatcher.pending("alpha") == 0 and [res.key for _, res in dispatcher.results("t1")] == [m.key]


def test_a_restarted_worker_gets_its_unacked_subtask_first(r, keys, dispatcher):
    first, second = message("s1"), message("s2")
    dispatcher.send(first)
    dispatcher.send(second)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    assert d.message == first  # ...and the worker crashes before completing it
    restarted = Dispatcher(r, keys, lease_ms=150)
    again = restarted.receive("alpha", "w1", block_ms=100)
    assert again.entry_id == d.entry_id and again.deliveries == 2
    assert restarted.receive("alpha", "w1", block_ms=100).message == second
    # a live worker asking again does not get its in-progress subtask a second time
    assert restarted.receive("alpha", "w1", block_ms=10) is None


def test_the_idempotency_key_recognises_a_redelivered_subtask(r, keys, dispatcher):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    dispatcher.complete(d, result_for(m))
    dispatcher.send(m)  # the brain (e.g. resumed from a checkpoint) sends the same attempt again
    d2 = Dispatcher(r, keys).receive("alpha", "w2", block_ms=100)
    stored = dispatcher.result_for(d2.message)
    assert stored is not None and stored.success  # the worker re-acks without redoing the work
    dispatcher.complete(d2, stored)
    assert dispatcher.pending("alpha") == 0
    assert dispatcher.result_for(message(attempt=2)) is None  # a new attempt is new work


def test_extending_the_lease_keeps_a_working_robots_entry(dispatcher, registry):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    registry.deregister("alpha")  # even an offline robot is left alone while it extends its lease
    for _ in range(4):
        time.sleep(0.08)
        assert dispatcher.extend_lease("alpha", "w1", d.entry_id)
        assert dispatcher.reap(["alpha"]) == []
    assert dispatcher.pending("alpha") == 1
    assert not dispatcher.extend_lease("alpha", "someone-else", d.entry_id)


def test_reaper_reclaims_the_idle_entry_of_a_dead_robot(dispatcher, registry):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    assert dispatcher.reap(["alpha"]) == []  # not idle long enough yet
    time.sleep(0.2)
    assert dispatcher.reap(["alpha"]) == []  # idle, but the robot is alive: it may still retry
    registry.deregister("alpha")
    assert dispatcher.reap(["alpha"]) == [m]
    assert dispatcher.pending("alpha") == 0
    [(_, res)] = dispatcher.results("t1")
    assert not res.success and res.failure_kind == "robot_lost" and "offline" in res.error
    assert dispatcher.result_for(m) == res
    [(_, dead, why)] = dispatcher.dead_letters()
    assert dead == m and "offline" in why
    assert not dispatcher.extend_lease("alpha", "w1", d.entry_id)  # the worker learns it lost it


def test_past_the_delivery_limit_a_subtask_fails_over_at_once_with_its_true_count(r, keys, registry):
    m = message()
    Dispatcher(r, keys).send(m)
    seen = []
    for _ in range(5):  # a poison subtask: every worker incarnation crashes on it
        d = Dispatcher(r, keys, lease_ms=60_000, max_deliveries=3).receive("alpha", "w1", block_ms=20)
        if d is not None:
            seen.append(d.deliveries)
    assert seen == [1, 2, 3]  # never started more than the limit
    dispatcher = Dispatcher(r, keys, lease_ms=60_000, max_deliveries=3)
    # the 4th worker found it at the limit and failed it over then, not a 60 s lease later
    [(_, res)] = dispatcher.results("t1")
    assert res.failure_kind == "robot_lost" and res.error == "started 3 times (limit 3) without a result"
    assert res.failure.details["starts"] == 3
    [(_, dead, why)] = dispatcher.dead_letters()
    assert dead == m and "started 3 times" in why
    assert dispatcher.pending("alpha") == 0 and dispatcher.reap(["alpha"]) == []
    assert dispatcher.starts(m) == 3


def test_re_reads_and_claims_do_not_count_as_starts(r, keys, registry):
    m = message()
    dispatcher = Dispatcher(r, keys, lease_ms=100, max_deliveries=3)
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=20)
    for _ in range(4):  # the reaper probing an idle entry of a live robot, several times
        time.sleep(0.12)
        assert dispatcher.reap(["alpha"]) == []
        r.xclaim(keys.inbox("alpha"), ROBOT_GROUP, "w1", 0, [d.entry_id])  # a re-read bumps times_delivered
    assert dispatcher.starts(m) == 1
    again = Dispatcher(r, keys, lease_ms=100, max_deliveries=3).receive("alpha", "w1", block_ms=20)
    assert again.entry_id == d.entry_id and again.deliveries == 2


def test_a_dead_robots_entry_at_the_lease_says_how_often_it_was_started(dispatcher, registry):
    m = message()
    dispatcher.send(m)
    dispatcher.receive("alpha", "w1", block_ms=100)
    registry.deregister("alpha")
    time.sleep(0.2)
    assert dispatcher.reap(["alpha"]) == [m]
    [(_, res)] = dispatcher.results("t1")
    assert res.error == "robot alpha went offline holding it (started 1 times)"


def test_step_progress_only_moves_forward(dispatcher):
    m = message()
    assert dispatcher.steps_done(m) == 0
    dispatcher.step_done(m, 2)
    dispatcher.step_done(m, 1)  # a late write from a worker that lost its lease
    assert dispatcher.steps_done(m) == 2
    assert dispatcher.steps_done(message(attempt=2)) == 0  # a new attempt starts from its first step


def test_a_group_lost_with_redis_is_made_again(r, keys, dispatcher):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    r.delete(keys.inbox("alpha"))  # Redis came back empty
    assert not dispatcher.extend_lease("alpha", "w1", d.entry_id)
    m2 = message("s2")
    dispatcher.send(m2)  # the brain's cache says the group exists: XADD makes a bare stream
    got = None
    for _ in range(3):
        got = got or dispatcher.receive("alpha", "w1", block_ms=50)
    assert got is not None and got.message == m2 and got.deliveries == 1


def test_a_replacement_worker_claims_what_a_dead_worker_left_idle(r, keys, dispatcher, registry):
    m = message()
    dispatcher.send(m)
    dispatcher.receive("alpha", "old-worker", block_ms=100)
    assert Dispatcher(r, keys, lease_ms=150).receive("alpha", "new-worker", block_ms=10) is None
    time.sleep(0.2)
    d = Dispatcher(r, keys, lease_ms=150).receive("alpha", "new-worker", block_ms=10)
    assert d.message == m and d.deliveries == 2 and d.consumer == "new-worker"
    info = r.xpending_range(keys.inbox("alpha"), ROBOT_GROUP, "-", "+", 10)
    assert [p["consumer"] for p in info] == ["new-worker"]


def test_complete_rejects_a_result_for_another_message(dispatcher):
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    with pytest.raises(ValueError):
        dispatcher.complete(d, result_for(message(attempt=2)))


@pytest.mark.parametrize("protocol", [2, 3])
def test_works_with_resp2_and_resp3_clients(redis_url, r, keys, protocol):
    from robocortex.memory.connection import connect
    from robocortex.memory.schemas import TaskEvent
    from robocortex.memory.tasks import TaskStore

    client = connect(redis_url, protocol=protocol)
    dispatcher, tasks = Dispatcher(client, keys), TaskStore(client, keys)
    m = message()
    dispatcher.send(m)
    d = dispatcher.receive("alpha", "w1", block_ms=100)
    dispatcher.complete(d, result_for(m))
    assert [res.key for _, res in dispatcher.results("t1")] == [m.key]
    restarted = Dispatcher(client, keys)
    dispatcher.send(message("s2"))
    restarted.receive("alpha", "w2", block_ms=100)
    assert Dispatcher(client, keys).receive("alpha", "w2", block_ms=10).message.subtask_id == "s2"
    tasks.emit(TaskEvent(kind="plan", task_id="t1"))
    assert [e.kind for _, e in tasks.events("t1")] == ["plan"]
    tasks.enqueue("t1")
    assert tasks.take("b1", block_ms=10)[1] == "t1"
    assert TaskStore(client, keys).take("b1", block_ms=10)[1] == "t1"


def test_reaper_fails_messages_an_offline_robot_never_picked_up(r, keys, dispatcher, registry):
    registry.deregister("alpha")
    old, fresh = message("s-old"), message("s-fresh")
    dispatcher.send(old)
    assert dispatcher.reap(["alpha"]) == []  # sent less than a lease ago: the robot may come back
    time.sleep(0.2)
    dispatcher.send(fresh)
    assert dispatcher.reap(["alpha"]) == [old]
    [(_, res)] = dispatcher.results("t1")
    assert res.subtask_id == "s-old" and res.failure_kind == "robot_lost" and "never picked it up" in res.error
    registry.heartbeat("alpha")  # back online: the fresh message is still there for it
    d = Dispatcher(r, keys).receive("alpha", "w1", block_ms=10)
    assert d.message == fresh
    assert dispatcher.reap(["alpha", "never-seen-robot"]) == []


def test_threads_share_one_dispatcher_and_a_blocked_reader_holds_up_no_one(r, keys):
    """The hot-path connection is shared by threads; a thread waiting on an empty inbox waits on
    the pool, so the others' round trips go on; every result is stored and every entry acked."""
    import threading

    d = Dispatcher(r, keys, lease_ms=60_000)
    waiting: list = []
    waiter = threading.Thread(target=lambda: waiting.append(d.receive("idle", "w", block_ms=60_000)))
    waiter.start()
    errors: list[BaseException] = []

    def worker(robot: str) -> None:
        try:
            for i in range(150):
                m = message(subtask=f"s{i}", robot=robot, task=f"t-{robot}")
                d.send(m)
                got = d.receive(robot, "w", block_ms=1000)
                assert got is not None and got.message == m
                d.complete(got, result_for(m))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"robot{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    for k in range(4):
        assert len(d.results(f"t-robot{k}", count=1000)) == 150
        assert d.pending(f"robot{k}") == 0
    d.send(message(robot="idle", task="t-idle"))  # wakes the waiter
    waiter.join()
    assert waiting[0] is not None and waiting[0].message.task_id == "t-idle"
    d.close()


def _receive_in_thread(d: Dispatcher, robot: str, consumer: str, block_ms: int) -> tuple:
    import threading

    out: dict = {}

    def run() -> None:
        out["delivery"] = d.receive(robot, consumer, block_ms=block_ms)
        out["at"] = time.monotonic()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.2)  # it is waiting now
    return t, out


def test_a_waiting_worker_takes_what_is_sent_at_once_and_counts_one_start(r, keys):
    d = Dispatcher(r, keys, max_deliveries=3)
    d.receive("alpha", "w1", block_ms=10)  # empty: it waited once and learnt where the stream ends
    t, out = _receive_in_thread(d, "alpha", "w1", block_ms=10_000)
    m = message()
    sent = time.monotonic()
    Dispatcher(r, keys).send(m)
    t.join(5)
    assert out["delivery"] is not None and out["delivery"].message == m
    assert out["at"] - sent < 1.0  # woken by the entry, not by the 10 s timeout
    assert out["delivery"].deliveries == 1 and d.starts(m) == 1
    assert d.pending("alpha") == 1


def test_wake_ends_a_waiting_receive_at_once(r, keys):
    d = Dispatcher(r, keys)
    t, out = _receive_in_thread(d, "alpha", "w1", block_ms=10_000)
    woken = time.monotonic()
    d.wake("w1")
    t.join(5)
    assert out["delivery"] is None and out["at"] - woken < 1.0
    d.close()


def test_a_waiting_receive_works_after_redis_forgot_the_scripts(r, keys):
    d = Dispatcher(r, keys)
    assert d.receive("alpha", "w1", block_ms=10) is None
    r.script_flush()
    d.send(message("s1"))
    got = d.receive("alpha", "w1", block_ms=1000)
    assert got is not None and got.message.subtask_id == "s1" and got.deliveries == 1
    d.complete(got, result_for(got.message))
    r.script_flush()
    t, out = _receive_in_thread(d, "alpha", "w1", block_ms=10_000)
    d.send(message("s2"))
    t.join(5)
    assert out["delivery"] is not None and out["delivery"].message.subtask_id == "s2"
    assert out["delivery"].deliveries == 1


def test_a_message_the_take_script_cannot_read_is_counted_by_the_client(r, keys):
    """A message without its attempt number (the schema's default, 1, applies) is taken uncounted by
    the script and counted once by the client, under the key the client computes."""
    d = Dispatcher(r, keys, max_deliveries=3)
    d.receive("alpha", "w1", block_ms=10)
    m = message("s1")
    doc = m.model_dump_json()
    assert '"attempt":1,' in doc
    r.xadd(keys.inbox("alpha"), {"msg": doc.replace('"attempt":1,', '')})
    got = d.receive("alpha", "w1", block_ms=1000)
    assert got is not None and got.message == m and got.deliveries == 1 and d.starts(m) == 1


def test_after_the_group_is_made_again_a_waiting_receive_finds_older_entries_at_once(r, keys):
    d = Dispatcher(r, keys)
    m = message()
    d.send(m)
    assert d.receive("alpha", "w1", block_ms=1000).message == m  # it now waits after m's id
    r.xgroup_destroy(keys.inbox("alpha"), ROBOT_GROUP)  # a failover kept the stream, not the group
    # its wait ends with no new entry (after block_ms), then NOGROUP: the group is made again
    assert d.receive("alpha", "w1", block_ms=100) is None
    started = time.monotonic()
    again = d.receive("alpha", "w1", block_ms=5000)
    assert again is not None and again.message == m and time.monotonic() - started < 1.0
