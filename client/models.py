"""What the brain service's REST API sends, typed: one definition for the server (its OpenAPI document)
and for robocortex.client.

The records themselves are memory's schemas; here they gain what the wire adds: a task's `plan` typed
as the brain's Plan, a task's events typed by `kind`, and small response bodies. Timestamps are ISO 8601
(UTC) on the wire and epoch seconds once parsed (memory.schemas.Timestamp).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from robocortex.brain.plan import GoalReport, Plan
from robocortex.memory.schemas import Failure, RobotState, TaskEvent, TaskOptions, TaskRecord, TaskStatus, Timestamp, \
    Violation

_EXAMPLE_OBJECT = "Apple|+01.00|+00.90|-01.20"
_EXAMPLE_FRIDGE = "Fridge|-02.10|+00.00|+01.07"
EXAMPLE_PLAN: dict[str, Any] = Plan.model_validate({
    "goals": [{"object": "Apple", "relation": "in", "target": "Fridge"}],
    "subtasks": [{"id": "s1", "robot": "robot1", "description": "put the apple in the fridge", "steps": [
        {"skill": "navigate_to", "args": {"object": _EXAMPLE_OBJECT}},
        {"skill": "pick_up", "args": {"object": _EXAMPLE_OBJECT}},
        {"skill": "put", "args": {"object": _EXAMPLE_OBJECT, "receptacle": _EXAMPLE_FRIDGE}}]}],
    "reasoning": "one robot carries the apple to the fridge",
    "reports": [{"goal": {"object": "Apple", "relation": "in", "target": "Fridge"}, "status": "planned"}],
}).model_dump(mode="json")


# --------------------------------------------------------------------------- plain responses


class TaskAccepted(BaseModel):
    """POST /tasks: the task is stored and queued; follow it at `events_url`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "t-3f2a9c1b", "status": "pending", "url": "/tasks/t-3f2a9c1b", "events_url": "/tasks/t-3f2a9c1b/events"}]})

    id: str
    status: TaskStatus
    url: str
    events_url: str


class Task(TaskRecord):
    """A task as the API shows it: the stored record with its plan typed (null until one is made)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "t-3f2a9c1b", "instruction": "put the apple in the fridge", "status": "running",
        "created_at": "2026-11-18T09:41:21.270000Z", "updated_at": "2026-11-18T09:41:22.910000Z", "plan": EXAMPLE_PLAN,
        "subtasks": [{"id": "s1", "robot": "robot1", "description": "put the apple in the fridge",
                      "depends_on": [], "status": "dispatched", "attempt": 1}],
        "reason": None, "replans": 0, "metrics": {"planning_ms": 41.2}}]})

    plan: Plan | None = Field(default=None, description="goals, the subtask DAG across robots, their skill "
                                                        "steps and the reasoning (null until planned)")


class PendingPlan(BaseModel):
    """GET /tasks/{id}/plan: the plan that waits for an operator, with why it waits."""

    task_id: str
    round: int = Field(ge=1, description="name it in no decision: the service decides on the round pending now")
    plan: Plan
    violations: list[Violation] = Field(description="the constitution's escalating findings on this plan")
    reasons: list[str] = Field(description="'task' (the submission asked), 'deployment' (approve_all_plans), "
                               "'rule:<name>' per escalating rule")
    requested_at: float


class ApprovalAccepted(BaseModel):
    """POST /tasks/{id}/approve, /reject, /plan: the decision is stored; the brain acts on it within seconds."""

    task_id: str
    round: int = Field(ge=1)
    decision: Literal["approve", "reject", "edit"]
    by: str
    url: str = Field(description="the task: its status leaves awaiting_approval once the brain has the decision")


class RobotsUpdate(BaseModel):
    """Every registered robot, as of `at` (the server's clock: a robot's heartbeat age is at - last_seen)."""

    at: Timestamp
    robots: list[RobotState]


class Health(BaseModel):
    ok: bool = Field(description="Redis answered")
    scene_rev: int = Field(ge=0, description="the scene graph's revision")


# --------------------------------------------------------------------------- a task's events, by kind


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")  # producers may add keys; the documented ones are typed


class StatusData(_Data):
    status: TaskStatus
    from_: TaskStatus = Field(alias="from")

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Usage(_Data):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class PlanData(_Data):
    plan: Plan
    reports: list[GoalReport] = Field(default_factory=list)
    planning_ms: float = Field(default=0.0, description="time to make the plan")
    timing: dict[str, float] = Field(default_factory=dict, description="the planner's own split (parse_ms, search_ms…)")
    thinking: str = ""
    latency_s: float | None = Field(default=None, description="the model call's latency (model planners only)")
    attempts: int | None = None
    output_format: str | None = None
    usage: Usage | None = None


class DispatchData(_Data):
    attempt: int = Field(ge=1)


class ResultData(_Data):
    success: bool
    actions: int = 0
    failed_actions: int = 0
    failure_kind: str | None = None
    failure: Failure | None = None


class ReplanData(_Data):
    replan: int = Field(ge=1, description="how many replans so far")


class ModelCallData(_Data):
    phase: Literal["start", "end"]
    attempt: int | None = None
    ok: bool | None = None


class _Event(BaseModel):
    task_id: str
    at: Timestamp = Field(description="when (ISO 8601, UTC)")
    robot: str | None = None
    subtask_id: str | None = None
    message: str = ""
    actor: str | None = Field(default=None, description="who asked for it (status and control events)")


class StatusEvent(_Event):
    """The task moved from one status to another (`message`: the reason, if any; `actor`: who asked)."""

    kind: Literal["status"]
    data: StatusData


class ControlData(_Data):
    action: Literal["cancel", "kill", "interrupt"]
    status: TaskStatus = Field(description="the task's status when it was asked")
    preempted_by: str | None = Field(default=None, description="the higher-priority task that asked")


class ControlEvent(_Event):
    """Someone (`actor`) asked a planning or running task to stop or hold; its runner carries it out
    and records the status it ends in (a status event)."""

    kind: Literal["control"]
    data: ControlData


class PlanEvent(_Event):
    """A plan was made: the plan, what became of each goal, and what it cost."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "plan", "task_id": "t-3f2a9c1b", "at": 1795266081.31, "message": "one robot carries the apple",
        "data": {"plan": EXAMPLE_PLAN, "reports": EXAMPLE_PLAN["reports"], "planning_ms": 41.2,
                 "timing": {"parse_ms": 3.1, "search_ms": 30.5}, "thinking": ""}}]})

    kind: Literal["plan"]
    data: PlanData


