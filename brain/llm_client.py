"""One chat completion from an OpenAI-compatible server (vLLM, OpenAI, llama.cpp's server), with
retries and exponential backoff on 429 / 5xx / timeouts, and structured output where it is taken.

Structured output modes: `json_schema` (vLLM, OpenAI: response_format json_schema), `json_object`
(llama.cpp's server: response_format json_object with a `schema`), `tools` (the plan as the
arguments of a forced `submit_plan` call), `none` (JSON read from text). `auto` tries json_schema,
then json_object, then none, stepping down when the server answers 400, and remembers what worked.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

import openai

from robocortex.brain.planner import ModelCall, PlanningError

log = logging.getLogger("robocortex.brain.llm")
_AUTO_ORDER = ("json_schema", "json_object", "none")


class ModelUnavailable(PlanningError):
    """The server could not be reached or kept failing after every retry."""


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in (408, 409, 429) or exc.status_code >= 500)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ChatClient:
    def __init__(self, settings: Any):
        self.settings = settings
        # The client's own retries are off: ours count attempts for the trace and honour the config.
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    timeout=settings.timeout_s, max_retries=0)
        self._lock = threading.Lock()
        self._mode = settings.structured_output if settings.structured_output != "auto" else _AUTO_ORDER[0]
        self._auto = settings.structured_output == "auto"

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> ModelCall:
        """The reply text (or the forced tool call's arguments), its thinking, usage and latency."""
        started = time.perf_counter()
        attempts = 0
        while True:
            mode = self._mode
            try:
                attempts, resp = self._with_retries(self._request(messages, schema, mode), attempts)
            except openai.BadRequestError as exc:
                if not self._step_down(mode):
                    raise ModelUnavailable(f"the model at {self.settings.base_url} refused the request: {exc.message}") from None
                continue
            break
        message = resp.choices[0].message
        raw = message.content or ""
        if message.tool_calls:  # the plan travels as the arguments of a function call
            raw = message.tool_calls[0].function.arguments
        usage = resp.usage
        return ModelCall(raw=raw, thinking=(getattr(message, "reasoning_content", None) or "").strip(),
                         prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                         completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                         latency_s=time.perf_counter() - started, attempts=attempts, output_format=mode)

    def _step_down(self, failed: str) -> bool:
        """In auto mode, move to the next output format after a 400; False when none is left."""
        with self._lock:
            if not self._auto or failed == _AUTO_ORDER[-1]:
                return False
            if self._mode == failed:
                self._mode = _AUTO_ORDER[_AUTO_ORDER.index(failed) + 1]
                log.warning("%s does not take %s output; trying %s", self.settings.base_url, failed, self._mode)
            return True

    def _request(self, messages: list[dict[str, Any]], schema: dict[str, Any], mode: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.settings.model, "messages": messages,
                                  "temperature": self.settings.temperature}
        if self.settings.max_tokens:
            kwargs["max_tokens"] = self.settings.max_tokens
        if mode == "json_schema":
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}}
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        elif mode == "tools":
            kwargs["tools"] = [{"type": "function", "function": {
                "name": "submit_plan", "description": "Submit the plan for the task.", "parameters": schema}}]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": "submit_plan"}}
        return kwargs

    def _with_retries(self, kwargs: dict[str, Any], attempts: int) -> tuple[int, Any]:
        retries = self.settings.max_retries
        while True:
            attempts += 1
            try:
                return attempts, self.client.chat.completions.create(**kwargs)
            except openai.APIError as exc:
                if not _retryable(exc):
                    if isinstance(exc, openai.BadRequestError):
                        raise
                    raise ModelUnavailable(f"the model at {self.settings.base_url} failed: {exc}") from None
                if attempts > retries:
                    raise ModelUnavailable(f"the model at {self.settings.base_url} failed after {attempts} "
                                           f"attempt(s): {type(exc).__name__}: {exc}") from None
                delay = _retry_after(exc) or min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** (attempts - 1))
                log.warning("model call failed (%s); retry %d/%d in %.2f s", type(exc).__name__, attempts, retries, delay)
                time.sleep(delay * random.uniform(0.8, 1.2))
