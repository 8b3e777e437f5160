"""The record of one simulated run, saved as JSON: everything the metrics, the report and the map
are computed from, so a saved trace can be re-scored or re-drawn without running anything again."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from robocortex.memory.schemas import SubtaskState, TaskEvent, Timestamp


class RobotInfo(BaseModel):
    name: str
    profile: str
    agent_id: int
    start: tuple[float, float] | None = Field(default=None, description="(x, z) where it stood at the start")


class MapObject(BaseModel):
    id: str
    type: str
    x: float
    z: float
    size_x: float
    size_z: float


class SceneMap(BaseModel):
    """What the top-down map draws besides the paths: the floor the robots could reach, the objects."""

    bounds: tuple[float, float, float, float] = Field(description="min_x, min_z, max_x, max_z")
    grid: float = 0.25
    reachable: list[tuple[float, float]] = Field(default_factory=list)
    objects: list[MapObject] = Field(default_factory=list)


class GoalOutcome(BaseModel):
    goal: str
    met: bool


class RunTrace(BaseModel):
    run_id: str
    task_id: str
    scene: str
    room: str
    category: str = ""
    phrasing: str = Field(default="", description="the instruction's phrasing class, when the suite gives one")
    instruction: str
    initial_state: list[dict[str, Any]] = Field(
        default_factory=list, description="the set-up steps run right after the scene was loaded (AI2-THOR actions)")
    planner: str
    backend: str
    robots: list[RobotInfo]
    goals_from: str = Field(description="'suite' (ground truth) or 'plan' (the planner's own goals)")
    goals: list[GoalOutcome] = Field(default_factory=list, description="checked in the world's final state")
    status: str = Field(description="what the team reported: succeeded, failed, cancelled, or 'error'")
    reason: str | None = None
    started_at: Timestamp
    finished_at: Timestamp
    replans: int = 0
    model_calls: int = 0
    tokens: int = 0
    subtasks: list[SubtaskState] = Field(default_factory=list)
    events: list[TaskEvent] = Field(default_factory=list)
    scene_map: SceneMap | None = None

    def paths(self) -> dict[str, list[tuple[float, float]]]:
        """Each robot's (x, z) path: its start, then where it stood after each of its actions."""
        out = {r.name: [r.start] if r.start else [] for r in self.robots}
        for e in self.events:
            pos: dict[str, Any] | None = e.data.get("position") if e.kind == "action" else None
            if pos and e.robot in out and out[e.robot][-1:] != [(pos["x"], pos["z"])]:
                out[e.robot].append((pos["x"], pos["z"]))
        return out
