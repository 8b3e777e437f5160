"""The instruction corpus: loading and checking it against its scenes.

`corpus-dev.yaml` and `corpus-heldout.yaml` hold entries

    - id: list-001
      scene: Kitchen-0
      class: list
      text: put the mug, the cup and the bowl in the sink
      goals:                      # the goal language (brain/goal_language.py); compact form allowed
        - {object: Mug, relation: in, target: SinkBasin}

or, for sentences the system must refuse, `error: <word the refusal must name>` (and optionally
`suggest: <closest known word>`, measured but not required). Conventions: docs/language.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robocortex.evaluation.scenes import initial_nodes
from robocortex.brain.goal_language import load_yaml as yaml12
from robocortex.brain.goal_language import Goal, Selector, categories

HERE = Path(__file__).parent
PARTS = {"dev": HERE / "corpus-dev.yaml", "heldout": HERE / "corpus-heldout.yaml"}
CLASSES: tuple[str, ...] = ("list", "multi_verb", "ellipsis", "reference", "quantifier", "category", "outcome",
                            "condition", "polite", "synonym", "order", "negation", "pieces", "unknown")
SCENE = re.compile(r"^(Kitchen|LivingRoom|Bedroom|Bathroom)-\d+$")


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+-\d{3}$")
    scene: str = Field(pattern=SCENE.pattern)
    cls: str = Field(alias="class")
    text: str = Field(min_length=1)
    goals: list[Goal] | None = None
    error: str | None = None
    suggest: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "Entry":
        if self.cls not in CLASSES:
            raise ValueError(f"class {self.cls!r} is not one of {', '.join(CLASSES)}")
        if (self.goals is None) == (self.error is None):
            raise ValueError("an entry has exactly one of goals (non-empty) or error")
        if self.goals is not None and not self.goals:
            raise ValueError("goals must not be empty (use error: for refusals)")
        if self.error is not None and self.cls != "unknown" or self.error is None and self.cls == "unknown":
            raise ValueError("refusals (error:) are the class 'unknown', and only they")
        return self

    @property
    def room(self) -> str:
        return self.scene.split("-")[0]


def load_yaml(path: Path) -> Any:
    return yaml12(path.read_text())  # YAML 1.2: `on` stays a word


def load(part: str) -> list[Entry]:
    """Entries of one part ("dev", "heldout") or both ("all")."""
    paths = list(PARTS.values()) if part == "all" else [PARTS[part]]
    return [Entry.model_validate(raw) for path in paths for raw in (load_yaml(path) or [])]


# --------------------------------------------------------------------------- checking against the scene


def _selectors(goal: Goal) -> Iterator[tuple[str, Selector]]:
    yield "subject", goal.subject
    if goal.subject.located is not None:
        yield "located target", goal.subject.located.target
    if goal.condition.target is not None:
        yield "target", goal.condition.target
    for sub in goal.when:
        yield from _selectors(sub)


def selector_problem(sel: Selector, nodes: dict[str, dict[str, Any]]) -> str | None:
    """Why `sel` names something the scene lacks, or None."""
    types = {n.get("objectType") for n in nodes.values()}
    if sel.category is not None and sel.category not in categories():
        return f"unknown category {sel.category!r}"
    if sel.type is not None and sel.type not in types:
        return f"no {sel.type}"
    if sel.id is not None and sel.id not in nodes:
        return f"no object {sel.id}"
    for oid in sel.ids or []:
        if oid not in nodes:
            return f"no object {oid}"
    whole = sel.model_copy(update={"piece": False, "states": {}, "temperature": None, "located": None,
                                   "ids": sel.ids})
    if (sel.type or sel.category or sel.id or sel.ids) and not whole.select(nodes):
        return f"nothing matches {sel.describe()}"
    return None


def entry_problems(entry: Entry) -> list[str]:
    """Goals naming what the scene does not have (types, categories with no member, ids)."""
    if entry.goals is None:
        return []
    nodes = initial_nodes(entry.scene)
    out = []
    for i, goal in enumerate(entry.goals):
        for role, sel in _selectors(goal):
            problem = selector_problem(sel, nodes)
            if problem:
                out.append(f"{entry.id} ({entry.scene}) goal {i} {role}: {problem}")
        if goal.subject.rest_of is not None and goal.subject.rest_of >= len(entry.goals):
            out.append(f"{entry.id}: goal {i} is the rest of goal {goal.subject.rest_of}, which does not exist")
    return out
