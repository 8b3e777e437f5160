"""How each skill becomes AI2-THOR actions in the world.

The skill declarations (skills.py) say what must hold and what changes; this module says which
actions make it so, through a `Body` that acts, observes and moves. Every function returns the
world's error message when the world refuses, or None on success.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from robocortex.cerebellum.skills import SymbolicWorld, cooking_place

# Skills that are one AI2-THOR action on one target argument.
ONE_ACTION: dict[str, tuple[str, str]] = {
    "pick_up": ("PickupObject", "object"),
    "put": ("PutObject", "receptacle"),
    "open": ("OpenObject", "object"),
    "close": ("CloseObject", "object"),
    "toggle_on": ("ToggleObjectOn", "object"),
    "toggle_off": ("ToggleObjectOff", "object"),
    "slice": ("SliceObject", "object"),
    "break": ("BreakObject", "object"),
    "clean": ("CleanObject", "object"),
    "empty": ("EmptyLiquidFromObject", "object"),
}
LOOK_AROUND_TURNS = 4  # 4 × 90°: a full turn on the spot
# A second turn looking down: AI2-THOR's 90° vertical view at the level horizon misses what lies on
# the floor near the robot (a garbage can 60° below the horizon).
LOOK_DOWN_DEGREES = 30.0


class Body(Protocol):
    """What the skill mappings need from the robot that runs them."""

    def act(self, action: str, **params: Any) -> dict[str, Any]: ...

    def go_to(self, object_id: str) -> None: ...

    def reach(self, object_id: str) -> None: ...

    def symbolic(self) -> tuple[SymbolicWorld, dict[str, Any]]: ...

    def holding(self) -> str | None: ...


def _error(md: dict[str, Any], action: str) -> str | None:
    return None if md.get("lastActionSuccess") else (md.get("errorMessage") or f"{action} failed")


def perform(body: Body, skill: str, args: BaseModel) -> str | None:
    """Run one skill's actions; the world's error message, or None on success."""
    if skill == "navigate_to":
        body.go_to(args.object)  # type: ignore[attr-defined]
        return None
    if skill == "explore":
        for _ in range(LOOK_AROUND_TURNS):
            body.act("RotateRight")
        if _error(body.act("LookDown", degrees=LOOK_DOWN_DEGREES), "LookDown") is None:
            for _ in range(LOOK_AROUND_TURNS):
                body.act("RotateRight")
            body.act("LookUp", degrees=LOOK_DOWN_DEGREES)
        return None
    if skill == "drop":
        return _error(body.act("DropHandObject"), "DropHandObject")
    if skill == "fill":
        body.reach(args.object)  # type: ignore[attr-defined]
        md = body.act("FillObjectWithLiquid", objectId=args.object, fillLiquid=args.liquid)  # type: ignore[attr-defined]
        return _error(md, "FillObjectWithLiquid")
    if skill == "cook":
        return cook(body, args.object, args.appliance)  # type: ignore[attr-defined]
    if skill in ONE_ACTION:
        action, arg = ONE_ACTION[skill]
        target = getattr(args, arg)
        body.reach(target)
        point_for = getattr(body, "point_for", None)  # a robot with vision may act by image coordinates
        point = point_for(target, skill) if point_for is not None else None
        params = {"x": point[0], "y": point[1]} if point is not None else {"objectId": target}
        return _error(body.act(action, **params), action)
    raise ValueError(f"skill {skill} has no action mapping")


def cook(body: Body, food: str, appliance: str) -> str | None:
    """Microwave: open, put the food in, close, switch on and off. Toaster: put it in, switch.
    Stove: put it in the pan or pot on the burner, turn the burner's knob on and off. An appliance
    already running cooks the food as it goes in; one with no switch at all gets CookObject."""
    world, _ = body.symbolic()
    place = cooking_place(world, appliance) or appliance
    app = world.get(appliance) or {}
    if body.holding() == food:
        error = _put_into(body, world, food, place)
        if error:
            return error
    world, _ = body.symbolic()
    switch = appliance if app.get("toggleable") else _knob_for(world, appliance)
    if switch is None:
        body.reach(food)
        return _error(body.act("CookObject", objectId=food), "CookObject")
    if (world.get(switch) or {}).get("isToggled"):
        return None
    body.reach(switch)
    error = _error(body.act("ToggleObjectOn", objectId=switch), "ToggleObjectOn")
    if error:
        return error
    return _error(body.act("ToggleObjectOff", objectId=switch), "ToggleObjectOff")


def _put_into(body: Body, world: SymbolicWorld, food: str, place: str) -> str | None:
    node = world.get(place) or {}
    body.reach(place)
    if node.get("openable") and not node.get("isOpen"):
        if node.get("toggleable") and node.get("isToggled"):  # a running microwave will not open
            error = _error(body.act("ToggleObjectOff", objectId=place), "ToggleObjectOff")
            if error:
                return error
        error = _error(body.act("OpenObject", objectId=place), "OpenObject")
        if error:
            return error
    error = _error(body.act("PutObject", objectId=place), "PutObject")
    if error:
        return error
    if node.get("openable"):
        return _error(body.act("CloseObject", objectId=place), "CloseObject")
    return None


def _knob_for(world: SymbolicWorld, burner: str) -> str | None:
    for node in world.nodes.values():
        if node.get("objectType") == "StoveKnob" and burner in (node.get("controlledObjects") or []):
            return node["id"]
    return None
