"""The planning problem, from the scene graph snapshot and the goals.

Each goal is compiled on its own (`compile_goal`): which instances its quantifier picks, which
receptacles its placement allows (AI2-THOR's placement rules), which tools its skills need, and the
goal formula over those objects — or the reason it cannot be pursued. The problem given to the
search keeps only the objects the compiled goals are about, the tools, and the receptacles holding
them (transitively), so a 100-object scene plans as fast as a 10-object one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from robocortex.cerebellum.skills import HEAT_APPLIANCES, SKILLS, SLICING_TOOLS, SymbolicWorld, cooking_place
from robocortex.knowledge.object_types import OBJECT_TYPES, SLICES
from robocortex.knowledge.placement import MUST_BE_OPEN_TO_PLACE_OBJECTS_IN, accepts
from robocortex.memory.schemas import RobotProfile

from robocortex.brain.goal_language import Goal, Selector, ancestors, goal_holds, piece_type
from robocortex.brain.search.logic import Atom, Expr, State

AGENT = "agent"  # the one abstract robot the search plans for; allocation gives its steps to robots
Node = dict[str, Any]

# Flags of the scene graph → the declarations' predicates.
AFFORDANCE_PREDICATES = {"pickupable": "pickupable", "receptacle": "receptacle", "openable": "openable",
                         "toggleable": "toggleable", "sliceable": "sliceable", "cookable": "cookable",
                         "dirtyable": "dirtyable", "canFillWithLiquid": "fillable", "breakable": "breakable"}
STATE_PREDICATES = {"isOpen": "is-open", "isToggled": "toggled", "isCooked": "cooked", "isDirty": "dirty",
                    "isFilledWithLiquid": "filled", "isBroken": "broken", "isSliced": "sliced"}
# What reaches a state, and the affordance it needs: (flag, value) → (skill, affordance, what it says).
STATE_SKILLS: dict[tuple[str, bool], tuple[str, str, str]] = {
    ("isOpen", True): ("open", "openable", "opened"), ("isOpen", False): ("close", "openable", "closed"),
    ("isToggled", True): ("toggle_on", "toggleable", "turned on"),
    ("isToggled", False): ("toggle_off", "toggleable", "turned off"),
    ("isSliced", True): ("slice", "sliceable", "sliced"), ("isCooked", True): ("cook", "cookable", "cooked"),
    ("isDirty", False): ("clean", "dirtyable", "cleaned"), ("isDirty", True): ("", "dirtyable", "made dirty"),
    ("isFilledWithLiquid", True): ("fill", "canFillWithLiquid", "filled"),
    ("isFilledWithLiquid", False): ("empty", "canFillWithLiquid", "emptied"),
    ("isBroken", True): ("break", "breakable", "broken"),
}
DESTINATIONS = 3  # receptacles offered for each object that must go "anywhere else"


class Infeasible(Exception):
    """A goal that cannot be pursued; the message says why in the user's terms."""


@dataclass
class Exclusions:
    """What earlier failures rule out (from the typed failure fields, never the error text)."""

    objects: dict[str, str] = field(default_factory=dict)  # id → why
    receptacles: dict[str, str] = field(default_factory=dict)  # id → why
    full: set[str] = field(default_factory=set)  # receptacles a put found no room on (world_code no_room)
    robot_steps: set[tuple[str, str, str]] = field(default_factory=set)  # (robot, skill, target)
    robots: set[str] = field(default_factory=set)  # lost


@dataclass
class Compiled:
    """One goal made concrete: its formula (over objectIds) and the objects it needs."""

    goal: Goal
    formula: list[Expr]
    objects: set[str]
    skills: set[str]
    chosen: list[str]
    liquids: dict[str, str] = field(default_factory=dict)
    note: str = ""
    partial: bool = False  # some of the objects "all" names cannot be done: the plan checks the others
    heaters: set[str] = field(default_factory=set)
    make_room: dict[str, list[str]] = field(default_factory=dict)  # full receptacle → what to move off it
    extra: list[Expr] = field(default_factory=list)  # formulas that serve the goal (room made), not checked by it


def words(type_name: str | None) -> str:
    import re

    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name or "object").lower()


