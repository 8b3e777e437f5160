"""What every planner takes and gives: the brain's graph is written against this, not a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from memory.schemas import RobotProfile, SceneSnapshot

from brain.plan import Plan


class PlanningError(Exception):
    """The planner could not produce a plan; the message says why in the user's terms."""


class InvalidReply(PlanningError):
    """The model answered, but not with a valid plan: the brain asks again with the reason."""

    def __init__(self, message: str, raw: str = "", usage: dict[str, int] | None = None, latency_s: float = 0.0):
        super().__init__(message)
        self.raw, self.usage, self.latency_s = raw, usage or {}, latency_s


@dataclass
class PlanRequest:
    instruction: str
    snapshot: SceneSnapshot
    robots: list[RobotProfile]
    feedback: list[str] = field(default_factory=list)  # validator or execution problems to repair
    id_prefix: str = "s"


@dataclass
class PlanOutcome:
    plan: Plan
    raw: str = ""
    thinking: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Planner(Protocol):
    name: str

    def plan(self, request: PlanRequest) -> PlanOutcome: ...
