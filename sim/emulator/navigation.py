"""Agent motion and pose queries: Move*, Rotate*, Look*, Crouch/Stand, Teleport*, GetReachablePositions,
GetInteractablePoses."""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from robocortex.sim.emulator.registry import ActionFailed, action, require_number, require_str
from robocortex.sim.emulator.state import AgentState
from robocortex.sim.emulator import visibility
from robocortex.sim.geometry import (
    CROUCHING_CAMERA_OFFSET,
    MAX_HORIZON,
    MIN_HORIZON,
    STANDING_CAMERA_OFFSET,
    View,
    cell_of,
    forward_vector,
    normalize_yaw,
    snap,
)

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation

_DIRECTIONS = {"MoveAhead": 0.0, "MoveRight": 90.0, "MoveBack": 180.0, "MoveLeft": 270.0}
DEFAULT_HORIZONS = (-30.0, 0.0, 30.0, 60.0)
DEFAULT_STANDINGS = (True, False)


def _move(sim: Simulation, agent: AgentState, direction: float, magnitude: Any, force: bool) -> None:
    distance = sim.grid_size if magnitude is None else require_number("moveMagnitude", magnitude)
    if distance <= 0:
        raise ValueError(f"moveMagnitude must be > 0, got {distance}")
    dx, dz = forward_vector(agent.yaw + direction)
    steps = max(1, math.ceil(distance / (sim.grid_size / 2) - 1e-9))
    for k in range(1, steps + 1):
        x, z = agent.x + dx * distance * k / steps, agent.z + dz * distance * k / steps
        if not force and not sim.floor_free(x, z):
            raise ActionFailed(f"{_obstacle_name(sim, x, z)} is blocking Agent {agent.agent_id} from moving {int(direction)}")
        other = sim.agent_in_the_way(agent.agent_id, x, z)
        if other is not None:
            raise ActionFailed(f"agent_{other.agent_id} is blocking Agent {agent.agent_id} from moving {int(direction)}")
    agent.x, agent.z = snap(agent.x + dx * distance), snap(agent.z + dz * distance)
    _carry_held(sim, agent)


def _obstacle_name(sim: Simulation, x: float, z: float) -> str:
    min_x, min_z, max_x, max_z = sim.spec.bounds
    if not (min_x < x < max_x and min_z < z < max_z):
        return "Wall"
    best, best_d = "Obstacle", 0.45
    for o in sim.objects.values():
        b = o.box
        if o.object_type == "Floor" or o.kind.pickupable:
            continue
        d = math.hypot(max(b.min_x - x, 0.0, x - b.max_x), max(b.min_z - z, 0.0, z - b.max_z))
        if d < best_d:
            best, best_d = o.name, d
    return best


def _carry_held(sim: Simulation, agent: AgentState) -> None:
    if agent.held_id is None:
        return
    fx, fz = forward_vector(agent.yaw)
    held = sim.objects[agent.held_id]
    sim.move_with_contents(held, (snap(agent.x + fx * 0.38), snap(agent.camera_y - 0.16), snap(agent.z + fz * 0.38)))


@action("MoveAhead", "MoveBack", "MoveLeft", "MoveRight")
def move(sim: Simulation, agent: AgentState, moveMagnitude: Any = None, forceAction: bool = False) -> None:
    _move(sim, agent, _DIRECTIONS[agent.last_action], moveMagnitude, bool(forceAction))


@action("RotateLeft", "RotateRight")
def rotate(sim: Simulation, agent: AgentState, degrees: Any = None, forceAction: bool = False) -> None:
    step = sim.rotate_step if degrees is None else require_number("degrees", degrees)
    sign = -1.0 if agent.last_action == "RotateLeft" else 1.0
    agent.yaw = normalize_yaw(round(agent.yaw + sign * step, 4))
    _carry_held(sim, agent)


