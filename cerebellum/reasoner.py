"""The model's loop for subtasks that come with only a description: observe, think, call a skill.

The model sees what the robot sees and holds, and calls skills as OpenAI tools built from the
skill declarations; every call goes through the executor's checks, and the outcome (or the
reason it failed) is the next observation. For servers or models that cannot call tools it
falls back to one JSON object per reply in plain text. The loop is bounded in turns.
Configured by the same LLM settings as the brain (base_url, model, api_key, timeout_s,
max_retries, structured_output: "none" starts in JSON-in-text mode).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import openai

from robocortex.memory.schemas import FailureKind, SkillCall, SubtaskMessage

from robocortex.cerebellum.model_text import json_objects, split_thinking
from robocortex.cerebellum.skills import SKILLS, openai_tools

if TYPE_CHECKING:
    from robocortex.cerebellum.executor import SubtaskExecutor

FINISH = "finish"
FINISH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": FINISH,
        "description": "Call once the subtask is done (success true) or cannot be done (success false, with why).",
        "parameters": {
            "type": "object",
            "properties": {"success": {"type": "boolean"}, "reason": {"type": "string"}},
            "required": ["success"],
        },
    },
}
_STATE_KEYS = ("isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid", "isBroken")


class ModelSettings(Protocol):
    """The brain's LLM settings (agents.settings.LLMSettings) satisfy this."""

    base_url: str | None
    model: str
    api_key: str
    timeout_s: float
    max_retries: int
    structured_output: str
    temperature: float


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    call_id: str | None = None  # set in tool-calling mode, None in JSON-in-text mode


class Reasoner:
    def __init__(self, settings: ModelSettings, max_turns: int = 12):
        self.settings = settings
        self.max_turns = max_turns
        self.json_in_text = settings.structured_output == "none"
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    timeout=settings.timeout_s, max_retries=settings.max_retries)
        self._model: str | None = settings.model or None

    @property
    def model(self) -> str:
        """The configured model name, else the first one the server lists (as the brain's client does)."""
        if self._model is None:
            try:
                listed = [m.id for m in self.client.models.list().data]
            except openai.OpenAIError:
                listed = []
            self._model = listed[0] if listed else "default"
        return self._model

    def run(self, body: SubtaskExecutor, message: SubtaskMessage) -> None:
        """Drive skills until the model calls finish; raises SkillFailed when it gives up."""
        from robocortex.cerebellum.executor import SkillFailed

        tools = openai_tools(body.profile.skills) + [FINISH_TOOL]
        messages = [{"role": "system", "content": self._system_prompt(body, tools)},
                    {"role": "user", "content": f"Subtask: {message.description}\n\n{observation(body, message)}"}]
        last_failure: FailureKind = "precondition"
        for _turn in range(self.max_turns):
            text, calls, assistant = self._ask(body, messages, tools)
            messages.append(assistant)
            if text.strip():
                body.event("thought", text.strip(), model=self.model)
            if not calls:
                messages.append({"role": "user", "content": "Reply with exactly one tool call"
                                 + (' as a JSON object {"tool": ..., "arguments": {...}}.' if self.json_in_text else ".")})
                continue
            for call in calls:
                if call.name == FINISH:
                    if call.arguments.get("success"):
                        return
                    raise SkillFailed(f"the model gave up: {call.arguments.get('reason') or 'no reason given'}",
                                      kind=last_failure)
                try:
                    body.run_step(SkillCall(skill=call.name, args=call.arguments))
                    outcome = f"ok. {observation(body, message)}"
                except SkillFailed as exc:
                    if exc.kind in ("cancelled", "timeout"):
                        raise
                    last_failure = exc.kind
                    outcome = f"failed ({exc.kind}): {exc}. {observation(body, message)}"
                messages.append(self._result_message(call, outcome))
        raise SkillFailed(f"the model did not finish within {self.max_turns} turns", kind="timeout")

    # ------------------------------------------------------------------ talking to the model

    def _ask(self, body: SubtaskExecutor, messages: list[dict[str, Any]],
             tools: list[dict[str, Any]]) -> tuple[str, list[ToolCall], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages,
                                  "temperature": self.settings.temperature}
        if not self.json_in_text:
            try:
                reply = self.client.chat.completions.create(**kwargs, tools=tools, tool_choice="auto")
            except openai.BadRequestError as exc:
                self.json_in_text = True
                body.event("thought", f"the model server refused tool calls ({exc.status_code}); "
                                      "asking for JSON in text instead")
                messages[0] = {"role": "system", "content": self._system_prompt(body, tools)}
            else:
                msg = reply.choices[0].message
                calls = [ToolCall(c.function.name, _arguments(c.function.arguments), c.id)
                         for c in msg.tool_calls or []]
                assistant = {"role": "assistant", "content": msg.content or ""}
                if msg.tool_calls:
                    assistant["tool_calls"] = [
                        {"id": c.id, "type": "function",
                         "function": {"name": c.function.name, "arguments": c.function.arguments}}
                        for c in msg.tool_calls
                    ]
                return msg.content or "", calls, assistant
        reply = self.client.chat.completions.create(**kwargs)
        text = reply.choices[0].message.content or ""
        call = call_from_text(text)
        return text, [call] if call else [], {"role": "assistant", "content": text}

    def _result_message(self, call: ToolCall, outcome: str) -> dict[str, Any]:
        if call.call_id is not None:
            return {"role": "tool", "tool_call_id": call.call_id, "content": outcome}
        return {"role": "user", "content": f"Result of {call.name}: {outcome}"}

    def _system_prompt(self, body: SubtaskExecutor, tools: list[dict[str, Any]]) -> str:
        lines = [
            f"You control robot {body.robot} ({body.profile.embodiment}, payload {body.profile.payload_kg} kg, "
            f"{'cannot move its base' if body.profile.mobility == 'fixed' else 'mobile'}).",
            "Do the subtask with your skills, one call at a time; objects are named by their objectId. "
            "After each call you see what happened. Call finish when done, or when it cannot be done.",
        ]
        if self.json_in_text:
            lines.append('Answer with one JSON object and nothing else: {"tool": "<name>", "arguments": {...}}. '
                         "Tools:")
            lines += [f"- {t['function']['name']}: {t['function']['description']} arguments: "
                      f"{json.dumps(t['function']['parameters'].get('properties', {}))}" for t in tools]
        return "\n".join(lines)


