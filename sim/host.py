"""The world host: serves one `World` over HTTP so robot workers on any machine share it.

Every call is serialised by one lock: the simulator is a single shared world, and AI2-THOR's
controller is not thread-safe either.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from robocortex.sim.world import MAX_AGENTS, World


class ResetRequest(BaseModel):
    scene: str
    agent_count: int = Field(default=1, ge=1, le=MAX_AGENTS)
    init: dict[str, Any] = Field(default_factory=dict)


class StepRequest(BaseModel):
    agent_id: int = Field(ge=0)
    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


def create_world_app(world: World, scene: str | None = None, agent_count: int = 1) -> FastAPI:
    app = FastAPI(title="RoboCortex world host")
    lock = threading.Lock()
    current = {"scene": scene, "agent_count": agent_count}

    def _agent(agent_id: int) -> None:
        if agent_id >= current["agent_count"]:
            raise HTTPException(404, f"no agent {agent_id}: this world has {current['agent_count']} agent(s)")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "backend": world.backend, **current}

    @app.post("/reset")
    def reset(req: ResetRequest) -> list[dict[str, Any]]:
        with lock:
            try:
                out = world.reset(req.scene, req.agent_count, **req.init)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from exc
            current.update(scene=req.scene, agent_count=req.agent_count)
            return out

    @app.post("/step")
    def step(req: StepRequest) -> dict[str, Any]:
        _agent(req.agent_id)
        with lock:
            try:
                return world.step(req.agent_id, req.action, **req.params)
            except (ValueError, TypeError) as exc:
                raise HTTPException(422, f"{req.action}: {exc}") from exc

    @app.get("/metadata/{agent_id}")
    def metadata(agent_id: int) -> dict[str, Any]:
        _agent(agent_id)
        with lock:
            return world.metadata(agent_id)

    return app