@action("LookUp", "LookDown")
def look(sim: Simulation, agent: AgentState, degrees: Any = 30.0, forceAction: bool = False) -> None:
    step = require_number("degrees", degrees)
    new = agent.horizon + (-step if agent.last_action == "LookUp" else step)
    if not forceAction and new < MIN_HORIZON - 1e-6:
        raise ActionFailed(f"can't look up beyond {-MIN_HORIZON:g} degrees above the forward horizon")
    if not forceAction and new > MAX_HORIZON + 1e-6:
        raise ActionFailed(f"can't look down beyond {MAX_HORIZON:g} degrees below the forward horizon")
    agent.horizon = round(new, 4)


@action("Crouch")
def crouch(sim: Simulation, agent: AgentState) -> None:
    """As in AI2-THOR, crouching while already crouched succeeds and changes nothing."""
    agent.standing = False
    _carry_held(sim, agent)


@action("Stand")
def stand(sim: Simulation, agent: AgentState) -> None:
    """As in AI2-THOR, standing while already standing succeeds and changes nothing."""
    agent.standing = True
    _carry_held(sim, agent)


def _rotation_y(rotation: Any) -> float:
    if isinstance(rotation, dict):
        return require_number("rotation.y", rotation.get("y", 0.0))
    return require_number("rotation", rotation)


def _teleport(sim: Simulation, agent: AgentState, x: Any, z: Any, rotation: Any, horizon: Any, standing: Any, force: bool) -> None:
    nx, nz = require_number("x", x), require_number("z", z)
    yaw = agent.yaw if rotation is None else normalize_yaw(_rotation_y(rotation))
    hor = agent.horizon if horizon is None else require_number("horizon", horizon)
    if standing is not None and not isinstance(standing, bool):
        raise ValueError(f"standing must be a bool, got {standing!r}")
    if not force and not MIN_HORIZON - 1e-6 <= hor <= MAX_HORIZON + 1e-6:
        raise ActionFailed(f"Teleport failed: horizon {hor:g} is outside [{MIN_HORIZON:g}, {MAX_HORIZON:g}]")
    if not force and not sim.floor_free(nx, nz):
        raise ActionFailed(f"Teleport failed: ({nx:g}, {nz:g}) is not a reachable position")
    other = sim.agent_in_the_way(agent.agent_id, nx, nz)
    if other is not None:
        raise ActionFailed(f"Teleport failed: agent_{other.agent_id} is standing at ({nx:g}, {nz:g})")
    agent.x, agent.z, agent.yaw, agent.horizon = snap(nx), snap(nz), yaw, hor
    if standing is not None:
        agent.standing = standing
    _carry_held(sim, agent)


@action("Teleport")
def teleport(
    sim: Simulation,
    agent: AgentState,
    x: Any = None,
    y: Any = None,
    z: Any = None,
    position: Any = None,
    rotation: Any = None,
    horizon: Any = None,
    standing: Any = None,
    forceAction: bool = False,
) -> None:
    if position is not None:
        if not isinstance(position, dict):
            raise ValueError(f"position must be a dict with x, y, z, got {position!r}")
        x, z = position.get("x", x), position.get("z", z)
    _teleport(sim, agent, agent.x if x is None else x, agent.z if z is None else z, rotation, horizon, standing, bool(forceAction))


@action("TeleportFull")
def teleport_full(
    sim: Simulation,
    agent: AgentState,
    x: Any,
    y: Any,
    z: Any,
    rotation: Any,
    horizon: Any,
    standing: Any,
    forceAction: bool = False,
) -> None:
    _teleport(sim, agent, x, z, rotation, horizon, standing, bool(forceAction))


def reachable_positions(sim: Simulation, agent: AgentState) -> list[tuple[float, float]]:
    """Grid points reachable from the agent by gridSize steps, avoiding other agents."""
    others = tuple(sorted(cell_of(a.x, a.z) for a in sim.agents if a.agent_id != agent.agent_id))
    key = (cell_of(agent.x, agent.z), agent.x, agent.z, sim.grid_size, others)
    cached = sim._reachable_cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    g = sim.grid_size
    start = (0, 0)
    seen = {start}
    queue = deque([start])
    out = []
    while queue:
        i, j = queue.popleft()
        x, z = snap(agent.x + i * g), snap(agent.z + j * g)
        out.append((x, z))
        for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if n in seen:
                continue
            seen.add(n)
            nx, nz = agent.x + n[0] * g, agent.z + n[1] * g
            if sim.floor_free(nx, nz) and sim.agent_in_the_way(agent.agent_id, nx, nz) is None:
                queue.append(n)
    if len(sim._reachable_cache) > 256:
        sim._reachable_cache.clear()
    sim._reachable_cache[key] = out  # type: ignore[assignment]
    return out


