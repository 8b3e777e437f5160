"""robocortex.client against a real team (world host, two robot workers and the brain as processes on
loopback, a real Redis): every method, sync and async, on a task that really runs; events arrive typed."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from robocortex.brain.plan import Plan
from robocortex.client import (
    AsyncClient,
    Client,
    DispatchEvent,
    EndEvent,
    PlanEvent,
    ResultEvent,
    RobotEvent,
    RobotsUpdate,
    ServiceError,
    StatusEvent,
    Task,
)
from robocortex.memory.scene_graph import FloorPlan
from robocortex.memory.schemas import SceneChange, SceneNode, SceneSnapshot, TaskEvent

pytestmark = pytest.mark.e2e
TASK = "put the apple in the fridge"


@pytest.fixture(scope="module")
def done(stack):
    """One task run to the end through the sync client, and every event it sent."""
    with Client(stack.api_url) as rc:
        accepted = rc.submit(TASK)
        events = list(rc.events(accepted.id))
    return accepted, events


def test_a_task_runs_and_its_events_arrive_typed(stack, done):
    accepted, events = done
    assert accepted.url == f"/tasks/{accepted.id}" and accepted.status.value == "pending"
    assert isinstance(events[-1], EndEvent) and events[-1].status.value == "succeeded", events[-1]
    # every kind the service sent is one the OpenAPI document types (none fell back to the plain record)
    assert not [e for e in events if type(e) is TaskEvent], {e.kind for e in events if type(e) is TaskEvent}
    kinds = {type(e) for e in events}
    assert {StatusEvent, PlanEvent, DispatchEvent, ResultEvent, RobotEvent} <= kinds, kinds
    plan = next(e for e in events if isinstance(e, PlanEvent)).data.plan
    assert isinstance(plan, Plan) and plan.subtasks and plan.subtasks[0].steps
    results = [e for e in events if isinstance(e, ResultEvent)]
    assert all(r.data.success for r in results) and results[0].robot in {"robot1", "robot2"}
    statuses = [e.data.status.value for e in events if isinstance(e, StatusEvent)]
    assert statuses[-1] == "succeeded"
    assert len(events) == len({(type(e), getattr(e, "at", None), getattr(e, "message", None)) for e in events})


def test_sync_client_reads_every_resource(stack, done):
    accepted, _ = done
    with Client(stack.api_url) as rc:
        assert rc.health().ok
        task = rc.task(accepted.id)
        assert isinstance(task, Task) and isinstance(task.plan, Plan) and task.status.value == "succeeded"
        assert accepted.id in [t.id for t in rc.tasks(status="succeeded", limit=10)]
        assert all(t.status.value == "failed" for t in rc.tasks(status="failed"))
        # what the stored events say once more, from the start: the same story
        replay = list(rc.events(accepted.id, after="0"))
        assert [e.kind for e in replay] == [e.kind for e in done[1]]
        # stop after three events, and go on later from the id of the last one: nothing lost or repeated
        with rc.events(accepted.id) as stream:
            head = [next(stream) for _ in range(3)]
            last = stream.last_id
        assert last and "-" in last
        rest = list(rc.events(accepted.id, after=last))
        assert [(e.kind, getattr(e, "at", None)) for e in head + rest] == \
            [(e.kind, getattr(e, "at", None)) for e in done[1]]
        robots = rc.robots()
        assert sorted(r.profile.name for r in robots) == ["robot1", "robot2"]
        scene = rc.scene()
        assert isinstance(scene, SceneSnapshot) and scene.rev > 0
        apple = next(n for n in scene.nodes.values() if n.objectType == "Apple")
        node = rc.node(apple.id)
        assert isinstance(node, SceneNode) and node.id == apple.id and "|" in node.id
        changes = rc.scene_changes(since=0, limit=5)
        assert changes and all(isinstance(c, SceneChange) for c in changes)
        floor = rc.floor()
        assert isinstance(floor, FloorPlan) and floor.reachable
        first = next(iter(rc.scene_events()))
        assert isinstance(first, SceneSnapshot) and first.rev >= scene.rev
        after = next(iter(rc.scene_events(since=scene.rev - 1)))
        assert isinstance(after, SceneChange) and after.rev == scene.rev
        live = list(itertools.islice(rc.live(), 2))
        assert {type(x) for x in live} <= {Task, RobotsUpdate} and any(isinstance(x, Task) for x in live)
        assert "http_requests_total" in rc.metrics()


def test_errors_come_back_as_service_errors_that_say_what_to_fix(stack, done):
    accepted, _ = done
    with Client(stack.api_url) as rc:
        with pytest.raises(ServiceError) as missing:
            rc.task("no-such-task")
        assert missing.value.status == 404 and "GET /tasks" in missing.value.detail
        with pytest.raises(ServiceError) as finished:
            rc.cancel(accepted.id)
        assert finished.value.status == 409 and "already succeeded" in finished.value.detail
        with pytest.raises(ServiceError) as empty:
            rc.submit("   ")
        assert empty.value.status == 422 and "instruction is empty" in empty.value.detail
        assert empty.value.errors and empty.value.errors[0]["loc"] == ["body", "instruction"]
        with pytest.raises(ServiceError) as stream_404:
            next(iter(rc.events("no-such-task")))  # a stream that cannot start is not retried
        assert stream_404.value.status == 404
        with pytest.raises(ServiceError) as bad_id:
            next(iter(rc.events(accepted.id, after="yesterday")))
        assert bad_id.value.status == 422 and "not an event id" in bad_id.value.detail
        with pytest.raises(ServiceError) as node:
            rc.node("Unicorn|1|2|3")
        assert node.value.status == 404


def test_async_client_runs_a_task_and_reads_every_resource(stack):
    async def main() -> None:
        async with AsyncClient(stack.api_url) as rc:
            assert (await rc.health()).ok
            accepted = await rc.submit("turn off the light")
            events = [e async for e in rc.events(accepted.id)]
            assert isinstance(events[-1], EndEvent) and events[-1].status.value == "succeeded", events[-1]
            assert any(isinstance(e, PlanEvent) for e in events)
            task = await rc.wait(accepted.id, timeout=30)
            assert task.status.value == "succeeded" and isinstance(task.plan, Plan)
            assert accepted.id in [t.id for t in await rc.tasks(limit=5)]
            with pytest.raises(ServiceError) as finished:
                await rc.cancel(accepted.id)
            assert finished.value.status == 409
            assert len(await rc.robots()) == 2
            scene = await rc.scene()
            some = next(iter(scene.nodes))
            assert (await rc.node(some)).id == some
            assert await rc.scene_changes(since=scene.rev - 1) != []
            assert (await rc.floor()).reachable
            stream = rc.scene_events()
            assert isinstance(await anext(stream), SceneSnapshot)
            await stream.aclose()
            live = rc.live()
            assert isinstance(await anext(live), (Task, RobotsUpdate))
            await live.aclose()
            assert "http_requests_total" in await rc.metrics()

    asyncio.run(main())


def test_a_task_cancelled_through_the_client_ends_cancelled(stack):
    with Client(stack.api_url) as rc:
        accepted = rc.submit("put the apple in the fridge and then put the apple on the counter top")
        cancelled = rc.cancel(accepted.id)
        assert cancelled.id == accepted.id
        end = list(rc.events(accepted.id))[-1]
        assert isinstance(end, EndEvent) and end.status.value in ("cancelled", "succeeded")
