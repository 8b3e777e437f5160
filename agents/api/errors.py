"""One error shape for every 4xx the API sends, documented in the OpenAPI for each route.

Every error body is `{"detail": "<one sentence: what is wrong and what to send instead>", "errors": [...]}`;
`errors` lists the fields at fault for a 422 and is empty otherwise.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

_BODY_HINT = ('send a JSON object such as {"instruction": "put the apple in the fridge"} '
              "with Content-Type: application/json")


_EVENT_ID_HINT = ("is not an event id; give the id of the last event you have (e.g. 1795266081271-0), "
                  "or 0 for all events")
# Friendlier words for the pattern and length limits the OpenAPI states, by field name.
_HINTS: dict[tuple[str, str], str] = {
    ("after", "string_pattern_mismatch"): _EVENT_ID_HINT,
    ("last-event-id", "string_pattern_mismatch"): _EVENT_ID_HINT,
    ("instruction", "string_pattern_mismatch"): "instruction is empty; say what the robots should do, "
                                                "e.g. 'put the apple in the fridge'",
    ("instruction", "string_too_short"): "instruction is empty; say what the robots should do, "
                                         "e.g. 'put the apple in the fridge'",
    ("instruction", "string_too_long"): "instruction is longer than 2000 characters; shorten it",
    ("instruction", "string_unicode"): "instruction holds text that is not valid Unicode (an unpaired "
                                       "surrogate such as \\ud800); send UTF-8 text",
}


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: e.g. ['body', 'instruction'] or ['query', 'since']")
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: str = Field(description="what is wrong and what to send instead")
    errors: list[FieldError] = Field(default_factory=list, description="the fields at fault (422 only)")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses it can answer, all with ErrorBody."""
    reasons = {400: "Bad request", 404: "Not found", 409: "Conflict with the task's state",
               410: "Gone: trimmed from the log", 422: "Invalid input: the detail says what to fix"}
    return {code: {"model": ErrorBody, "description": reasons.get(code, "Error")} for code in (*codes, 422)}


def stream_error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """error_responses for a server-sent-events route: its errors are JSON ErrorBody, not the route's
    text/event-stream (FastAPI documents a `model` under the route's media type only)."""
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    return {code: {"description": spec["description"], "content": {"application/json": {"schema": ref}}}
            for code, spec in error_responses(*codes).items()}


def explain(errors: list[dict[str, Any]]) -> str:
    """One readable sentence from pydantic's error list: where, and what to fix."""
    parts = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        kind, msg = e.get("type"), str(e.get("msg", "invalid"))
        if kind == "json_invalid":  # loc is ("body", character offset)
            error = (e.get("ctx") or {}).get("error", "parse error")
            at = f" at character {loc[1]}" if len(loc) > 1 else ""
            parts.append(f"body is not valid JSON ({error}{at}): {_BODY_HINT}")
            continue
        if loc == ["body"]:  # the body as a whole: missing, or not an object
            what = "is required" if kind == "missing" else "is not a JSON object"
            parts.append(f"body {what}: {_BODY_HINT}")
            continue
        where = ".".join(p for p in loc if p != "body") or "body"
        hint = _HINTS.get((loc[-1].lower() if loc else "", str(kind)))
        if hint is not None:
            parts.append(hint if hint.startswith(loc[-1]) else f"{where}: {e.get('input')!r} {hint}")
            continue
        if kind == "missing":
            parts.append(f"{where} is required")
        else:
            text = msg.removeprefix("Value error, ")
            parts.append(text if text.startswith(where) else f"{where}: {text}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        fields = [FieldError(loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
                             msg=str(e.get("msg", "")), type=str(e.get("type", ""))) for e in errors]
        body = ErrorBody(detail=explain(errors), errors=fields)
        return JSONResponse(status_code=422, content=body.model_dump(mode="json"))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail, headers = str(exc.detail), dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400 and detail == "There was an error parsing the body":  # Starlette's words
            detail = f"body could not be read (not UTF-8 JSON): {_BODY_HINT}"
        if exc.status_code == 405:
            # Starlette names only the first route whose path matched; a path served by several routes
            # (GET and POST /tasks) must list every method it allows.
            headers["Allow"] = ", ".join(sorted(_allowed_methods(app, request)))
            detail = f"{request.method} is not allowed here; use {headers['Allow']}"
        body = ErrorBody(detail=detail)
        return JSONResponse(status_code=exc.status_code, content=body.model_dump(mode="json"), headers=headers or None)


def _allowed_methods(app: FastAPI, request: Request) -> set[str]:
    """The methods the OpenAPI document lists for this path."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        regex, _, _ = compile_path(template)
        if regex.match(request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
    return methods


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
