"""Messages and records that cross Redis: the contracts between the brain, the robots and the API.

Everything here is pydantic so it is validated when it is written and when it is read back.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator


def now() -> float:
    return round(time.time(), 6)  # microseconds: what ISO 8601 carries, so a record survives a round trip


_EPOCH_RANGE = (datetime(1, 1, 2, tzinfo=UTC).timestamp(), datetime(9999, 12, 30, tzinfo=UTC).timestamp())


def _epoch(value: Any) -> Any:
    """An ISO 8601 text (what JSON carries) back to epoch seconds; numbers are kept to microseconds.
    Anything that could not be written back as ISO 8601 (NaN, year 10000) is refused here."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            value = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        except (ValueError, OverflowError, OSError) as exc:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not (math.isfinite(value) and _EPOCH_RANGE[0] <= value <= _EPOCH_RANGE[1]):
            raise ValueError(f"not a time between the years 1 and 9999: {value!r}")
        return round(value, 6)
    return value


def iso(epoch: float) -> str:
    """Epoch seconds as ISO 8601 in UTC with microseconds, e.g. 2026-12-01T16:20:05.123456Z."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# A moment: epoch seconds in Python (arithmetic stays simple), ISO 8601 (UTC) in every JSON form —
# Redis records, REST, events, the OpenAPI. Reading accepts either.
Timestamp = Annotated[
    float,
    BeforeValidator(_epoch),
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-12-01T16:20:05.123456Z"}),
]


# --------------------------------------------------------------------------- scene graph


class Vec3(BaseModel):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


class Relation(BaseModel):
    """An outgoing edge stored on its source node: `in`/`on` a receptacle, `holding`, `near`."""

    rel: Literal["in", "on", "holding", "near"]
    target: str


NodeKind = Literal["object", "robot", "room"]

# AI2-THOR object state flags and affordances kept on object nodes (AI2-THOR's own field names).
STATE_FLAGS = (
    "isOpen",
    "isToggled",
    "isSliced",
    "isCooked",
    "isDirty",
    "isFilledWithLiquid",
    "isBroken",
    "isPickedUp",
    "isUsedUp",
)
AFFORDANCES = (
    "pickupable",
    "receptacle",
    "openable",
    "toggleable",
    "sliceable",
    "cookable",
    "breakable",
    "dirtyable",
    "canFillWithLiquid",
    "canBeUsedUp",
    "moveable",
)


class SceneNode(BaseModel):
    """One node of the scene graph. Object nodes carry AI2-THOR's state and affordance flags;
    robot nodes carry pose, holding and profile fields. Unknown fields are kept (extra=allow)."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: NodeKind = "object"
    objectType: str | None = None
    position: Vec3 | None = None
    relations: list[Relation] = Field(default_factory=list)

    def flag(self, name: str) -> Any:
        return getattr(self, name, None)

    def parents(self) -> list[str]:
        return [r.target for r in self.relations if r.rel in ("in", "on")]


class NodePatch(BaseModel):
    """Field-level change to one node; applied atomically in Redis (no whole-document rewrite).

    `set` merges top-level fields (creating the node when absent); `remove=True` deletes it.
    """

    id: str
    set: dict[str, Any] = Field(default_factory=dict)
    remove: bool = False


class SceneDelta(BaseModel):
    """An atomic change to the scene graph: bumps the revision and is appended to the change log."""

    patches: list[NodePatch]
    source: str = "unknown"


class SceneChange(BaseModel):
    rev: int
    source: str
    patches: list[NodePatch]
    at: Timestamp


class SceneSnapshot(BaseModel):
    rev: int
    nodes: dict[str, SceneNode]

    def objects(self) -> list[SceneNode]:
        return [n for n in self.nodes.values() if n.kind == "object"]

    def node_dicts(self) -> dict[str, dict[str, Any]]:
        """Plain-dict copy of every node (for symbolic dry runs and goal checks)."""
        return {nid: n.model_dump(mode="json") for nid, n in self.nodes.items()}

    def robots(self) -> list[SceneNode]:
        return [n for n in self.nodes.values() if n.kind == "robot"]


