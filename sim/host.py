"""The world host: serves one `World` over HTTP so robot workers on any machine share it.

Every call is serialised by one lock: the simulator is a single shared world, and AI2-THOR's
controller is not thread-safe either.

With a `secret`, every call but `/health` must carry it in the `X-World-Secret` header (compared in
constant time): without it or with a wrong one, 401. A client names scenes only (`Kitchen-0`,
`FloorPlan12`): where the host finds a scene's files is the host's business (`scene_init`), and a
client's `/reset` or `/step` that names a folder (`layouts_dir`) or re-initialises the controller is
refused with 422.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from robocortex.sim.world import MAX_AGENTS, World


SECRET_HEADER = "X-World-Secret"
SCENE_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"  # Kitchen-0, FloorPlan12: a name, never a path
HOST_ONLY = frozenset({"layouts_dir"})  # where scene files live: the host's settings say, never a client
REINIT_ACTIONS = frozenset({"Initialize", "Reset"})  # these take scene/init parameters: use /reset


def _no_host_only(params: dict[str, Any]) -> dict[str, Any]:
    given = sorted(HOST_ONLY & set(params))
    if given:
        raise ValueError(f"{', '.join(given)} is the host's own setting: name the scene only (e.g. FloorPlan12); "
                         "the world host finds its files in its own data folder")
    return params


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scene: str = Field(pattern=SCENE_NAME, description="a scene name (Kitchen-0, FloorPlan12), never a path")
    agent_count: int = Field(default=1, ge=1, le=MAX_AGENTS)
    init: dict[str, Any] = Field(default_factory=dict, description="AI2-THOR Initialize parameters (gridSize, …)")

    _init = field_validator("init")(classmethod(lambda cls, v: _no_host_only(v)))


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: int = Field(ge=0)
    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)

    _params = field_validator("params")(classmethod(lambda cls, v: _no_host_only(v)))

    @field_validator("action")
    @classmethod
    def _not_reinit(cls, action: str) -> str:
        if action in REINIT_ACTIONS:
            raise ValueError(f"{action} is refused over HTTP: POST /reset with a scene name")
        return action


def create_world_app(world: World, scene: str | None = None, agent_count: int = 1, *, secret: str | None = None,
                     scene_init: Callable[[str], dict[str, Any]] | None = None) -> FastAPI:
    """`secret`: required on every call but /health. `scene_init(scene)`: the host's own reset parameters
    for a scene (e.g. its layouts folder), merged into a client's."""
    app = FastAPI(title="RoboCortex world host")
    lock = threading.Lock()
    current = {"scene": scene, "agent_count": agent_count}

    if secret:
        expected = secret.encode("utf-8")

        @app.middleware("http")
        async def _check_secret(request: Request, call_next: Callable) -> Any:
            if request.url.path != "/health":
                given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
                if not hmac.compare_digest(given, expected):
                    what = "a wrong" if given else "no"
                    return JSONResponse({"detail": f"{what} {SECRET_HEADER} header: this world host needs the "
                                                   "shared secret (ROBOCORTEX_WORLD_SECRET)"}, status_code=401)
            return await call_next(request)

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
                init = {**req.init, **(scene_init(req.scene) if scene_init else {})}
                out = world.reset(req.scene, req.agent_count, **init)
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
