"""One chat completion from an OpenAI-compatible server (vLLM, OpenAI, llama.cpp's servers).

- Structured output: `json_schema` (vLLM, OpenAI, llama-server), `json_object` with a `schema`
  (llama-cpp-python, llama-server: the schema becomes a grammar), `tools` (a forced function call),
  `none` (JSON read from text). `auto` tries json_schema → json_object → none and learns, per
  endpoint, what the server takes: it steps down only when the server refuses the *format* (a 400,
  422 or 500 whose error names response_format / json_schema / tools) — never for an unrelated error
  such as a context overflow.
- Streaming, so a call that is cancelled, runs past the task deadline or stalls is closed and the
  server stops generating (no backlog left behind). `finish_reason` is kept.
- Time: `timeout_s` bounds the wait for the first token and between two tokens; a whole call may
  take `timeout_s + max_tokens × seconds_per_token`, and never past the task's deadline.
- Retries with exponential backoff (and Retry-After) after 408/409/429/5xx, timeouts and refused
  connections, while the deadline allows.
- The server is asked once (`/v1/models`, llama.cpp's `/props`) for its model names and context
  length: an unset model name is taken from there, and a 404 for the model lists the names.
- Every HTTP attempt is reported (`start` / `end`) through the request's reporter.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import openai

from robocortex.brain.planner import ModelCall, ModelCallFailed

log = logging.getLogger("robocortex.brain.llm")
AUTO_ORDER = ("json_schema", "json_object", "none")

_CONTEXT = re.compile(r"context[ _-]?(length|window|size)|maximum context|n_ctx|too many tokens|prompt is too long|"
                      r"input is too long|exceeds? (the )?(model'?s? )?(maximum|context)", re.I)
_FORMAT = re.compile(r"response_format|json_schema|json_object|guided|grammar|structured output", re.I)
_TOOLS = re.compile(r"\btools?\b|tool_choice|function", re.I)
_STREAM_OPTIONS = re.compile(r"stream_options", re.I)


class ModelUnavailable(ModelCallFailed):
    """The server could not be reached, kept failing after every retry, or refused the request."""


class ContextOverflow(ModelCallFailed):
    """The prompt (with the completion budget) does not fit the model's context."""


class CallStopped(ModelCallFailed):
    """The call was abandoned: the task was cancelled or its deadline passed."""


@dataclass
class Guard:
    """The task's deadline and cancel check, and where each attempt is reported."""

    deadline: float | None = None  # time.time() seconds
    should_stop: Callable[[], bool] | None = None
    report: Callable[[str, dict[str, Any]], None] | None = None
    check_every_s: float = 0.25
    _last_check: float = field(default=0.0, repr=False)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.time()

    def stop_reason(self, force: bool = False) -> str | None:
        """"cancelled" / "deadline" when the call must end now (the cancel check is throttled)."""
        left = self.remaining()
        if left is not None and left <= 0:
            return "deadline"
        now = time.monotonic()
        if self.should_stop is not None and (force or now - self._last_check >= self.check_every_s):
            self._last_check = now
            if self.should_stop():
                return "cancelled"
        return None

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        if self.report is not None:
            try:
                self.report(kind, data)
            except Exception:  # noqa: BLE001  (a reporter must never break the call)
                log.exception("model call reporter failed")


@dataclass
class ServerInfo:
    models: list[str]
    context_length: int | None


# What each endpoint was learned to take, shared by every client in the process.
_LOCK = threading.Lock()
_LEARNED: dict[str, str] = {}
_NO_STREAM_OPTIONS: set[str] = set()
_INFO: dict[str, ServerInfo] = {}


def forget_endpoints() -> None:
    """Drop what was learned about servers (tests start servers on reused ports)."""
    with _LOCK:
        _LEARNED.clear()
        _NO_STREAM_OPTIONS.clear()
        _INFO.clear()


