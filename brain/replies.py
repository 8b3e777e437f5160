"""Reading a plan out of a model's reply, whatever shape the server and model gave it.

Structured output gives bare JSON; other servers give text with the JSON in a fenced block or
loose in prose; RoboBrain 2.0 thinks first: `<think>…</think><answer>…</answer>`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from brain.plan import Plan

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.S)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) from a RoboBrain-style reply; plain replies have no thinking."""
    thinking = "\n".join(m.strip() for m in _THINK.findall(text) if m.strip())
    answer = _ANSWER.search(text)
    rest = answer.group(1) if answer else _THINK.sub("", text)
    return thinking, rest.strip()


def extract_json(text: str) -> dict[str, Any]:
    """The plan object from a reply: the whole text, a fenced block, or the outermost braces."""
    candidates = [text.strip()] + _FENCE.findall(text)
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
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
