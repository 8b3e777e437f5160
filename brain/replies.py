"""Reading a plan out of a model's reply, whatever shape the server and model gave it.

Structured output gives bare JSON; other servers give text with the JSON in a fenced block or
loose in prose; RoboBrain 2.0 thinks first: `<think>…</think><answer>…</answer>`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

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
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'plan'}: {e['msg']}" for e in exc.errors()[:8])
        raise ValueError(f"the JSON is not a plan: {problems}") from None
