"""The per-subtask executor: observation → thought → action, one skill step at a time.

Before each skill it checks the skill's declared preconditions against the scene graph (the same
check the brain's validator runs); it acts through the `World` and turns every observation into
scene-graph deltas. Failures are typed (a `Failure`: code — precondition, action_failed,
object_missing, blocked, timeout, cancelled —, the step, the skill call and details such as the
world's raw error; anything unexpected the world does — an exception from a step — ends the subtask
with code `other` and `details.problem = "unexpected_world_state"`, never an exception out of the
worker; only a Redis outage propagates, for the worker to wait out) and met with bounded alternatives chosen by those types, never by reading the
message: open the closed receptacle first, approach again, look around, take another instance of
the same type. A subtask without steps goes to the
model's tool-calling loop (reasoner.py) when the robot has one. Every thought, action and
observation goes to the task's event stream.

Resuming: with a `StepProgress` (the dispatcher), each finished step is recorded as soon as its
last world action is observed, so a subtask resumed after a crash starts after its last finished
step; and on a resumed delivery a step whose effect already holds in the scene graph (the gap
between a step's last action and its record) is skipped, never repeated.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from pydantic import BaseModel

from robocortex.memory.connection import is_outage
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import (
    Failure,
    FailureCode,
    FailureKind,
    RobotProfile,
    Scalar,
    SkillCall,
    SubtaskMessage,
    SubtaskResult,
    TaskEvent,
)
from robocortex.memory.tasks import TaskStore
from robocortex.sim.world import World

from robocortex.cerebellum.actions import perform
from robocortex.cerebellum.navigation import Cell, GridMap, NavigationError, Navigator
from robocortex.cerebellum.perception import changed_only, observe
from robocortex.cerebellum.skills import SKILLS, Skill, SymbolicWorld, get_skill, problem_code

if TYPE_CHECKING:
    from robocortex.cerebellum.mcp_skills import McpSkills
    from robocortex.cerebellum.reasoner import Reasoner
    from robocortex.cerebellum.policy import PolicyClient
    from robocortex.cerebellum.vision import VisionAnswer, VisionClient

log = logging.getLogger("robocortex.cerebellum")

_QUIET_ACTIONS = frozenset({"Pass", "GetReachablePositions", "GetInteractablePoses"})


class StepProgress(Protocol):
    """Where an attempt's finished steps are recorded (memory's Dispatcher implements it)."""

    def steps_done(self, message: SubtaskMessage) -> int: ...

    def step_done(self, message: SubtaskMessage, finished: int) -> None: ...


# What a step's effect is judged by when deciding whether it already holds (temperature and the
# like drift on their own; positions are not effects).
_OUTCOME_FIELDS = ("holding", "isPickedUp", "isOpen", "isToggled", "isSliced", "isBroken", "isDirty",
                   "isFilledWithLiquid", "isCooked")
_NEVER_SKIPPED = frozenset({"navigate_to", "explore"})  # moving and looking have no lasting effect to check
_RELEASES = frozenset({"put", "drop"})  # steps whose effect is judged from what an earlier step picked up


class SkillFailed(Exception):
    """A step that did not work: the sentence for people, and the typed parts for programs.

    `skill`/`call_args` are the call that failed (set where it failed; the innermost call wins),
    `problems` the unmet preconditions as the skill checks returned them, `details` the rest
    (the world's raw error, what was held…)."""

    def __init__(self, message: str, kind: FailureCode = "action_failed", *, problems: list[str] | None = None,
                 details: dict[str, Scalar] | None = None):
        super().__init__(message)
        self.kind: FailureCode = kind
        self.problems: list[str] = list(problems or [])
        self.details: dict[str, Scalar] = dict(details or {})
        self.skill: str | None = None
        self.call_args: dict[str, Scalar] = {}

    def at(self, skill: str, args: dict[str, Any]) -> "SkillFailed":
        """This failure, located at the skill call that raised it (unless an inner call already is)."""
        if self.skill is None:
            self.skill = skill
            self.call_args = {k: v for k, v in args.items() if v is None or isinstance(v, (str, int, float, bool))}
        return self

    def closed(self) -> str | None:
        """The closed receptacle a precondition says must be opened first, if that is the problem."""
        return next((getattr(p, "object", None) for p in self.problems if problem_code(p) == "closed"), None)

    def failure(self, step_index: int | None, held: str | None) -> Failure:
        details: dict[str, Scalar] = {k: v for k, v in self.call_args.items() if k in _OBJECT_ARGS}
        if held is not None:
            details["held"] = held
        first = next(iter(self.problems), None)
        if first is not None:
            details["problem"] = problem_code(first)
            if getattr(first, "object", None):
                details["problem_object"] = first.object  # type: ignore[attr-defined]
        details.update(self.details)
        return Failure(code=self.kind, step_index=step_index, skill=self.skill, args=self.call_args, details=details)


_OBJECT_ARGS = ("object", "receptacle", "appliance")  # skill arguments that name objects


@dataclass
class ExecutionStats:
    actions: int = 0
    failed_actions: int = 0
    path: list[tuple[float, float]] = field(default_factory=list)


class SubtaskExecutor:
    """Runs subtasks for one robot in the shared world.

    `claim(object_id)` is asked before the executor switches to another instance of a type
    (the worker reserves it); `reasoner` runs subtasks that come with only a description.
    """

    def __init__(
        self,
        world: World,
        profile: RobotProfile,
        scene: SceneGraphStore,
        tasks: TaskStore,
        *,
        reasoner: Reasoner | None = None,
        claim: Callable[[str], bool] = lambda object_id: True,
        max_actions: int = 400,
        max_retries: int = 2,
        time_limit_s: float = 300.0,
        vision: VisionClient | None = None,
        policy: PolicyClient | None = None,
        mcp: McpSkills | None = None,
    ):
        self.world = world
        self.profile = profile
        self.robot = profile.name
        self.scene = scene
        self.tasks = tasks
        self.reasoner = reasoner
        self.claim = claim
        self.max_actions = max_actions
        self.max_retries = max_retries
        self.time_limit_s = time_limit_s
        self.stats = ExecutionStats()
        self.last_metadata: dict[str, Any] = {}
        self._known: dict[str, dict[str, Any]] = {}
        self._grid = GridMap()
        self._message: SubtaskMessage | None = None
        self._cancelled: Callable[[], bool] = lambda: False
        self._deadline = float("inf")
        self._aliases: dict[str, str] = {}
        self._explored = False
        self.vision = vision
        self.policy = policy  # skills run by an external policy server
        self.mcp = mcp  # skills served by MCP servers (cerebellum/mcp_skills.py)
        self._points: dict[str, tuple[tuple[float, float], int]] = {}  # object → (x, y), at which action count
        self._pointing: str | None = None  # the object an x, y action is meant for

    @property
    def observed(self) -> set[str]:
        """Every node this robot has written to the scene graph (objects it saw or handled)."""
        return set(self._known) - {self.robot}

    # ------------------------------------------------------------------ observation / action

    def act(self, action: str, **params: Any) -> dict[str, Any]:
        """One world action, observed: perception writes what changed to the scene graph."""
        if self._cancelled():
            raise SkillFailed("task cancelled", kind="cancelled")
        if self.stats.actions >= self.max_actions:
            raise SkillFailed(f"action budget of {self.max_actions} exhausted", kind="timeout")
        if time.monotonic() > self._deadline:
            raise SkillFailed(f"time limit of {self.time_limit_s:.0f} s exhausted", kind="timeout")
        md = self.world.step(self.profile.agent_id, action, **params)
        self.stats.actions += 1
        if not md.get("lastActionSuccess"):
            self.stats.failed_actions += 1
        pos = (md.get("agent") or {}).get("position")
        if pos:
            self.stats.path.append((pos["x"], pos["z"]))
        was_held = [o["objectId"] for o in self.last_metadata.get("inventoryObjects") or []]
        self.last_metadata = md
        acted_on = [params["objectId"]] if action not in _QUIET_ACTIONS and "objectId" in params else []
        by_point = "x" in params and "y" in params and "z" not in params and "objectId" not in params
        if by_point and self._pointing:
            acted_on, self._pointing = [self._pointing], None
        delta = changed_only(observe(md, self.robot, self.profile, also=was_held, acted_on=acted_on), self._known)
        if delta.patches:
            self.scene.apply(delta)
        if action not in _QUIET_ACTIONS:
            where = params.get("objectId") or (f"at x={params['x']:.3f}, y={params['y']:.3f}" if by_point else "")
            self.event("action", f"{action} {where}".strip(),
                       action=action, params=params, success=md.get("lastActionSuccess"),
                       error=md.get("errorMessage") or None, position=pos)
        return md

    def event(self, kind: str, message: str, **data: Any) -> None:
        msg = self._message
        if msg is None:
            return
        self.tasks.emit(TaskEvent(kind=kind, task_id=msg.task_id, robot=self.robot,
                                  subtask_id=msg.subtask_id, message=message, data=data))

    def holding(self) -> str | None:
        held = self.last_metadata.get("inventoryObjects") or []
        return held[0]["objectId"] if held else None

    def summary(self) -> str:
        md = self.last_metadata
        last = "succeeded" if md.get("lastActionSuccess") else f"failed: {md.get('errorMessage') or 'unknown'}"
        return f"holding {self.holding() or 'nothing'}; last action {last}"

    def symbolic(self) -> tuple[SymbolicWorld, dict[str, Any]]:
        """The scene graph as a mutable copy, with this robot's node carrying its profile."""
        world = SymbolicWorld.from_snapshot(self.scene.snapshot())
        robot = world.nodes.setdefault(self.robot, {"id": self.robot, "kind": "robot"})
        robot.update(self.profile.model_dump(include={"skills", "payload_kg", "mobility"}), id=self.robot)
        return world, robot

    # ------------------------------------------------------------------ moving

    def _navigator(self) -> Navigator:
        return Navigator(self.act, self._grid, on_replan=lambda why: self.event("thought", why))

    def _occupied(self) -> set[Cell]:
        return {
            self._grid.cell_of(n.position.model_dump())
            for n in self.scene.snapshot().robots()
            if n.id != self.robot and n.position is not None
        }

    def go_to(self, object_id: str) -> None:
        if self.profile.mobility != "mobile":
            raise SkillFailed(f"{self.robot} cannot move", kind="precondition")
        self._navigator().go_to(object_id, self._occupied)

    def reach(self, object_id: str) -> None:
        """Get `object_id` in view and within reach: walk there, or (fixed base) turn to it."""
        obj = next((o for o in self.last_metadata.get("objects") or [] if o["objectId"] == object_id), None)
        if obj and obj.get("visible") and obj.get("isInteractable", True):
            return
        if self.profile.mobility == "mobile":
            self.go_to(object_id)
        else:
            self._navigator().turn_to(object_id)

    # ------------------------------------------------------------------ the loop

    def run(self, message: SubtaskMessage, cancelled: Callable[[], bool] = lambda: False,
            progress: StepProgress | None = None, resumed: bool = False) -> SubtaskResult:
        """Run the subtask's steps. With `progress`, steps already recorded as finished are not run
        again and each newly finished step is recorded; with `resumed` (a redelivery), a step whose
        effect already holds in the scene graph is skipped."""
        self._message, self._cancelled, self._aliases, self._explored = message, cancelled, {}, False
        self._points = {}
        self._deadline = time.monotonic() + self.time_limit_s
        self.stats = ExecutionStats()
        started = time.time()
        self.event("thought", f"starting: {message.description}", steps=[s.model_dump() for s in message.steps])
        outcome: dict[str, Any] = dict(success=True, error=None, failure=None)
        step_index: int | None = None
        try:
            self.act("Pass")  # first observation of this subtask
            if message.steps:
                first = progress.steps_done(message) if progress is not None else 0
                if first:
                    self.event("thought", f"resuming after step {first} of {len(message.steps)}: finished "
                               "steps are not repeated", resumed_at=first)
                for step_index, step in enumerate(message.steps):
                    if step_index < first:
                        continue
                    if (resumed or first) and self.effect_holds(step, message.steps[:step_index]):
                        self.event("thought", f"step {step_index} ({step.skill}) already holds in the scene "
                                   "graph: skipped", skill=step.skill, step_index=step_index, skipped=True)
                    else:
                        self.run_step(step)
                    if progress is not None:
                        progress.step_done(message, step_index + 1)
            elif self.reasoner is not None:
                self.reasoner.run(self, message)
            else:
                raise SkillFailed("the subtask has no skill steps and this robot has no model for "
                                  "free-text subtasks", kind="precondition")
        except SkillFailed as exc:
            outcome = dict(success=False, error=str(exc), failure=exc.failure(step_index, self.holding()))
        except Exception as exc:  # noqa: BLE001 - whatever the world does, the subtask ends in a typed result
            if is_outage(exc):
                raise  # Redis is away: the worker waits it out and resumes this subtask
            log.exception("%s: unexpected error in %s", self.robot, message.key)
            failed = SkillFailed(f"unexpected world state: {type(exc).__name__}: {exc}", kind="other",
                                 details={"problem": "unexpected_world_state", "error_type": type(exc).__name__})
            if step_index is not None and step_index < len(message.steps):
                step = message.steps[step_index]
                failed.at(step.skill, step.args)
            outcome = dict(success=False, error=str(failed), failure=failed.failure(step_index, self.holding()))
        observation = self.summary()
        self.event("observation", observation, success=outcome["success"], error=outcome["error"])
        return SubtaskResult(
            task_id=message.task_id, subtask_id=message.subtask_id, attempt=message.attempt, robot=self.robot,
            observation=observation, actions=self.stats.actions, failed_actions=self.stats.failed_actions,
            started_at=started, finished_at=time.time(), **outcome,
        )

    def effect_holds(self, step: SkillCall, earlier: list[SkillCall]) -> bool:
        """True if what `step` would change already is so in the scene graph: applying the skill's
        effect to the graph changes none of the outcome fields. A put or drop is judged as if the
        robot still held what the last earlier pick_up took (it holds nothing now, the object is
        where the step puts it). Moving and exploring are never skipped."""
        if step.skill in _NEVER_SKIPPED or step.skill not in SKILLS:
            return False
        skill = get_skill(step.skill)
        try:
            args = skill.parse_args({k: self._aliases.get(v, v) if isinstance(v, str) else v
                                     for k, v in step.args.items()})
        except ValueError:
            return False
        now, _ = self.symbolic()
        before = now.copy()
        robot = before.nodes[self.robot]
        if step.skill in _RELEASES:
            held = next((s.args.get("object") for s in reversed(earlier) if s.skill == "pick_up"), None)
            if robot.get("holding") or not isinstance(held, str) or before.get(held) is None:
                return False
            before.set_parent(held, None)
            before.nodes[held]["isPickedUp"] = True
            robot["holding"] = held
        after = before.copy()
        try:
            skill.apply(after, after.nodes[self.robot], args)
        except Exception:  # the effect cannot even be applied here: run the step and let it report
            return False
        for node_id, node in after.nodes.items():
            old, current = before.nodes.get(node_id) or {}, now.nodes.get(node_id)
            for name in _OUTCOME_FIELDS:
                if node.get(name) != old.get(name) and (current is None or current.get(name) != node.get(name)):
                    return False
            if _parents(node) != _parents(old) and (current is None or not _parents(node) <= _parents(current)):
                return False
        return True

    def run_step(self, step: SkillCall) -> None:
        """Check, act, observe; on failure try the alternatives, a bounded number of times.
        A failure leaves located at the skill call that failed (`SkillFailed.at`)."""
        raw = {k: self._aliases.get(v, v) if isinstance(v, str) else v for k, v in step.args.items()}
        try:
            self._run_step(step.skill, raw)
        except SkillFailed as exc:
            raise exc.at(step.skill, raw)

    def _run_step(self, name: str, raw: dict[str, Any]) -> None:
        skill = self._skill(name)
        try:
            args = skill.parse_args(raw)
        except ValueError as exc:
            raise SkillFailed(str(exc), kind="precondition") from None
        if self.vision is not None:
            args = self._by_sight(skill, args)
        for attempt in range(self.max_retries + 1):
            last_try = attempt == self.max_retries
            world, robot = self.symbolic()
            problems = skill.check(world, robot, args)
            if problems:
                failure = SkillFailed("; ".join(problems), kind=_classify(problems), problems=problems)
            else:
                self.event("thought", f"{skill.name} {args.model_dump()}", skill=skill.name, args=args.model_dump())
                failure = self._attempt(skill, args)
                if failure is None:
                    self.event("observation", f"{skill.name} done; {self.summary()}", skill=skill.name)
                    return
            if last_try:
                raise failure.at(skill.name, args.model_dump())
            self.event("thought", f"{skill.name} failed ({failure.kind}): {failure}; trying an alternative",
                       skill=skill.name, attempt=attempt + 1, failure_kind=failure.kind)
            alternative = self._alternative(skill, args, failure, world)
            if alternative is None:
                raise failure.at(skill.name, args.model_dump())
            args = alternative
        raise AssertionError("unreachable: the last attempt raises")

    def _skill(self, name: str) -> Skill:
        if name not in SKILLS:
            raise SkillFailed(f"unknown skill {name!r}; known skills: {', '.join(SKILLS)}", kind="precondition")
        if name not in self.profile.skills:
            raise SkillFailed(f"{self.robot} has no skill {name} (it has: {', '.join(self.profile.skills)})",
                              kind="precondition")
        return get_skill(name)

    def _attempt(self, skill: Skill, args: BaseModel) -> SkillFailed | None:
        try:
            if skill.source.kind == "mcp":
                return self._attempt_mcp(skill, args)
            if self.policy is not None and self.policy.handles(skill.name):
                description = self._message.description if self._message is not None else ""
                error = self.policy.run(self, skill.name, args.model_dump(), description)
            else:
                error = perform(self, skill.name, args)
        except NavigationError as exc:
            return SkillFailed(str(exc), kind=exc.kind)  # type: ignore[arg-type]
        if error is None:
            return None
        kind, world_code = classify_world_error(error)
        return SkillFailed(f"{skill.name} failed: {error}", kind=kind,
                           details={"world_error": error, "world_code": world_code})

    def _attempt_mcp(self, skill: Skill, args: BaseModel) -> SkillFailed | None:
        """A skill an MCP server serves: reach its targets, call the tool, observe what it changed.
        The tool's outcome is typed already (cerebellum/mcp_skills.py); a server that is slow or gone
        fails this step only."""
        if self.mcp is None or not self.mcp.handles(skill.name):
            return SkillFailed(f"{skill.name}: no MCP server of {self.robot} serves it", kind="precondition",
                               details={"skill_source": "mcp", "problem": "skill_server_unavailable"})
        for target in skill.target_ids(args):
            if isinstance(target, str):
                self.reach(target)
        call = args.model_dump(exclude_none=True)
        server = self.mcp.skill_server[skill.name]
        self.event("action", f"{skill.name} via MCP server {server}", skill=skill.name, mcp_server=server, args=call)
        outcome = self.mcp.call(skill.name, call)
        self.event("observation", f"{skill.name}: {outcome.text}" if outcome.text else f"{skill.name}: no reply text",
                   skill=skill.name, mcp_server=server, success=outcome.ok, failure_kind=outcome.code,
                   result=outcome.structured if outcome.structured is not None else outcome.text)
        self.act("Pass")  # what the server did to the world, observed and written to the scene graph
        if outcome.ok:
            return None
        details = {k: v for k, v in outcome.details.items() if v is None or isinstance(v, (str, int, float, bool))}
        return SkillFailed(f"{skill.name} failed: {outcome.text}", kind=outcome.code or "action_failed",
                           details=details)

    # ------------------------------------------------------------------ sight (vision roles)

    def frames(self) -> Any:
        """This robot's camera frames now, when its world renders them (else None)."""
        frames = getattr(self.world, "frames", None)
        return None if frames is None else frames(self.profile.agent_id)

    def ask_vision(self, role: str, query: str, frames: Any) -> VisionAnswer | None:
        """One call of a vision role on `frames`; the call, its image reference, thinking and answer
        become a `vision` event. None when the call fails (also an event)."""
        from robocortex.cerebellum.vision import VisionError

        assert self.vision is not None
        try:
            answer = self.vision.ask(role, query, frames.frame)  # type: ignore[arg-type]
        except VisionError as exc:
            self.event("vision", f"{role} failed: {exc}", role=role, query=query, error=str(exc))
            return None
        self.event("vision", f"{role} {query!r}: {answer.answer}", **answer.event_data())
        return answer

    def _by_sight(self, skill: Skill, args: BaseModel) -> BaseModel:
        """Targets the scene graph does not know by id (a description, a stale id) are looked for in
        the camera frame: grounding (pointing for a put's free spot) → the object under the answer
        in the segmentation frame; the step then acts on it by image coordinates."""
        from robocortex.cerebellum.vision import describe

        for name in skill.targets:
            value = getattr(args, name)
            if not isinstance(value, str) or self.scene.node(value) is not None:
                continue
            role = "pointing" if skill.name == "put" and "|" not in value and self.vision.has("pointing") else "grounding"
            if not self.vision.has(role):  # type: ignore[union-attr]
                continue
            found = self._find_by_sight(value, role)
            if found is None:
                self.event("thought", f"{describe(value)!r} is not in my camera frame", unresolved=value, role=role)
                continue
            object_id, point = found
            self._aliases[value] = object_id
            self._points[object_id] = (point, self.stats.actions)
            self.event("thought", f"{value!r} is {object_id} at x={point[0]:.3f}, y={point[1]:.3f} of my frame",
                       resolved=value, by=object_id, x=point[0], y=point[1], role=role)
            args = args.model_copy(update={name: object_id})
        return args

    def _find_by_sight(self, name: str, role: str) -> tuple[str, tuple[float, float]] | None:
        from robocortex.cerebellum.actions import LOOK_AROUND_TURNS
        from robocortex.cerebellum.vision import centre_of, describe, object_in_box, type_hint

        for turn in range(LOOK_AROUND_TURNS):
            if turn:
                self.act("RotateRight")
            frames = self.frames()
            if frames is None:
                return None
            answer = self.ask_vision(role, describe(name), frames)
            if answer is None:
                continue
            for point in answer.points:
                object_id = frames.object_at(*point)
                if object_id is not None:
                    return object_id, point
            if answer.box is not None:
                object_id = object_in_box(frames, answer.box, type_hint(name))
                if object_id is not None:
                    x1, y1, x2, y2 = answer.box
                    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
                    point = centre if frames.object_at(*centre) == object_id else centre_of(frames, object_id)
                    return object_id, point  # type: ignore[return-value]
        return None

    def point_for(self, object_id: str, skill: str) -> tuple[float, float] | None:
        """Image coordinates to act on `object_id` with, or None to act by id: objects found by sight
        (found again in the current frame if the robot moved since), and any pick when an affordance
        role is configured (the centre of its grasp box, when that lies on the object)."""
        from robocortex.cerebellum.vision import centre_of, describe

        if self.vision is None:
            return None
        wants_grasp = skill == "pick_up" and self.vision.has("affordance")
        if object_id not in self._points and not wants_grasp and not (skill == "pick_up" and self.vision.has("trajectory")):
            return None
        frames = self.frames()
        if frames is None:
            return None
        point = centre_of(frames, object_id)
        if object_id in self._points and self._points[object_id][1] == self.stats.actions:
            point = self._points[object_id][0]
        if skill == "pick_up" and self.vision.has("trajectory"):  # recorded: the emulator's hand follows no path
            self.ask_vision("trajectory", f"reach for the {describe(object_id)}", frames)
        if wants_grasp:
            answer = self.ask_vision("affordance", f"pick up the {describe(object_id)}", frames)
            if answer is not None and answer.box is not None:
                x1, y1, x2, y2 = answer.box
                grasp = ((x1 + x2) / 2, (y1 + y2) / 2)
                if frames.object_at(*grasp) == object_id:
                    point = grasp
        if point is None:
            return None
        self._pointing = object_id
        return point

    # ------------------------------------------------------------------ alternatives

    def _alternative(self, skill: Skill, args: BaseModel, failure: SkillFailed,
                     world: SymbolicWorld) -> BaseModel | None:
        """What to try next (the same or new arguments), or None when nothing is left to try."""
        if failure.kind == "precondition" and failure.closed():
            closed = failure.closed()
            if "open" in self.profile.skills:
                self.event("thought", f"{closed} is closed: opening it first")
                self.run_step(SkillCall(skill="open", args={"object": closed}))
                return args
            return None
        if failure.kind == "object_missing":
            if "explore" in self.profile.skills and not self._explored:
                self._explored = True
                self.event("thought", "looking around for the missing object")
                self.run_step(SkillCall(skill="explore"))
                if all(self.scene.node(oid) is not None for oid in skill.target_ids(args)):
                    return args
            return self._other_instance(skill, args, world, failure)
        if failure.kind == "blocked":
            return self._other_instance(skill, args, world, failure)
        if failure.kind == "action_failed":
            target = next(iter(skill.target_ids(args)), None)
            if target and self.profile.mobility == "mobile" and skill.name != "navigate_to":
                self.event("thought", f"approaching {target} again before retrying")
                try:
                    self.go_to(target)
                except NavigationError:
                    return self._other_instance(skill, args, world, failure)
                return args
        return None

    def _other_instance(self, skill: Skill, args: BaseModel, world: SymbolicWorld,
                        failure: SkillFailed) -> BaseModel | None:
        """The same skill on another object of the same type that this robot may claim."""
        for name in skill.targets:
            old = getattr(args, name)
            wanted = (world.get(old) or {}).get("objectType") or old.split("|")[0]
            tried = {old, *self._aliases, *self._aliases.values()}
            candidates = sorted(world.objects_of_type(wanted),
                                key=lambda n: (world.enclosed_by_closed(n["id"]) is not None, n["id"]))
            for node in candidates:
                if node["id"] in tried or node.get("isPickedUp") or not self.claim(node["id"]):
                    continue
                self._aliases[old] = node["id"]
                self.event("thought", f"{old} will not do ({failure.kind}); using {node['id']} instead",
                           replaced=old, by=node["id"])
                return args.model_copy(update={name: node["id"]})
        return None


def _parents(node: dict[str, Any]) -> set[str]:
    return {r["target"] for r in node.get("relations") or [] if r.get("rel") in ("in", "on")}


def _classify(problems: list[str]) -> FailureKind:
    """The failure code of unmet preconditions, from the problems' own codes."""
    codes = {problem_code(p) for p in problems}
    if "unknown_object" in codes:
        return "object_missing"
    if "out_of_reach" in codes:
        return "blocked"
    return "precondition"


# The world's errorMessage classified: (text it contains, failure code, world code). This is the one
# place the world's own words are read; everything downstream uses the codes. AI2-THOR words an unknown
# objectId two ways: "Object ID appears to be invalid." (the emulator, older AI2-THOR) and
# "objectId: <id> is not the objectId on any object in the scene!" (ai2thor 5).
WORLD_ERRORS: tuple[tuple[str, FailureCode, str], ...] = (
    ("appears to be invalid", "object_missing", "invalid_object"),
    ("is not the objectid on any object", "object_missing", "invalid_object"),
    ("blocking", "blocked", "blocked"),
    ("no valid positions to place object", "action_failed", "no_room"),
    ("is not a valid object type to be placed in", "action_failed", "wrong_receptacle"),
)


def classify_world_error(error: str) -> tuple[FailureCode, str]:
    """(failure code, world code) of the world's errorMessage; ("action_failed", "other") when unknown."""
    lowered = error.lower()
    return next(((code, world) for text, code, world in WORLD_ERRORS if text in lowered), ("action_failed", "other"))


def _kind_of_world_error(error: str) -> FailureKind:
    return classify_world_error(error)[0]


__all__ = ["SubtaskExecutor", "SkillFailed", "ExecutionStats", "StepProgress", "classify_world_error"]
