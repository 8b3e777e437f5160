"""The plan: checkable goals, a DAG of subtasks across robots, optional skill steps, reasoning."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from robocortex.memory.schemas import SkillCall


class Goal(BaseModel):
    """A condition on the scene graph: a relation (`Apple in Fridge`) or a state (`isToggled=false`).

    `object` and `target` are objectIds, or object types meaning "any instance of that type".
    """

    object: str
    relation: Literal["in", "on", "in_or_on"] | None = None
    target: str | None = None
    state: str | None = None
    value: Any = True

    @field_validator("value", mode="before")
    @classmethod
    def _json_booleans(cls, value: Any) -> Any:
        """Models write "false" as often as false; a string would never equal the scene's flag."""
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "Goal":
        if (self.relation is None) == (self.state is None):
            raise ValueError("a goal has either a relation (with target) or a state (with value)")
        if self.relation is not None and not self.target:
            raise ValueError("a relation goal needs a target")
        return self

    def describe(self) -> str:
        if self.relation:
            return f"{self.object} {self.relation.replace('_or_', '/')} {self.target}"
        return f"{self.object} {self.state}={self.value}"


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