class Scene:
    """The scene graph as the compiler reads it, with virtual pieces for what slicing will create."""

    def __init__(self, nodes: dict[str, Node], robots: list[RobotProfile], exclusions: Exclusions):
        self.nodes = nodes
        self.world = SymbolicWorld(nodes)
        self.robots = [r for r in robots if r.name not in exclusions.robots]
        self.ex = exclusions
        self.robot_pos = [self._pos(nodes.get(r.name) or {}) for r in self.robots]

    @staticmethod
    def _pos(node: Mapping[str, Any]) -> tuple[float, float] | None:
        p = node.get("position")
        return (float(p["x"]), float(p["z"])) if p else None

    def objects(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.get("kind", "object") == "object"]

    def hidden(self, oid: str) -> bool:
        return self.world.enclosed_by_closed(oid) is not None

    def distance(self, oid: str) -> float:
        """From the nearest robot (0 when positions are unknown)."""
        here = self._pos(self.nodes.get(oid) or {})
        if here is None:
            whole = self.nodes.get(oid.rsplit("|", 1)[0]) or {}
            here = self._pos(whole)
        dists = [math.dist(here, p) for p in self.robot_pos if p is not None and here is not None]
        return min(dists) if dists else 0.0

    def rank(self, oid: str) -> tuple[bool, float, str]:
        return self.hidden(oid), round(self.distance(oid), 3), oid

    def can_lift(self, mass: float) -> bool:
        return any("pick_up" in r.skills and r.payload_kg >= mass for r in self.robots)

    def has_skill(self, skill: str) -> bool:
        return any(skill in r.skills for r in self.robots)

    def sliced(self, node: Mapping[str, Any]) -> bool:
        """Sliced in the scene as seen (the virtual pieces this planner adds do not count)."""
        prefix = f"{node.get('id')}|"
        return bool(node.get("isSliced")) or any(
            nid.startswith(prefix) and not n.get("virtual") for nid, n in self.nodes.items())

    def add_piece(self, whole: Node, index: int) -> str:
        ptype = piece_type(str(whole.get("objectType")))
        pid = f"{whole['id']}|{ptype}_{index}"
        if pid not in self.nodes:
            kind = OBJECT_TYPES.get(ptype)
            count = SLICES.get(str(whole.get("objectType")), (ptype, 1))[1]
            self.nodes[pid] = {"id": pid, "kind": "object", "objectType": ptype, "virtual": True,
                               **(kind.flags() if kind else {"pickupable": True}),
                               "mass": round(float(whole.get("mass") or 0.0) / count, 5),
                               "position": whole.get("position"), "relations": []}
        return pid


# --------------------------------------------------------------------------- goals


def _held_outside_team(scene: Scene) -> dict[str, str]:
    """objectId → the robot holding it, for robots this plan may not use (offline, or on another task)."""
    team = {r.name for r in scene.robots}
    return {str(n["holding"]): str(n["id"]) for n in scene.nodes.values()
            if n.get("kind") == "robot" and n.get("holding") and n.get("id") not in team}


def _instances(goal: Goal, scene: Scene) -> list[Node]:
    """The objects the subject may mean; for pieces, existing ones and those slicing would create."""
    subject = goal.subject
    found = [n for n in subject.select(scene.nodes) if not n.get("virtual")]
    if not subject.piece:
        return found
    wholes = Selector(type=subject.type, id=subject.id, category=subject.category).select(scene.nodes)
    if subject.type is None and subject.id is not None:
        wholes = [n for n in scene.nodes.values() if n.get("id") == subject.id]
    wholes = [w for w in wholes if w.get("sliceable") and not scene.sliced(w)]
    wholes.sort(key=lambda w: scene.rank(w["id"]))
    need = {"the": 1, "a": 1}.get(subject.quantifier, subject.count or 0)
    if subject.quantifier in ("all", "rest"):
        need = sum(SLICES.get(str(w.get("objectType")), ("", 1))[1] for w in wholes)
    virtual: list[Node] = []
    for whole in wholes:
        count = SLICES.get(str(whole.get("objectType")), ("", 1))[1]
        for i in range(count):
            if len(found) + len(virtual) >= max(need, 1):
                break
            virtual.append(scene.nodes[scene.add_piece(whole, i)])
    return found + virtual


