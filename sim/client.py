"""`World` over HTTP: what a robot worker on another machine uses to act in the shared world."""

from __future__ import annotations

import os
from typing import Any

import httpx

from robocortex.sim.world import Metadata


class WorldClient:
    """Implements the `World` protocol against a world host."""

    backend = "remote"

    def __init__(self, base_url: str, timeout_s: float = 30.0, secret: str | None = None):
        """`secret`: the world host's shared secret (default: ROBOCORTEX_WORLD_SECRET), sent as X-World-Secret."""
        self.base_url = base_url.rstrip("/")
        secret = secret if secret is not None else os.environ.get("ROBOCORTEX_WORLD_SECRET")
        headers = {"X-World-Secret": secret} if secret else {}
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers)

    def _check(self, resp: httpx.Response) -> Any:
        if resp.status_code == 401:
            raise PermissionError(resp.json().get("detail", resp.text))
        if resp.status_code == 422 or resp.status_code == 404:
            raise ValueError(resp.json().get("detail", resp.text))
        resp.raise_for_status()
        return resp.json()

    def health(self) -> dict[str, Any]:
        return self._check(self._http.get("/health"))

    def reset(self, scene: str, agent_count: int = 1, **init: Any) -> list[Metadata]:
        body = {"scene": scene, "agent_count": agent_count, "init": init}
        return self._check(self._http.post("/reset", json=body))

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        body = {"agent_id": agent_id, "action": action, "params": params}
        return self._check(self._http.post("/step", json=body))

    def metadata(self, agent_id: int = 0) -> Metadata:
        return self._check(self._http.get(f"/metadata/{agent_id}"))

    def frames(self, agent_id: int = 0, *, depth: bool = True, segmentation: bool = True) -> Any:
        """The agent's camera frames, drawn here by the emulator's renderer from its metadata (frames
        never cross HTTP). For an AI2-THOR host these are the emulator's drawing of that metadata."""
        from robocortex.sim.emulator.render import render

        return render(self.metadata(agent_id), depth=depth, segmentation=segmentation)

    def stop(self) -> None:
        self._http.close()
