"""A scripted OpenAI-compatible chat server on loopback, for tests that drive the real `openai`
client over real HTTP. Each request pops the next scripted reply; every request is recorded.
Streamed requests (`"stream": true`) get server-sent events, a few characters a chunk, with usage
last when `stream_options.include_usage` asks for it; a client that hangs up mid-stream is counted
in `disconnects` (what makes a real server stop generating). `/v1/models` lists the model.

    with ScriptedLLM([reply(content='{"goals": ...}'), reply(status=429), reply(delay_s=5)]) as llm:
        settings.base_url = llm.base_url

A server that must answer requests it cannot predict the order of (several runs at once) takes
`respond`, a function from the request body to the reply, instead of a script.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None  # [{"name": ..., "arguments": {...} or "json"}]
    status: int = 200
    delay_s: float = 0.0
    reject_response_format: bool = False  # answer 400 when the request carries response_format
    reject_tools: bool = False  # answer 400 when the request carries tools (a server without tool calling)
    # Like a server that takes only these response_format types (e.g. ("json_object",) for llama.cpp):
    # any other type is answered 400 *without using up this reply*, as a real server would.
    accept_formats: tuple[str, ...] | None = None
    usage: tuple[int, int] = (100, 20)
    finish_reason: str | None = None  # default: "tool_calls" with tool calls, else "stop"
    error_message: str | None = None  # the error text of a non-200 reply
    reasoning: str | None = None  # vLLM's reasoning_content (a reasoning parser's output)
    chunk_delay_s: float = 0.0  # streaming: the pause before each chunk (a slow model)


def reply(content: str | dict | None = None, **kw: Any) -> Reply:
    if isinstance(content, dict):
        content = json.dumps(content)
    return Reply(content=content, **kw)


@dataclass
class ScriptedLLM:
    script: list[Reply]
    model: str = "BAAI/RoboBrain2.0-7B"
    repeat_last: bool = False  # keep answering with the last reply when the script runs out
    requests: list[dict[str, Any]] = field(default_factory=list)
    respond: Callable[[dict[str, Any]], Reply] | None = None  # when set: the reply to each request, built from it
    models: list[dict[str, Any]] | None = None  # /v1/models entries (default: this model only); [] = none
    strict_model: bool = False  # 404 for a request naming another model, as vLLM does
    disconnects: int = 0  # streamed replies the client hung up on before their end

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.app = self._build()
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _refuses(self, body: dict[str, Any]) -> bool:
        """True when the next reply models a server that does not take this request's response_format."""
        fmt = (body.get("response_format") or {}).get("type")
        with self._lock:
            head = self.script[0] if self.script else None
        return head is not None and head.accept_formats is not None and fmt is not None and fmt not in head.accept_formats

    def _next(self) -> Reply:
        with self._lock:
            if not self.script:
                raise AssertionError("the scripted LLM ran out of replies")
            return self.script[0] if (self.repeat_last and len(self.script) == 1) else self.script.pop(0)

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            if self.strict_model and body.get("model") != self.model:
                return JSONResponse({"error": {"message": f"The model `{body.get('model')}` does not exist.",
                                               "type": "NotFoundError", "code": 404}}, status_code=404)
            if self._refuses(body):
                return JSONResponse({"error": {"message": f"response_format {body['response_format']['type']} is not "
                                               "supported", "type": "invalid_request_error"}}, status_code=400)
            r = self.respond(body) if self.respond is not None else self._next()
            if r.delay_s:
                import asyncio

                await asyncio.sleep(r.delay_s)
            if r.reject_response_format and "response_format" in body:
                return JSONResponse({"error": {"message": "response_format is not supported", "type": "invalid_request_error"}},
                                    status_code=400)
            if r.reject_tools and "tools" in body:
                return JSONResponse({"error": {"message": "tools are not supported", "type": "invalid_request_error"}},
                                    status_code=400)
            if r.status != 200:
                return JSONResponse({"error": {"message": r.error_message or f"scripted status {r.status}",
                                               "type": "server_error"}}, status_code=r.status)
            if body.get("stream"):
                return StreamingResponse(self._stream(request, body, r), media_type="text/event-stream")
            message: dict[str, Any] = {"role": "assistant", "content": r.content}
            if r.reasoning:
                message["reasoning_content"] = r.reasoning
            if r.tool_calls:
                message["tool_calls"] = [
                    {"id": f"call_{i}", "type": "function",
                     "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                                  else json.dumps(c["arguments"])}}
                    for i, c in enumerate(r.tool_calls)
                ]
            return {
                "id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": message, "finish_reason": _finish(r)}],
                "usage": {"prompt_tokens": r.usage[0], "completion_tokens": r.usage[1],
                          "total_tokens": sum(r.usage)},
            }

        @app.get("/v1/models")
        async def models():
            data = self.models if self.models is not None else [{"id": self.model}]
            return {"object": "list", "data": [{"object": "model", "owned_by": "scripted", **m} for m in data]}

        return app

    async def _stream(self, request: Request, body: dict[str, Any], r: Reply):
        """The reply as server-sent events, a few characters a chunk, like a server streaming tokens."""
        import asyncio

        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model", self.model)}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            return "data: " + json.dumps({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"reasoning_content": p} for p in _pieces(r.reasoning or "")]
        deltas += [{"content": p} for p in _pieces(r.content or "")]
        for i, c in enumerate(r.tool_calls or []):
            args = c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])
            deltas.append({"tool_calls": [{"index": i, "id": f"call_{i}", "type": "function",
                                           "function": {"name": c["name"], "arguments": ""}}]})
            deltas += [{"tool_calls": [{"index": i, "function": {"arguments": p}}]} for p in _pieces(args)]
        finished = False
        try:  # a client that hangs up cancels this generator (Starlette watches for the disconnect)
            for delta in deltas:
                if r.chunk_delay_s:
                    await asyncio.sleep(r.chunk_delay_s)
                    if await request.is_disconnected():
                        return
                yield chunk(delta)
            yield chunk({}, _finish(r))
            if (body.get("stream_options") or {}).get("include_usage"):
                yield "data: " + json.dumps({**base, "choices": [], "usage": {
                    "prompt_tokens": r.usage[0], "completion_tokens": r.usage[1], "total_tokens": sum(r.usage)}}) + "\n\n"
            yield "data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                self.disconnects += 1

    def __enter__(self) -> "ScriptedLLM":
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started and time.time() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)


def _finish(r: Reply) -> str:
    return r.finish_reason or ("tool_calls" if r.tool_calls else "stop")


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
