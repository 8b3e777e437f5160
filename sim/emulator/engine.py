"""The emulator core: one shared world, N agents, AI2-THOR actions applied one at a time."""

from __future__ import annotations

import math
from typing import Any

from robocortex.sim.emulator import effects, visibility
from robocortex.sim.emulator.metadata import agent_metadata
from robocortex.sim.emulator.registry import ACTIONS, ActionFailed
from robocortex.sim.emulator.state import AgentState, SimObject
from robocortex.sim.geometry import BASE_GRID, Box, cell_of, snap
from robocortex.knowledge.object_types import object_type
from robocortex.sim.scenes.spec import SceneSpec

# Importing the action modules registers their handlers.
from robocortex.sim.emulator import interaction, navigation, setup, transforms  # noqa: E402,F401  isort: skip

SECONDS_PER_ACTION = 0.1  # advances currentTime; the emulator has no physics clock
MIN_AGENT_SEPARATION = 0.249  # agents closer than one grid step collide
# Actions that take `x`, `y` (0–1 of the frame) in place of objectId, as in AI2-THOR.
COORDINATE_ACTIONS = frozenset({
    "PickupObject", "PutObject", "OpenObject", "CloseObject", "ToggleObjectOn", "ToggleObjectOff", "SliceObject",
    "BreakObject", "CleanObject", "DirtyObject", "CookObject", "FillObjectWithLiquid", "EmptyLiquidFromObject",
    "UseUpObject",
})  # fmt: skip
_NOTHING = object()  # no object at the given coordinates


