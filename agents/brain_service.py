"""The brain service: REST API + task runner in one process (run several for more capacity)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from robocortex.agents.api import tasks as tasks_api
from robocortex.agents.api import web as web_api
from robocortex.agents.api import world as world_api
from robocortex.agents.context import Memory
from robocortex.agents.runner import TaskRunner
from robocortex.agents.settings import Settings
from robocortex.brain.planner import Planner

log = logging.getLogger("robocortex.brain")


_BODY_HINT = ('send a JSON object such as {"instruction": "put the apple in the fridge"} '
              "with Content-Type: application/json")


def _explain(errors: list[dict[str, Any]]) -> str:
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
        if kind == "missing":
            parts.append(f"{where} is required")
        else:
            text = msg.removeprefix("Value error, ")
            parts.append(text if text.startswith(where) else f"{where}: {text}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, run_tasks: bool = True,
               planner: Planner | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        memory = Memory.from_settings(settings)
        app.state.memory = memory
        runner = TaskRunner(memory, settings, planner=planner) if run_tasks else None
        if runner:
            runner.start()
        log.info("brain service ready (planner: %s)", settings.planner_kind())
        yield
        if runner:
            runner.stop()

    app = FastAPI(title="RoboCortex", version="0.1.0", lifespan=lifespan,
                  description="Multi-robot orchestration: submit tasks, follow them, read the shared scene graph.")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse(status_code=422, content={"detail": _explain(list(errors)),
                                                      "errors": [{k: e[k] for k in ("loc", "msg", "type") if k in e}
                                                                 for e in errors]})

    app.include_router(tasks_api.router)
    app.include_router(world_api.router)
    app.include_router(web_api.router)
    try:
        from prometheus_fastapi_instrumentator import Instrumentator

        Instrumentator().instrument(app).expose(app, include_in_schema=False)
    except ImportError:  # pragma: no cover - optional
        pass
    return app
