"""Reading what a language model wrote: RoboBrain 2.0's thinking-then-answer form, and JSON objects
in plain text (bare, fenced, or wrapped in prose). Pure, so the brain's planner and the robots'
tool loop read replies the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.S)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) from a RoboBrain-style reply; plain replies have no thinking."""
    thinking = "\n".join(m.strip() for m in _THINK.findall(text) if m.strip())
    answer = _ANSWER.search(text)
    rest = answer.group(1) if answer else _THINK.sub("", text)
    return thinking, rest.strip()


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object the text can be read as, most literal first: the whole text, each fenced
    block, then the outermost braces."""
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
            yield value