@action("GetReachablePositions")
def get_reachable_positions(sim: Simulation, agent: AgentState) -> list[dict[str, float]]:
    return [{"x": x, "y": agent.y, "z": z} for x, z in reachable_positions(sim, agent)]


@action("GetInteractablePoses")
def get_interactable_poses(
    sim: Simulation,
    agent: AgentState,
    objectId: Any,
    positions: Any = None,
    rotations: Any = None,
    horizons: Any = None,
    standings: Any = None,
) -> list[dict[str, Any]]:
    obj = sim.get(require_str("objectId", objectId))
    if positions is None:
        points = reachable_positions(sim, agent)
    else:
        points = [(require_number("x", p["x"]), require_number("z", p["z"])) for p in positions]
    yaws = (
        [k * sim.rotate_step for k in range(int(round(360 / sim.rotate_step)))]
        if rotations is None
        else [normalize_yaw(require_number("rotation", r)) for r in rotations]
    )
    horizon_list = DEFAULT_HORIZONS if horizons is None else [require_number("horizon", h) for h in horizons]
    standing_list = DEFAULT_STANDINGS if standings is None else [bool(s) for s in standings]
    if not obj.active or obj.held_by is not None or obj.object_id in sim.hidden_ids():
        return []
    return interactable_poses(sim, agent.y, obj, points, yaws, horizon_list, standing_list)


def interactable_poses(
    sim: Simulation,
    agent_y: float,
    obj: Any,
    points: list[tuple[float, float]],
    yaws: list[float],
    horizons: Any,
    standings: Any,
    first_only: bool = False,
) -> list[dict[str, Any]]:
    """Poses from which `obj` is seen (range, view frustum at that horizon, occlusion).

    Standing poses first, then nearest first, then the horizon that looks most directly at the
    object: the ones a navigating robot can use without crouching or tilting far.
    """
    reach = sim.visibility_distance + max(obj.size) + 0.1
    cx, cy, cz = obj.position
    aspect = sim.width / sim.height
    occluders = sim.occluders()
    poses = []
    near_points = [(x, z) for x, z in points if (x - cx) ** 2 + (z - cz) ** 2 <= reach * reach]
    for x, z in sorted(near_points, key=lambda p: (p[0] - cx) ** 2 + (p[1] - cz) ** 2):
        bearing = math.degrees(math.atan2(cx - x, cz - z))
        # Headings towards the object first; those facing away cannot see it unless it surrounds the agent.
        facing = sorted(yaws, key=lambda y: abs((y - bearing + 180.0) % 360.0 - 180.0))
        if math.hypot(cx - x, cz - z) > max(obj.size):
            facing = [y for y in facing if abs((y - bearing + 180.0) % 360.0 - 180.0) < 135.0]
        for standing in standings:
            cam_y = agent_y + (STANDING_CAMERA_OFFSET if standing else CROUCHING_CAMERA_OFFSET)
            blockers = visibility.near(View.of(x, cam_y, z, 0.0, 0.0, 179.0, sim.visibility_distance), occluders)
            ideal = math.degrees(math.atan2(cam_y - cy, math.hypot(cx - x, cz - z)))
            for yaw in facing:
                for horizon in sorted(horizons, key=lambda h: abs(h - ideal)):
                    view = View.of(x, cam_y, z, yaw, horizon, sim.field_of_view, sim.visibility_distance, aspect)
                    if not visibility.sees(sim, view, obj, blockers):
                        continue
                    poses.append({"x": x, "y": agent_y, "z": z, "rotation": yaw, "horizon": horizon, "standing": standing})
                    if first_only:
                        return poses
    poses.sort(key=lambda p: (not p["standing"], (p["x"] - cx) ** 2 + (p["z"] - cz) ** 2))
    return poses
