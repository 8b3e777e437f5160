"""The goal language: what every planner produces and every check reads.

An instruction becomes a list of `Goal`s — conditions on the scene graph — whatever understood it
(the offline parser, a model asked for goals, an evaluation suite's ground truth). A goal is a
`Selector` (which objects, and how many of them) and a `Condition` (what must be true of them):

    "put all the potatoes in a bowl"   subject: all Potato           condition: in a Bowl
    "a slice of tomato in the fridge"  subject: a Tomato piece       condition: in the Fridge
    "nothing on the table"             subject: all (any object)     condition: not on the DiningTable
    "the living room should be dark"   subject: all light category   condition: isToggled = false

`stage` orders goals ("then"): a goal of stage k+1 is pursued once every goal of stage k holds.
`when` makes a goal conditional ("turn the TV off if it is on"): it is checked on the scene when
the plan is made, and a goal whose `when` does not hold is reported and skipped.

Selectors with filters that describe where things are *now* (`located`, state filters) are
resolved to objectIds when a plan is made (`ground`), so that "put the mug that is in the sink on
the counter" is still checkable once the mug has left the sink.

The JSON Schema (`goal_json_schema()`, docs/goal-language.schema.json) has no untyped field, so
grammar-constrained decoders (llama.cpp, vLLM's guided decoding) can enforce it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

Nodes = Mapping[str, Mapping[str, Any]]

StateFlag = Literal["isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid",
                    "isBroken", "isUsedUp", "isPickedUp"]
STATE_FLAG_NAMES: tuple[str, ...] = StateFlag.__args__  # type: ignore[attr-defined]
Temperature = Literal["Hot", "Cold", "RoomTemp"]
Liquid = Literal["water", "coffee", "wine"]
Quantifier = Literal["the", "a", "all", "exactly", "at_least", "rest"]
RelationName = Literal["in", "on", "in_or_on"]

# What a sliced (or cracked) object leaves behind: AI2-THOR replaces it with pieces of this type,
# whose objectIds extend the whole object's id (`Tomato|…|TomatoSliced_0`).
PIECE_TYPES: dict[str, str] = {"Egg": "EggCracked"}


def piece_type(object_type: str) -> str:
    return PIECE_TYPES.get(object_type, f"{object_type}Sliced")


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans (only true/false): in goals and lexicons the words on, off, yes and no are
    words (`relation: on`), not YAML 1.1's booleans."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)


@lru_cache(maxsize=1)
def categories() -> dict[str, frozenset[str]]:
    """Category name → AI2-THOR object types (brain/lexicon/categories.yaml)."""
    raw = load_yaml((Path(__file__).parent / "lexicon" / "categories.yaml").read_text())
    return {name: frozenset(types) for name, types in raw["categories"].items()}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Selector(_Strict):
    """Which objects a goal is about. Empty type/category/id means any object ("nothing", "everything").

    A plain string is read as an objectId when it holds '|' (AI2-THOR's id form), else as a type.
    """

    type: str | None = Field(default=None, description="AI2-THOR objectType, e.g. 'Apple'")
    category: str | None = Field(default=None, description="a category of types, e.g. 'fruit', 'dishes', 'lights'")
    id: str | None = Field(default=None, description="one objectId")
    ids: list[str] | None = Field(default=None, description="the objectIds this selector was resolved to when planned")
    piece: bool = Field(default=False, description="the pieces of a sliced object ('a slice of tomato')")
    states: dict[StateFlag, bool] = Field(default_factory=dict, description="filters: {'isDirty': true} = the dirty ones")
    temperature: Temperature | None = Field(default=None, description="filter on temperature")
    located: Placement | None = Field(default=None, description="filter: where the objects are now ('the mug in the sink')")
    quantifier: Quantifier = Field(default="the", description="the/a: one; all; exactly/at_least N (count); "
                                   "rest: all those not taken by the goal `rest_of` names")
    count: int | None = Field(default=None, ge=0, description="N for exactly / at_least")
    rest_of: int | None = Field(default=None, ge=0, description="index of the earlier goal 'the rest' complements")
    exclude: list[Selector] = Field(default_factory=list,
                                    description="objects left out ('everything but the knife'): none of these")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"id": data} if "|" in data else {"type": data}
        return data

    @model_validator(mode="after")
    def _counts(self) -> "Selector":
        if self.quantifier in ("exactly", "at_least") and self.count is None:
            raise ValueError(f"quantifier {self.quantifier!r} needs a count")
        if self.quantifier == "rest" and self.rest_of is None:
            raise ValueError("quantifier 'rest' needs rest_of: the index of the goal it complements")
        return self

    # ------------------------------------------------------------------ matching

    def matches(self, node: Mapping[str, Any], nodes: Nodes | None = None) -> bool:
        """Whether one node is described by this selector (filters included; quantifier aside)."""
        if node.get("kind", "object") != "object":
            return False
        if self.ids is not None:
            return node.get("id") in self.ids
        otype = node.get("objectType")
        if self.piece:
            whole = self.type
            if whole is None and self.id:
                whole = self.id.split("|", 1)[0]
            if whole is None or otype != piece_type(whole):
                return False
            if self.id and not str(node.get("id", "")).startswith(f"{self.id}|"):
                return False
        else:
            if self.id and node.get("id") != self.id:
                return False
            if self.type and otype != self.type:
                return False
        if self.category and otype not in categories().get(self.category, frozenset()):
            return False
        for flag, value in self.states.items():
            if bool(node.get(flag)) != value:
                return False
        if self.temperature and node.get("temperature", "RoomTemp") != self.temperature:
            return False
        if self.located is not None:
            if nodes is None or not self.located.holds(nodes, node):
                return False
        if any(x.matches(node, nodes) for x in self.exclude):
            return False
        return True

    def select(self, nodes: Nodes) -> list[Mapping[str, Any]]:
        return [n for n in nodes.values() if self.matches(n, nodes)]

    def describe(self) -> str:
        if self.ids is not None and not (self.type or self.category or self.id):
            what = ", ".join(self.ids) or "nothing"
        else:
            what = self.id or self.type or (f"[{self.category}]" if self.category else "anything")
        if self.piece:
            what = f"piece of {what}"
        filters = [f"{k}={v}" for k, v in self.states.items()]
        if self.temperature:
            filters.append(f"temperature={self.temperature}")
        if self.located is not None:
            filters.append(self.located.describe())
        if self.exclude:
            filters.append("except " + ", ".join(x.describe() for x in self.exclude))
        if filters:
            what += f" ({', '.join(filters)})"
        prefix = {"the": "", "a": "", "all": "all ", "exactly": f"exactly {self.count} ",
                  "at_least": f"at least {self.count} ", "rest": "the rest of "}[self.quantifier]
        return prefix + what


class Placement(_Strict):
    """in/on a receptacle; the receptacle is a selector too ("in any cabinet")."""

    relation: RelationName = "in_or_on"
    target: Selector

    def holds(self, nodes: Nodes, node: Mapping[str, Any]) -> bool:
        # "in" and "on" are how people say it, not how AI2-THOR files it (a sink is "on"), so both count,
        # transitively (an apple on a plate in the fridge is in the fridge).
        return any(self.target.matches(p, nodes) for p in ancestors(nodes, node))

    def describe(self) -> str:
        return f"{self.relation.replace('_or_', '/')} {self.target.describe()}"


class Condition(_Strict):
    """What must be true of each selected object: exactly one of a placement, held, a state flag
    (with `value`), or a temperature. `negate` turns it around ("nothing on the table")."""

    relation: RelationName | None = None
    target: Selector | None = None
    held: bool | None = Field(default=None, description="in some robot's hand")
    state: StateFlag | None = None
    value: bool = True
    liquid: Liquid | None = Field(default=None, description="with state isFilledWithLiquid: which liquid")
    temperature: Temperature | None = None
    negate: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> "Condition":
        kinds = [self.relation is not None, self.held is not None, self.state is not None, self.temperature is not None]
        if sum(kinds) != 1:
            raise ValueError("a condition has exactly one of: relation (with target), held, state (with value), "
                             "temperature")
        if self.relation is not None and self.target is None:
            raise ValueError("a relation needs a target")
        if self.liquid is not None and self.state != "isFilledWithLiquid":
            raise ValueError("liquid goes with state isFilledWithLiquid")
        return self

    def holds(self, nodes: Nodes, node: Mapping[str, Any]) -> bool:
        return self._holds(nodes, node) != self.negate

    def _holds(self, nodes: Nodes, node: Mapping[str, Any]) -> bool:
        if self.relation is not None:
            assert self.target is not None
            return Placement(relation=self.relation, target=self.target).holds(nodes, node)
        if self.held is not None:
            return is_held(nodes, node) == self.held
        if self.temperature is not None:
            return node.get("temperature", "RoomTemp") == self.temperature
        if self.state == "isSliced" and self.value:
            return is_sliced(nodes, node)
        ok = bool(node.get(self.state or "")) == self.value  # an absent flag is false, as AI2-THOR reports it
        if ok and self.liquid is not None and self.value:
            ok = node.get("fillLiquid") in (None, self.liquid)
        return ok

    def describe(self) -> str:
        if self.relation is not None:
            assert self.target is not None
            text = f"{self.relation.replace('_or_', '/')} {self.target.describe()}"
        elif self.held is not None:
            text = "held" if self.held else "not held"
        elif self.temperature is not None:
            text = f"temperature={self.temperature}"
        else:
            text = f"{self.state}={self.value}" + (f" ({self.liquid})" if self.liquid else "")
        return f"not {text}" if self.negate else text


class Goal(_Strict):
    """A checkable condition on some objects. The compact form `{object, relation, target}` /
    `{object, state, value}` (the plan format before the goal language) is accepted too."""

    subject: Selector
    condition: Condition
    stage: int = Field(default=0, ge=0, description="order: stage k+1 is pursued after every goal of stage k holds")
    when: list[Goal] = Field(default_factory=list, description="only if these hold when the plan is made")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "object" not in data:
            return data
        data = dict(data)
        subject = data.pop("object")
        condition: dict[str, Any] = {}
        for key in ("relation", "target", "state", "value", "held", "temperature", "liquid", "negate"):
            if key in data:
                condition[key] = data.pop(key)
        if isinstance(condition.get("value"), str) and condition["value"].strip().lower() in ("true", "false"):
            condition["value"] = condition["value"].strip().lower() == "true"  # models write "false" as often as false
        if condition.get("state") == "temperature":
            condition = {"temperature": condition.get("value")}
        return {"subject": subject, "condition": condition, **data}

    # Read-only views in the compact form's terms, for messages and simple planners.
    @property
    def object(self) -> str:
        return self.subject.id or self.subject.type or self.subject.category or "anything"

    @property
    def relation(self) -> str | None:
        return self.condition.relation

    @property
    def target(self) -> str | None:
        t = self.condition.target
        return None if t is None else (t.id or t.type or t.category)

    @property
    def state(self) -> str | None:
        return self.condition.state

    @property
    def value(self) -> Any:
        return self.condition.value

    def describe(self) -> str:
        cond = self.condition
        if cond.state is not None and not cond.negate and cond.liquid is None:
            text = f"{self.subject.describe()} {cond.state}={cond.value}"
        else:
            text = f"{self.subject.describe()} {cond.describe()}"
        if self.when:
            text += " if " + " and ".join(g.describe() for g in self.when)
        return f"then {text}" if self.stage else text


class GoalSpec(_Strict):
    """What a model is asked for: the goals of an instruction (and, optionally, why)."""

    goals: list[Goal]
    reasoning: str = ""


Selector.model_rebuild()
Goal.model_rebuild()


# --------------------------------------------------------------------------- the scene, read


def ancestors(nodes: Nodes, node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Receptacles holding `node`, transitively."""
    out: list[Mapping[str, Any]] = []
    frontier = [node]
    while frontier:
        for r in frontier.pop().get("relations") or []:
            parent = nodes.get(r["target"])
            if r["rel"] in ("in", "on") and parent is not None and parent not in out:
                out.append(parent)
                frontier.append(parent)
    return out


def is_held(nodes: Nodes, node: Mapping[str, Any]) -> bool:
    oid = node.get("id")
    return bool(node.get("isPickedUp")) or any(
        n.get("kind") == "robot" and n.get("holding") == oid for n in nodes.values())


def is_sliced(nodes: Nodes, node: Mapping[str, Any]) -> bool:
    """AI2-THOR replaces a sliced object by pieces whose ids extend its own; the whole object is then
    hidden, so the team may only ever see the pieces."""
    prefix = f"{node.get('id')}|"
    return bool(node.get("isSliced")) or any(str(nid).startswith(prefix) for nid in nodes)


# --------------------------------------------------------------------------- checking


def _required(goal: Goal, matching: int, goals: list[Goal] | None) -> int:
    """How many of the `matching` selected objects must satisfy the condition."""
    q = goal.subject.quantifier
    if q in ("the", "a"):
        return min(1, matching) if goal.condition.negate else 1
    if q == "all":
        return matching
    if q in ("exactly", "at_least"):
        return goal.subject.count or 0
    # rest: all those the earlier goal did not need
    other = goals[goal.subject.rest_of] if goals and goal.subject.rest_of is not None and \
        goal.subject.rest_of < len(goals) else None
    taken = 0
    if other is not None:
        taken = 1 if other.subject.quantifier in ("the", "a") else (other.subject.count or 0)
    return max(0, matching - taken)


def satisfying(nodes: Nodes, goal: Goal) -> list[str]:
    """Ids of the selected objects for which the condition holds."""
    return [str(n["id"]) for n in goal.subject.select(nodes) if goal.condition.holds(nodes, n)]


def goal_holds(nodes: Nodes, goal: Goal, goals: list[Goal] | None = None) -> bool:
    """Whether `goal` holds on `nodes` (the scene graph, or the world's ground truth in the same shape).

    `goals` is the whole list the goal belongs to (needed for "the rest").
    """
    selected = goal.subject.select(nodes)
    ok = sum(1 for n in selected if goal.condition.holds(nodes, n))
    need = _required(goal, len(selected), goals)
    if goal.subject.quantifier == "exactly":
        return ok == need
    if goal.subject.quantifier in ("the", "a") and not selected:
        return goal.condition.negate and goal.subject.quantifier == "a"  # "no apple on the table": vacuously
    return ok >= need


def unmet_goals(nodes: Nodes, goals: list[Goal]) -> list[Goal]:
    return [g for g in goals if not goal_holds(nodes, g, goals)]


def _aspect(condition: Condition) -> tuple[str, ...]:
    """What a condition is about: where the object is (placement or hand), a state flag, its temperature."""
    if condition.relation is not None or condition.held is not None:
        return ("where",)
    if condition.state is not None:
        return ("state", condition.state)
    return ("temperature",)


def final_goals(goals: list[Goal]) -> list[Goal]:
    """The goals that must hold when the task ends: all but those a later stage undoes on purpose
    ("open the fridge, then close it": the open fridge is a step on the way, not the end state).
    A goal is undone by a later-stage goal about the same objects and the same aspect."""
    out = []
    for g in goals:
        key = (g.subject.model_dump_json(), _aspect(g.condition))
        if not any(h.stage > g.stage and (h.subject.model_dump_json(), _aspect(h.condition)) == key for h in goals):
            out.append(g)
    return out


def ground(goal: Goal, nodes: Nodes) -> Goal:
    """Resolve filters that describe the scene as it is now (`located`, state and temperature filters)
    to objectIds, so the goal stays checkable once the world has changed."""
    subject = goal.subject
    if subject.ids is None and (subject.located is not None or subject.states or subject.temperature):
        subject = subject.model_copy(update={"ids": [str(n["id"]) for n in subject.select(nodes)]})
    return goal.model_copy(update={"subject": subject})


def goal_json_schema() -> dict[str, Any]:
    """The JSON Schema of `GoalSpec`, as a model is asked to answer and as docs/ publishes it."""
    return GoalSpec.model_json_schema()


if __name__ == "__main__":  # python -m robocortex.brain.goal_language > docs/goal-language.schema.json
    print(json.dumps(goal_json_schema(), indent=2))
