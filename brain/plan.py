"""The plan: checkable goals, a DAG of subtasks across robots, optional skill steps, reasoning."""

from __future__ import annotations

from pydantic import BaseModel, Field

from robocortex.memory.schemas import SkillCall

from robocortex.brain.goal_language import Goal

__all__ = ["Goal", "PlannedSubtask", "Plan"]


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

    def subtask(self, subtask_id: str) -> PlannedSubtask:
        return next(s for s in self.subtasks if s.id == subtask_id)
