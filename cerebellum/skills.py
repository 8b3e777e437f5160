"""Every skill declared once: its arguments, its preconditions and its effects on the scene graph.

The same declarations serve three readers: the brain's validator (a symbolic dry run on a copy of
the scene graph), the executor (checks before acting, and the expected outcome after), and the
LLM (OpenAI tool schemas). Pure: no I/O, so the brain may import it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from robocortex.knowledge.object_types import OBJECT_TYPES, SLICES, half_extent
from robocortex.knowledge.placement import IN_RECEPTACLES, MUST_BE_OPEN_TO_PLACE_OBJECTS_IN, accepts
from robocortex.memory.schemas import SceneSnapshot, SkillCondition, SkillSource, SkillSpec

HEAT_APPLIANCES = frozenset({"Microwave", "StoveBurner", "Toaster"})
COOKING_VESSELS = frozenset({"Pan", "Pot"})  # AI2-THOR takes only these onto a StoveBurner
SLICING_TOOLS = ("Knife", "ButterKnife")  # what SliceObject accepts in hand (ALFRED/TEACh convention)
INTERACTION_REACH_M = 1.5  # AI2-THOR's default visibilityDistance


class SymbolicWorld:
    """A mutable copy of the scene graph as plain dicts, for dry runs and precondition checks."""

    def __init__(self, nodes: dict[str, dict[str, Any]]):
        self.nodes = nodes

    @classmethod
    def from_snapshot(cls, snapshot: SceneSnapshot) -> "SymbolicWorld":
        return cls(snapshot.node_dicts())

    def copy(self) -> "SymbolicWorld":
        return SymbolicWorld(copy.deepcopy(self.nodes))

    def get(self, node_id: str) -> dict[str, Any] | None:
        return self.nodes.get(node_id)

    def objects_of_type(self, object_type: str) -> list[dict[str, Any]]:
        return [n for n in self.nodes.values() if n.get("objectType") == object_type and n.get("kind") == "object"]

    def parents(self, node_id: str) -> list[str]:
        node = self.nodes.get(node_id) or {}
        return [r["target"] for r in node.get("relations", []) if r["rel"] in ("in", "on")]

    def set_parent(self, node_id: str, parent_id: str | None) -> None:
        node = self.nodes[node_id]
        rels = [r for r in node.get("relations", []) if r["rel"] not in ("in", "on")]
        if parent_id is not None:
            ptype = (self.nodes.get(parent_id) or {}).get("objectType")
            rels.append({"rel": "in" if ptype in IN_RECEPTACLES else "on", "target": parent_id})
        node["relations"] = rels

    def enclosed_by_closed(self, node_id: str) -> str | None:
        """The closed receptacle that hides `node_id`, if any (transitively)."""
        seen: set[str] = set()
        frontier = self.parents(node_id)
        while frontier:
            pid = frontier.pop()
            if pid in seen:
                continue
            seen.add(pid)
            parent = self.nodes.get(pid) or {}
            if parent.get("openable") and not parent.get("isOpen"):
                return pid
            frontier.extend(self.parents(pid))
        return None

    def holding(self, robot: str) -> str | None:
        return (self.nodes.get(robot) or {}).get("holding")

    def holder_of(self, node_id: str) -> str | None:
        """The robot whose hand holds `node_id`, if any."""
        return next((n["id"] for n in self.nodes.values()
                     if n.get("kind") == "robot" and n.get("holding") == node_id), None)


# --------------------------------------------------------------------------- argument schemas


class TargetArgs(BaseModel):
    object: str = Field(description="objectId of the target")


class NoArgs(BaseModel):
    pass


class PutArgs(BaseModel):
    receptacle: str = Field(description="objectId of the receptacle to put the held object in/on")


class FillArgs(BaseModel):
    object: str = Field(description="objectId of the container to fill")
    liquid: Literal["water", "coffee", "wine"] = "water"


class CookArgs(BaseModel):
    object: str = Field(description="objectId of the food to cook: held, or already in the appliance")
    appliance: str = Field(description="objectId of a Microwave, StoveBurner or Toaster")


# --------------------------------------------------------------------------- skill declaration


class Problem(str):
    """One reason a skill cannot run. It reads as the sentence people see (it *is* that string), and
    carries a `code` and the `object` it is about for programs, so no one has to parse the sentence.

    Codes: `unknown_object` (no such objectId), `out_of_reach` (a fixed arm's reach), `closed` (`object`
    is the closed receptacle to open first), `unmet` (any other precondition). A check may also return
    plain strings: they count as `unmet`."""

    code: str
    object: str | None

    def __new__(cls, message: str, code: str = "unmet", object: str | None = None) -> "Problem":
        self = super().__new__(cls, message)
        self.code, self.object = code, object
        return self


def problem_code(problem: str) -> str:
    """The code of a problem a check returned (`unmet` for a plain string)."""
    return getattr(problem, "code", "unmet")


Check = Callable[[SymbolicWorld, dict[str, Any], BaseModel], list[str]]
Effect = Callable[[SymbolicWorld, dict[str, Any], BaseModel], None]


# The symbolic vocabulary the declarations below are written in (PDDL predicates). Static ones are
# facts about objects (affordances, AI2-THOR's placement rules, a robot's payload); the others change.
PREDICATES: dict[str, tuple[str, bool, str]] = {  # name: (parameters, static, meaning)
    "holding": ("?r - robot ?o - object", False, "the robot holds the object"),
    "handempty": ("?r - robot", False, "the robot's hand is free"),
    "near": ("?r - robot ?o - object", False, "the robot stands by the object"),
    "in": ("?o - object ?c - object", False, "the object is in or on the receptacle (transitively)"),
    "is-open": ("?o - object", False, "isOpen"),
    "toggled": ("?o - object", False, "isToggled"),
    "sliced": ("?o - object", False, "isSliced"),
    "cooked": ("?o - object", False, "isCooked"),
    "dirty": ("?o - object", False, "isDirty"),
    "filled": ("?o - object", False, "isFilledWithLiquid"),
    "broken": ("?o - object", False, "isBroken"),
    "mobile": ("?r - robot", True, "the robot can move"),
    "can-lift": ("?r - robot ?o - object", True, "the object's mass is within the robot's payload"),
    "pickupable": ("?o - object", True, "affordance"),
    "receptacle": ("?o - object", True, "affordance"),
    "openable": ("?o - object", True, "affordance"),
    "toggleable": ("?o - object", True, "affordance"),
    "sliceable": ("?o - object", True, "affordance"),
    "cookable": ("?o - object", True, "affordance"),
    "dirtyable": ("?o - object", True, "affordance"),
    "fillable": ("?o - object", True, "affordance (canFillWithLiquid)"),
    "breakable": ("?o - object", True, "affordance"),
    "must-open": ("?c - object", True, "AI2-THOR's MustBeOpenToPlaceObjectsIn"),
    "can-contain": ("?c - object ?o - object", True, "AI2-THOR's placement rules allow the object in/on the receptacle"),
    "slicer": ("?o - object", True, "a Knife or ButterKnife"),
    "heater": ("?a - object", True, "a Microwave or Toaster, or a StoveBurner with a Pan or Pot on it"),
    "piece-of": ("?p - object ?w - object", True, "the piece slicing the whole object leaves behind"),
}


def _visible(x: str) -> str:
    """Not inside a closed receptacle (`in` is transitive, so any closed ancestor hides it)."""
    return f"(forall (?v - object) (imply (in {x} ?v) (or (not (openable ?v)) (is-open ?v))))"


@dataclass(frozen=True)
class Symbolic:
    """A skill in PDDL terms, read by the search planner (brain/search) to generate its domain:
    parameters, precondition and effect as PDDL s-expressions over PREDICATES. `args` maps the skill
    call's arguments to parameters. `search=False`: declared for checking, left out of the searched
    domain (navigation is added when steps are given to robots)."""

    parameters: str
    precondition: str
    effect: str
    args: dict[str, str]
    search: bool = True


def _on_object(pre: str, eff: str) -> Symbolic:
    return Symbolic("?r - robot ?o - object", pre, eff, {"object": "?o"})


SYMBOLIC: dict[str, Symbolic] = {
    "navigate_to": Symbolic("?r - robot ?o - object", "(mobile ?r)",
                            "(and (near ?r ?o) (forall (?v - object) (when (not (= ?v ?o)) (not (near ?r ?v)))))",
                            {"object": "?o"}, search=False),
    "pick_up": _on_object(
        f"(and (pickupable ?o) (handempty ?r) (can-lift ?r ?o) (forall (?h - robot) (not (holding ?h ?o))) "
        f"{_visible('?o')} (forall (?w - object) (imply (piece-of ?o ?w) (sliced ?w))))",
        "(and (holding ?r ?o) (not (handempty ?r)) (forall (?v - object) (not (in ?o ?v))))"),
    "put": Symbolic(
        "?r - robot ?o - object ?c - object",
        f"(and (holding ?r ?o) (receptacle ?c) (can-contain ?c ?o) (or (not (must-open ?c)) (is-open ?c)) {_visible('?c')})",
        "(and (not (holding ?r ?o)) (handempty ?r) (in ?o ?c) (forall (?v - object) (when (in ?c ?v) (in ?o ?v))))",
        {"receptacle": "?c"}),
    "drop": Symbolic("?r - robot ?o - object", "(holding ?r ?o)", "(and (not (holding ?r ?o)) (handempty ?r))", {},
                     search=False),
    "open": _on_object("(and (openable ?o) (not (is-open ?o)))", "(is-open ?o)"),
    "close": _on_object("(and (openable ?o) (is-open ?o))", "(not (is-open ?o))"),
    "toggle_on": _on_object("(and (toggleable ?o) (not (toggled ?o)))", "(toggled ?o)"),
    "toggle_off": _on_object("(and (toggleable ?o) (toggled ?o))", "(not (toggled ?o))"),
    "slice": Symbolic(
        "?r - robot ?o - object ?k - object",
        "(and (sliceable ?o) (holding ?r ?k) (slicer ?k) (forall (?h - robot) (not (holding ?h ?o))) "
        "(forall (?v - object) (imply (in ?o ?v) (not (must-open ?v)))))",
        "(and (sliced ?o) (forall (?p ?v - object) (when (and (piece-of ?p ?o) (in ?o ?v)) (in ?p ?v))))",
        {"object": "?o"}),
    "break": _on_object("(breakable ?o)", "(broken ?o)"),
    "clean": _on_object("(and (dirtyable ?o) (dirty ?o))", "(not (dirty ?o))"),
    "fill": _on_object("(and (fillable ?o) (not (filled ?o)))", "(filled ?o)"),
    "empty": _on_object("(filled ?o)", "(not (filled ?o))"),
    "cook": Symbolic(
        "?r - robot ?o - object ?a - object",
        "(and (cookable ?o) (heater ?a) (or (holding ?r ?o) (in ?o ?a)))",
        "(and (cooked ?o) (when (holding ?r ?o) (and (not (holding ?r ?o)) (handempty ?r) (in ?o ?a))) "
        "(when (and (holding ?r ?o) (openable ?a)) (not (is-open ?a))))",
        {"object": "?o", "appliance": "?a"}),
    "explore": Symbolic("?r - robot", "(and)", "(and)", {}, search=False),
}


BUILTIN = SkillSource()


@dataclass(frozen=True)
class Skill:
    """One skill's declaration. Built-in skills are written below; a skill from an MCP server is the same
    type, made from its declaration (`skill_from_spec`), with `source` saying where it comes from,
    `declared` its PDDL form (None when it declares no effect: `unplannable` says why) and `parameters`
    the tool's own JSON Schema."""

    name: str
    description: str
    args: type[BaseModel]
    preconditions: Check
    effects: Effect
    targets: tuple[str, ...] = ()  # argument names that are objectIds the robot must reach
    source: SkillSource = field(default_factory=SkillSource, compare=False)
    declared: Symbolic | None = field(default=None, compare=False)
    unplannable: str | None = None
    parameters: dict[str, Any] | None = field(default=None, compare=False)
    spec: SkillSpec | None = field(default=None, compare=False)  # the declaration it was made from

    def makes(self, flag: str, value: bool) -> bool:
        """Whether this declared skill's effects set the scene-graph `flag` to `value` (for the search
        planner, which picks a declared skill for a state no built-in skill of the team reaches)."""
        return self.spec is not None and any(c.flag == flag and c.value == value and c.arg for c in self.spec.effects)

    @property
    def symbolic(self) -> Symbolic:
        """The same preconditions and effects as PDDL (tests check both forms agree). A declared skill
        without a usable PDDL form is left out of the searched domain (`search=False`)."""
        if self.declared is not None:
            return self.declared
        if self.name in SYMBOLIC:
            return SYMBOLIC[self.name]
        return Symbolic("?r - robot", "(and)", "(and)", {}, search=False)

    def parse_args(self, raw: dict[str, Any]) -> BaseModel:
        if self.parameters is not None:
            problems = _schema_problems(self.parameters, raw)
            if problems:
                raise ValueError(f"{self.name}: bad arguments {raw!r}: {'; '.join(problems)}")
        try:
            return self.args.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{self.name}: bad arguments {raw!r}: {problems}") from None

    def target_ids(self, args: BaseModel) -> list[str]:
        return [getattr(args, name) for name in self.targets]

    def check(self, world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> list[str]:
        """Every reason the skill cannot run now (empty when it can)."""
        problems: list[str] = [Problem(f"{self.name}: unknown object {oid!r}", "unknown_object", oid)
                               for oid in self.target_ids(args) if world.get(oid) is None]
        if problems:
            return problems
        problems += _reach_problems(self, world, robot, args)
        return problems + self.preconditions(world, robot, args)

    def apply(self, world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> None:
        self.effects(world, robot, args)

    def openai_tool(self) -> dict[str, Any]:
        schema = copy.deepcopy(self.parameters) if self.parameters is not None else self.args.model_json_schema()
        schema.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": schema}}


def _reach_problems(skill: Skill, world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> list[str]:
    """A robot that cannot move only reaches what lies within arm's reach of its base."""
    if robot.get("mobility", "mobile") == "mobile" or not skill.targets:
        return []
    base = robot.get("position")
    out = []
    for oid in skill.target_ids(args):
        if base and beyond_reach((base["x"], base["z"]), world.get(oid)):
            out.append(Problem(f"{skill.name}: {oid} is out of reach of fixed robot {robot['id']}", "out_of_reach", oid))
    return out


def beyond_reach(base: tuple[float, float], node: dict[str, Any] | None) -> bool:
    """Whether an object lies beyond a fixed arm's reach from its base (x, z). Measured to the object's
    near edge, not its centre: AI2-THOR acts on an object when any of its visibility points is within
    reach, so the far side of a wide sink basin may lie further off than the reach."""
    pos = (node or {}).get("position")
    if not pos:
        return False
    edge = math.dist(base, (pos["x"], pos["z"])) - half_extent((node or {}).get("objectType"))
    return edge > INTERACTION_REACH_M


def _obj(world: SymbolicWorld, args: BaseModel) -> dict[str, Any]:
    return world.get(args.object)  # type: ignore[attr-defined, return-value]


def _visible_problem(world: SymbolicWorld, oid: str, verb: str) -> list[str]:
    closed = world.enclosed_by_closed(oid)
    return [Problem(f"{verb}: {oid} is inside closed {closed}; open it first", "closed", closed)] if closed else []


def _flag_required(name: str, flag: str, label: str) -> Check:
    def check(world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> list[str]:
        obj = _obj(world, args)
        return [] if obj.get(flag) else [f"{name}: {obj['id']} is not {label}"]

    return check


def _all(*checks: Check) -> Check:
    def check(world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> list[str]:
        out: list[str] = []
        for c in checks:
            out += c(world, robot, args)
            if out:
                break
        return out

    return check


def _set(**values: Any) -> Effect:
    def effect(world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> None:
        _obj(world, args).update(values)

    return effect


# --------------------------------------------------------------------------- the skills


def _navigate_pre(world, robot, args):
    return [] if robot.get("mobility", "mobile") == "mobile" else [f"navigate_to: {robot['id']} cannot move"]


def _navigate_eff(world, robot, args):
    robot["near"] = args.object


def _pickup_pre(world, robot, args):
    obj = _obj(world, args)
    out = _flag_required("pick_up", "pickupable", "pickupable")(world, robot, args)
    if robot.get("holding"):
        out.append(f"pick_up: {robot['id']} already holds {robot['holding']}; put it down first")
    holder = world.holder_of(obj["id"])
    if holder is not None and holder != robot["id"]:
        out.append(f"pick_up: {obj['id']} is in {holder}'s hand; only {holder} can put it down")
    limit = robot.get("payload_kg")
    if limit is not None and (obj.get("mass") or 0) > limit:
        out.append(f"pick_up: {obj['id']} weighs {obj.get('mass')} kg, over {robot['id']}'s payload of {limit} kg")
    return out + _visible_problem(world, obj["id"], "pick_up")


def _pickup_eff(world, robot, args):
    obj = _obj(world, args)
    world.set_parent(obj["id"], None)
    obj["isPickedUp"] = True
    robot["holding"] = obj["id"]


def _put_pre(world, robot, args):
    rec = world.get(args.receptacle)
    held = world.get(robot.get("holding") or "")
    out = []
    if not robot.get("holding"):
        out.append(f"put: {robot['id']} holds nothing")
    if not rec.get("receptacle"):
        out.append(f"put: {rec['id']} is not a receptacle")
    elif held is not None and not accepts(rec.get("objectType") or "", held.get("objectType") or ""):
        out.append(f"put: AI2-THOR's placement rules do not allow a {held.get('objectType')} in or on "
                   f"a {rec.get('objectType')}")
    elif rec.get("objectType") in MUST_BE_OPEN_TO_PLACE_OBJECTS_IN and not rec.get("isOpen"):
        out.append(Problem(f"put: {rec['id']} is closed; open it first", "closed", rec["id"]))
    return out + _visible_problem(world, rec["id"], "put")


def _put_eff(world, robot, args):
    held = robot.pop("holding")
    robot["holding"] = None
    world.get(held)["isPickedUp"] = False
    world.set_parent(held, args.receptacle)
    if world.get(args.receptacle).get("objectType") == "Fridge":
        world.get(held)["temperature"] = "Cold"


def _drop_pre(world, robot, args):
    return [] if robot.get("holding") else [f"drop: {robot['id']} holds nothing"]


def _drop_eff(world, robot, args):
    held = robot["holding"]
    robot["holding"] = None
    world.get(held)["isPickedUp"] = False


def _open_pre(world, robot, args):
    obj = _obj(world, args)
    out = _flag_required("open", "openable", "openable")(world, robot, args)
    if obj.get("isOpen"):
        out.append(f"open: {obj['id']} is already open")
    return out


def _close_pre(world, robot, args):
    obj = _obj(world, args)
    out = _flag_required("close", "openable", "openable")(world, robot, args)
    if obj.get("openable") and not obj.get("isOpen"):
        out.append(f"close: {obj['id']} is already closed")
    return out


def _toggle_pre(on: bool) -> Check:
    name = "toggle_on" if on else "toggle_off"

    def check(world, robot, args):
        obj = _obj(world, args)
        out = _flag_required(name, "toggleable", "toggleable")(world, robot, args)
        if obj.get("toggleable") and bool(obj.get("isToggled")) == on:
            out.append(f"{name}: {obj['id']} is already {'on' if on else 'off'}")
        return out

    return check


def _holding_type(object_types: tuple[str, ...], verb: str) -> Check:
    def check(world, robot, args):
        held = world.get(robot.get("holding") or "")
        if held and held.get("objectType") in object_types:
            return []
        return [f"{verb}: needs a {' or '.join(object_types)} in hand"]

    return check


def _slice_pre(world, robot, args):
    obj = _obj(world, args)
    out = _all(_flag_required("slice", "sliceable", "sliceable"), _holding_type(SLICING_TOOLS, "slice"))(world, robot, args)
    if world.holder_of(obj["id"]) is not None or obj.get("isPickedUp"):
        out.append(f"slice: {obj['id']} is held; it is sliced where it lies")
    inside = [p for p in _ancestor_ids(world, obj["id"])
              if (world.get(p) or {}).get("objectType") in MUST_BE_OPEN_TO_PLACE_OBJECTS_IN]
    if inside:
        out.append(f"slice: {obj['id']} is inside {inside[0]}; take it out to slice it")
    return out


def _ancestor_ids(world: SymbolicWorld, oid: str) -> list[str]:
    out: list[str] = []
    frontier = world.parents(oid)
    while frontier:
        pid = frontier.pop()
        if pid not in out:
            out.append(pid)
            frontier.extend(world.parents(pid))
    return out


def _slice_eff(world, robot, args):
    """The whole is sliced; its pieces (`<whole id>|TomatoSliced_0`…) lie where it lay, as in AI2-THOR."""
    obj = _obj(world, args)
    obj["isSliced"] = True
    piece_type, count = SLICES.get(obj.get("objectType") or "", (f"{obj.get('objectType')}Sliced", 1))
    kind = OBJECT_TYPES.get(piece_type)
    flags = kind.flags() if kind else {"pickupable": True}
    for i in range(count):
        pid = f"{obj['id']}|{piece_type}_{i}"
        if pid not in world.nodes:
            world.nodes[pid] = {"id": pid, "kind": "object", "objectType": piece_type, **flags,
                                "mass": round(float(obj.get("mass") or 0.0) / count, 5),
                                "position": obj.get("position"),
                                "relations": [dict(r) for r in obj.get("relations") or [] if r["rel"] in ("in", "on")]}


def _clean_pre(world, robot, args):
    obj = _obj(world, args)
    out = _flag_required("clean", "dirtyable", "dirtyable")(world, robot, args)
    if obj.get("dirtyable") and not obj.get("isDirty"):
        out.append(f"clean: {obj['id']} is not dirty")
    return out


def _fill_pre(world, robot, args):
    obj = _obj(world, args)
    out = _flag_required("fill", "canFillWithLiquid", "fillable")(world, robot, args)
    if obj.get("isFilledWithLiquid"):
        out.append(f"fill: {obj['id']} is already full")
    return out


def _fill_eff(world, robot, args):
    _obj(world, args).update(isFilledWithLiquid=True, fillLiquid=args.liquid)


def _empty_pre(world, robot, args):
    obj = _obj(world, args)
    return [] if obj.get("isFilledWithLiquid") else [f"empty: {obj['id']} is not filled"]


def cooking_place(world: SymbolicWorld, appliance: str) -> str | None:
    """Where food goes to be cooked: into the microwave or toaster itself; on a stove, into the
    pan or pot standing on the burner (None when the burner has none)."""
    if (world.get(appliance) or {}).get("objectType") != "StoveBurner":
        return appliance
    vessels = [n["id"] for n in world.nodes.values()
               if n.get("objectType") in COOKING_VESSELS and appliance in world.parents(n["id"])]
    return min(vessels) if vessels else None


def _cook_pre(world, robot, args):
    obj = _obj(world, args)
    app = world.get(args.appliance)
    out = _flag_required("cook", "cookable", "cookable")(world, robot, args)
    if app.get("objectType") not in HEAT_APPLIANCES:
        return out + [f"cook: {app['id']} is not a Microwave, StoveBurner or Toaster"]
    place = cooking_place(world, app["id"])
    if place is None:
        return out + [f"cook: {app['id']} has no Pan or Pot on it"]
    if robot.get("holding") != obj["id"] and place not in world.parents(obj["id"]):
        out.append(f"cook: {robot['id']} must hold {obj['id']} (or it must already be in {place})")
    return out


def _cook_eff(world, robot, args):
    obj = _obj(world, args)
    if robot.get("holding") == obj["id"]:
        robot["holding"] = None
        obj["isPickedUp"] = False
        world.set_parent(obj["id"], cooking_place(world, args.appliance))
        appliance = world.get(args.appliance)
        if appliance.get("openable"):
            appliance["isOpen"] = False  # the executor closes it to run it (actions.cook)
    obj.update(isCooked=True, temperature="Hot")


def _explore_eff(world, robot, args):
    return None


def _no_pre(world, robot, args):
    return []


SKILLS: dict[str, Skill] = {
    s.name: s
    for s in [
        Skill("navigate_to", "Move to a pose from which the object is visible and within reach.", TargetArgs,
              _navigate_pre, _navigate_eff, targets=("object",)),
        Skill("pick_up", "Pick up an object (hand must be empty; mass within payload).", TargetArgs,
              _pickup_pre, _pickup_eff, targets=("object",)),
        Skill("put", "Put the held object in or on a receptacle (open it first if it is closed).", PutArgs,
              _put_pre, _put_eff, targets=("receptacle",)),
        Skill("drop", "Drop the held object where the robot stands.", NoArgs, _drop_pre, _drop_eff),
        Skill("open", "Open an openable object.", TargetArgs, _open_pre, _set(isOpen=True), targets=("object",)),
        Skill("close", "Close an openable object.", TargetArgs, _close_pre, _set(isOpen=False), targets=("object",)),
        Skill("toggle_on", "Switch an object on.", TargetArgs, _toggle_pre(True), _set(isToggled=True), targets=("object",)),
        Skill("toggle_off", "Switch an object off.", TargetArgs, _toggle_pre(False), _set(isToggled=False), targets=("object",)),
        Skill("slice", "Slice an object (needs a Knife or ButterKnife in hand).", TargetArgs,
              _slice_pre, _slice_eff,
              targets=("object",)),
        Skill("break", "Break a breakable object.", TargetArgs, _flag_required("break", "breakable", "breakable"),
              _set(isBroken=True), targets=("object",)),
        Skill("clean", "Clean a dirty object.", TargetArgs, _clean_pre, _set(isDirty=False), targets=("object",)),
        Skill("fill", "Fill a container with a liquid.", FillArgs, _fill_pre, _fill_eff, targets=("object",)),
        Skill("empty", "Empty a container's liquid.", TargetArgs, _empty_pre,
              _set(isFilledWithLiquid=False, fillLiquid=None), targets=("object",)),
        Skill("cook", "Cook food through an appliance (microwave, stove burner, toaster).", CookArgs,
              _cook_pre, _cook_eff, targets=("object", "appliance")),
        Skill("explore", "Look around to refresh what the robot knows of its surroundings.", NoArgs,
              _no_pre, _explore_eff),
    ]
}


BUILTIN_SKILLS: tuple[str, ...] = tuple(SKILLS)  # in declaration order


# --------------------------------------------------------------------------- declared skills (MCP tools)
#
# A skill that is not built in is declared by data (memory.schemas.SkillSpec): its arguments as JSON
# Schema, and its preconditions and effects as SkillConditions over the scene graph's own flags. The one
# declaration gives both forms every reader needs: the Python check/effect (validator dry run, executor)
# and the PDDL form (search planner). Skills are registered by name in SKILLS, next to the built-in ones.

# Scene-graph flags a declaration may name, and their PDDL predicates: (predicate, may be an effect).
DECLARABLE_FLAGS: dict[str, tuple[str, bool]] = {
    "isOpen": ("is-open", True), "isToggled": ("toggled", True), "isSliced": ("sliced", True),
    "isCooked": ("cooked", True), "isDirty": ("dirty", True), "isFilledWithLiquid": ("filled", True),
    "isBroken": ("broken", True),
    "pickupable": ("pickupable", False), "receptacle": ("receptacle", False), "openable": ("openable", False),
    "toggleable": ("toggleable", False), "sliceable": ("sliceable", False), "cookable": ("cookable", False),
    "dirtyable": ("dirtyable", False), "canFillWithLiquid": ("fillable", False), "breakable": ("breakable", False),
}
ROBOT_FLAGS = ("holding", "handempty")


class DeclaredArgs(BaseModel):
    """Arguments of a declared skill: fields from its JSON Schema (checked against the schema itself
    first), anything else the schema allows kept as is."""

    model_config = ConfigDict(extra="allow")
    schema_: ClassVar[dict[str, Any]] = {}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return copy.deepcopy(cls.schema_)


_JSON_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                               "array": list, "object": dict}


def _args_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    required = set(schema.get("required") or [])
    fields: dict[str, Any] = {}
    for prop, sub in (schema.get("properties") or {}).items():
        if not prop.isidentifier() or prop.startswith("_") or hasattr(BaseModel, prop):
            continue
        kind = _JSON_TYPES.get(sub.get("type")) if isinstance(sub, dict) else None
        typ = kind if kind is not None else Any
        fields[prop] = (typ, ...) if prop in required else (typ | None if kind else typ, sub.get("default"))
    model = create_model(f"{name}_args", __base__=DeclaredArgs, **fields)
    model.schema_ = copy.deepcopy(schema)
    return model


def _schema_problems(schema: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or 'args'}: {e.message}" for e in validator.iter_errors(raw)]


def declaration_problems(spec: SkillSpec) -> list[str]:
    """What is wrong with a declaration's targets, preconditions and effects (empty when nothing)."""
    props = set((spec.parameters.get("properties") or {}))
    out = [f"target {t!r} is not an argument" for t in spec.targets if t not in props]
    for where, conds in (("requires", spec.requires), ("effects", spec.effects)):
        for c in conds:
            if c.arg is not None and c.arg not in props:
                out.append(f"{where}: {c.arg!r} is not an argument")
            if c.flag in ROBOT_FLAGS:
                if where == "effects":
                    out.append(f"effects: {c.flag} cannot be declared as an effect")
                elif (c.flag == "holding") != (c.arg is not None):
                    out.append(f"requires: {c.flag} {'needs' if c.flag == 'holding' else 'takes no'} arg")
            elif c.flag not in DECLARABLE_FLAGS:
                out.append(f"{where}: unknown flag {c.flag!r} (flags: {', '.join([*DECLARABLE_FLAGS, *ROBOT_FLAGS])})")
            elif c.arg is None:
                out.append(f"{where}: {c.flag} needs the argument naming the object")
            elif where == "effects" and not DECLARABLE_FLAGS[c.flag][1]:
                out.append(f"effects: {c.flag} is an affordance, not something a skill changes")
    return out


def _declared_check(spec: SkillSpec) -> Check:
    def check(world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> list[str]:
        out: list[str] = []
        for c in spec.requires:
            oid = getattr(args, c.arg, None) if c.arg else None
            if c.flag == "holding":
                ok = (robot.get("holding") == oid) == c.value
                what = f"{robot['id']} {'must' if c.value else 'must not'} hold {oid}"
            elif c.flag == "handempty":
                ok = (not robot.get("holding")) == c.value
                what = f"{robot['id']}'s hand must {'' if c.value else 'not '}be empty"
            else:
                node = world.get(oid) if isinstance(oid, str) else None
                if node is None:
                    out.append(Problem(f"{spec.name}: unknown object {oid!r}", "unknown_object", oid))
                    continue
                ok = bool(node.get(c.flag)) == c.value
                what = f"{oid} is {'not ' if c.value else ''}{c.flag}"
            if not ok:
                out.append(f"{spec.name}: {what}")
        return out

    return check


def _declared_effect(spec: SkillSpec) -> Effect:
    def effect(world: SymbolicWorld, robot: dict[str, Any], args: BaseModel) -> None:
        for c in spec.effects:
            node = world.get(getattr(args, c.arg or "", None) or "")
            if node is not None:
                node[c.flag] = c.value

    return effect


def declared_symbolic(spec: SkillSpec) -> tuple[Symbolic | None, str | None]:
    """The declaration's PDDL form, or None and why the search planner cannot use the skill."""
    if spec.unplannable:
        return None, spec.unplannable
    problems = declaration_problems(spec)
    if problems:
        return None, "its declaration is not usable: " + "; ".join(problems)
    if not spec.effects:
        return None, "it declares no effects, so the search planner cannot tell what it achieves"
    objects = sorted({c.arg for c in [*spec.requires, *spec.effects] if c.arg} | set(spec.targets))
    var = {a: f"?a{i}" for i, a in enumerate(objects)}

    def atom(c: SkillCondition) -> str:
        if c.flag == "holding":
            text = f"(holding ?r {var[c.arg]})"  # type: ignore[index]
        elif c.flag == "handempty":
            text = "(handempty ?r)"
        else:
            text = f"({DECLARABLE_FLAGS[c.flag][0]} {var[c.arg]})"  # type: ignore[index]
        return text if c.value else f"(not {text})"

    params = " ".join(["?r - robot", *(f"{var[a]} - object" for a in objects)])
    pre = f"(and {' '.join(atom(c) for c in spec.requires)})"
    eff = f"(and {' '.join(atom(c) for c in spec.effects)})"
    return Symbolic(params, pre, eff, {a: var[a] for a in objects}), None


def skill_from_spec(spec: SkillSpec) -> Skill:
    """The declaration type (Skill) made from a declared skill; refuses the names of built-in skills."""
    if spec.name in BUILTIN_SKILLS:
        raise ValueError(f"skill {spec.name!r} from {spec.source.kind} {spec.source.name!r} would shadow the "
                         "built-in skill of that name")
    symbolic, why = declared_symbolic(spec)
    targets = tuple(t for t in spec.targets if t in (spec.parameters.get("properties") or {}))
    return Skill(spec.name, spec.description or spec.name, _args_model(spec.name, spec.parameters),
                 _declared_check(spec), _declared_effect(spec), targets=targets, source=spec.source,
                 declared=symbolic, unplannable=why, parameters=copy.deepcopy(spec.parameters), spec=spec)


def register_skill(skill: Skill) -> Skill:
    """Register (or re-register) a declared skill in SKILLS, beside the built-in ones."""
    if skill.name in BUILTIN_SKILLS and SKILLS.get(skill.name) is not skill:
        raise ValueError(f"skill {skill.name!r} is built in and cannot be replaced")
    SKILLS[skill.name] = skill
    return skill


_SPECS: dict[str, SkillSpec] = {}  # the declaration each registered skill was made from


def register_specs(specs: Iterable[SkillSpec]) -> list[Skill]:
    """Register every declared skill (a robot's, read from its profile); one whose declaration changed
    is replaced; one that cannot be registered (a built-in name) is skipped."""
    out = []
    for spec in specs:
        if _SPECS.get(spec.name) == spec:
            out.append(SKILLS[spec.name])
            continue
        try:
            skill = register_skill(skill_from_spec(spec))
        except ValueError:
            continue
        _SPECS[spec.name] = spec
        out.append(skill)
    return out


def register_profiles(profiles: Iterable[Any]) -> None:
    """Register the declared skills of these robot profiles (memory.schemas.RobotProfile): what the brain
    does before each plan, so a robot that re-registered with new skills is planned with them at once."""
    for profile in profiles:
        register_specs(getattr(profile, "skill_specs", None) or [])


def get_skill(name: str) -> Skill:
    try:
        return SKILLS[name]
    except KeyError:
        raise KeyError(f"unknown skill {name!r}; known skills: {', '.join(SKILLS)}") from None


def openai_tools(skill_names: list[str] | None = None) -> list[dict[str, Any]]:
    names = skill_names if skill_names is not None else list(SKILLS)
    return [SKILLS[n].openai_tool() for n in names if n in SKILLS]