def _choose(goal: Goal, scene: Scene, candidates: list[Node], satisfied: set[str],
            others: list[Goal], chosen_before: dict[int, list[str]]) -> tuple[list[str], list[str]]:
    """(instances that must satisfy the condition, instances that must not)."""
    q = goal.subject.quantifier
    ids = [n["id"] for n in candidates]
    usable = [i for i in ids if i not in scene.ex.objects]
    if q == "all":
        return [i for i in ids if i not in satisfied], []
    if q == "rest":
        taken = set(chosen_before.get(goal.subject.rest_of or 0, []))
        return [i for i in ids if i not in taken and i not in satisfied], []
    need = 1 if q in ("the", "a") else int(goal.subject.count or 0)
    if need > len(usable):
        what = words(goal.subject.type or goal.subject.category)
        gone = [i for i in ids if i in scene.ex.objects]
        raise Infeasible(f"{need} {what}(s) asked, the scene has {len(usable)} usable"
                         + (f" ({', '.join(gone)} failed before: {scene.ex.objects[gone[0]]})" if gone else ""))
    ranked = sorted(usable, key=lambda i: (i not in satisfied, *scene.rank(i)))
    keep = ranked[:need]
    extra = [i for i in ids if i in satisfied and i not in keep] if q == "exactly" else []
    return keep, extra


def _blockers(scene: Scene, receptacle: str, obj: str) -> list[str]:
    """What rests on a receptacle and could be moved to make room."""
    return sorted(n["id"] for n in scene.objects() if n["id"] != obj and n.get("pickupable")
                  and receptacle in [p["id"] for p in ancestors(scene.nodes, n)]
                  and not n.get("virtual"))


def _receptacles(goal: Goal, scene: Scene, obj: Node, compiled: "Compiled") -> list[str]:
    cond = goal.condition
    assert cond.target is not None
    targets = [n for n in cond.target.select(scene.nodes) if n["id"] != obj["id"]]
    what = cond.target.describe()
    if not targets:
        raise Infeasible(f"there is no {what} in this scene")
    receptacles = [n for n in targets if n.get("receptacle")]
    if not receptacles:
        raise Infeasible(f"nothing can be put in or on the {what}")
    allowed = [n for n in receptacles if accepts(str(n.get("objectType")), str(obj.get("objectType")))]
    if not allowed:
        raise Infeasible(f"AI2-THOR's placement rules do not allow a {obj.get('objectType')} in or on a "
                         f"{receptacles[0].get('objectType')}")
    usable = [n for n in allowed if n["id"] not in scene.ex.receptacles]
    if not usable:
        full = [n for n in allowed if n["id"] in scene.ex.full]
        blockers = {n["id"]: _blockers(scene, n["id"], obj["id"]) for n in full}
        full = [n for n in full if blockers[n["id"]]]
        if full:  # no other of its kind: make room on the full one (what rests on it goes elsewhere)
            full.sort(key=lambda n: (-len(blockers[n["id"]]), *scene.rank(n["id"])))
            compiled.make_room[full[0]["id"]] = blockers[full[0]["id"]]
            return [full[0]["id"]]
        bad = allowed[0]["id"]
        raise Infeasible(f"putting it on {bad} failed before ({scene.ex.receptacles[bad]}), and there is no other "
                         f"{words(allowed[0].get('objectType'))}"
                         + (" nor anything on it to move aside" if bad in scene.ex.full else ""))
    usable.sort(key=lambda n: scene.rank(n["id"]))
    single = cond.target.quantifier in ("the", "a") and not cond.target.id
    return [n["id"] for n in (usable[:DESTINATIONS] if single else usable)]


def _elsewhere(scene: Scene, obj: Node, avoid: set[str]) -> list[str]:
    """A few receptacles the object may go to instead (the nearest allowed ones that are not closed)."""
    spots = [n for n in scene.objects() if n.get("receptacle") and n["id"] not in avoid and n["id"] != obj["id"]
             and n["id"] not in scene.ex.receptacles and not n.get("pickupable")
             and accepts(str(n.get("objectType")), str(obj.get("objectType")))
             and not scene.hidden(n["id"])]
    closed = lambda n: n.get("objectType") in MUST_BE_OPEN_TO_PLACE_OBJECTS_IN and not n.get("isOpen")  # noqa: E731
    spots.sort(key=lambda n: (closed(n), *scene.rank(n["id"])))
    if not spots:
        raise Infeasible(f"there is nowhere the {words(obj.get('objectType'))} may be put instead")
    return [n["id"] for n in spots[:DESTINATIONS]]


def _movable(scene: Scene, obj: Node) -> set[str]:
    if not obj.get("pickupable"):
        raise Infeasible(f"the {words(obj.get('objectType'))} cannot be picked up")
    for skill in ("pick_up", "put"):
        if not scene.has_skill(skill):
            raise Infeasible(f"no robot has skill {skill}")
    mass = float(obj.get("mass") or 0.0)
    if not scene.can_lift(mass):
        best = max((r.payload_kg for r in scene.robots if "pick_up" in r.skills), default=0.0)
        raise Infeasible(f"no robot can pick up the {words(obj.get('objectType'))} ({mass} kg): "
                         f"the largest payload is {best} kg")
    return {"pick_up", "put"}


