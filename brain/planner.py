"""What every planner takes and gives: the brain's graph is written against this, not a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from robocortex.memory.schemas import RobotProfile, SceneSnapshot, SkillCall

from robocortex.brain.plan import Plan


class PlanningError(Exception):
    """The planner could not produce a plan; the message says why in the user's terms."""


@dataclass
class ModelCall:
    """One answered model request, for the trace and the task's metrics."""

    raw: str = ""
    thinking: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    attempts: int = 1  # HTTP requests: 1 + retries after 429 / 5xx / timeouts (+ format step-downs)
    output_format: str = "none"
    calls: int = 1  # model calls behind this record (a planner may ask more than once per plan)
    finish_reason: str = ""


class ModelCallFailed(PlanningError):
    """Model calls were made but gave no answer (unreachable, refused, timed out, cancelled): `call`
    counts what they cost, so the task's metrics include failed calls too."""

    def __init__(self, message: str, call: ModelCall | None = None, cancelled: bool = False):
        super().__init__(message)
        self.call = call
        self.cancelled = cancelled


class InvalidReply(PlanningError):
    """The model answered, but not with a valid plan: the brain asks again with the reason."""

    def __init__(self, message: str, call: ModelCall):
        super().__init__(message)
        self.call = call


@dataclass
class FailedSubtask:
    """A subtask that failed in an earlier round: who ran it, its steps, the error it ended with, and
    what that robot held right after (the object of a failed put is still in its hand).

    Planners decide what to exclude from the typed parts, never from `error` (a sentence for
    people): `code` is the executor's FailureCode, `failed_step` the skill call that failed (with the
    object ids actually used), `details` its details (`object`, `receptacle`, `appliance`, `held`,
    `problem`, `problem_object`, `world_error`, `world_code` — see memory.schemas.Failure)."""

    robot: str
    steps: list[SkillCall]
    error: str
    holding: str | None = None
    code: str = "other"
    failed_step: SkillCall | None = None
    details: dict[str, Any] = field(default_factory=dict)
    step_index: int | None = None  # index in `steps` of the plan step that was running

    @classmethod
    def from_record(cls, f: dict[str, Any]) -> "FailedSubtask":
        """From the graph state's plain record (older checkpoints have only robot, steps, error, holding)."""
        step = f.get("failed_step")
        return cls(robot=f["robot"], error=f.get("error") or "", holding=f.get("holding"),
                   steps=[SkillCall.model_validate(c) for c in f.get("steps") or []],
                   code=f.get("code") or "other", failed_step=SkillCall.model_validate(step) if step else None,
                   details=dict(f.get("details") or {}), step_index=f.get("step_index"))


@dataclass
class PlanRequest:
    instruction: str
    snapshot: SceneSnapshot
    robots: list[RobotProfile]
    feedback: list[str] = field(default_factory=list)  # validator or execution problems to address
    previous_reply: str = ""  # the rejected answer a repair corrects (empty for a fresh plan or a replan)
    robot_status: dict[str, str] = field(default_factory=dict)  # idle / busy, by robot name
    id_prefix: str = "s"
    failures: list[FailedSubtask] = field(default_factory=list)  # every subtask that failed so far, oldest first
    # Planning honours the task's deadline (time.time() seconds) and cancel; model calls are reported as they go
    # (kind "start" / "end", the call's data) so the task's events are never silent for minutes.
    deadline: float | None = None
    should_stop: Callable[[], bool] | None = None
    on_model_call: Callable[[str, dict[str, Any]], None] | None = None


@dataclass
class PlanOutcome:
    plan: Plan
    call: ModelCall | None = None  # None for planners that use no model


class Planner(Protocol):
    name: str

    def plan(self, request: PlanRequest) -> PlanOutcome: ...