# --------------------------------------------------------------------------- robots


class SkillSource(BaseModel):
    """Where a skill comes from: `builtin` (cerebellum/skills.py), an `mcp` server (`name` = the server's
    name in the robot's profile) or a `policy` server (`name` = its URL; the skill's declaration is the
    built-in one, a policy server runs it)."""

    kind: Literal["builtin", "mcp", "policy"] = "builtin"
    name: str | None = None


class SkillCondition(BaseModel):
    """One precondition or effect of a declared skill: `flag` of the object the argument `arg` names
    (an AI2-THOR state flag such as isDirty, or an affordance such as pickupable) is `value`; or, about
    the robot, `holding` (it holds the object `arg` names) or `handempty` (no `arg`)."""

    model_config = ConfigDict(extra="forbid")

    arg: str | None = None
    flag: str
    value: bool = True


class SkillSpec(BaseModel):
    """A skill that is not built in, as the robot that has it declares it when it registers: arguments as
    JSON Schema, the arguments that are objectIds to reach (`targets`), preconditions and effects.
    `unplannable` says why the search planner cannot use it (None: it can); the model planner and a
    robot's tool loop may still call it."""

    name: str
    description: str = ""
    source: SkillSource = Field(default_factory=SkillSource)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    targets: list[str] = Field(default_factory=list)
    requires: list[SkillCondition] = Field(default_factory=list)
    effects: list[SkillCondition] = Field(default_factory=list)
    unplannable: str | None = None


class RobotProfile(BaseModel):
    """What a robot is and can do; declared by the robot when it registers. `skill_sources` says where
    each skill comes from (a skill not listed is built in); `skill_specs` declares those that are not
    built in (MCP tools), so that every reader — the brain's planners and validator, the API, the
    console — knows them from the registry alone."""

    name: str
    agent_id: int = Field(ge=0, description="index of the robot's agent in the shared world")
    embodiment: str = "mobile_manipulator"
    skills: list[str]
    payload_kg: float = Field(default=5.0, ge=0)
    mobility: Literal["mobile", "fixed"] = "mobile"
    skill_sources: dict[str, SkillSource] = Field(default_factory=dict)
    skill_specs: list[SkillSpec] = Field(default_factory=list)
    profile_name: str | None = Field(default=None, description="the profile it was started with "
                                     "(e.g. light_manipulator, or one from the config file)")

    def source_of(self, skill: str) -> SkillSource:
        return self.skill_sources.get(skill) or SkillSource()


class RobotStatus(str, Enum):
    idle = "idle"
    busy = "busy"
    offline = "offline"


class RobotState(BaseModel):
    profile: RobotProfile
    status: RobotStatus
    current_subtask: str | None = None
    last_seen: Timestamp | None = None
    decommissioned_at: Timestamp | None = Field(default=None, description="taken out of service (status offline "
                                                "from then on, whatever its worker does) until removed")


# --------------------------------------------------------------------------- tasks


class TaskStatus(str, Enum):
    """The task lifecycle (Open-RMF's, with our names: pending = queued, succeeded = completed).
    `awaiting_approval`: a plan waits for an operator. `interrupted`: robots finished their current
    step and hold; `resume` replans from the scene as it is. `killed`: stopped at once."""

    pending = "pending"
    planning = "planning"
    awaiting_approval = "awaiting_approval"
    running = "running"
    interrupted = "interrupted"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    killed = "killed"

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.succeeded, TaskStatus.failed, TaskStatus.cancelled, TaskStatus.killed)


class SubtaskStatus(str, Enum):
    waiting = "waiting"
    dispatched = "dispatched"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FailureCode = Literal[
    "precondition", "action_failed", "object_missing", "blocked", "timeout", "robot_lost", "cancelled", "other"
]
FailureKind = FailureCode  # the name before failures were typed; kept for older code and records

