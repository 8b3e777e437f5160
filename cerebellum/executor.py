"""The per-subtask executor: observation → thought → action, one skill step at a time.

Before each skill it checks the skill's declared preconditions against the scene graph (the same
check the brain's validator runs), recovers from the common failures (a closed receptacle is
opened first, an out-of-reach target is approached first), acts through the `World`, and turns
every observation into scene-graph deltas. Every thought, action and observation goes to the
task's event stream.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from memory.scene_graph import SceneGraphStore
from memory.schemas import (
    RobotProfile,
    SkillCall,
    SubtaskMessage,
    SubtaskResult,
    TaskEvent,
)
from memory.tasks import TaskStore
from sim.world import World

from cerebellum.navigation import GridMap, NavigationError, Navigator
from cerebellum.perception import changed_only, observe
from cerebellum.skills import IN_RECEPTACLES, SKILLS, SymbolicWorld, get_skill

log = logging.getLogger("robocortex.cerebellum")

# Skills that are a single AI2-THOR action on their target.
_ONE_ACTION = {
    "pick_up": ("PickupObject", "object"),
    "put": ("PutObject", "receptacle"),
    "open": ("OpenObject", "object"),
    "close": ("CloseObject", "object"),
    "toggle_on": ("ToggleObjectOn", "object"),
    "toggle_off": ("ToggleObjectOff", "object"),
    "slice": ("SliceObject", "object"),
    "break": ("BreakObject", "object"),
    "clean": ("CleanObject", "object"),
    "empty": ("EmptyLiquidFromObject", "object"),
}


class SkillFailed(Exception):
    def __init__(self, message: str, kind: str = "action_failed"):
        super().__init__(message)
        self.kind = kind


@dataclass
class ExecutionStats:
    actions: int = 0
    failed_actions: int = 0
    path: list[tuple[float, float]] = field(default_factory=list)


class SubtaskExecutor:
    """Runs subtasks for one robot in the shared world."""

    def __init__(
        self,
        world: World,
        profile: RobotProfile,
        scene: SceneGraphStore,
        tasks: TaskStore,
        *,
        max_actions: int = 400,
        max_retries: int = 2,
        on_action: Callable[[], None] | None = None,
    ):
        self.world = world
        self.profile = profile
        self.robot = profile.name
        self.scene = scene
        self.tasks = tasks
        self.max_actions = max_actions
        self.max_retries = max_retries
        self.on_action = on_action or (lambda: None)
        self._known: dict[str, dict[str, Any]] = {}
        self._grid: GridMap | None = None
        self._message: SubtaskMessage | None = None
        self.stats = ExecutionStats()
        self.last_metadata: dict[str, Any] = {}

    # ------------------------------------------------------------------ observation / action

    def act(self, action: str, **params: Any) -> dict[str, Any]:
        """One world action, observed: perception writes what changed to the scene graph."""
        if self.stats.actions >= self.max_actions:
            raise SkillFailed(f"action budget of {self.max_actions} exhausted", kind="timeout")
        md = self.world.step(self.profile.agent_id, action, **params)
        self.stats.actions += 1
        if not md.get("lastActionSuccess"):
            self.stats.failed_actions += 1
        pos = (md.get("agent") or {}).get("position")
        if pos:
            self.stats.path.append((pos["x"], pos["z"]))
        was_held = [o["objectId"] for o in self.last_metadata.get("inventoryObjects") or []]
        self.last_metadata = md
        delta = changed_only(observe(md, self.robot, self.profile, also=was_held), self._known)
        if delta.patches:
            self.scene.apply(delta)
        self.on_action()
        if action not in ("Pass", "GetReachablePositions", "GetInteractablePoses"):
            self._event("action", f"{action} {params.get('objectId', '')}".strip(),
                        action=action, params=params, success=md.get("lastActionSuccess"),
                        error=md.get("errorMessage") or None)
        return md

    def _event(self, kind: str, message: str, **data: Any) -> None:
        msg = self._message
        if msg is None:
            return
        self.tasks.emit(TaskEvent(kind=kind, task_id=msg.task_id, robot=self.robot,
                                  subtask_id=msg.subtask_id, message=message, data=data))

    def grid(self) -> GridMap:
        if self._grid is None:
            md = self.act("GetReachablePositions")
            if not md.get("lastActionSuccess"):
                raise SkillFailed(md.get("errorMessage") or "no reachable positions", kind="blocked")
            self._grid = GridMap(md.get("actionReturn") or [])
        return self._grid

    def _occupied(self) -> set[tuple[int, int]]:
        grid = self.grid()
        return {
            grid.cell_of(n.position.model_dump())
            for n in self.scene.snapshot().robots()
            if n.id != self.robot and n.position is not None
        }

    # ------------------------------------------------------------------ the loop

    def run(self, message: SubtaskMessage, cancelled: Callable[[], bool] = lambda: False) -> SubtaskResult:
        self._message = message
        self.stats = ExecutionStats()
        started = time.time()
        self._event("thought", f"starting: {message.description}", steps=[s.model_dump() for s in message.steps])
        result = dict(success=True, error=None, failure_kind=None)
        try:
            if self.stats.actions == 0:
                self.act("Pass")  # first observation of this subtask
            if not message.steps:
                raise SkillFailed(
                    "subtask has no skill steps and this robot has no model for free-text subtasks", kind="precondition"
                )
            for step in message.steps:
                if cancelled():
                    raise SkillFailed("task cancelled", kind="cancelled")
                self.run_step(step)
        except SkillFailed as exc:
            result = dict(success=False, error=str(exc), failure_kind=exc.kind)
        except NavigationError as exc:
            result = dict(success=False, error=str(exc), failure_kind=exc.kind)
        observation = self._summary()
        self._event("observation", observation, success=result["success"], error=result["error"])
        return SubtaskResult(
            task_id=message.task_id, subtask_id=message.subtask_id, attempt=message.attempt, robot=self.robot,
            observation=observation, actions=self.stats.actions, failed_actions=self.stats.failed_actions,
            started_at=started, finished_at=time.time(), **result,
        )

    def _summary(self) -> str:
        held = [o["objectId"] for o in self.last_metadata.get("inventoryObjects") or []]
        return f"holding {held[0] if held else 'nothing'}; last action " + (
            "succeeded" if self.last_metadata.get("lastActionSuccess") else
            f"failed: {self.last_metadata.get('errorMessage') or 'unknown'}"
        )

    def _symbolic(self) -> tuple[SymbolicWorld, dict[str, Any]]:
        world = SymbolicWorld.from_snapshot(self.scene.snapshot())
        robot = world.get(self.robot)
        if robot is None:
            robot = world.nodes[self.robot] = {"id": self.robot, "kind": "robot"}
        robot.update(self.profile.model_dump(include={"skills", "payload_kg", "mobility"}), id=self.robot)
        return world, robot

    def run_step(self, step: SkillCall) -> None:
        if step.skill not in SKILLS:
            raise SkillFailed(f"unknown skill {step.skill!r}", kind="precondition")
        skill = get_skill(step.skill)
        if skill.name not in self.profile.skills:
            raise SkillFailed(f"{self.robot} has no skill {skill.name}", kind="precondition")
        try:
            args = skill.parse_args(step.args)
        except ValueError as exc:
            raise SkillFailed(str(exc), kind="precondition") from None
        for attempt in range(self.max_retries + 1):
            world, robot = self._symbolic()
            problems = skill.check(world, robot, args)
            if problems:
                if attempt < self.max_retries and self._recover_precondition(skill.name, args, problems, world):
                    continue
                raise SkillFailed("; ".join(problems), kind=_classify_problem(problems))
            self._event("thought", f"{skill.name} {args.model_dump()}", skill=skill.name, args=args.model_dump())
            error = self._perform(skill.name, args)
            if error is None:
                return
            self._event("thought", f"{skill.name} failed ({error}); retrying", attempt=attempt + 1)
            if attempt < self.max_retries and self._recover_action(skill.name, args, error):
                continue
            raise SkillFailed(f"{skill.name} failed: {error}", kind="action_failed")
        raise SkillFailed(f"{skill.name}: gave up after {self.max_retries} retries", kind="action_failed")

    # ------------------------------------------------------------------ skill → actions

    def _reach(self, object_id: str) -> None:
        """Approach `object_id` unless it is already visible and interactable."""
        if self.profile.mobility != "mobile":
            return
        obj = next((o for o in self.last_metadata.get("objects") or [] if o["objectId"] == object_id), None)
        if obj and obj.get("visible") and obj.get("isInteractable", True):
            return
        Navigator(self.act, self.grid()).go_to(object_id, self._occupied)

    def _perform(self, skill: str, args: Any) -> str | None:
        """Run the skill's actions; returns the world's error message, or None on success."""
        if skill == "navigate_to":
            Navigator(self.act, self.grid()).go_to(args.object, self._occupied)
            return None
        if skill == "explore":
            for _ in range(4):
                self.act("RotateRight")
            return None
        if skill == "drop":
            md = self.act("DropHandObject")
            return None if md.get("lastActionSuccess") else md.get("errorMessage") or "DropHandObject failed"
        if skill in _ONE_ACTION:
            action, arg = _ONE_ACTION[skill]
            target = getattr(args, arg)
            self._reach(target)
            md = self.act(action, objectId=target)
            return None if md.get("lastActionSuccess") else md.get("errorMessage") or f"{action} failed"
        if skill == "fill":
            self._reach(args.object)
            md = self.act("FillObjectWithLiquid", objectId=args.object, fillLiquid=args.liquid)
            return None if md.get("lastActionSuccess") else md.get("errorMessage") or "fill failed"
        if skill == "cook":
            return self._cook(args.object, args.appliance)
        raise SkillFailed(f"skill {skill} has no action mapping", kind="other")

    def _cook(self, food: str, appliance: str) -> str | None:
        self._reach(appliance)
        world, _ = self._symbolic()
        app = world.get(appliance) or {}
        held = [o["objectId"] for o in self.last_metadata.get("inventoryObjects") or []]
        if food in held:
            if app.get("openable") and not app.get("isOpen"):
                self.act("OpenObject", objectId=appliance)
            md = self.act("PutObject", objectId=appliance)
            if not md.get("lastActionSuccess"):
                return md.get("errorMessage") or "could not put the food in the appliance"
            if app.get("openable"):
                self.act("CloseObject", objectId=appliance)
        switch = appliance if app.get("toggleable") else _knob_for(world, appliance)
        if switch is None:
            md = self.act("CookObject", objectId=food)
            return None if md.get("lastActionSuccess") else md.get("errorMessage") or "CookObject failed"
        md = self.act("ToggleObjectOn", objectId=switch)
        if not md.get("lastActionSuccess"):
            return md.get("errorMessage") or "could not switch the appliance on"
        self.act("ToggleObjectOff", objectId=switch)
        return None

    # ------------------------------------------------------------------ recovery

    def _recover_precondition(self, skill: str, args: Any, problems: list[str], world: SymbolicWorld) -> bool:
        for p in problems:
            if "open it first" in p:
                closed = p.split("inside closed ")[-1].split(";")[0] if "inside closed" in p else getattr(args, "receptacle", None)
                if closed and "open" in self.profile.skills:
                    self._event("thought", f"{closed} is closed: opening it first")
                    self.run_step(SkillCall(skill="open", args={"object": closed}))
                    return True
        return False

    def _recover_action(self, skill: str, args: Any, error: str) -> bool:
        target = getattr(args, "object", None) or getattr(args, "receptacle", None)
        if target and self.profile.mobility == "mobile":
            self._event("thought", f"re-approaching {target} before retrying")
            try:
                Navigator(self.act, self.grid()).go_to(target, self._occupied)
            except NavigationError:
                return False
            return True
        return False


def _knob_for(world: SymbolicWorld, burner: str) -> str | None:
    for node in world.nodes.values():
        if node.get("objectType") == "StoveKnob" and burner in (node.get("controlledObjects") or []):
            return node["id"]
    return None


def _classify_problem(problems: list[str]) -> str:
    text = " ".join(problems)
    if "unknown object" in text:
        return "object_missing"
    return "precondition"


__all__ = ["SubtaskExecutor", "SkillFailed", "IN_RECEPTACLES"]
