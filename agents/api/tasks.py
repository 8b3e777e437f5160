"""Tasks: submit (with options), list, inspect, follow live (SSE), export; and the lifecycle: cancel,
interrupt, resume and kill, each recorded with who asked."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from robocortex.brain.plan import Plan
from robocortex.client.models import AuditEvent, Task, TaskAccepted, TaskAudit, TaskEventItem
from robocortex.memory.schemas import TaskOptions, TaskRecord, TaskStatus, Timestamp
from robocortex.memory.tasks import IdempotencyConflict, InvalidTransition, TaskNotFound

from robocortex.agents.api.deps import ActorDep, MemoryDep
from robocortex.agents.api.errors import error_responses, stream_error_responses

router = APIRouter(prefix="/tasks", tags=["tasks"])
MAX_INSTRUCTION = 2000
# A Redis stream entry id, "<ms>-<seq>"; 19 digits keep each part inside Redis's 64-bit range.
EVENT_ID = r"^(0|[0-9]{1,19}-[0-9]{1,19})$"


# Unicode's White_Space characters, spelled out: `\s` differs between the service's regex engine and
# ECMAScript's (U+0085), which OpenAPI clients use, so the schema and the check must name the same set.
BLANK = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


RobotId = Annotated[str, Field(min_length=1, max_length=128)]


class TaskSubmission(BaseModel):
    """A task and, optionally, how to run it. Unknown fields are refused (422 naming them)."""

    model_config = ConfigDict(extra="forbid")

    instruction: str = Field(description="what the robots should do, in plain language",
                             examples=["put the apple in the fridge and turn off the light"],
                             min_length=1, max_length=MAX_INSTRUCTION, pattern=NOT_BLANK)
    robots: list[RobotId] | None = Field(
        default=None, min_length=1, max_length=100, examples=[["robot1"]],
        description="the team: only these registered robots may be used (an unknown one: 422); unset = any")
    priority: int = Field(default=0, ge=0, description="0 (default, lowest) to the service's max_priority: a "
                          "higher-priority task interrupts a lower one holding robots it needs; that one resumes "
                          "when they are free. The queue starts the highest priority first")
    not_before: Timestamp | None = Field(default=None, description="earliest start, ISO 8601 (epoch seconds are "
                                         "accepted too); the task stays queued until then")
    deadline: Timestamp | None = Field(default=None, description="latest start, ISO 8601 (or epoch seconds): a task "
                                       "not started by then fails, with that reason")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200, description=(
        "the same key returns the same task (200) instead of a new one; the same key with a different body: 409"))
    require_approval: bool = Field(default=False, strict=True, description="an operator approves the plan (POST "
                                   "/tasks/{id}/approve) before anything is dispatched")

    def options(self) -> TaskOptions:
        return TaskOptions(robots=self.robots, priority=self.priority, not_before=self.not_before,
                           deadline=self.deadline, idempotency_key=self.idempotency_key)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

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


def _invalid(field: str, index: int | None, value: Any, msg: str, kind: str) -> RequestValidationError:
    loc: tuple[str | int, ...] = ("body", field) if index is None else ("body", field, index)
    return RequestValidationError([{"loc": loc, "msg": msg, "type": kind, "input": value}])


_SAME_KEY = {"model": TaskAccepted, "description": "a task was submitted before with this idempotency key and "
             "the same body: that task"}


@router.post("", status_code=202, response_model=TaskAccepted, responses={200: _SAME_KEY, **error_responses(400, 409)})
def submit_task(body: TaskSubmission, memory: MemoryDep, actor: ActorDep, request: Request,
                response: Response) -> TaskAccepted:
    """Store and queue a task (202); with an idempotency key already used for the same body, the task
    submitted then (200)."""
    max_priority = getattr(request.app.state, "max_priority", None)
    if max_priority is not None and body.priority > max_priority:
        raise _invalid("priority", None, body.priority, f"priority {body.priority} is above this service's "
                       f"maximum, {max_priority}; give 0 to {max_priority}", "less_than_equal")
    if body.robots:
        known = {r.profile.name for r in memory.robots.list()}
        for i, name in enumerate(body.robots):
            if name not in known:
                raise _invalid("robots", i, name, f"robots.{i}: no robot named {name!r} is registered; known: "
                               + (", ".join(sorted(known)) or "none yet (GET /robots lists them)"), "unknown_robot")
    try:  # stored and queued in one step
        record, created = memory.tasks.submit(body.instruction, enqueue=True, options=body.options(),
                                              submitted_by=actor, fingerprint=body.fingerprint(),
                                              require_approval=body.require_approval)
    except IdempotencyConflict as exc:
        raise HTTPException(409, f"idempotency key {exc.key!r} was already used for task {exc.task_id} with a "
                                 "different body; use a new key, or send the same body to get that task") from None
    if not created:
        response.status_code = 200
    return TaskAccepted(id=record.id, status=record.status, url=f"/tasks/{record.id}",
                        events_url=f"/tasks/{record.id}/events")


@router.get("", response_model=list[Task], responses=error_responses())
def list_tasks(memory: MemoryDep, status: TaskStatus | None = None,
               limit: int = Query(default=50, ge=1, le=1000)) -> list[Task]:
    return [as_task(r) for r in memory.tasks.list(status=status, limit=limit)]


@router.get("/{task_id}", response_model=Task, responses=error_responses(404))
def get_task(task: ExistingTask) -> Task:
    return as_task(task)


_WHY = {
    "cancel": "nothing to cancel",
    "kill": "nothing to kill",
    "interrupt": "only a planning or running task can be interrupted (a queued one can be cancelled)",
    "resume": "only an interrupted task can be resumed",
}


def _act(memory: MemoryDep, task_id: str, action: str, actor: str) -> Task:
    act = {"cancel": memory.tasks.cancel, "kill": memory.tasks.kill, "interrupt": memory.tasks.interrupt,
           "resume": memory.tasks.resume}[action]
    try:
        record = act(task_id, actor)
    except TaskNotFound:
        raise HTTPException(404, f"no task with id {task_id!r}; GET /tasks lists the known ones") from None
    except InvalidTransition as exc:
        state = f"already {exc.current.value}" if exc.current.terminal else f"{exc.current.value}"
        raise HTTPException(409, f"task {task_id} is {state}; {_WHY[action]}") from None
    return as_task(memory.tasks.get(task_id) or record)


@router.post("/{task_id}/cancel", status_code=202, response_model=Task, responses=error_responses(404, 409))
def cancel_task(record: ExistingTask, memory: MemoryDep, actor: ActorDep) -> Task:
    """Cancel in any unfinished state: a queued, waiting or interrupted task at once; a planning or
    running one within moments (its robots stop after their current step). 409 once finished."""
    return _act(memory, record.id, "cancel", actor)


@router.post("/{task_id}/interrupt", status_code=202, response_model=Task, responses=error_responses(404, 409))
def interrupt_task(record: ExistingTask, memory: MemoryDep, actor: ActorDep) -> Task:
    """Hold a planning or running task: nothing new is dispatched, its robots finish their current step
    and keep what they hold; then it is `interrupted` (follow its events). 409 in any other state."""
    return _act(memory, record.id, "interrupt", actor)


@router.post("/{task_id}/resume", status_code=202, response_model=Task, responses=error_responses(404, 409))
def resume_task(record: ExistingTask, memory: MemoryDep, actor: ActorDep) -> Task:
    """Resume an interrupted task: it is planned again from the scene as it is now (status planning).
    409 unless it is interrupted."""
    return _act(memory, record.id, "resume", actor)


@router.post("/{task_id}/kill", status_code=202, response_model=Task, responses=error_responses(404, 409))
def kill_task(record: ExistingTask, memory: MemoryDep, actor: ActorDep) -> Task:
    """Stop now: `killed` at once and its open subtasks cancelled; its robots stop after the step they
    are in. 409 once finished."""
    return _act(memory, record.id, "kill", actor)


@router.get("/{task_id}/export", response_model=TaskAudit, responses=error_responses(404))
def export_task(task: ExistingTask, memory: MemoryDep) -> TaskAudit:
    """The task's whole audit record: instruction, who submitted it, its options, every plan, the
    approvals and every stored event."""
    events: list[AuditEvent] = []
    cursor = "0"
    while True:
        batch = memory.tasks.events(task.id, cursor, None, 1000)
        if not batch:
            break
        for entry_id, event in batch:
            events.append(AuditEvent(id=entry_id, **event.model_dump()))
        cursor = batch[-1][0]
    plans: list[Plan] = []
    for event in events:
        if event.kind == "plan" and isinstance(event.data.get("plan"), dict):
            try:
                plans.append(Plan.model_validate(event.data["plan"]))
            except ValidationError:
                continue
    record = memory.tasks.get(task.id) or task
    return TaskAudit(id=record.id, instruction=record.instruction, status=record.status,
                     submitted_by=record.submitted_by, options=record.options, created_at=record.created_at,
                     updated_at=record.updated_at, plans=plans,
                     approvals=[a.model_dump(mode="json") for a in record.approvals],
                     task=as_task(record), events=events, exported_at=time.time())


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