def observation(body: SubtaskExecutor, message: SubtaskMessage) -> str:
    """What the model is told: what the robot holds and sees, and the known objects the subtask
    mentions (by type), with their state and where they are."""
    seen = [o for o in body.last_metadata.get("objects") or [] if o.get("visible")]
    snapshot = body.scene.snapshot()
    words = message.description.lower().replace(" ", "")
    mentioned = [n for n in snapshot.objects() if n.objectType and n.objectType.lower() in words]
    lines = [f"You hold {body.holding() or 'nothing'}."]
    lines.append("You see: " + (", ".join(_describe(o["objectId"], o) for o in seen[:30]) or "nothing") + ".")
    if mentioned:
        lines.append("Known objects for this subtask: " + ", ".join(
            _describe(n.id, n.model_dump()) + (f" in/on {','.join(n.parents())}" if n.parents() else "")
            for n in mentioned[:20]) + ".")
    return " ".join(lines)


def _describe(object_id: str, fields: dict[str, Any]) -> str:
    states = [k for k in _STATE_KEYS if fields.get(k)]
    return object_id + (f" ({', '.join(states)})" if states else "")


def _arguments(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def call_from_text(text: str) -> ToolCall | None:
    """One call from a plain-text reply: a JSON object, bare or fenced, after any <think> block.
    Accepts {"tool"|"name"|"skill": ..., "arguments"|"args": {...}}."""
    for value in json_objects(split_thinking(text)[1]):
        name = value.get("tool") or value.get("name") or value.get("skill")
        args = value.get("arguments", value.get("args", {}))
        if isinstance(name, str) and (name in SKILLS or name == FINISH) and isinstance(args, dict):
            return ToolCall(name, args)
    return None
