"""Tasks: submit, list, inspect, cancel, and follow live (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from robocortex.client.models import Task, TaskAccepted, TaskEventItem
from robocortex.memory.schemas import TaskRecord, TaskStatus

from robocortex.agents.api.deps import MemoryDep
from robocortex.agents.api.errors import error_responses, stream_error_responses

router = APIRouter(prefix="/tasks", tags=["tasks"])
MAX_INSTRUCTION = 2000
# A Redis stream entry id, "<ms>-<seq>"; 19 digits keep each part inside Redis's 64-bit range.
EVENT_ID = r"^(0|[0-9]{1,19}-[0-9]{1,19})$"


# Unicode's White_Space characters, spelled out: `\s` differs between the service's regex engine and
# ECMAScript's (U+0085), which OpenAPI clients use, so the schema and the check must name the same set.
BLANK = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class TaskSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: str = Field(description="what the robots should do, in plain language",
                             examples=["put the apple in the fridge and turn off the light"],
                             min_length=1, max_length=MAX_INSTRUCTION, pattern=NOT_BLANK)
    require_approval: bool = Field(default=False, strict=True, description="an operator approves the plan (POST "
                                   "/tasks/{id}/approve) before anything is dispatched")

    @field_validator("instruction")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip(BLANK)


def as_task(record: TaskRecord) -> Task:
    """The API's view of a stored record: the same fields, the plan typed."""
    return Task.model_validate(record.model_dump())


def _get_or_404(memory: MemoryDep, task_id: str) -> TaskRecord:
    record = memory.tasks.get(task_id)
    if record is None:
        raise HTTPException(404, f"no task with id {task_id!r}; GET /tasks lists the known ones")
    return record


def existing_task(task_id: str, memory: MemoryDep) -> TaskRecord:
    """Resolved before a response starts, so a streaming route can still answer 404."""
    return _get_or_404(memory, task_id)


ExistingTask = Annotated[TaskRecord, Depends(existing_task)]


@router.post("", status_code=202, response_model=TaskAccepted, responses=error_responses(400))
def submit_task(body: TaskSubmission, memory: MemoryDep) -> TaskAccepted:
    record = memory.tasks.create(body.instruction, enqueue=True,  # stored and queued in one step
                                 require_approval=body.require_approval)
    return TaskAccepted(id=record.id, status=record.status, url=f"/tasks/{record.id}",
                        events_url=f"/tasks/{record.id}/events")


@router.get("", response_model=list[Task], responses=error_responses())
def list_tasks(memory: MemoryDep, status: TaskStatus | None = None,
               limit: int = Query(default=50, ge=1, le=1000)) -> list[Task]:
    return [as_task(r) for r in memory.tasks.list(status=status, limit=limit)]


@router.get("/{task_id}", response_model=Task, responses=error_responses(404))
def get_task(task: ExistingTask) -> Task:
    return as_task(task)


@router.post("/{task_id}/cancel", status_code=202, response_model=Task, responses=error_responses(404, 409))
def cancel_task(record: ExistingTask, memory: MemoryDep) -> Task:
    task_id = record.id
    if record.status.terminal:
        raise HTTPException(409, f"task {task_id} already {record.status.value}; nothing to cancel")
    memory.tasks.request_cancel(task_id)
    return as_task(memory.tasks.get(task_id) or record)


@router.get("/{task_id}/events", response_class=EventSourceResponse, responses=stream_error_responses(404))
async def follow_task(
    request: Request,
    task: ExistingTask,
    memory: MemoryDep,
    after: Annotated[str | None, Query(pattern=EVENT_ID, description=(
        'start after this event id ("0" = from the first event; ids look like 1795266081271-0); default: '
        "the Last-Event-ID header a reconnecting EventSource sends, else the first event"))] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False, pattern=EVENT_ID)] = None,
) -> AsyncIterator[TaskEventItem]:
    """Server-sent events: every event of the task, then live ones until it finishes (`end`, whose data
    says how it ended). The SSE event name is the event's `kind`; its data is typed by kind. A
    client that reconnects (Last-Event-ID) continues where it stopped: no event lost or repeated.
    FastAPI's SSE support sends keep-alive comments while the task is quiet."""
    task_id, cursor = task.id, after or last_event_id or "0"
    block_ms = None  # what is stored is read at once; only live events are waited for
    while True:
        batch = await run_in_threadpool(memory.tasks.events, task_id, cursor, block_ms, 1000)
        if await request.is_disconnected():
            # Stop before yielding: FastAPI's keep-alive task fails if handed an event after the
            # client has gone (fastapi discussion #15725), which logs an error on every disconnect.
            return
        for entry_id, event in batch:
            cursor = entry_id
            yield ServerSentEvent(data=event.model_dump(mode="json"), event=event.kind, id=entry_id)
        if batch:
            block_ms = None  # read on without waiting: the task may have ended with that batch
            continue
        # A finished task ends its stream as soon as its stored events are sent, without first
        # waiting a second for a live one that cannot come.
        record = await run_in_threadpool(memory.tasks.get, task_id)
        if record is None or not record.status.terminal:
            block_ms = 1000  # still running: wait (bounded, to see a disconnect or the end) for live events
            continue
        if await request.is_disconnected():
            return
        # drain what was written between the read and the status check
        for entry_id, event in await run_in_threadpool(memory.tasks.events, task_id, cursor, None):
            cursor = entry_id
            yield ServerSentEvent(data=event.model_dump(mode="json"), event=event.kind, id=entry_id)
        yield ServerSentEvent(data={"kind": "end", "status": record.status.value, "reason": record.reason}, event="end")
        return
