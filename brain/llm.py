"""The model-backed planner: RoboBrain 2.0 (or any OpenAI-compatible chat model) writes the plan.

It talks to vLLM, OpenAI or llama.cpp's server through the official `openai` client. Structured
output is asked for where the server takes it (json_schema for vLLM/OpenAI, json_object+schema for
llama.cpp); otherwise the JSON is pulled out of the text, including RoboBrain 2.0's
thinking-then-answer form (the thinking is kept for the trace). Invalid plans come back to it with
the validator's reasons for a bounded number of repairs (the brain's graph drives that loop).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import openai
from pydantic import ValidationError

from brain.plan import Plan
from brain.planner import InvalidReply, PlanningError, PlanOutcome, PlanRequest
from brain.prompt import build_messages

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)
_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) from a RoboBrain-style reply; plain replies have no thinking."""
    thinking = "\n".join(m.strip() for m in _THINK.findall(text))
    answer = _ANSWER.search(text)
    rest = answer.group(1) if answer else _THINK.sub("", text)
    return thinking, rest.strip()


def extract_json(text: str) -> dict[str, Any]:
    """The plan object from a reply: the whole text, a fenced block, or the outermost braces."""
    candidates = [text.strip()] + _FENCE.findall(text)
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for c in candidates:
        try:
            value = json.loads(c)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the reply holds no JSON object")


class LLMPlanner:
    name = "llm"

    def __init__(self, settings: Any):
        self.settings = settings
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    timeout=settings.timeout_s, max_retries=settings.max_retries)
        self._mode = settings.structured_output

    def _response_format(self) -> dict[str, Any] | None:
        schema = Plan.model_json_schema()
        if self._mode in ("auto", "json_schema"):
            return {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}}
        if self._mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return None

    def _complete(self, messages: list[dict[str, Any]]) -> Any:
        fmt = self._response_format()
        kwargs: dict[str, Any] = {"model": self.settings.model, "messages": messages,
                                  "temperature": self.settings.temperature}
        if fmt is not None:
            kwargs["response_format"] = fmt
        try:
            return self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError:
            if self._mode != "auto":
                raise
            self._mode = "none"  # this server does not take structured output: read JSON from text
            kwargs.pop("response_format", None)
            return self.client.chat.completions.create(**kwargs)

    def plan(self, request: PlanRequest) -> PlanOutcome:
        messages = build_messages(request)
        started = time.perf_counter()
        try:
            resp = self._complete(messages)
        except openai.APITimeoutError as exc:
            raise PlanningError(f"the model at {self.settings.base_url} timed out after retries: {exc}") from exc
        except openai.APIError as exc:
            raise PlanningError(f"the model at {self.settings.base_url} failed: {exc}") from exc
        latency = time.perf_counter() - started
        choice = resp.choices[0].message
        usage = {"prompt_tokens": getattr(resp.usage, "prompt_tokens", 0) or 0,
                 "completion_tokens": getattr(resp.usage, "completion_tokens", 0) or 0} if resp.usage else {}
        raw = choice.content or ""
        if choice.tool_calls:  # a model that answers with a tool call carries the plan as its arguments
            raw = choice.tool_calls[0].function.arguments
        thinking, answer = split_thinking(raw)
        reasoning = getattr(choice, "reasoning_content", None) or ""
        try:
            plan = Plan.model_validate(extract_json(answer))
        except (ValueError, ValidationError) as exc:
            # Returned as a plan the validator rejects, so the repair loop sends the reason back.
            raise InvalidReply(f"the model's reply is not a valid plan: {str(exc).splitlines()[0]}", raw,
                               usage, latency) from None
        if not plan.reasoning:
            plan.reasoning = thinking or reasoning
        return PlanOutcome(plan=plan, raw=raw, thinking=thinking or reasoning, usage=usage, latency_s=latency, calls=1)
