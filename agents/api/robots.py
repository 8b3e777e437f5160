"""Robot administration: one robot, decommission, remove, and where a lost robot's held object ended up.

`GET /robots` (the list) stays with the world's reads (agents/api/world.py). Decommissioning and
removing are an admin's; telling where an object ended up is an operator's (it is what an operator on
site sees), reading is a viewer's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from robocortex.client.models import Placed
from robocortex.knowledge.placement import IN_RECEPTACLES
from robocortex.memory.robots import FLOOR, BadPlacement, RobotBusy, UnknownRobot
from robocortex.memory.schemas import RobotState

from robocortex.agents.api.deps import MemoryDep
from robocortex.agents.api.errors import error_responses
from robocortex.agents.api.security import Role, require

router = APIRouter(prefix="/robots", tags=["robots"], dependencies=[require(Role.viewer)])
RobotName = Annotated[str, Path(min_length=1, max_length=200, description="the robot's name")]


class HeldPlacement(BaseModel):
    """Where the object a lost robot held ended up, as an operator on site saw it."""

    model_config = ConfigDict(extra="forbid")

    object: str = Field(min_length=1, max_length=300, description="the held object's id (the robot's lost_holding)")
    at: str = Field(min_length=1, max_length=300, description=f"a receptacle's node id, or {FLOOR!r}")
    rel: Literal["in", "on"] | None = Field(default=None, description="in or on the receptacle; default: by "
                                            "its type (in a Fridge, on a CounterTop)")


def _get(memory: MemoryDep, name: str) -> RobotState:
    state = memory.robots.get(name)
    if state is None:
        raise HTTPException(404, f"no robot {name!r}; GET /robots lists them")
    return state


@router.get("/{name}", response_model=RobotState, responses=error_responses(404))
def get_robot(name: RobotName, memory: MemoryDep) -> RobotState:
    return _get(memory, name)


@router.post("/{name}/decommission", response_model=RobotState, responses=error_responses(404),
             dependencies=[require(Role.admin)])
def decommission_robot(name: RobotName, memory: MemoryDep) -> RobotState:
    """Take the robot out of service: listed offline from now on (no plan uses it), and no worker may
    register under its name until it is removed."""
    try:
        return memory.robots.decommission(name)
    except UnknownRobot as exc:
        raise HTTPException(404, str(exc)) from exc


@router.delete("/{name}", status_code=204, response_class=Response, responses=error_responses(404, 409),
               dependencies=[require(Role.admin)])
def remove_robot(name: RobotName, memory: MemoryDep) -> Response:
    """Forget an offline or decommissioned robot: its profile, status and scene-graph node (409 while it
    is online, or while the object it held when lost has not been placed)."""
    try:
        memory.robots.remove(name)
    except UnknownRobot as exc:
        raise HTTPException(404, str(exc)) from exc
    except RobotBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    return Response(status_code=204)


@router.post("/{name}/held", response_model=Placed, responses=error_responses(400, 404, 409),
             dependencies=[require(Role.operator)])
def place_held_object(name: RobotName, body: HeldPlacement, memory: MemoryDep) -> Placed:
    """Say where the object an offline robot held ended up (a receptacle, or the floor): the scene graph
    says so, and the object can be planned with again."""
    rel = body.rel
    if rel is None and body.at != FLOOR:
        target = memory.scene.node(body.at)
        rel = "in" if target is not None and target.objectType in IN_RECEPTACLES else "on"
    try:
        rev = memory.robots.place_held(name, body.object, body.at, rel or "on")
    except UnknownRobot as exc:
        raise HTTPException(404, str(exc)) from exc
    except RobotBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    except BadPlacement as exc:
        raise HTTPException(422, str(exc)) from exc
    return Placed(robot=_get(memory, name), scene_rev=rev)
