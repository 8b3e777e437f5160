"""The brain service: REST API + task runner in one process (run several for more capacity)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import REGISTRY

from robocortex.agents.api import approvals as approvals_api
from robocortex.agents.api import tasks as tasks_api
from robocortex.agents.api import web as web_api
from robocortex.agents.api import world as world_api
from robocortex.agents.api import robots as robots_api
from robocortex.agents.api.security import Role, by_method, install_security, require, warn_if_open
from robocortex.agents.api.errors import install_error_handlers
from robocortex.agents.api.metrics import DomainCollector
from robocortex.memory.stores import Memory
from robocortex.brain.runner import TaskRunner
from robocortex.agents.settings import Settings
from robocortex.brain.planner import Planner

log = logging.getLogger("robocortex.brain")


def create_app(settings: Settings | None = None, *, run_tasks: bool = True,
               planner: Planner | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        memory = Memory.from_settings(settings)
        app.state.memory = memory
        warn_if_open(app)
        app.state.constitution = settings.load_constitution()  # what an edited plan is checked against
        collector: DomainCollector | None = DomainCollector(memory)
        try:  # /metrics: tasks, robots, queues, latencies, model use (read from Redis at each scrape)
            REGISTRY.register(collector)
        except ValueError:  # another app in this process already reports them (tests, in-process runs)
            log.warning("domain metrics already registered in this process; this app's /metrics shares them")
            collector = None
        try:
            runner = TaskRunner(memory, settings.runner_config(), planner or settings.make_planner()) if run_tasks else None
            if runner:
                runner.start()
            log.info("brain service ready (planner: %s)", settings.planner_kind())
            try:
                yield
            finally:
                if runner:
                    runner.stop()
        finally:
            if collector is not None:
                REGISTRY.unregister(collector)

    # /docs (Swagger UI) and /redoc with their scripts and styles served by this process (fastapi-offline
    # ships them; MIT like Swagger UI's Apache-2.0 and ReDoc's MIT): the pages work without internet.
    app = FastAPIOffline(title="RoboCortex", version="0.1.0", lifespan=lifespan, static_url="/docs-assets",
                  description="Multi-robot orchestration: submit tasks, follow them, read the shared scene graph.")

    app.state.max_priority = settings.max_priority
    _document_max_priority(app, settings.max_priority)
    install_error_handlers(app)
    # Roles (agents/api/security.py): reads need a viewer's key, anything else under /tasks an operator's
    # (new lifecycle routes included); robots' writes say their own role; the middleware makes sure a
    # key was sent at all, on every path but /health and the console's page.
    app.include_router(tasks_api.router, dependencies=[by_method(read=Role.viewer, write=Role.operator)])
    app.include_router(approvals_api.router, dependencies=[by_method(read=Role.viewer, write=Role.operator)])
    app.include_router(robots_api.router)
    app.include_router(world_api.router, dependencies=[require(Role.viewer)])
    app.include_router(web_api.router)
    install_security(app, settings.cors_origins)
    try:
        from prometheus_fastapi_instrumentator import Instrumentator

        Instrumentator().instrument(app).expose(app, include_in_schema=False)
    except ImportError:  # pragma: no cover - optional
        pass
    return app


def _document_max_priority(app: FastAPI, max_priority: int) -> None:
    """The OpenAPI document states this deployment's highest task priority (a setting), so clients
    and schema-driven tests know the bound the service checks."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            doc = build()
            prop = doc.get("components", {}).get("schemas", {}).get("TaskSubmission", {}).get("properties", {})
            if "priority" in prop:
                prop["priority"]["maximum"] = max_priority
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
