"""Clauses made concrete: for each clause, the goal to reach and the skill steps that reach it.

Jobs are built in the order the user gave them, on a symbolic copy of the scene graph that every
step is applied to as it is written, so a later job sees what earlier ones did (the fridge the
first job opened is open for the second). Each step follows what the world really needs: a knife
in hand to slice, a closed microwave to switch on, an open one to see what it cooked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from robocortex.cerebellum.skills import HEAT_APPLIANCES, IN_RECEPTACLES, SKILLS, SymbolicWorld
from robocortex.memory.schemas import SkillCall

from robocortex.brain.goals import goal_holds
from robocortex.brain.instructions import Clause
from robocortex.brain.plan import Goal
from robocortex.brain.planner import PlanningError
from robocortex.brain.vocabulary import Vocabulary, type_words

Node = dict[str, Any]
_SLICERS = ("Knife", "ButterKnife")
# Where things are put aside to make room on a full receptacle. AI2-THOR's PlacementRestrictions let
# nearly every pickupable object rest on the first five (63 of its 68 restricted types), fewer on the
# other three; the nearest of the first group wins, else the nearest of the second.
ASIDE_SURFACES = ("SideTable", "CounterTop", "DiningTable", "CoffeeTable", "TVStand", "Desk", "Shelf", "Dresser")
_ASIDE_FIRST = 5
# Where the object that did not fit waits meanwhile: it is big, so the biggest furniture first (not the
# floor: things on the floor are hard to see and reach again).
WAIT_SURFACES = ("Bed", "Sofa", "DiningTable", "CounterTop", "CoffeeTable", "Desk", "SideTable", "TVStand", "ArmChair")


@dataclass
class Job:
    """One clause made concrete: its goal, its steps, the objects it touches."""

    goal: Goal
    description: str
    sequential: bool
    steps: list[SkillCall] = field(default_factory=list)
    touches: set[str] = field(default_factory=set)
    heaviest: float = 0.0
    places: list[dict[str, float]] = field(default_factory=list)
    holder: str | None = None  # the robot already holding the object the job moves: only it can do the job

    @property
    def skills(self) -> set[str]:
        return {s.skill for s in self.steps}


class JobBuilder:
    def __init__(self, world: SymbolicWorld, full: set[str] | None = None, avoid: set[str] | None = None):
        self.world = world.copy()
        self.full = set(full or ())  # receptacles a put failed on for lack of room (AI2-THOR's "No valid positions")
        self.avoid = self.full | set(avoid or ())  # receptacles a put failed on, for any reason: not for putting aside
        self.vocab = Vocabulary({n["objectType"] for n in self.world.nodes.values() if n.get("kind") == "object"})
        self._job: Job | None = None
        self._actor: Node = {}

    def build(self, clause: Clause) -> Job:
        builder: Callable[[Clause], Job] = getattr(self, f"_{clause.verb}")
        self._actor = {"id": "_planner", "kind": "robot", "mobility": "mobile", "holding": None}
        return builder(clause)

    @property
    def job(self) -> Job:
        assert self._job is not None
        return self._job

    # ------------------------------------------------------------------ helpers

    def _begin(self, goal: Goal, description: str, clause: Clause) -> bool:
        """Start a job; False when its goal already holds (the job keeps its goal, with no steps)."""
        self._job = Job(goal, description, clause.sequential)
        return not goal_holds(self.world.nodes, goal)

    def _do(self, skill: str, **args: Any) -> None:
        """Write one step and apply its declared effect, so the next step sees the new state."""
        call = SkillCall(skill=skill, args=args)
        self.job.steps.append(call)
        for key in ("object", "receptacle", "appliance"):
            node = self.world.get(args.get(key, ""))
            if node is not None:
                self.job.touches.add(node["id"])
                if node.get("position") and skill == "navigate_to":
                    self.job.places.append(node["position"])
        spec = SKILLS[skill]
        spec.apply(self.world, self._actor, spec.parse_args(args))

    def _pick(self, phrase: str, role: str, prefer: Callable[[Node], bool] = lambda n: True) -> Node:
        t = self.vocab.resolve(phrase)
        if t is None:
            raise PlanningError(f"no {phrase!r} in this scene to {role} (scene has: "
                                + ", ".join(sorted(type_words(x) for x in self.vocab.types)[:40]) + ")")
        instances = self.world.objects_of_type(t)
        # Prefer instances that need the work, then ones not hidden in closed receptacles, then by id.
        instances.sort(key=lambda n: (not prefer(n), self.world.enclosed_by_closed(n["id"]) is not None, n["id"]))
        return instances[0]

    def _ref(self, node: Node) -> str:
        """How a goal names an object: its type when it is the only one, else its objectId."""
        return node["objectType"] if len(self.world.objects_of_type(node["objectType"])) == 1 else node["id"]

    def _require(self, node: Node, affordance: str, what: str) -> None:
        if not node.get(affordance):
            raise PlanningError(f"the {type_words(node['objectType'])} cannot be {what}")

    def _reach(self, node: Node) -> None:
        """Go to an object, opening the closed receptacle that hides it first."""
        container = self.world.enclosed_by_closed(node["id"])
        if container:
            self._do("navigate_to", object=container)
            self._do("open", object=container)
        self._do("navigate_to", object=node["id"])

    def _fetch(self, node: Node) -> None:
        """Pick an object up, closing again what had to be opened to get it; when a robot already
        holds it (say after a failed put), that robot carries on from there."""
        self.job.heaviest = max(self.job.heaviest, float(node.get("mass") or 0.0))
        holder = self._holder_of(node["id"])
        if holder is not None:
            self.job.holder = holder
            self._actor["holding"] = node["id"]
            return
        container = self.world.enclosed_by_closed(node["id"])
        self._reach(node)
        self._do("pick_up", object=node["id"])
        if container:
            self._do("close", object=container)

    def _holder_of(self, object_id: str) -> str | None:
        """The robot holding `object_id`, if one does."""
        return next((n["id"] for n in self.world.nodes.values()
                     if n.get("kind") == "robot" and n.get("holding") == object_id), None)

    def _place(self, receptacle: Node) -> None:
        """Put the held object in/on a receptacle, opening (and closing) it when it must be open."""
        self._do("navigate_to", object=receptacle["id"])
        opened = receptacle.get("objectType") in IN_RECEPTACLES and not receptacle.get("isOpen")
        if opened:
            self._do("open", object=receptacle["id"])
        self._do("put", receptacle=receptacle["id"])
        if opened:
            self._do("close", object=receptacle["id"])

    # ------------------------------------------------------------------ verbs

    def _put(self, clause: Clause, dest_phrase: str | None = None, verb: str = "put") -> Job:
        obj = self._pick(clause.obj, "move")
        dest = self._pick(dest_phrase or clause.dest or "", "put things in")
        self._require(obj, "pickupable", "picked up")
        if not dest.get("receptacle"):
            raise PlanningError(f"nothing can be put in or on the {type_words(dest['objectType'])}")
        rel = "in" if dest.get("objectType") in IN_RECEPTACLES else "on"
        goal = Goal(object=obj["objectType"], relation=rel, target=dest["objectType"])
        desc = (f"throw the {type_words(obj['objectType'])} away" if verb == "throw" else
                f"put the {type_words(obj['objectType'])} {rel} the {type_words(dest['objectType'])}")
        if not self._begin(goal, desc, clause):
            return self.job
        if dest["id"] in self.full:
            self._make_room(dest, obj)
        self._fetch(obj)
        self._place(dest)
        return self.job

    def _make_room(self, full: Node, obj: Node) -> None:
        """Clear a receptacle that had no room for `obj`: what rests on it goes to the nearest aside
        surface. A robot still holding `obj` first sets it down on the biggest free furniture (its
        hand is needed); the usual fetch then picks it up from there."""
        blockers = sorted(n["id"] for n in self.world.nodes.values()
                          if n.get("kind") == "object" and n.get("pickupable") and n["id"] != obj["id"]
                          and full["id"] in self.world.parents(n["id"]))
        what = f"the {type_words(full['objectType'])} has no room for the {type_words(obj['objectType'])}"
        if not blockers:
            raise PlanningError(f"{what}, and nothing on it can be moved aside")
        aside = self._surface(ASIDE_SURFACES, full, tiers=_ASIDE_FIRST)
        holder = self._holder_of(obj["id"])
        wait = self._surface(WAIT_SURFACES, full) if holder is not None else None
        if aside is None or (holder is not None and wait is None):
            raise PlanningError(f"{what}, and there is no surface left to move things to")
        self.job.description += f" (making room: {len(blockers)} thing(s) to the {type_words(aside['objectType'])})"
        if holder is not None and wait is not None:
            self.job.holder = holder
            self._actor["holding"] = obj["id"]
            self.world.nodes[holder]["holding"] = None
            self._place(wait)
        for blocker in blockers:
            self._fetch(self.world.nodes[blocker])
            self._place(aside)

    def _surface(self, types: tuple[str, ...], near: Node, tiers: int | None = None) -> Node | None:
        """The first open receptacle of `types` (in order, or nearest within the first `tiers` types,
        then nearest of the rest) that no put has failed on, other than `near`."""
        spots = [n for t in types for n in self.world.objects_of_type(t)
                 if n["id"] not in self.avoid and n["id"] != near["id"] and n.get("receptacle")
                 and self.world.enclosed_by_closed(n["id"]) is None]
        if not spots:
            return None
        here = near.get("position") or {"x": 0.0, "z": 0.0}

        def rank(n: Node) -> tuple[int, float, str]:
            there = n.get("position") or here
            order = types.index(n["objectType"])
            group = order if tiers is None else int(order >= tiers)
            return group, abs(there["x"] - here["x"]) + abs(there["z"] - here["z"]), n["id"]

        return min(spots, key=rank)

    def _throw(self, clause: Clause) -> Job:
        return self._put(clause, dest_phrase="garbage can", verb="throw")

    def _switch(self, clause: Clause, flag: str, value: bool, need: str, words: str, done: str) -> Job:
        obj = self._pick(clause.obj, words)
        self._require(obj, need, done)
        if not self._begin(Goal(object=self._ref(obj), state=flag, value=value),
                       f"{words} the {type_words(obj['objectType'])}", clause):
            return self.job
        self._reach(obj)
        if clause.verb == "open" and obj.get("toggleable") and obj.get("isToggled"):
            self._do("toggle_off", object=obj["id"])  # AI2-THOR opens a microwave only when it is off
        self._do(clause.verb, object=obj["id"])
        return self.job

    def _open(self, clause: Clause) -> Job:
        return self._switch(clause, "isOpen", True, "openable", "open", "opened")

    def _close(self, clause: Clause) -> Job:
        return self._switch(clause, "isOpen", False, "openable", "close", "closed")

    def _toggle_on(self, clause: Clause) -> Job:
        return self._switch(clause, "isToggled", True, "toggleable", "turn on", "turned on")

    def _toggle_off(self, clause: Clause) -> Job:
        return self._switch(clause, "isToggled", False, "toggleable", "turn off", "turned off")

    def _slice(self, clause: Clause) -> Job:
        target = self._pick(clause.obj, "slice", prefer=lambda n: not n.get("isSliced"))
        self._require(target, "sliceable", "sliced")
        knives = [n for t in _SLICERS for n in self.world.objects_of_type(t)]
        if not knives:
            raise PlanningError(f"slicing the {type_words(target['objectType'])} needs a knife, and this scene has none")
        if not self._begin(Goal(object=self._ref(target), state="isSliced", value=True),
                       f"slice the {type_words(target['objectType'])}", clause):
            return self.job
        knife = min(knives, key=lambda n: (self.world.enclosed_by_closed(n["id"]) is not None, n["id"]))
        home = next((self.world.get(p) for p in self.world.parents(knife["id"])), None)
        self._fetch(knife)
        self._reach(target)
        self._do("slice", object=target["id"])
        if home is not None:  # put the knife back where it was, leaving the hand free for what comes next
            self._place(home)
        return self.job

    def _cook(self, clause: Clause) -> Job:
        food = self._pick(clause.obj, "cook", prefer=lambda n: not n.get("isCooked"))
        self._require(food, "cookable", "cooked")
        appliance = self._pick(clause.dest or "microwave", "cook with")
        if appliance["objectType"] != "Microwave":
            kind = "a heat source" if appliance["objectType"] in HEAT_APPLIANCES else "an appliance"
            raise PlanningError(f"the {type_words(appliance['objectType'])} is {kind} I cannot cook with yet; "
                                "say 'in the microwave'")
        if not self._begin(Goal(object=self._ref(food), state="isCooked", value=True),
                       f"cook the {type_words(food['objectType'])} in the microwave", clause):
            return self.job
        self._fetch(food)
        self._do("navigate_to", object=appliance["id"])
        if appliance.get("isToggled"):
            self._do("toggle_off", object=appliance["id"])
        if not appliance.get("isOpen"):
            self._do("open", object=appliance["id"])
        self._do("put", receptacle=appliance["id"])
        self._do("close", object=appliance["id"])  # a microwave runs only when closed
        self._do("cook", object=food["id"], appliance=appliance["id"])  # switches it on, then off
        self._do("open", object=appliance["id"])  # so the food can be seen (and taken out) cooked
        return self.job

    def _clean(self, clause: Clause) -> Job:
        obj = self._pick(clause.obj, "clean", prefer=lambda n: bool(n.get("isDirty")))
        self._require(obj, "dirtyable", "washed")
        if not self._begin(Goal(object=self._ref(obj), state="isDirty", value=False),
                       f"wash the {type_words(obj['objectType'])}", clause):
            return self.job
        self._reach(obj)
        self._do("clean", object=obj["id"])
        return self.job

    def _fill(self, clause: Clause) -> Job:
        obj = self._pick(clause.obj, "fill", prefer=lambda n: not n.get("isFilledWithLiquid"))
        self._require(obj, "canFillWithLiquid", "filled")
        if not self._begin(Goal(object=self._ref(obj), state="isFilledWithLiquid", value=True),
                       f"fill the {type_words(obj['objectType'])} with {clause.liquid}", clause):
            return self.job
        self._reach(obj)
        self._do("fill", object=obj["id"], liquid=clause.liquid or "water")
        return self.job
