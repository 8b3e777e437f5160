"""Skills run by an external policy server, in the style of RoboBrain-X0: the robot sends its camera
frame and state over HTTP and gets the next actions back, round after round, until the server says
the skill is done. The protocol (`robocortex-policy/1`, documented in docs/cerebellum.md):

    POST <url>            (one URL per skill name, from settings.policy.servers)
    {"protocol": "robocortex-policy/1", "robot": "r1", "skill": "pick_up", "args": {"object": "Mug|…"},
     "instruction": "the subtask's description", "round": 0,
     "state": {"position": {x, y, z}, "rotation": 90.0, "horizon": 0.0, "standing": true,
               "holding": "Mug|…" | null, "last_action": "…", "last_success": true, "error": ""},
     "frame": {"rgb": "data:image/png;base64,…", "width": 300, "height": 300},
     "history": [{"action": "RotateRight", "params": {}, "success": true, "error": null}, …]}
    →
    {"actions": [{"action": "PickupObject", "params": {"x": 0.52, "y": 0.61}}, …],
     "done": true, "success": true, "message": "why, when it gives up"}

Actions are AI2-THOR actions (objectId or x, y); each runs through the robot's `act`, so it is
observed, written to the scene graph and recorded as an event like any other.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field, ValidationError

PROTOCOL = "robocortex-policy/1"


class PolicyAction(BaseModel):
    action: str
    params: dict[str, Any] = Field(default_factory=dict)


class PolicyReply(BaseModel):
    actions: list[PolicyAction] = Field(default_factory=list)
    done: bool = False
    success: bool | None = None
    message: str = ""


class PolicyBody(Protocol):
    robot: str
    last_metadata: dict[str, Any]

    def act(self, action: str, **params: Any) -> dict[str, Any]: ...

    def frames(self) -> Any: ...

    def event(self, kind: str, message: str, **data: Any) -> None: ...


@dataclass
class PolicyClient:
    servers: dict[str, str]  # skill name → URL
    timeout_s: float = 30.0
    max_rounds: int = 20
    store: Any = None  # a vision.FrameStore: frames sent are saved and referenced in events

    def handles(self, skill: str) -> bool:
        return skill in self.servers

    def run(self, body: PolicyBody, skill: str, args: dict[str, Any], instruction: str = "") -> str | None:
        """Run `skill` by asking its server round after round; None on success, else why not."""
        from robocortex.cerebellum.vision import png_bytes

        url = self.servers[skill]
        history: list[dict[str, Any]] = []
        with httpx.Client(timeout=self.timeout_s) as http:
            for round_ in range(self.max_rounds):
                frames = body.frames()
                if frames is None:
                    return f"{skill}: the policy server needs camera frames and this robot's world renders none"
                png = png_bytes(frames.frame)
                h, w = frames.frame.shape[:2]
                request = {"protocol": PROTOCOL, "robot": body.robot, "skill": skill, "args": args,
                           "instruction": instruction, "round": round_, "state": _state(body.last_metadata),
                           "frame": {"rgb": "data:image/png;base64," + base64.b64encode(png).decode(),
                                     "width": w, "height": h},
                           "history": history[-20:]}
                try:
                    resp = http.post(url, json=request)
                    resp.raise_for_status()
                    reply = PolicyReply.model_validate(resp.json())
                except (httpx.HTTPError, ValueError, ValidationError) as exc:
                    body.event("policy", f"{skill}: policy server {url} failed: {exc}", skill=skill, url=url,
                               round=round_, error=str(exc))
                    return f"{skill}: policy server {url} failed: {type(exc).__name__}: {exc}"
                image = self.store.save(png) if self.store is not None else ""
                body.event("policy", f"{skill} round {round_}: {', '.join(a.action for a in reply.actions) or 'no action'}"
                           + (" (done)" if reply.done else ""), skill=skill, url=url, round=round_, image=image,
                           actions=[a.model_dump() for a in reply.actions], done=reply.done, success=reply.success,
                           reply_message=reply.message)
                for a in reply.actions:
                    md = body.act(a.action, **a.params)
                    history.append({"action": a.action, "params": a.params, "success": md.get("lastActionSuccess"),
                                    "error": md.get("errorMessage") or None})
                if reply.done:
                    if reply.success is False:
                        return f"{skill}: the policy server gave up: {reply.message or 'no reason given'}"
                    return None
        return f"{skill}: the policy server did not finish within {self.max_rounds} rounds"


def _state(md: dict[str, Any]) -> dict[str, Any]:
    agent = md.get("agent") or {}
    held = md.get("inventoryObjects") or []
    return {"position": agent.get("position"), "rotation": (agent.get("rotation") or {}).get("y"),
            "horizon": agent.get("cameraHorizon"), "standing": agent.get("isStanding"),
            "holding": held[0]["objectId"] if held else None, "last_action": md.get("lastAction"),
            "last_success": md.get("lastActionSuccess"), "error": md.get("errorMessage") or ""}