def _condition(goal: Goal, scene: Scene, obj: Node, compiled: Compiled) -> Expr:
    """The formula for one object meeting the goal's condition (before negation)."""
    cond, oid = goal.condition, obj["id"]
    if cond.relation is not None:
        if cond.negate:  # "not on the table": anywhere else it may go
            compiled.skills |= _movable(scene, obj)
            here = _receptacles_or_none(goal, scene, obj)
            spots = _elsewhere(scene, obj, set(here))
            compiled.objects.update(here + spots)
            return ["and", *(["not", ["in", oid, r]] for r in here), ["or", *(["in", oid, s] for s in spots)]]
        compiled.skills |= _movable(scene, obj)
        targets = _receptacles(goal, scene, obj, compiled)
        compiled.objects.update(targets)
        for full, blockers in compiled.make_room.items():  # each goes where the placement rules allow
            moved = []
            for b in blockers:
                try:
                    spots = _elsewhere(scene, scene.nodes[b], {full})
                except Infeasible:
                    continue
                compiled.objects.update([b, *spots])
                compiled.extra.append(["and", ["not", ["in", b, full]], ["or", *(["in", b, x] for x in spots)]])
                moved.append(b)
            if not moved:
                raise Infeasible(f"{full} has no room for the {words(obj.get('objectType'))} (a put failed there), "
                                 "and nothing on it may go anywhere else")
            compiled.note = f"making room on {full}: moving {', '.join(moved)} elsewhere"
        return ["or", *(["in", oid, r] for r in targets)]
    if cond.held is not None:
        compiled.skills |= _movable(scene, obj)
        return ["holding", AGENT, oid] if cond.held != cond.negate else ["not", ["holding", AGENT, oid]]
    if cond.temperature is not None:
        if cond.temperature == "Cold" and not cond.negate:
            fridges = [n["id"] for n in scene.objects() if n.get("objectType") == "Fridge"
                       and accepts("Fridge", str(obj.get("objectType")))]
            if not fridges:
                raise Infeasible(f"nothing here can make the {words(obj.get('objectType'))} cold")
            compiled.skills |= _movable(scene, obj)
            compiled.objects.update(fridges)
            return ["or", *(["in", oid, f] for f in fridges)]
        if cond.temperature == "Hot" and not cond.negate:
            return _state(scene, obj, "isCooked", True, compiled)
        raise Infeasible(f"no skill makes the {words(obj.get('objectType'))} {cond.describe()}")
    assert cond.state is not None
    value = cond.value != cond.negate
    if cond.liquid and value:
        compiled.liquids[oid] = cond.liquid
    return _state(scene, obj, cond.state, value, compiled)


def _receptacles_or_none(goal: Goal, scene: Scene, obj: Node) -> list[str]:
    assert goal.condition.target is not None
    return [n["id"] for n in goal.condition.target.select(scene.nodes) if n["id"] != obj["id"]]


def _state(scene: Scene, obj: Node, flag: str, value: bool, compiled: Compiled) -> Expr:
    entry = STATE_SKILLS.get((flag, value))
    what = words(obj.get("objectType"))
    if entry is None or not entry[0] or not scene.has_skill(entry[0]):
        declared = sorted(s.name for s in SKILLS.values() if s.makes(flag, value) and s.symbolic.search
                          and scene.has_skill(s.name))
        if declared:  # a skill from an MCP server reaches it (its own preconditions say for what objects)
            compiled.skills.add(declared[0])
            atom = [STATE_PREDICATES[flag], obj["id"]]
            return atom if value else ["not", atom]
    if entry is None or not entry[0]:
        raise Infeasible(f"no skill makes the {what} {flag}={value}")
    skill, affordance, done = entry
    if not obj.get(affordance):
        raise Infeasible(f"the {what} cannot be {done}")
    if not scene.has_skill(skill):
        raise Infeasible(f"no robot has skill {skill}")
    compiled.skills.add(skill)
    if skill == "slice":
        knives = sorted((n for n in scene.objects() if n.get("objectType") in SLICING_TOOLS
                         and n["id"] not in scene.ex.objects), key=lambda n: scene.rank(n["id"]))
        if not knives:
            raise Infeasible(f"slicing the {what} needs a knife, and this scene has none")
        compiled.skills |= _movable(scene, knives[0])
        compiled.objects.add(knives[0]["id"])
    if skill == "cook":
        heaters = sorted((n for n in scene.objects() if n.get("objectType") in HEAT_APPLIANCES
                          and n["id"] not in scene.ex.objects and cooking_place(scene.world, n["id"])
                          and accepts(str(n.get("objectType")), str(obj.get("objectType")))),
                         key=lambda n: (n.get("objectType") != "Microwave", *scene.rank(n["id"])))
        if not heaters:
            raise Infeasible(f"nothing here can cook the {what} (a microwave, a toaster, or a pan on a burner)")
        heater = heaters[0]
        compiled.objects.add(heater["id"])
        compiled.heaters.add(heater["id"])
        compiled.skills |= {"pick_up"} if obj.get("pickupable") else set()
        if heater.get("openable") and value:  # open again afterwards, so the cooked food can be seen
            compiled.formula.append(["is-open", heater["id"]])
    pred = STATE_PREDICATES[flag]
    atom = [pred, obj["id"]]
    return atom if value else ["not", atom]


