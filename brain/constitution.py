"""The safety constitution: rules every plan is checked against before dispatch, whoever made it (the
offline/search planner, a model, an operator's edit).

Rules live in a YAML file (`Settings.constitution`; the default is `constitution.yaml` next to this
module, documented in docs/brain.md). Each rule has a unique `name`, a `kind` and an `effect`:
`reject` (the task fails, the rule's name in its reason) or `escalate` (an operator approves the plan
first). Kinds:

- `forbidden_objects`: no step may act on a matching object.
- `forbidden_actions`: no step may use one of `skills` (on a matching object, when `objects` is given).
- `forbidden_placements`: no matching object may be put in/on (or cooked in) a matching receptacle
  ("nothing metal in the microwave": objects by salient material, from the knowledge tables).
- `areas`: no step may act on an object inside a region (a room, or a box on the floor), optionally
  only for some robots or skills.
- `robots`: the named robots may not use `skills` (on `objects`, when given).
- `max_payload`: no pick-up of an object heavier than the robot's payload (× `factor`) or `max_kg`.
- `ask_human`: matches when all of its conditions hold (skills, objects, robots used, more than N
  subtasks or robots); escalates by default.

Pure and typed: `load(path) -> Constitution`, `check(plan, scene, robots, constitution) -> list[Violation]`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from robocortex.knowledge.object_types import OBJECT_TYPES
from robocortex.memory.schemas import RobotProfile, SceneSnapshot, Violation

from robocortex.brain.plan import Plan, PlannedSubtask

DEFAULT_PATH = Path(__file__).with_name("constitution.yaml")
Effect = Literal["reject", "escalate"]

__all__ = ["Constitution", "ConstitutionError", "DEFAULT_PATH", "Rule", "Violation", "check", "default",
           "escalations", "load", "parse", "rejections"]


class ConstitutionError(ValueError):
    """The rule file cannot be read or is not a valid constitution (the message says where)."""


# --------------------------------------------------------------------------- rules


class ObjectMatch(BaseModel):
    """Which objects a rule is about: any listed objectType, objectId or salient material
    (AI2-THOR's salientMaterials: Metal, Glass, Plastic, Wood, Ceramic, Fabric, Food, …). Case-insensitive."""

    model_config = ConfigDict(extra="forbid")

    types: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> "ObjectMatch":
        if not (self.types or self.ids or self.materials):
            raise ValueError("an object match needs at least one of types, ids, materials")
        return self

    def matches(self, obj: "ObjectInfo") -> bool:
        low = {t.lower() for t in self.types}
        mats = {m.lower() for m in self.materials}
        return (obj.type.lower() in low or obj.id in self.ids
                or bool(mats & {m.lower() for m in obj.materials}))

    def describe(self) -> str:
        parts = self.types + self.ids + [f"{m.lower()} objects" for m in self.materials]
        return " or ".join(parts)


class Box(BaseModel):
    """A floor region in world coordinates (metres): min_x ≤ x ≤ max_x and min_z ≤ z ≤ max_z."""

    model_config = ConfigDict(extra="forbid")

    min_x: float
    max_x: float
    min_z: float
    max_z: float

    @model_validator(mode="after")
    def _ordered(self) -> "Box":
        if self.min_x > self.max_x or self.min_z > self.max_z:
            raise ValueError("a box needs min_x <= max_x and min_z <= max_z")
        return self

    def contains(self, x: float, z: float) -> bool:
        return self.min_x <= x <= self.max_x and self.min_z <= z <= self.max_z


class Region(BaseModel):
    """A room (a scene-graph room node's id or name, or an object's `room` field) or a floor box."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    room: str | None = None
    box: Box | None = None

    @model_validator(mode="after")
    def _something(self) -> "Region":
        if self.room is None and self.box is None:
            raise ValueError(f"region {self.name!r} needs a room or a box")
        return self


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="unique; shown in violations and in a rejected task's reason")
    effect: Effect = "reject"
    description: str = ""


class ForbiddenObjects(_Rule):
    kind: Literal["forbidden_objects"]
    objects: ObjectMatch


class ForbiddenActions(_Rule):
    kind: Literal["forbidden_actions"]
    skills: list[str] = Field(min_length=1)
    objects: ObjectMatch | None = None


class ForbiddenPlacements(_Rule):
    kind: Literal["forbidden_placements"]
    objects: ObjectMatch
    receptacles: ObjectMatch


class Areas(_Rule):
    kind: Literal["areas"]
    regions: list[Region] = Field(min_length=1)
    robots: list[str] | None = Field(default=None, description="only these robots (default: every robot)")
    skills: list[str] | None = Field(default=None, description="only these skills (default: every skill)")


class RobotLimits(_Rule):
    kind: Literal["robots"]
    robots: list[str] = Field(min_length=1)
    skills: list[str] | None = Field(default=None, description="the skills they may not use (default: any)")
    objects: ObjectMatch | None = None


class MaxPayload(_Rule):
    kind: Literal["max_payload"]
    factor: float = Field(default=1.0, gt=0, description="limit = robot payload_kg × factor")
    max_kg: float | None = Field(default=None, ge=0, description="an absolute limit for every robot")


class AskHuman(_Rule):
    """Matches a plan when every condition given holds (at least one must be given)."""

    kind: Literal["ask_human"]
    effect: Effect = "escalate"
    skills: list[str] | None = None
    objects: ObjectMatch | None = None
    robots: list[str] | None = None
    min_subtasks: int | None = Field(default=None, ge=1, description="the plan has at least this many subtasks")
    min_robots: int | None = Field(default=None, ge=1, description="the plan uses at least this many robots")

    @model_validator(mode="after")
    def _something(self) -> "AskHuman":
        if all(v is None for v in (self.skills, self.objects, self.robots, self.min_subtasks, self.min_robots)):
            raise ValueError(f"ask_human rule {self.name!r} needs a condition: skills, objects, robots, "
                             "min_subtasks or min_robots")
        return self


Rule = Annotated[ForbiddenObjects | ForbiddenActions | ForbiddenPlacements | Areas | RobotLimits | MaxPayload | AskHuman,
                 Field(discriminator="kind")]


class Constitution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[Any]) -> list[Any]:
        names = [r.name for r in rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dup)}")
        return rules


def parse(data: Any, source: str = "<rules>") -> Constitution:
    """A constitution from the YAML document's data (`{"rules": [...]}`)."""
    if data is None:
        data = {"rules": []}
    try:
        return Constitution.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConstitutionError(f"{source}: {where}: {first['msg']} ({exc.error_count()} error(s))") from None


def load(path: str | Path | None = None) -> Constitution:
    """The rules in `path` (YAML); the shipped default rules when None."""
    p = Path(path) if path else DEFAULT_PATH
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConstitutionError(f"{p}: cannot read the constitution: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConstitutionError(f"{p}: not valid YAML: {exc}") from None
    return parse(data, str(p))


@functools.cache
def default() -> Constitution:
    return load(DEFAULT_PATH)


# --------------------------------------------------------------------------- what a plan does


@dataclass(frozen=True)
class ObjectInfo:
    id: str
    type: str
    materials: tuple[str, ...]
    mass: float
    position: tuple[float, float] | None  # x, z
    rooms: tuple[str, ...]


@dataclass(frozen=True)
class Act:
    """One step as the rules see it: who does what to which object, holding what."""

    subtask: PlannedSubtask
    index: int
    skill: str
    robot: str
    target: ObjectInfo | None  # the object the step acts on (object, receptacle or appliance)
    placed: ObjectInfo | None  # what goes in/on `receptacle`: held object for put, food for cook
    receptacle: ObjectInfo | None


def _type_of(oid: str, node: dict[str, Any] | None) -> str:
    if node and node.get("objectType"):
        return str(node["objectType"])
    last = oid.rpartition("|")[2]  # "Apple|1|2|3|AppleSliced_0" → AppleSliced; "Apple|1|2|3" → Apple
    return last.rsplit("_", 1)[0] if "_" in last else oid.partition("|")[0]


def _rooms(oid: str, nodes: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """The rooms an object is in: its own `room` field, and room nodes (or their names) up its in/on chain."""
    out: list[str] = []
    seen: set[str] = set()
    frontier = [oid]
    while frontier:
        nid = frontier.pop()
        if nid in seen:
            continue
        seen.add(nid)
        node = nodes.get(nid) or {}
        if node.get("room"):
            out.append(str(node["room"]))
        if node.get("kind") == "room":
            out += [nid] + ([str(node["name"])] if node.get("name") else [])
        frontier += [r["target"] for r in node.get("relations", []) if r.get("rel") in ("in", "on")]
    return tuple(out)


def object_info(oid: str, nodes: dict[str, dict[str, Any]]) -> ObjectInfo:
    node = nodes.get(oid)
    otype = _type_of(oid, node)
    known = OBJECT_TYPES.get(otype)
    materials = (node or {}).get("salientMaterials") or (known.materials if known else None) or ()
    mass = (node or {}).get("mass")
    if mass is None:
        mass = known.mass if known else 0.0
    pos = (node or {}).get("position")
    return ObjectInfo(id=oid, type=otype, materials=tuple(materials), mass=float(mass or 0.0),
                      position=(float(pos.get("x", 0.0)), float(pos.get("z", 0.0))) if isinstance(pos, dict) else None,
                      rooms=_rooms(oid, nodes))


def _order(plan: Plan) -> list[PlannedSubtask]:
    dag = nx.DiGraph()
    ids = [s.id for s in plan.subtasks]
    dag.add_nodes_from(ids)
    dag.add_edges_from((d, s.id) for s in plan.subtasks for d in s.depends_on if d in ids)
    try:
        order = list(nx.lexicographical_topological_sort(dag))
    except nx.NetworkXUnfeasible:  # a cycle (the validator reports it): plan order
        order = ids
    by_id = {s.id: s for s in plan.subtasks}
    return [by_id[i] for i in dict.fromkeys(order)]


def acts(plan: Plan, scene: SceneSnapshot) -> Iterator[Act]:
    """Every step of the plan in a dependency order, with what its robot holds when it runs it."""
    nodes = scene.node_dicts()
    holding: dict[str, str | None] = {n.id: n.flag("holding") for n in scene.robots()}
    info = functools.cache(lambda oid: object_info(oid, nodes))
    for st in _order(plan):
        for i, step in enumerate(st.steps):
            args = step.args
            held = holding.get(st.robot)
            target_id = next((args[k] for k in ("object", "receptacle", "appliance") if isinstance(args.get(k), str)), None)
            placed = receptacle = None
            if step.skill == "put" and isinstance(args.get("receptacle"), str):
                receptacle = info(args["receptacle"])
                placed = info(held) if held else None
            elif step.skill == "cook" and isinstance(args.get("appliance"), str):
                receptacle = info(args["appliance"])
                placed = info(args["object"]) if isinstance(args.get("object"), str) else None
            yield Act(st, i, step.skill, st.robot, info(target_id) if target_id else None, placed, receptacle)
            if step.skill == "pick_up" and isinstance(args.get("object"), str):
                holding[st.robot] = args["object"]
            elif step.skill in ("put", "drop"):
                holding[st.robot] = None


# --------------------------------------------------------------------------- the check


def _violation(rule: Any, act: Act | None, message: str) -> Violation:
    if act is None:
        return Violation(rule=rule.name, kind=rule.kind, effect=rule.effect, message=message)
    return Violation(rule=rule.name, kind=rule.kind, effect=rule.effect, message=message, subtask_id=act.subtask.id,
                     step_index=act.index, robot=act.robot, skill=act.skill,
                     object=act.target.id if act.target else None)


def _where(act: Act) -> str:
    return f"subtask {act.subtask.id} step {act.index + 1} ({act.robot}: {act.skill}"\
           + (f" {act.target.id})" if act.target else ")")


def _objects_in(act: Act) -> list[ObjectInfo]:
    return [o for o in (act.target, act.placed, act.receptacle) if o is not None]


def _in_region(obj: ObjectInfo, region: Region) -> bool:
    if region.room is not None and region.room.lower() in {r.lower() for r in obj.rooms}:
        return True
    return region.box is not None and obj.position is not None and region.box.contains(*obj.position)


def _check_act(rule: Any, act: Act, robots: dict[str, RobotProfile]) -> Violation | None:
    where = _where(act)
    if isinstance(rule, ForbiddenObjects):
        hit = next((o for o in _objects_in(act) if rule.objects.matches(o)), None)
        return _violation(rule, act, f"{where} handles {hit.id}, a forbidden object ({rule.objects.describe()})") if hit else None
    if isinstance(rule, ForbiddenActions):
        if act.skill in rule.skills and (rule.objects is None or (act.target and rule.objects.matches(act.target))):
            return _violation(rule, act, f"{where}: {act.skill} is forbidden"
                              + (f" on {rule.objects.describe()}" if rule.objects else ""))
        return None
    if isinstance(rule, ForbiddenPlacements):
        if act.placed and act.receptacle and rule.objects.matches(act.placed) and rule.receptacles.matches(act.receptacle):
            return _violation(rule, act, f"{where} would put {act.placed.id} ({act.placed.type}) in/on "
                              f"{act.receptacle.id}: no {rule.objects.describe()} in/on {rule.receptacles.describe()}")
        return None
    if isinstance(rule, Areas):
        if (rule.robots is not None and act.robot not in rule.robots) or (rule.skills is not None and act.skill not in rule.skills):
            return None
        for obj in _objects_in(act):
            region = next((r for r in rule.regions if _in_region(obj, r)), None)
            if region is not None:
                return _violation(rule, act, f"{where}: {obj.id} is in the forbidden area {region.name!r}")
        return None
    if isinstance(rule, RobotLimits):
        if act.robot in rule.robots and (rule.skills is None or act.skill in rule.skills) and (
                rule.objects is None or (act.target and rule.objects.matches(act.target))):
            return _violation(rule, act, f"{where}: {act.robot} may not {act.skill}"
                              + (f" {rule.objects.describe()}" if rule.objects else ""))
        return None
    if isinstance(rule, MaxPayload):
        if act.skill != "pick_up" or act.target is None:
            return None
        limits = [v for v in ((robots[act.robot].payload_kg * rule.factor) if act.robot in robots else None, rule.max_kg)
                  if v is not None]
        if limits and act.target.mass > min(limits):
            return _violation(rule, act, f"{where}: {act.target.id} weighs {act.target.mass:g} kg, over the limit "
                              f"of {min(limits):g} kg")
        return None
    return None


def _ask_human(rule: AskHuman, plan: Plan, steps: list[Act]) -> Violation | None:
    """The first act (or the plan as a whole) that meets every condition of an ask_human rule."""
    if rule.min_subtasks is not None and len(plan.subtasks) < rule.min_subtasks:
        return None
    used = {s.robot for s in plan.subtasks}
    if rule.min_robots is not None and len(used) < rule.min_robots:
        return None
    per_step = rule.skills is not None or rule.objects is not None or rule.robots is not None
    if not per_step:
        return _violation(rule, None, f"the plan has {len(plan.subtasks)} subtask(s) for {len(used)} robot(s)")
    for act in steps:
        if rule.skills is not None and act.skill not in rule.skills:
            continue
        if rule.robots is not None and act.robot not in rule.robots:
            continue
        if rule.objects is not None and not any(rule.objects.matches(o) for o in _objects_in(act)):
            continue
        return _violation(rule, act, f"{_where(act)} needs a person's approval")
    return None


def check(plan: Plan, scene: SceneSnapshot, robots: list[RobotProfile], constitution: Constitution) -> list[Violation]:
    """Every step of `plan` against every rule: the violations, in rule order then step order.
    A step-wise rule reports each offending step; an ask_human rule reports once per plan."""
    steps = list(acts(plan, scene))
    by_name = {r.name: r for r in robots}
    out: list[Violation] = []
    for rule in constitution.rules:
        if isinstance(rule, AskHuman):
            v = _ask_human(rule, plan, steps)
            out += [v] if v else []
            continue
        out += [v for act in steps if (v := _check_act(rule, act, by_name)) is not None]
    return out


def rejections(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.effect == "reject"]


def escalations(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.effect == "escalate"]


def reject_reason(violations: list[Violation]) -> str:
    """The failed task's reason: each rejecting rule by name, with its first finding."""
    firsts: dict[str, Violation] = {}
    for v in rejections(violations):
        firsts.setdefault(v.rule, v)
    return "rejected by the constitution: " + "; ".join(f"rule {name!r}: {v.message}" for name, v in firsts.items())
