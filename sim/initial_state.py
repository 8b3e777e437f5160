"""Initial states for suites and users: set-up actions applied right after a scene is loaded.

An initial state is a list of AI2-THOR set-up actions, each a dict `{"action": <name>, **params}`
with ai2thor's parameter names, for example::

    [{"action": "InitialRandomSpawn", "randomSeed": 3},
     {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Mug", "stateChange": "dirtyable", "isDirty": True}},
     {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Fridge", "stateChange": "openable", "isOpen": True}}]

`apply_initial_state(world, steps)` runs them on any `World` (emulator or AI2-THOR) as agent 0
and raises `InitialStateRejected` listing every step that failed; `check_initial_state(scene,
steps)` runs them on a fresh emulator and also checks the resulting state against AI2-THOR's
rules, returning the problems (empty when AI2-THOR would accept the state).
"""

from __future__ import annotations

import os
from typing import Any

from robocortex.knowledge.object_types import OBJECT_TYPES, object_type
from robocortex.knowledge.placement import accepts
from robocortex.sim.world import Metadata, World

SETUP_ACTIONS = (
    "InitialRandomSpawn", "SetObjectStates", "SetObjectPoses", "PlaceObjectAtPoint", "GetSpawnCoordinatesAboveReceptacle",
)  # fmt: skip


class InitialStateRejected(ValueError):
    """Some set-up steps failed or left a state AI2-THOR would refuse; `problems` says which."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("initial state rejected: " + "; ".join(problems))
        self.problems = problems


def _parse(k: int, step: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(step, dict) or not isinstance(step.get("action"), str):
        raise InitialStateRejected([f"step {k}: must be a dict with an 'action' name, got {step!r}"])
    params = {key: value for key, value in step.items() if key != "action"}
    if step["action"] not in SETUP_ACTIONS:
        raise InitialStateRejected([f"step {k}: {step['action']!r} is not a set-up action; use one of {', '.join(SETUP_ACTIONS)}"])
    return step["action"], params


def apply_initial_state(world: World, steps: list[dict[str, Any]], agent_count: int = 1) -> list[Metadata]:
    """Run the set-up `steps` as agent 0; every agent's metadata afterwards.

    Raises InitialStateRejected naming each failed step (its errorMessage, or the ValueError for a
    bad argument) and any rule the resulting state breaks.
    """
    problems = []
    for k, step in enumerate(steps):
        action, params = _parse(k, step)
        try:
            md = world.step(0, action, **params)
        except (ValueError, TypeError) as exc:
            problems.append(f"step {k} {action}: {exc}")
            continue
        if not md.get("lastActionSuccess"):
            problems.append(f"step {k} {action}: {md.get('errorMessage')}")
    metadata = [world.metadata(i) for i in range(agent_count)]
    problems.extend(state_problems(metadata[0]))
    if problems:
        raise InitialStateRejected(problems)
    return metadata


def state_problems(metadata: Metadata) -> list[str]:
    """Where a scene's state breaks AI2-THOR's rules (empty when it keeps them all)."""
    objects = {o["objectId"]: o for o in metadata.get("objects") or []}
    problems = []
    for o in objects.values():
        kind = object_type(o["objectType"]) if o["objectType"] in OBJECT_TYPES else None
        parents = [objects[p] for p in o.get("parentReceptacles") or [] if p in objects]
        for parent in parents:
            if not o["pickupable"] and parent["openable"]:
                problems.append(f"{o['objectId']} cannot be picked up yet is inside {parent['objectId']}")
            if o["pickupable"] and not accepts(parent["objectType"], o["objectType"]):
                problems.append(f"{o['objectType']} may not be placed in/on {parent['objectType']} ({o['objectId']})")
        if kind is not None and o["isToggled"] and o["isOpen"] and kind.openable and kind.toggleable:
            problems.append(f"{o['objectId']} is switched on while open")
        if o["isFilledWithLiquid"] and o["isBroken"]:
            problems.append(f"{o['objectId']} is broken yet holds liquid")
    return problems


def check_initial_state(scene: str, steps: list[dict[str, Any]], layouts_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Problems with `steps` on `scene` in the emulator (empty when AI2-THOR would accept them)."""
    from robocortex.sim.emulator import EmulatorWorld

    init = {"layouts_dir": str(layouts_dir)} if layouts_dir is not None else {}
    world = EmulatorWorld()
    world.reset(scene, 1, **init)
    try:
        apply_initial_state(world, steps)
    except InitialStateRejected as rejected:
        return rejected.problems
    return []
