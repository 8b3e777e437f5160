"""Robots in the emulator with their scene graph and event stream in a real Redis (test helpers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from robocortex.cerebellum.executor import SubtaskExecutor
from robocortex.cerebellum.perception import nodes_from_metadata
from robocortex.cerebellum.profiles import BUILTIN_PROFILES
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import SkillCall, SubtaskMessage, SubtaskResult
from robocortex.memory.tasks import TaskStore
from robocortex.sim.emulator import EmulatorWorld


@dataclass
class Team:
    """One emulated world, its scene graph seeded from the world (as the world host does)."""

    world: EmulatorWorld
    scene: SceneGraphStore
    tasks: TaskStore

    def oid(self, object_type: str) -> str:
        return next(o["objectId"] for o in self.world.metadata(0)["objects"] if o["objectType"] == object_type)

    def truth(self, object_id: str) -> dict[str, Any]:
        return next(o for o in self.world.metadata(0)["objects"] if o["objectId"] == object_id)

    def robot(self, name: str, agent_id: int, profile: str = "mobile_manipulator", **kw: Any) -> SubtaskExecutor:
        bound = BUILTIN_PROFILES[profile].for_robot(name, agent_id)
        executor = SubtaskExecutor(self.world, bound, self.scene, self.tasks, **kw)
        executor.act("Pass")  # the robot appears in the scene graph
        return executor


def run_steps(robot: SubtaskExecutor, *steps: tuple[str, dict[str, Any]], description: str = "test") -> SubtaskResult:
    message = SubtaskMessage(task_id=f"t-{uuid.uuid4().hex[:8]}", subtask_id="s1", robot=robot.robot,
                             description=description, steps=[SkillCall(skill=s, args=a) for s, a in steps])
    return robot.run(message)


def events_of(team: Team, result: SubtaskResult) -> list[tuple[str, str]]:
    return [(e.kind, e.message) for _, e in team.tasks.events(result.task_id, count=10_000)]


def make_team(r, keys, agents: int, scene_name: str = "Kitchen-0") -> Team:
    world = EmulatorWorld(scene_name, agents)
    scene = SceneGraphStore(r, keys)
    scene.reset(nodes_from_metadata(world.metadata(0)), source=f"world:{scene_name}")
    return Team(world, scene, TaskStore(r, keys))
