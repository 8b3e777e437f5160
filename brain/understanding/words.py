"""What the interpreter keeps while reading: the scene as words see it, resolved noun phrases (`Ref`),
mentions for references, prepositional phrases, the flow of the sequence; the refusal (`NotUnderstood`);
and helpers over lark trees. Shared by the semantics modules (semantics.py)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from robocortex.brain.goal_language import Condition, Goal, Selector, categories
from robocortex.brain.planner import PlanningError
from robocortex.brain.understanding.lexicon import VerbFrames, Word, type_words
from robocortex.knowledge.object_types import OBJECT_TYPES

# What a pronoun's referent must afford for the verb at hand ("close it" after "put the apple in the
# fridge" is the fridge: an apple cannot be closed).
TEMPLATE_NEEDS = {"opened": "openable", "closed": "openable", "toggled_on": "toggleable",
                  "toggled_off": "toggleable", "sliced": "sliceable", "cooked": "cookable",
                  "dirtied": "dirtyable", "cleaned": "dirtyable", "filled": "canFillWithLiquid",
                  "emptied": "canFillWithLiquid", "broken": "breakable", "used_up": "canBeUsedUp",
                  "held": "pickupable", "released": "pickupable", "trashed": "pickupable",
                  "place": "pickupable", "target": "receptacle"}

STATE_NEEDS = {"isCooked": "cookable", "isSliced": "sliceable", "isOpen": "openable", "isToggled": "toggleable",
               "isDirty": "dirtyable", "isFilledWithLiquid": "canFillWithLiquid", "isBroken": "breakable",
               "isUsedUp": "canBeUsedUp"}

EVERYTHING = Selector(quantifier="all")  # no type: what can be carried (goal_language, docs/language.md)

class NotUnderstood(PlanningError):
    """The instruction could not be read; the message names the words and what was meant instead.

    `words`: the words not understood (or not found in the scene), each with the closest known one."""

    def __init__(self, message: str, words: list[tuple[str, str | None]] | None = None):
        super().__init__(message)
        self.words = words or []

def negated(cond: Condition) -> Condition:
    """The opposite condition: a state's other value, a place negated."""
    if cond.state is not None and cond.liquid is None:
        return cond.model_copy(update={"value": not cond.value})
    if cond.held is not None:
        return cond.model_copy(update={"held": not cond.held})
    return cond.model_copy(update={"negate": not cond.negate})

def negate_goal(goal: Goal) -> Goal:
    return goal.model_copy(update={"condition": negated(goal.condition)})

def denied(goal: Goal) -> Goal:
    """A goal said with "not": its opposite, and an indefinite subject read as none at all ("there shouldn't
    be any food on the table", "don't leave a mug in the sink": every one of them)."""
    goal = negate_goal(goal)
    if goal.subject.quantifier == "a":
        goal = goal.model_copy(update={"subject": goal.subject.model_copy(update={"quantifier": "all", "count": None})})
    return goal

class SceneWords:
    """What the scene has, for resolving nouns: types present, ids, and each type's affordances."""

    def __init__(self, nodes: dict[str, dict[str, Any]]):
        self.nodes = nodes
        objects = [n for n in nodes.values() if n.get("kind", "object") == "object" and n.get("objectType")]
        self.types: dict[str, int] = {}
        self.flags: dict[str, dict[str, bool]] = {}
        for n in objects:
            t = str(n["objectType"])
            self.types[t] = self.types.get(t, 0) + 1
            known = OBJECT_TYPES.get(t)
            flags = self.flags.setdefault(t, known.flags() if known is not None else {})
            for k, v in n.items():
                if isinstance(v, bool) and not k.startswith("is"):
                    flags[k] = flags.get(k, False) or v
        self.ids = {str(n["id"]).lower(): str(n["id"]) for n in objects}

    def has(self, t: str) -> bool:
        return t in self.types

    def can(self, types: frozenset[str], affordance: str) -> bool:
        return any(self.flags.get(t, _flags(t)).get(affordance, False) for t in types)

    def close_to(self, word: str, wanted: list[str]) -> list[str]:
        """Scene types close to what was asked: sharing a category with the wanted types, or spelled alike."""
        out: list[str] = []
        for name, c in categories().items():
            if c & set(wanted) and name != "pickupables":
                out += [t for t in sorted(c) if self.has(t) and t not in out and not t.endswith(("Sliced", "Cracked"))]
        by_words = {type_words(t): t for t in self.types}
        for w in difflib.get_close_matches(word, list(by_words), n=3, cutoff=0.6):
            if by_words[w] not in out:
                out.append(by_words[w])
        return out[:5]