def error_kind(exc: Exception, mode: str = "") -> str:
    """format | context | stream_options | model_not_found | retry | fatal — what an API error means here."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, httpx.TimeoutException,
                        httpx.TransportError)):
        return "retry"
    if not isinstance(exc, openai.APIStatusError):
        return "fatal"
    text = f"{exc.message} {exc.body}"
    status = exc.status_code
    if _CONTEXT.search(text):
        return "context"
    if status == 404:
        return "model_not_found" if "model" in text.lower() else "fatal"
    if status in (400, 415, 422, 500, 501) and _STREAM_OPTIONS.search(text):
        return "stream_options"
    if status in (400, 415, 422, 500, 501) and (_FORMAT.search(text) or mode == "tools" and _TOOLS.search(text)):
        return "format"
    if status in (408, 409, 429) or status >= 500:
        return "retry"
    return "fatal"


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    """One line of an error (servers put whole tracebacks in their messages)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    telling = [ln for ln in lines if _FORMAT.search(ln) or _CONTEXT.search(ln)]
    return ((telling or lines or [type(exc).__name__])[0])[:300]


class ChatClient:
    def __init__(self, settings: Any):
        self.settings = settings
        self.endpoint = (settings.base_url or "").rstrip("/")
        # The client's own retries are off: ours count attempts, honour the deadline and report each one.
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    timeout=settings.timeout_s, max_retries=0)

    # ------------------------------------------------------------------ what the server is

    def configured_mode(self) -> str:
        mode = self.settings.structured_output
        if mode == "auto" and getattr(self.settings, "think", False):
            return "none"  # a constrained decoder cannot write <think>…</think> first
        return mode

    def mode(self) -> str:
        mode = self.configured_mode()
        if mode != "auto":
            return mode
        with _LOCK:
            return _LEARNED.get(self.endpoint, AUTO_ORDER[0])

    def server_info(self) -> ServerInfo:
        """Model names and context length, as the server says them (asked once per endpoint)."""
        with _LOCK:
            if self.endpoint in _INFO:
                return _INFO[self.endpoint]
        models: list[str] = []
        context: int | None = None
        headers = {"Authorization": f"Bearer {self.settings.api_key}"}
        try:
            data = httpx.get(f"{self.endpoint}/models", headers=headers, timeout=10).json().get("data") or []
            models = [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
            for m in data:
                meta = m.get("meta") or {}
                context = context or m.get("max_model_len") or m.get("context_length") or m.get("context_window") \
                    or meta.get("n_ctx")
        except httpx.TransportError as exc:  # not up (yet): ask again next time
            log.info("%s/models not reachable: %s", self.endpoint, exc)
            return ServerInfo(models=[], context_length=None)
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.info("%s/models not readable: %s", self.endpoint, exc)
        if context is None:  # llama.cpp's server: the context it was started with
            try:
                props = httpx.get(f"{self.endpoint.removesuffix('/v1')}/props", headers=headers, timeout=5).json()
                context = props.get("n_ctx") or (props.get("default_generation_settings") or {}).get("n_ctx")
            except (httpx.HTTPError, ValueError, AttributeError):
                pass
        info = ServerInfo(models=models, context_length=int(context) if context else None)
        with _LOCK:
            _INFO[self.endpoint] = info
        return info

    def context_length(self) -> int | None:
        return self.settings.context_length or self.server_info().context_length

    def model_name(self) -> str:
        if self.settings.model:
            return self.settings.model
        models = self.server_info().models
        # A server that lists nothing either serves one model whatever the name (llama.cpp) or will say
        # which names it has when the request fails (a 404 is answered with its list).
        return models[0] if models else "default"

    # ------------------------------------------------------------------ one call

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any], *, guard: Guard | None = None,
                 temperature: float | None = None, max_tokens: int | None = None,
                 schema_name: str = "answer", seed: int | None = None) -> ModelCall:
        """The reply (text, or the forced tool call's arguments), its thinking, finish reason, usage and
        latency. Raises ModelUnavailable, ContextOverflow or CallStopped (each with the call's cost)."""
        guard = guard or Guard()
        call = ModelCall(attempts=0, output_format=self.mode())
        started = time.perf_counter()
        budget = max_tokens or self.settings.completion_budget()
        try:
            model = self.model_name()
            while True:
                mode = self.mode()
                call.output_format = mode
                kwargs = self._request(model, messages, schema, mode, schema_name,
                                       self.settings.temperature if temperature is None else temperature, budget)
                if seed is not None:
                    kwargs["seed"] = seed
                try:
                    self._attempts(kwargs, guard, call, budget)
                    return call
                except openai.APIStatusError as exc:
                    kind = error_kind(exc, mode)
                    if kind == "format" and self._step_down(mode, exc):
                        continue
                    if kind == "stream_options":
                        with _LOCK:
                            _NO_STREAM_OPTIONS.add(self.endpoint)
                        continue
                    raise self._failure(kind, exc, model) from None
        except ModelCallFailed as exc:
            exc.call = call
            raise
        finally:
            call.latency_s = time.perf_counter() - started

    def _failure(self, kind: str, exc: openai.APIStatusError, model: str) -> ModelCallFailed:
        if kind == "context":
            return ContextOverflow(f"the prompt does not fit the model's context: {_short(exc)}")
        if kind == "model_not_found":
            names = self.server_info().models
            return ModelUnavailable(f"{self.endpoint} does not serve model {model!r}"
                                    + (f"; it serves: {', '.join(names)}" if names else "")
                                    + " (set ROBOCORTEX_LLM__MODEL)")
        if kind == "format":
            return ModelUnavailable(f"{self.endpoint} refused {self.mode()} output ({_short(exc)}); set "
                                    "ROBOCORTEX_LLM__STRUCTURED_OUTPUT to a format it takes, or auto")
        return ModelUnavailable(f"the model at {self.endpoint} refused the request: HTTP {exc.status_code}: {_short(exc)}")

    def _step_down(self, failed: str, exc: Exception) -> bool:
        """In auto mode, move this endpoint to the next output format; False when none is left."""
        if self.configured_mode() != "auto" or failed == AUTO_ORDER[-1] or failed not in AUTO_ORDER:
            return False
        with _LOCK:
            if _LEARNED.get(self.endpoint, AUTO_ORDER[0]) == failed:
                _LEARNED[self.endpoint] = AUTO_ORDER[AUTO_ORDER.index(failed) + 1]
                log.warning("%s does not take %s output (%s); using %s from now on", self.endpoint, failed,
                            _short(exc), _LEARNED[self.endpoint])
        return True

    def _request(self, model: str, messages: list[dict[str, Any]], schema: dict[str, Any], mode: str,
                 schema_name: str, temperature: float, max_tokens: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature,
                                  "max_tokens": max_tokens}
        if mode == "json_schema":
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema}}
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        elif mode == "tools":
            kwargs["tools"] = [{"type": "function", "function": {
                "name": f"submit_{schema_name}", "description": f"Submit the {schema_name}.", "parameters": schema}}]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": f"submit_{schema_name}"}}
        return kwargs

    def _attempts(self, kwargs: dict[str, Any], guard: Guard, call: ModelCall, max_tokens: int) -> None:
        """Send with retries until an answer; fills `call`. Format, context and model errors are raised."""
        retries = self.settings.max_retries
        tries = 0
        while True:
            stop = guard.stop_reason(force=True)
            if stop:
                raise CallStopped(_stopped_text(stop), cancelled=stop == "cancelled")
            tries += 1
            call.attempts += 1
            started = time.perf_counter()
            guard.emit("start", {"attempt": call.attempts, "output_format": call.output_format,
                                 "max_tokens": max_tokens, "temperature": kwargs["temperature"]})
            try:
                estimated = self._send(kwargs, guard, call, max_tokens)
            except (openai.APIError, httpx.HTTPError, CallStopped) as exc:
                guard.emit("end", {"attempt": call.attempts, "ok": False, "error": _short(exc),
                                   "latency_s": round(time.perf_counter() - started, 3)})
                if isinstance(exc, CallStopped):
                    raise
                kind = error_kind(exc, call.output_format)
                if kind != "retry":
                    if isinstance(exc, openai.APIStatusError):
                        raise
                    raise ModelUnavailable(f"the model at {self.endpoint} failed: {_short(exc)}") from None
                left = guard.remaining()
                delay = _retry_after(exc) or min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** (tries - 1))
                if tries > retries or (left is not None and left <= delay):
                    raise ModelUnavailable(f"the model at {self.endpoint} failed after {tries} attempt(s): "
                                           f"{type(exc).__name__}: {_short(exc)}") from None
                log.warning("model call failed (%s); retry %d/%d in %.2f s", _short(exc), tries, retries, delay)
                time.sleep(delay * random.uniform(0.8, 1.2))
                continue
            guard.emit("end", {"attempt": call.attempts, "ok": True, "finish_reason": call.finish_reason,
                               "output_format": call.output_format, "reply": call.raw[:4000],
                               "latency_s": round(time.perf_counter() - started, 3),
                               "usage": {"prompt_tokens": call.prompt_tokens,
                                         "completion_tokens": call.completion_tokens,
                                         **({"estimated": True} if estimated else {})}})
            return

    def _send(self, kwargs: dict[str, Any], guard: Guard, call: ModelCall, max_tokens: int) -> bool:
        """One HTTP request into `call`; True when the usage is estimated (the server reported none).

        The request runs in a worker thread while this one watches the deadline, the cancel check and
        the call's budget: a server that is still reading the prompt, or that keeps the stream alive
        with keep-alive comments between tokens, cannot hold the task past them. The abandoned worker
        closes the stream at its next chunk (at the latest when its read times out), which is what
        makes the server stop generating."""
        left = guard.remaining()
        budget_s = self.settings.timeout_s + max_tokens * self.settings.seconds_per_token
        if left is not None:
            budget_s = min(budget_s, left)
        ends = time.monotonic() + budget_s
        read = max(0.05, min(self.settings.timeout_s, budget_s))
        client = self.client.with_options(timeout=httpx.Timeout(read, connect=min(10.0, read)))
        abandon = threading.Event()
        out: dict[str, Any] = {}
        result = ModelCall(attempts=0)

        def work() -> None:
            try:
                out["estimated"] = (self._stream if self.settings.stream else self._whole)(client, kwargs, result, abandon)
            except BaseException as exc:  # noqa: BLE001  (handed to the calling thread)
                out["error"] = exc

        worker = threading.Thread(target=work, name="model-call", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            stop = guard.stop_reason() or ("budget" if time.monotonic() > ends else None)
            if stop and worker.is_alive():
                abandon.set()
                raise CallStopped(_stopped_text(stop, budget_s), cancelled=stop == "cancelled")
        if "error" in out:
            raise out["error"]
        call.raw, call.thinking, call.finish_reason = result.raw, result.thinking, result.finish_reason
        call.prompt_tokens, call.completion_tokens = result.prompt_tokens, result.completion_tokens
        return bool(out.get("estimated"))

    @staticmethod
    def _whole(client: openai.OpenAI, kwargs: dict[str, Any], call: ModelCall, abandon: threading.Event) -> bool:
        resp = client.chat.completions.create(**kwargs)
        choice = resp.choices[0]
        message = choice.message
        call.raw = message.tool_calls[0].function.arguments if message.tool_calls else (message.content or "")
        call.thinking = (getattr(message, "reasoning_content", None) or "").strip()
        call.finish_reason = choice.finish_reason or ""
        _usage(call, resp.usage)
        return False

    def _stream(self, client: openai.OpenAI, kwargs: dict[str, Any], call: ModelCall,
                abandon: threading.Event) -> bool:
        extra: dict[str, Any] = {}
        with _LOCK:
            if self.endpoint not in _NO_STREAM_OPTIONS:
                extra["stream_options"] = {"include_usage": True}
        content: list[str] = []
        thinking: list[str] = []
        arguments: list[str] = []
        chunks = 0
        finish = ""
        usage = None
        stream = client.chat.completions.create(**kwargs, stream=True, **extra)
        try:
            for chunk in stream:
                if abandon.is_set():
                    return False
                usage = getattr(chunk, "usage", None) or usage
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None:
                        content.append(delta.content or "")
                        thinking.append(getattr(delta, "reasoning_content", None) or "")
                        for tc in delta.tool_calls or []:
                            if tc.function is not None and tc.function.arguments:
                                arguments.append(tc.function.arguments)
                        chunks += 1
                    finish = choice.finish_reason or finish
        finally:
            stream.close()  # closing the connection is what makes the server stop generating
        call.raw = "".join(arguments) if arguments else "".join(content)
        call.thinking = "".join(thinking).strip()
        call.finish_reason = finish
        _usage(call, usage)
        if not usage:  # servers that ignore stream_options: one chunk is about one token, and the prompt estimated
            call.completion_tokens = max(0, chunks - 1)
            call.prompt_tokens = sum(len(m.get("content") or "") // 3 + 8 for m in kwargs["messages"])
            return True
        return False


def _usage(call: ModelCall, usage: Any) -> None:
    call.prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
    call.completion_tokens = getattr(usage, "completion_tokens", 0) or 0


def _stopped_text(reason: str, budget_s: float = 0.0) -> str:
    return {"cancelled": "the task was cancelled during a model call",
            "deadline": "the task's deadline passed during a model call",
            "budget": f"the model call took longer than its {budget_s:.0f} s budget "
                      "(timeout_s + max_tokens × seconds_per_token)"}[reason]
