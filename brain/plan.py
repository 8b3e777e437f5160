"""The plan: checkable goals, a DAG of subtasks across robots, optional skill steps, reasoning."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from robocortex.memory.schemas import SkillCall

from robocortex.brain.goal_language import Goal

__all__ = ["Goal", "GoalReport", "PlannedSubtask", "Plan"]

GoalStatus = Literal["planned", "already_holds", "infeasible", "condition_false"]


class GoalReport(BaseModel):
    """What became of one goal: planned, already true, impossible (with the reason), or skipped
    because its `when` condition does not hold."""

    goal: Goal
    status: GoalStatus
    reason: str = ""


class PlannedSubtask(BaseModel):
    id: str = Field(min_length=1)
    robot: str = Field(min_length=1)
    description: str
    depends_on: list[str] = Field(default_factory=list)
    steps: list[SkillCall] = Field(default_factory=list)

    def object_ids(self) -> list[str]:
        """Objects this subtask manipulates (reserved while it runs)."""
        out: list[str] = []
        for step in self.steps:
            for key in ("object", "receptacle", "appliance"):
                value = step.args.get(key)
                if isinstance(value, str) and value not in out:
                    out.append(value)
        return out


class Plan(BaseModel):
    goals: list[Goal]
    subtasks: list[PlannedSubtask]
    reasoning: str = ""
    reports: list[GoalReport] = Field(default_factory=list, description="per goal: planned / already_holds / "
                                      "infeasible / condition_false, with the reason (filled by the search planner)")

    def subtask(self, subtask_id: str) -> PlannedSubtask:
        return next(s for s in self.subtasks if s.id == subtask_id)
