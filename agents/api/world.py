"""Robots and the scene graph, as the team knows them (shared memory, never the simulator)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from robocortex.memory.scene_graph import FloorPlan, StaleRevision
from robocortex.client.models import Health, RobotsUpdate, Task
from robocortex.memory.schemas import RobotState, SceneChange, SceneNode, SceneSnapshot

from robocortex.agents.api.deps import MemoryDep
from robocortex.agents.api.errors import error_responses, stream_error_responses

router = APIRouter(tags=["world"])
MAX_REVISION = 2**63 - 2  # revisions are Redis stream ids: rev + 1 must fit in 64 bits


@router.get("/robots", response_model=list[RobotState])
def list_robots(memory: MemoryDep) -> list[RobotState]:
    return memory.robots.list()


@router.get("/scene", response_model=SceneSnapshot)
def get_scene(memory: MemoryDep) -> SceneSnapshot:
    return memory.scene.snapshot()


@router.get("/scene/nodes/{node_id:path}", response_model=SceneNode, responses=error_responses(404))
def get_node(node_id: str, memory: MemoryDep) -> SceneNode:
    node = memory.scene.node(node_id)
    if node is None:
        raise HTTPException(404, f"no node {node_id!r} in the scene graph; GET /scene lists them")
    return node


@router.get("/scene/changes", response_model=list[SceneChange], responses=error_responses(410))
def scene_changes(memory: MemoryDep, since: int = Query(ge=0, le=MAX_REVISION, description="revision to start after"),
                  limit: int = Query(default=1000, ge=1, le=100_000)) -> list[SceneChange]:
    try:
        return memory.scene.changes_since(since, limit=limit)
    except StaleRevision as exc:
        raise HTTPException(410, f"{exc}; read GET /scene for a fresh snapshot") from exc


@router.get("/health", response_model=Health)
def health(memory: MemoryDep) -> Health:
    memory.r.ping()
    return Health(ok=True, scene_rev=memory.scene.revision())


# ---------------------------------------------------------------------- live streams (server-sent events)

LIVE_TASKS = 50  # the live stream follows the newest tasks, as the console's list shows them
POLL_S = 0.5  # how often the live stream looks at task records and robots
ROBOTS_REFRESH_S = 5.0  # robots are re-sent at least this often, so heartbeat ages stay honest


def _rev_cursor(since: int | None, last_event_id: str | None) -> int | None:
    """The revision to resume after: `since`, else the Last-Event-ID a reconnecting EventSource sends."""
    if since is not None:
        return since
    if last_event_id is not None and last_event_id.isdigit():
        return int(last_event_id)
    return None


@router.get("/scene/events", response_class=EventSourceResponse, responses=stream_error_responses())
async def follow_scene(
    request: Request,
    memory: MemoryDep,
    since: Annotated[int | None, Query(ge=0, le=MAX_REVISION, description=(
        "resume after this revision: only the changes after it are sent. Default: the Last-Event-ID "
        "header a reconnecting EventSource sends, else a `snapshot` of the whole graph first"))] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False, pattern=r"^[0-9]{1,19}$")] = None,
) -> AsyncIterator[SceneSnapshot | SceneChange]:
    """Server-sent events of the scene graph: `snapshot` (the whole graph, when there is nothing to resume
    from or the revision asked for was trimmed from the log) and then one `change` per revision, live.
    Every event's id is its revision, so a reconnecting client resumes without a gap or a repeat."""
    cursor = _rev_cursor(since, last_event_id)
    while not await request.is_disconnected():
        changes: list[SceneChange] | None = None
        if cursor is not None:
            try:
                changes = await run_in_threadpool(memory.scene.changes_since, cursor, 500)
            except StaleRevision:
                changes = None
            if changes == [] and cursor > await run_in_threadpool(memory.scene.revision):
                changes = None  # a revision from before the graph was recreated: start again
        if changes is None:
            snapshot = await run_in_threadpool(memory.scene.snapshot)
            if await request.is_disconnected():  # never hand SSE an event once the client is gone (#15725)
                return
            cursor = snapshot.rev
            yield ServerSentEvent(data=snapshot.model_dump(mode="json"), event="snapshot", id=str(snapshot.rev))
            continue
        if changes and await request.is_disconnected():
            return
        for change in changes:
            cursor = change.rev
            yield ServerSentEvent(data=change.model_dump(mode="json"), event="change", id=str(change.rev))
        if not changes:
            await run_in_threadpool(memory.scene.wait_for_change, cursor, 1.0)


def _task_cursor(after: float | None, last_event_id: str | None) -> float:
    if after is not None:
        return after
    try:
        return float(last_event_id) if last_event_id else 0.0
    except ValueError:
        return 0.0


@router.get("/events", response_class=EventSourceResponse, responses=stream_error_responses())
async def follow_live(
    request: Request,
    memory: MemoryDep,
    after: Annotated[float | None, Query(ge=0, le=1e11, description=(
        "resume: send only tasks updated after this time (the id of the last `task` event). Default: the "
        "Last-Event-ID header a reconnecting EventSource sends, else every task of the list"))] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False, max_length=40)] = None,
) -> AsyncIterator[Task | RobotsUpdate]:
    """Server-sent events for a console: `task` (a task record, each time one of the newest 50 changes;
    its id is the record's updated_at, so a reconnect resumes after it) and `robots` (every robot, when
    one's status, work or profile changes, and at least every 5 s)."""
    cursor, robots_seen, robots_sent_at = _task_cursor(after, last_event_id), None, 0.0
    while not await request.is_disconnected():
        tasks = await run_in_threadpool(memory.tasks.list, None, LIVE_TASKS)
        robots = await run_in_threadpool(memory.robots.list)
        if await request.is_disconnected():  # never hand SSE an event once the client is gone (#15725)
            return
        for record in sorted((t for t in tasks if t.updated_at > cursor), key=lambda t: t.updated_at):
            cursor = record.updated_at
            yield ServerSentEvent(data=record.model_dump(mode="json"), event="task", id=repr(cursor))
        state = [r.model_dump(mode="json", exclude={"last_seen"}) for r in robots]
        if state != robots_seen or time.time() - robots_sent_at >= ROBOTS_REFRESH_S:
            robots_seen, robots_sent_at = state, time.time()
            update = RobotsUpdate(at=robots_sent_at, robots=robots)
            yield ServerSentEvent(data=update.model_dump(mode="json"), event="robots")
        await asyncio.sleep(POLL_S)


@router.get("/scene/floor", response_model=FloorPlan, responses=error_responses(404))
def get_floor_plan(memory: MemoryDep) -> FloorPlan:
    """The floor the robots can reach and the furniture's footprints, for maps (written when a scene loads)."""
    plan = memory.scene.floor_plan()
    if plan is None:
        raise HTTPException(404, "no floor plan stored: the world host writes one when it loads a scene")
    return plan