Scalar = str | int | float | bool | None


class Failure(BaseModel):
    """Why a subtask failed, for programs (the brain's replanning); `SubtaskResult.error` says it for people.

    `step_index` is the index in the subtask's `steps` of the plan step that was running; `skill` and
    `args` are the call that actually failed (a recovery step such as opening a closed fridge, or the
    plan step with another instance substituted). `details` keys in use: `object`, `receptacle`,
    `appliance` (the call's object ids), `held` (what the robot held when it failed), `problem` and
    `problem_object` (the skill precondition that was unmet, e.g. `closed` / the closed receptacle),
    `world_error` (the world's raw errorMessage) and `world_code` (that message classified, e.g.
    `no_room`, `invalid_object`, `wrong_receptacle`).
    """

    code: FailureCode = "other"
    step_index: int | None = Field(default=None, ge=0)
    skill: str | None = None
    args: dict[str, Scalar] = Field(default_factory=dict)
    details: dict[str, Scalar] = Field(default_factory=dict)


class SubtaskState(BaseModel):
    id: str
    robot: str
    description: str
    depends_on: list[str] = Field(default_factory=list)
    status: SubtaskStatus = SubtaskStatus.waiting
    attempt: int = 0
    error: str | None = None
    failure: Failure | None = None


class TaskOptions(BaseModel):
    """How a task is to be run, given at submission (all optional). Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    robots: list[str] | None = Field(default=None, description="the team: only these robots (ids) may be used "
                                     "by the plan; unset = any robot")
    priority: int = Field(default=0, ge=0, description="0 = lowest; a higher-priority task interrupts a "
                          "lower one holding robots it needs, which resumes when they are free")
    not_before: Timestamp | None = Field(default=None, description="earliest start (ISO 8601; epoch seconds "
                                         "are accepted too)")
    deadline: Timestamp | None = Field(default=None, description="latest start (ISO 8601 or epoch seconds): a task not "
                                   "started by then fails with that reason")
    idempotency_key: str | None = Field(default=None, description="the same key returns the same task")


ControlAction = Literal["cancel", "kill", "interrupt"]


class TaskControl(BaseModel):
    """A request to stop a task, for its runner and its robots to act on (memory/keys.task_control)."""

    action: ControlAction
    actor: str
    at: Timestamp = Field(default_factory=now)
    preempted_by: str | None = None


class Violation(BaseModel):
    """One plan step (or the plan as a whole) against one rule of the safety constitution
    (brain/constitution.py): `reject` fails the task, `escalate` sends the plan to an operator."""

    rule: str = Field(description="the rule's name, as in the constitution file")
    kind: str = Field(description="the rule's kind: forbidden_objects, forbidden_actions, forbidden_placements, "
                      "areas, robots, max_payload or ask_human")
    effect: Literal["reject", "escalate"]
    message: str = Field(description="what the plan does against the rule, in a sentence")
    subtask_id: str | None = None
    step_index: int | None = Field(default=None, ge=0, description="index in the subtask's steps")
    robot: str | None = None
    skill: str | None = None
    object: str | None = Field(default=None, description="the objectId the step acts on")


class PendingApproval(BaseModel):
    """A plan waiting for an operator: what the brain would dispatch, and why it asks."""

    round: int = Field(ge=1, description="which approval of the task this is (a replanned task may ask again); "
                       "a decision names it")
    plan: dict[str, Any] = Field(description="the plan as the brain would dispatch it (Plan)")
    violations: list[Violation] = Field(default_factory=list, description="the escalating rules' findings")
    reasons: list[str] = Field(default_factory=list, description="why approval is asked: 'task' (the submission "
                               "asked), 'deployment' (approve_all_plans), 'rule:<name>' per escalating rule")
    requested_at: Timestamp = Field(default_factory=now)


class _Decided(BaseModel):
    """What every decision on a pending plan says: which round, what, who, why and when."""

    round: int = Field(ge=1)
    decision: Literal["approve", "reject", "edit", "cancel"]
    by: str
    reason: str = ""
    at: Timestamp = Field(default_factory=now)


class ApprovalDecision(_Decided):
    """An operator's answer to a pending plan, as the API hands it to the brain (memory/approvals.py)."""

    plan: dict[str, Any] | None = Field(default=None, description="the edited plan (decision 'edit')")