def _flags(t: str) -> dict[str, bool]:
    known = OBJECT_TYPES.get(t)
    return known.flags() if known is not None else {}

@dataclass
class Ref:
    """A noun phrase, resolved: the selector it stands for and what else the semantics needs."""

    selector: Selector
    text: str
    types: frozenset[str] = frozenset()
    plural: bool = False
    negate: bool = False
    room: bool = False
    product: str | None = None
    liquid: str | None = None
    wish: Goal | None = None  # "a cup of coffee", "a hot potato": the goal the phrase itself asks for
    refs: list["Ref"] = field(default_factory=list)  # a pronoun standing for several phrases
    role: str = "object"  # object | target: how it was last mentioned
    alternatives: tuple[str, ...] = ()  # other types the noun may mean here ("holder": towel or hand towel holder)
    unbound: bool = False  # "the one on the toilet" with nothing said before: what is there (nouns.np)

@dataclass
class Mention:
    ref: Ref
    goal: int | None  # index of the first goal said of it
    clause: int = 0

@dataclass
class PP:
    prep: str  # the preposition's lexicon phrase
    kind: str  # PREP, ON, OFF, FROM, WITH
    ref: Ref

@dataclass
class Said:
    """One item of the sequence, kept so that a self-correction can redo it."""

    start: int  # its first goal index
    verb: Word | None = None
    refs: list[Ref] = field(default_factory=list)
    comps: list[Any] = field(default_factory=list)

@dataclass
class Reading:
    """How one verb is read with what follows its objects."""

    frames: VerbFrames
    template: str | None = None
    adjs: list[Word] = field(default_factory=list)
    pps: list[PP] = field(default_factory=list)
    dest: PP | None = None  # where the objects go
    negplace: PP | None = None  # where they must not be ("take X out of Y")
    filters: list[PP] = field(default_factory=list)  # where they are now ("the mug from the desk")
    liquid: str | None = None

    def instrument(self, pp: PP) -> bool:
        """A phrase naming the verb's tool or appliance ("in the microwave"): the means, not a goal."""
        return bool(self.frames.instruments and pp.ref.types & self.frames.instruments)

@dataclass
class Flow:
    """Where the sequence is: the stage, the last item's goals, a marker or condition still open."""

    stage: int = 0
    last: list[int] = field(default_factory=list)
    last_said: Said = field(default_factory=lambda: Said(0))
    pending_before: list[int] | None = None  # "before X, P": X's goals, staged once P is read
    condition: tuple[list[Goal], bool] | None = None  # the last "if" (negated for "unless")
    conn: list[Word] = field(default_factory=list)
    first: bool = True
    asked_state: bool = False
    new_sentence: bool = False

def _items(tree: Tree) -> list[Tree]:
    """The sequence's children as items and connectives ("if C G" without a comma is two items)."""
    children: list[Tree] = []
    for c in tree.children:
        if isinstance(c, Tree) and c.data == "item" and len(c.children) > 1:
            children += [Tree("item", [c.children[0]]), Tree("item", [c.children[1]])]
        elif isinstance(c, Tree) and c.data == "corr":  # a correction is a connective
            children.append(Tree("conn", c.children))
        elif isinstance(c, Tree) and c.data == "fragment":
            children.append(Tree("item", [Tree("plain", [c])]))
        elif isinstance(c, Tree) and c.data == "without_action":  # "without breaking it" = "and do not break it"
            children.append(Tree("conn", []))
            children.append(Tree("item", [Tree("plain", [Tree("action", [Tree("not", c.children[:1]),
                                                                         *c.children[1].children])])]))
        elif isinstance(c, Tree):
            children.append(c)
    return children

def _tokens(tree: Tree | Token) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    return list(tree.scan_values(lambda v: isinstance(v, Token)))

def _kind(tok: Token, wanted: set[str]) -> str | None:
    """Which of the wanted readings a (possibly combined) terminal has."""
    parts = set(tok.type[2:].split("_")) if tok.type.startswith("C_") else {tok.type}
    if "ENSURE" in parts and "NOT" in parts:
        parts = parts - {"ENSURE", "NOT"} | {"ENSURE_NOT"}
    hit = parts & wanted
    return next(iter(sorted(hit))) if hit else None

def _sub(tree: Tree, *names: str) -> list[Tree]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data in names]