class Simulation:
    """World state plus the per-agent results of their last actions."""

    def __init__(
        self,
        spec: SceneSpec,
        agent_count: int = 1,
        *,
        grid_size: float = 0.25,
        rotate_step_degrees: float = 90.0,
        visibility_distance: float = 1.5,
        field_of_view: float = 90.0,
        width: int = 300,
        height: int = 300,
    ) -> None:
        if agent_count < 1:
            raise ValueError(f"agentCount must be >= 1, got {agent_count}")
        if grid_size <= 0:
            raise ValueError(f"gridSize must be > 0, got {grid_size}")
        if not 0 < field_of_view < 180:
            raise ValueError(f"fieldOfView must be in (0, 180), got {field_of_view}")
        self.spec = spec
        self.grid_size = float(grid_size)
        self.rotate_step = float(rotate_step_degrees)
        self.visibility_distance = float(visibility_distance)
        self.field_of_view = float(field_of_view)
        self.width, self.height = int(width), int(height)
        self.current_time = 0.0
        self.objects: dict[str, SimObject] = {}
        for o in spec.objects:
            self._add_from_spec(o)
        min_x, min_z, max_x, max_z = spec.bounds
        self.scene_box = Box(min_x, -0.1, min_z, max_x, spec.height, max_z)
        self.agents = self._place_agents(agent_count)
        self._hidden: set[str] | None = None
        self._occluders: list[visibility.Occluder] | None = None
        self._reachable_cache: dict[tuple[Any, ...], list[dict[str, float]]] = {}
        effects.apply(self)

    # --- building ---------------------------------------------------------------------------
    def _add_from_spec(self, o: Any) -> None:
        kind = object_type(o.object_type)
        obj = SimObject(
            object_id=o.object_id,
            object_type=o.object_type,
            name=o.name,
            kind=kind,
            position=tuple(o.position),
            size=tuple(o.size),
            rotation_y=o.rotation_y,
            mass=kind.mass,
            asset_id=o.asset_id,
            controlled_ids=list(o.controlled_ids) if o.controlled_ids is not None else None,
        )
        state = o.state
        obj.is_open = bool(state.get("isOpen", False))
        obj.openness = float(state.get("openness", 1.0 if obj.is_open else 0.0))
        obj.is_toggled = bool(state.get("isToggled", False))
        obj.is_dirty = bool(state.get("isDirty", False))
        obj.is_cooked = bool(state.get("isCooked", False))
        obj.is_broken = bool(state.get("isBroken", False))
        obj.is_sliced = bool(state.get("isSliced", False))
        obj.is_used_up = bool(state.get("isUsedUp", False))
        obj.fill_liquid = state.get("fillLiquid")
        obj.is_filled = bool(state.get("isFilledWithLiquid", obj.fill_liquid is not None))
        obj.temperature = str(state.get("temperature", "RoomTemp"))
        if "mass" in state:
            obj.mass = float(state["mass"])
        self.objects[obj.object_id] = obj
        if o.parent_id is not None:
            parent = self.objects.get(o.parent_id)
            if parent is None:
                raise ValueError(f"{o.object_id}: parent {o.parent_id} is not defined before it")
            obj.parent_id = parent.object_id
            parent.children.append(obj.object_id)

    def _place_agents(self, count: int) -> list[AgentState]:
        agents: list[AgentState] = []
        taken: set[tuple[int, int]] = set()
        starts = list(self.spec.agent_starts)
        spare = sorted(self.spec.free_cells)
        for agent_id in range(count):
            while starts and cell_of(starts[0].x, starts[0].z) in taken:
                starts.pop(0)
            if starts:
                s = starts.pop(0)
                x, z, yaw, horizon = s.x, s.z, s.yaw, s.horizon
            else:
                free = [c for c in spare if c not in taken]
                if not free:
                    raise ValueError(f"scene {self.spec.name} has no room for {count} agents")
                i, j = free[(agent_id * 7919) % len(free)]
                x, z, yaw, horizon = i * BASE_GRID, j * BASE_GRID, 0.0, 0.0
            taken.add(cell_of(x, z))
            agents.append(AgentState(agent_id, snap(x), snap(z), float(yaw), float(horizon)))
        return agents

    # --- stepping ---------------------------------------------------------------------------
    def step(self, agent_id: int, action: str, params: dict[str, Any]) -> AgentState:
        if not isinstance(action, str):
            raise ValueError(f"action must be a string, got {action!r}")
        spec = ACTIONS.get(action)
        if spec is None:
            raise ValueError(f"Invalid action: {action}")
        if not isinstance(agent_id, int) or not 0 <= agent_id < len(self.agents):
            raise ValueError(f"agentId {agent_id!r} out of range for {len(self.agents)} agent(s)")
        agent = self.agents[agent_id]
        if action in COORDINATE_ACTIONS and ("x" in params or "y" in params):
            params = self._by_coordinates(agent_id, action, params)
        params = spec.check(params)
        agent.last_action = action
        agent.action_return = None
        try:
            if params.get("objectId") is _NOTHING:
                raise ActionFailed(f"No object found at the given x, y in Agent {agent_id}'s view")
            result = spec.handler(self, agent, **params)
        except ActionFailed as failure:
            agent.last_success = False
            agent.error_message = str(failure)
        else:
            agent.last_success = True
            agent.error_message = ""
            agent.action_return = result
        self.current_time += SECONDS_PER_ACTION
        return agent

    def metadata(self, agent_id: int) -> dict[str, Any]:
        return agent_metadata(self, self.agents[agent_id])

    def _by_coordinates(self, agent_id: int, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """AI2-THOR's `x`, `y` (0–1 of the frame, from its top left) instead of an objectId: the
        object is the one at that pixel of the agent's instance segmentation frame."""
        from robocortex.sim.emulator.render import render

        params = dict(params)
        x, y = params.pop("x", None), params.pop("y", None)
        if "objectId" in params:
            raise ValueError(f"{action}: give either objectId or x and y, not both")
        for name, value in (("x", x), ("y", y)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{action}: {name} must be a number in [0, 1] (a fraction of the frame), got {value!r}")
        frames = render(self.metadata(agent_id), depth=False, segmentation=False)
        params["objectId"] = frames.object_at(float(x), float(y)) or _NOTHING
        return params

    # --- queries used by actions --------------------------------------------------------------
    def get(self, object_id: Any) -> SimObject:
        if not isinstance(object_id, str):
            raise ValueError(f"objectId must be a string, got {object_id!r}")
        obj = self.objects.get(object_id)
        if obj is None:
            raise ActionFailed(f"Object ID appears to be invalid: {object_id}")
        return obj

    def hidden_ids(self) -> set[str]:
        """Objects nobody can see: inside a closed openable, or sliced away."""
        if self._hidden is None:
            hidden = set()
            for o in self.objects.values():
                if not o.active:
                    hidden.add(o.object_id)
                    continue
                parent_id = o.parent_id
                while parent_id is not None:
                    parent = self.objects[parent_id]
                    if parent.kind.openable and not parent.is_open:
                        hidden.add(o.object_id)
                        break
                    parent_id = parent.parent_id
            self._hidden = hidden
        return self._hidden

    def structure_changed(self) -> None:
        """Call after anything that changes containment, open state, furniture poses or which objects exist."""
        self._hidden = None
        self._occluders = None

    def occluders(self) -> list[visibility.Occluder]:
        if self._occluders is None:
            self._occluders = visibility.occluders(self)
        return self._occluders

    def sees(self, agent: AgentState, obj: SimObject) -> bool:
        """The metadata `visible`/`isInteractable` rule for one agent and one object."""
        if obj.held_by is not None:
            return obj.held_by == agent.agent_id
        if obj.object_id in self.hidden_ids():
            return False
        view = visibility.agent_view(self, agent)
        return visibility.sees(self, view, obj, lambda: visibility.near(view, self.occluders()))

    def require_interactable(self, agent: AgentState, obj: SimObject, force: bool) -> None:
        if not obj.active:
            raise ActionFailed(f"{obj.object_id} is not interactable and (perhaps it is occluded by something).")
        if force and obj.held_by in (None, agent.agent_id):
            return
        if not self.sees(agent, obj):
            raise ActionFailed(f"{obj.object_id} is not interactable and (perhaps it is occluded by something).")

    def agent_in_the_way(self, agent_id: int, x: float, z: float) -> AgentState | None:
        cell = cell_of(x, z)
        for other in self.agents:
            if other.agent_id == agent_id:
                continue
            if cell_of(other.x, other.z) == cell or math.hypot(other.x - x, other.z - z) < MIN_AGENT_SEPARATION:
                return other
        return None

    def floor_free(self, x: float, z: float) -> bool:
        return cell_of(x, z) in self.spec.free_cells

    def descendants(self, obj: SimObject) -> list[SimObject]:
        out, stack = [], list(obj.children)
        while stack:
            child = self.objects[stack.pop()]
            out.append(child)
            stack.extend(child.children)
        return out

    # --- mutations used by actions ------------------------------------------------------------
    def detach(self, obj: SimObject) -> None:
        if obj.parent_id is not None:
            parent = self.objects[obj.parent_id]
            parent.children.remove(obj.object_id)
            parent.changed()
            obj.parent_id = None
            obj.changed()
        self.structure_changed()

    def attach(self, obj: SimObject, parent: SimObject) -> None:
        if obj.parent_id is not None:
            self.detach(obj)
        obj.parent_id = parent.object_id
        parent.children.append(obj.object_id)
        parent.changed()
        obj.changed()
        self.structure_changed()

    def move_with_contents(self, obj: SimObject, position: tuple[float, float, float]) -> None:
        dx, dy, dz = (position[i] - obj.position[i] for i in range(3))
        obj.moved_to(position)
        for child in self.descendants(obj):
            x, y, z = child.position
            child.moved_to((round(x + dx, 4), round(y + dy, 4), round(z + dz, 4)))

    def add_object(self, obj: SimObject, parent: SimObject | None) -> None:
        self.objects[obj.object_id] = obj
        if parent is not None:
            self.attach(obj, parent)
        self.structure_changed()