def compile_goal(goal: Goal, scene: Scene, goals: list[Goal], chosen_before: dict[int, list[str]]) -> Compiled:
    """The goal's formula over concrete objects, or Infeasible with the reason."""
    candidates = _instances(goal, scene)
    if not candidates and goal.subject.quantifier not in ("all", "rest"):
        raise Infeasible(f"there is no {goal.subject.describe()} in this scene")
    out_of_team = _held_outside_team(scene)
    usable = [n for n in candidates if n["id"] not in out_of_team or goal.condition.holds(scene.nodes, n)]
    if candidates and not usable and goal.subject.quantifier not in ("all", "rest"):
        held = candidates[0]["id"]
        raise Infeasible(f"{out_of_team[held]} holds what is needed ({held}), but it is offline or busy with "
                         "another task; only it can put it down")
    candidates = usable
    satisfied = {n["id"] for n in candidates if goal.condition.holds(scene.nodes, n)}
    keep, undo = _choose(goal, scene, candidates, satisfied, goals, chosen_before)
    if goal.subject.quantifier in ("all", "rest") and goal.condition.relation is not None and goal.condition.negate:
        fixed = [oid for oid in keep if not scene.nodes[oid].get("pickupable")]
        keep = [oid for oid in keep if oid not in fixed]  # "nothing on the table": what can be moved
        fixed = [f"{oid} (it cannot be picked up)" for oid in fixed]
    else:
        fixed = []
    compiled = Compiled(goal, [], set(keep) | set(undo), set(), list(keep))
    for whole in sorted({oid.rsplit("|", 1)[0] for oid in keep if scene.nodes[oid].get("virtual")}):
        _state(scene, scene.nodes[whole], "isSliced", True, compiled)  # the knife, and the skill to slice
    for oid in keep:
        if not fixed and goal.subject.quantifier not in ("all", "rest"):
            compiled.formula.append(_condition(goal, scene, scene.nodes[oid], compiled))
            continue
        try:  # "all": what can be done is done, the rest is said
            compiled.formula.append(_condition(goal, scene, scene.nodes[oid], compiled))
        except Infeasible as exc:
            fixed.append(f"{oid} ({exc})")
            compiled.chosen = [c for c in compiled.chosen if c != oid]
    if fixed:
        compiled.partial = True
        if not compiled.formula and keep:
            raise Infeasible("; ".join(fixed))
        compiled.note = "left as it is: " + "; ".join(fixed)
    flipped = goal.model_copy(update={"condition": goal.condition.model_copy(update={"negate": not goal.condition.negate})})
    for oid in undo:  # "exactly N": the others must not (and go somewhere allowed)
        compiled.formula.append(_condition(flipped, scene, scene.nodes[oid], compiled))
    return compiled


def already_holds(goal: Goal, nodes: Mapping[str, Node], goals: list[Goal]) -> bool:
    return goal_holds(nodes, goal, goals)


# --------------------------------------------------------------------------- the problem


