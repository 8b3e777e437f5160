"""Reading a plan (or a goal list) out of a model's reply, whatever shape the server and model gave it.

Structured output gives bare JSON; other servers give text with the JSON in a fenced block or
loose in prose; RoboBrain 2.0 thinks first: `<think>…</think><answer>…</answer>`.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from robocortex.memory.schemas import SceneSnapshot

from robocortex.brain.goal_language import Goal, GoalSpec, Selector, categories
from robocortex.brain.plan import Plan
from robocortex.cerebellum.model_text import json_objects, split_thinking  # noqa: F401  (split_thinking re-exported)


def extract_json(text: str) -> dict[str, Any]:
    """The plan object from a reply: the whole text, a fenced block, or the outermost braces."""
    for value in json_objects(text):
        return value
    raise ValueError("the reply holds no JSON object" + (f"; it begins {text.strip()[:80]!r}" if text.strip() else " (it is empty)"))


def parse_plan(answer: str) -> Plan:
    """A Plan from the answer text; ValueError says what is wrong, field by field."""
    data = extract_json(answer)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"the JSON is not a plan: {_problems(exc, 'plan')}") from None


def _problems(exc: ValidationError, what: str) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}" for e in exc.errors()[:8])


def parse_goals(answer: str) -> GoalSpec:
    """The goals of a goals-mode answer; ValueError says what is wrong, field by field."""
    data = extract_json(answer)
    try:
        spec = GoalSpec.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"the JSON is not a goal list: {_problems(exc, 'goals')}") from None
    if not spec.goals:
        raise ValueError("the answer has no goals: name at least one condition that must hold when the task is done")
    return spec


def unknown_names(goals: list[Goal], snapshot: SceneSnapshot) -> list[str]:
    """Every type, objectId or category a goal names that the scene (or the category table) lacks."""
    nodes = snapshot.node_dicts()
    types = {str(n.get("objectType")) for n in nodes.values() if n.get("kind", "object") == "object"}
    problems: list[str] = []

    def visit(sel: Selector | None, where: str) -> None:
        if sel is None:
            return
        if sel.type and sel.type not in types and not sel.piece:
            near = difflib.get_close_matches(sel.type, sorted(types), n=1)
            problems.append(f"{where}: no object of type {sel.type!r} in the scene"
                            + (f" (did you mean {near[0]!r}?)" if near else ""))
        if sel.id and sel.id not in nodes:
            problems.append(f"{where}: unknown objectId {sel.id!r}")
        if sel.category and sel.category not in categories():
            near = difflib.get_close_matches(sel.category, sorted(categories()), n=1)
            problems.append(f"{where}: unknown category {sel.category!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        if sel.located is not None:
            visit(sel.located.target, where)

    def goal(g: Goal, where: str) -> None:
        visit(g.subject, f"{where}.subject")
        visit(g.condition.target, f"{where}.condition.target")
        for j, w in enumerate(g.when):
            goal(w, f"{where}.when.{j}")

    for i, g in enumerate(goals):
        goal(g, f"goals.{i}")
    return problems