class Approval(_Decided):
    """One decision on a task's plan, as the task record keeps it (who, when, what)."""

    violations: list[str] = Field(default_factory=list, description="names of the escalating rules decided on")
    edited_plan: dict[str, Any] | None = Field(default=None, description="the plan as edited (decision 'edit')")


class TaskRecord(BaseModel):
    id: str
    instruction: str
    status: TaskStatus = TaskStatus.pending
    created_at: Timestamp = Field(default_factory=now)
    updated_at: Timestamp = Field(default_factory=now)
    plan: dict[str, Any] | None = None
    subtasks: list[SubtaskState] = Field(default_factory=list)
    reason: str | None = None
    replans: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict)
    options: TaskOptions = Field(default_factory=TaskOptions)
    submitted_by: str | None = Field(default=None, description="who submitted it (the API caller's identity)")
    fingerprint: str | None = Field(default=None, description="hash of the submission, to tell a repeated "
                                    "idempotent submission from a different one under the same key")
    preempted_by: str | None = Field(default=None, description="the higher-priority task that interrupted "
                                     "this one; it resumes when that task ends")
    require_approval: bool = Field(default=False, description="an operator approves the plan before dispatch")
    pending_approval: PendingApproval | None = Field(default=None, description="the plan waiting for an "
                                                     "operator (status awaiting_approval)")
    approvals: list[Approval] = Field(default_factory=list, description="every decision on the task's plans")
    violations: list[Violation] = Field(default_factory=list, description="the safety constitution's findings "
                                        "on the last plan checked")


class TaskEvent(BaseModel):
    """One line of a task's story: plan, dispatch, observation/thought/action, result, replan…"""

    kind: str
    task_id: str
    at: Timestamp = Field(default_factory=now)
    robot: str | None = None
    subtask_id: str | None = None
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    actor: str | None = Field(default=None, description="who asked for it (status and control events)")


# --------------------------------------------------------------------------- dispatch


class SkillCall(BaseModel):
    skill: str
    args: dict[str, Any] = Field(default_factory=dict)


class SubtaskMessage(BaseModel):
    """A unit of work for one robot. (task_id, subtask_id, attempt) is its idempotency key."""

    task_id: str
    subtask_id: str
    attempt: int = Field(default=1, ge=1)
    robot: str
    description: str
    steps: list[SkillCall] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list, description="objectIds to reserve")
    sent_at: Timestamp = Field(default_factory=now)

    @property
    def key(self) -> str:
        return f"{self.task_id}:{self.subtask_id}:{self.attempt}"


class SubtaskResult(BaseModel):
    task_id: str
    subtask_id: str
    attempt: int
    robot: str
    success: bool
    error: str | None = None  # the failure in a sentence, for people
    failure: Failure | None = None  # the failure typed, for programs
    failure_kind: FailureCode | None = None  # = failure.code (older records and readers have only this)
    observation: str = ""
    actions: int = 0
    failed_actions: int = 0
    started_at: Timestamp = Field(default_factory=now)
    finished_at: Timestamp = Field(default_factory=now)

    @model_validator(mode="after")
    def _one_code(self) -> "SubtaskResult":
        """`failure` and `failure_kind` agree: either one given fills the other."""
        if self.failure is not None:
            self.failure_kind = self.failure.code
        elif self.failure_kind is not None:
            self.failure = Failure(code=self.failure_kind)
        return self

    @property
    def key(self) -> str:
        return f"{self.task_id}:{self.subtask_id}:{self.attempt}"
