"""Shared helpers for the sim tests (imported as a plain module next to the tests)."""

from __future__ import annotations

from typing import Any

from robocortex.sim.emulator import EmulatorWorld


def find(md: dict[str, Any], object_type: str) -> dict[str, Any]:
    return next(o for o in md["objects"] if o["objectType"] == object_type)


def obj(md: dict[str, Any], object_id: str) -> dict[str, Any]:
    return next(o for o in md["objects"] if o["objectId"] == object_id)


def go_to(world: EmulatorWorld, agent_id: int, object_id: str) -> dict[str, Any]:
    """Teleport to the first pose GetInteractablePoses offers for `object_id`."""
    poses = world.step(agent_id, "GetInteractablePoses", objectId=object_id)["actionReturn"]
    assert poses, f"no interactable pose for {object_id}"
    p = poses[0]
    md = world.step(
        agent_id, "TeleportFull", x=p["x"], y=p["y"], z=p["z"], rotation=p["rotation"],
        horizon=p["horizon"], standing=p["standing"],
    )  # fmt: skip
    assert md["lastActionSuccess"], md["errorMessage"]
    return md


def do(world: EmulatorWorld, agent_id: int, action: str, **params: Any) -> dict[str, Any]:
    """Step and require success."""
    md = world.step(agent_id, action, **params)
    assert md["lastActionSuccess"], f"{action}: {md['errorMessage']}"
    return md