@dataclass
class Problem:
    objects: list[str]  # objectIds, in a fixed order
    init: set[Atom]
    goal: list[Expr]
    held_by: dict[str, str]  # objectId the agent starts holding → the robot really holding it
    names: dict[str, str] = field(default_factory=dict)  # objectId → PDDL name

    def state(self) -> State:
        return State(set(self.init), {"object": list(self.objects), "robot": [AGENT]})

    def pddl(self, domain: str = "robocortex") -> str:
        name = self.names
        objs = " ".join(name[o] for o in self.objects)
        init = "\n    ".join(_render(list(a), name) for a in sorted(self.init))
        goal = _render(["and", *self.goal], name)
        return (f"(define (problem task) (:domain {domain})\n  (:objects {objs} - object {AGENT} - robot)\n"
                f"  (:init\n    {init})\n  (:goal {goal}))\n")


def _render(expr: Expr, names: Mapping[str, str]) -> str:
    if isinstance(expr, str):
        return names.get(expr, expr)
    return "(" + " ".join(_render(e, names) for e in expr) + ")"


def relevant(scene: Scene, seeds: Iterable[str]) -> list[str]:
    """The seeds and every receptacle holding them (transitively), plus the pans on relevant burners."""
    out: set[str] = set()
    frontier = [s for s in seeds if s in scene.nodes]
    while frontier:
        oid = frontier.pop()
        if oid in out:
            continue
        out.add(oid)
        node = scene.nodes[oid]
        frontier += [p["id"] for p in ancestors(scene.nodes, node)]
        if node.get("virtual"):
            frontier.append(oid.rsplit("|", 1)[0])
        if node.get("objectType") == "StoveBurner":
            place = cooking_place(scene.world, oid)
            if place:
                frontier.append(place)
    return sorted(out)


def build_problem(scene: Scene, compiled: list[Compiled], holder: tuple[str, str] | None) -> Problem:
    """The pruned problem: init atoms of the relevant objects, and every compiled goal's formula."""
    seeds: set[str] = set()
    for c in compiled:
        seeds |= c.objects
    held_by: dict[str, str] = {}
    if holder is not None:  # what a robot holds: it may have to be put down somewhere first
        robot, held = holder
        held_by[held] = robot
        seeds.add(held)
        if held in scene.nodes:
            try:
                seeds.update(_elsewhere(scene, scene.nodes[held], set()))
            except Infeasible:
                pass
    objects = relevant(scene, seeds)
    heaters = {h for c in compiled for h in c.heaters}  # only what a goal cooks with: no cooking by the way
    init = _atoms(scene, objects, held_by, heaters)
    names = {oid: f"o{i}-{str(scene.nodes[oid].get('objectType') or 'x').lower()}" for i, oid in enumerate(objects)}
    return Problem(objects, init, [f for c in compiled for f in c.formula + c.extra], held_by, names)


def _atoms(scene: Scene, objects: list[str], held_by: Mapping[str, str], heaters: set[str]) -> set[Atom]:
    included = set(objects)
    nodes = scene.nodes
    atoms: set[Atom] = set()
    for oid in objects:
        node = nodes[oid]
        otype = str(node.get("objectType"))
        for flag, pred in AFFORDANCE_PREDICATES.items():
            if node.get(flag):
                atoms.add((pred, oid))
        for flag, pred in STATE_PREDICATES.items():
            if (scene.sliced(node) if flag == "isSliced" else node.get(flag)):
                atoms.add((pred, oid))
        if otype in MUST_BE_OPEN_TO_PLACE_OBJECTS_IN:
            atoms.add(("must-open", oid))
        if otype in SLICING_TOOLS:
            atoms.add(("slicer", oid))
        if otype in HEAT_APPLIANCES and cooking_place(scene.world, oid) and oid in heaters:
            atoms.add(("heater", oid))
        if node.get("virtual"):
            atoms.add(("piece-of", oid, oid.rsplit("|", 1)[0]))
        elif oid not in held_by:
            atoms.update(("in", oid, p["id"]) for p in ancestors(nodes, node) if p["id"] in included)
        held_elsewhere = oid not in held_by and any(
            n.get("kind") == "robot" and n.get("holding") == oid for n in nodes.values())
        if node.get("pickupable") and scene.can_lift(float(node.get("mass") or 0.0)) and not held_elsewhere:
            atoms.add(("can-lift", AGENT, oid))
        if node.get("receptacle"):
            atoms.update(("can-contain", oid, o) for o in objects
                         if o != oid and nodes[o].get("pickupable") and accepts(otype, str(nodes[o].get("objectType"))))
    if any(r.mobility == "mobile" for r in scene.robots):
        atoms.add(("mobile", AGENT))
    if held_by:
        atoms.add(("holding", AGENT, next(iter(held_by))))
    else:
        atoms.add(("handempty", AGENT))
    return atoms