class DispatchEvent(_Event):
    """A subtask was sent to its robot (`robot`, `subtask_id`)."""

    kind: Literal["dispatch"]
    data: DispatchData


class ResultEvent(_Event):
    """A robot reported a subtask done or failed (typed failure when it failed)."""

    kind: Literal["result"]
    data: ResultData


class ReplanEvent(_Event):
    """The brain replans: `message` gives the feedback the planner gets."""

    kind: Literal["replan"]
    data: ReplanData


class ModelCallEvent(_Event):
    """A call to the planner model starts or ends."""

    kind: Literal["model_call"]
    data: ModelCallData


class RobotEvent(_Event):
    """A robot's observation / thought / action loop and its vision queries, while it runs a subtask."""

    kind: Literal["observation", "thought", "action", "vision"]
    data: dict[str, Any] = Field(default_factory=dict)


class BrainEvent(_Event):
    """The brain's other steps: what it perceived, plan checks, a failed planning, goals met."""

    kind: Literal["perceive", "plan_valid", "plan_invalid", "plan_failed", "goals_met", "preempt"]
    data: dict[str, Any] = Field(default_factory=dict)


class FinishedData(_Data):
    status: TaskStatus


class FinishedEvent(_Event):
    """The brain's last step for the task: how it ended (`message` gives the reason, if any)."""

    kind: Literal["finished"]
    data: FinishedData


class EndEvent(BaseModel):
    """The last event of a task's stream: how the task ended."""

    kind: Literal["end"] = "end"
    status: TaskStatus
    reason: str | None = None


TaskEventItem = Annotated[
    Union[StatusEvent, ControlEvent, PlanEvent, DispatchEvent, ResultEvent, ReplanEvent, ModelCallEvent, RobotEvent, BrainEvent,
          FinishedEvent, EndEvent],
    Field(discriminator="kind"),
]
"""One event of GET /tasks/{id}/events, told apart by `kind` (the SSE event name is the same word)."""

TYPED_KINDS = frozenset({"status", "control", "preempt", "plan", "dispatch", "result", "replan", "model_call", "observation", "thought",
                         "action", "vision", "perceive", "plan_valid", "plan_invalid", "plan_failed", "goals_met",
                         "finished", "end"})
_EVENT = TypeAdapter(TaskEventItem)

AnyTaskEvent = Union[StatusEvent, ControlEvent, PlanEvent, DispatchEvent, ResultEvent, ReplanEvent, ModelCallEvent, RobotEvent,
                     BrainEvent, FinishedEvent, EndEvent, TaskEvent]


class AuditEvent(TaskEvent):
    """One stored event of a task, with its id in the task's event stream."""

    id: str = Field(description="the event's id in the task's stream (e.g. 1795266081271-0)")


class TaskAudit(BaseModel):
    """GET /tasks/{id}/export: everything on record about one task, for an audit."""

    id: str
    instruction: str
    status: TaskStatus
    submitted_by: str | None = Field(description="who submitted it")
    options: TaskOptions = Field(description="the options it was submitted with")
    created_at: Timestamp
    updated_at: Timestamp
    plans: list[Plan] = Field(description="every plan made for it, in order (replans and resumes add more)")
    approvals: list[dict[str, Any]] = Field(description="operators' decisions on its plans")
    task: Task = Field(description="the task record as GET /tasks/{id} shows it")
    events: list[AuditEvent] = Field(description="every event still stored, in order")
    exported_at: Timestamp


def parse_task_event(data: dict[str, Any]) -> AnyTaskEvent:
    """The typed event for this payload; a kind this version does not know comes back as memory's plain
    TaskEvent (kind and data untyped) rather than failing, so an older client keeps following newer servers."""
    if data.get("kind") in TYPED_KINDS:
        return _EVENT.validate_python(data)
    return TaskEvent.model_validate(data)


__all__ = [
    "AnyTaskEvent", "AuditEvent", "BrainEvent", "ControlEvent", "DispatchEvent", "EndEvent", "FinishedEvent", "Health", "ModelCallEvent", "PlanEvent",
    "RobotEvent", "RobotsUpdate", "ReplanEvent", "ResultEvent", "StatusEvent", "Task", "TaskAccepted", "TaskAudit",
    "TaskEventItem", "parse_task_event",
]


# --------------------------------------------------------------------------- access control and robot admin


class Principal(BaseModel):
    """Who is calling: a key's name and role, or everyone (`open`) when no key exists (GET /auth/me)."""

    name: str
    role: "Role"
    key_id: str | None = None
    open: bool = Field(default=False, description="no API key exists: the service is open to anyone who reaches it")


class Placed(BaseModel):
    """POST /robots/{name}/held: the robot afterwards, and the scene revision with the object placed."""

    robot: RobotState
    scene_rev: int = Field(description="the scene graph's revision with the object placed")


from robocortex.memory.apikeys import Role  # noqa: E402

Principal.model_rebuild()
