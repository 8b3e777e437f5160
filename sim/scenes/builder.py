"""SceneBuilder: the bookkeeping shared by every scene source (ids, names, placement, free space)."""

from __future__ import annotations

import random
from collections import deque
from typing import Callable

from robocortex.sim.geometry import AGENT_Y, BASE_GRID, Box, format_object_id
from robocortex.knowledge.object_types import object_type
from robocortex.knowledge.placement import USE_PARENT_OBJECT_ID_AS_PREFIX, accepts
from robocortex.sim.scenes.spec import AgentStart, ObjectSpec, SceneSpec, Vec3
from robocortex.sim.spawn import spawn_order
from robocortex.sim.surfaces import OVERHANG_RECEPTACLES, find_spot, surface_of

AGENT_RADIUS = 0.2


class SceneBuilder:
    """Collects objects of one scene; parents must be added before their children."""

    def __init__(
        self,
        name: str,
        room_type: str,
        bounds: tuple[float, float, float, float],
        rng: random.Random,
        height: float = 2.6,
    ) -> None:
        self.name = name
        self.room_type = room_type
        self.bounds = bounds
        self.height = height
        self.rng = rng
        self.objects: list[ObjectSpec] = []
        self.by_id: dict[str, ObjectSpec] = {}
        self.children: dict[str, list[str]] = {}
        self.obstacles: list[Box] = []  # floor footprints the agent cannot enter
        self._names: set[str] = set()

    # --- adding objects -------------------------------------------------------------------
    def add(
        self,
        type_name: str,
        center: Vec3,
        size: Vec3 | None = None,
        *,
        yaw: float = 0.0,
        parent: ObjectSpec | None = None,
        blocks_floor: bool = False,
        object_id: str | None = None,
        **state: object,
    ) -> ObjectSpec:
        size = size or object_type(type_name).size
        center = tuple(round(v, 4) for v in center)  # type: ignore[assignment]
        if object_id is None:
            if type_name in USE_PARENT_OBJECT_ID_AS_PREFIX and parent is not None:
                object_id = f"{parent.object_id}|{type_name}"
            else:
                object_id = self._unique_id(type_name, center)
        spec = ObjectSpec(
            object_id=object_id,
            object_type=type_name,
            name=self._unique_name(type_name),
            position=center,  # type: ignore[arg-type]
            size=size,
            rotation_y=yaw,
            parent_id=parent.object_id if parent else None,
            state=dict(state),
            blocks_floor=blocks_floor,
            asset_id=f"{type_name}_{self.rng.randint(1, 30)}",
        )
        if object_type(type_name).toggleable:
            spec.controlled_ids = []
        self.objects.append(spec)
        self.by_id[object_id] = spec
        if parent is not None:
            self.children.setdefault(parent.object_id, []).append(object_id)
        if blocks_floor:
            self.obstacles.append(Box.around(center, size))  # type: ignore[arg-type]
        return spec

    def block(self, box: Box) -> None:
        self.obstacles.append(box)

    def place(
        self, type_name: str, receptacles: list[ObjectSpec], *, shuffle: bool = True, **state: object
    ) -> ObjectSpec | None:
        """Put a new object in/on the first receptacle (optionally shuffled) with room for it."""
        size = object_type(type_name).size
        turned = (size[2], size[1], size[0])
        sizes = [size, turned] if self.rng.random() < 0.5 else [turned, size]
        order = list(receptacles)
        if shuffle:
            self.rng.shuffle(order)
        for recep in order:
            if not accepts(recep.object_type, type_name):
                continue
            for candidate in sizes:
                spot = self.spot_on(recep, candidate)
                if spot is not None:
                    return self.add(type_name, spot, candidate, parent=recep, **state)
        return None

    def spawn(self, type_name: str, receptacles: list[ObjectSpec], **state: object) -> ObjectSpec | None:
        """Place a new object as AI2-THOR's InitialRandomSpawn would: receptacle types equally likely."""
        order = spawn_order(self.rng, type_name, receptacles, lambda o: o.object_type)
        return self.place(type_name, order, shuffle=False, **state)

    def spot_on(self, recep: ObjectSpec, size: Vec3) -> Vec3 | None:
        surface = surface_of(recep.object_type, Box.around(recep.position, recep.size))
        occupied = [
            Box.around(self.by_id[c].position, self.by_id[c].size) for c in self.children.get(recep.object_id, [])
        ]
        overhang = recep.object_type in OVERHANG_RECEPTACLES
        return find_spot(surface, size, occupied, rng=self.rng, allow_oversize=overhang)

    def of_type(self, *types: str) -> list[ObjectSpec]:
        return [o for o in self.objects if o.object_type in types]

    # --- finishing ------------------------------------------------------------------------
    def free_cells(self) -> frozenset[tuple[int, int]]:
        """Largest 4-connected set of lattice cells an agent of radius 0.2 m fits in."""
        min_x, min_z, max_x, max_z = self.bounds
        cells = set()
        i0, i1 = int(min_x / BASE_GRID) - 1, int(max_x / BASE_GRID) + 1
        j0, j1 = int(min_z / BASE_GRID) - 1, int(max_z / BASE_GRID) + 1
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                x, z = i * BASE_GRID, j * BASE_GRID
                if not (min_x + AGENT_RADIUS <= x <= max_x - AGENT_RADIUS):
                    continue
                if not (min_z + AGENT_RADIUS <= z <= max_z - AGENT_RADIUS):
                    continue
                if any(_distance_to_footprint(x, z, b) < AGENT_RADIUS for b in self.obstacles):
                    continue
                cells.add((i, j))
        return frozenset(largest_component(cells))

    def build(self, agent_starts: int = 8, repair: Callable[[ObjectSpec], bool] | None = None, rounds: int = 4) -> SceneSpec:
        """The finished scene. With `repair`, objects no free cell can see are handed to it (it
        moves them and says whether it did) until every nameable object is reachable."""
        spec = self._spec(agent_starts)
        for _ in range(rounds if repair is not None else 0):
            missing = unreachable_objects(spec)
            moved = [object_id for object_id in missing if object_id in self.by_id and repair(self.by_id[object_id])]  # type: ignore[misc]
            if not moved:
                break
            spec = self._spec(agent_starts)
        return spec

    def _spec(self, agent_starts: int) -> SceneSpec:
        free = self.free_cells()
        if not free:
            raise RuntimeError(f"scene {self.name}: no free floor space")
        cells = sorted(free)
        self.rng.shuffle(cells)
        starts = [
            AgentStart(i * BASE_GRID, j * BASE_GRID, float(self.rng.choice((0, 90, 180, 270))))
            for i, j in cells[:agent_starts]
        ]
        return SceneSpec(
            name=self.name,
            room_type=self.room_type,
            bounds=self.bounds,
            height=self.height,
            free_cells=free,
            objects=list(self.objects),
            agent_starts=starts,
        )

    # --- moving objects after the fact ------------------------------------------------------
    def remove(self, spec: ObjectSpec) -> None:
        """Take a childless object out of the scene."""
        if self.children.get(spec.object_id):
            raise ValueError(f"{spec.object_id} still holds {self.children[spec.object_id]}")
        self.objects.remove(spec)
        del self.by_id[spec.object_id]
        if spec.parent_id is not None:
            self.children[spec.parent_id].remove(spec.object_id)

    def place_elsewhere(self, spec: ObjectSpec) -> bool:
        """Move a childless pickupable object to another receptacle its type allows."""
        if not object_type(spec.object_type).pickupable or self.children.get(spec.object_id):
            return False
        old_parent = spec.parent_id
        receptacles = [o for o in self.objects if o.object_id != old_parent and spawn_receptacle(o)]
        self.remove(spec)
        placed = self.place(spec.object_type, receptacles, **spec.state)
        if placed is None:  # nowhere else: put it back where it was
            self.objects.append(spec)
            self.by_id[spec.object_id] = spec
            if old_parent is not None:
                self.children.setdefault(old_parent, []).append(spec.object_id)
            return False
        return True

    # --- helpers --------------------------------------------------------------------------
    def _unique_id(self, type_name: str, center: Vec3) -> str:
        x, y, z = center
        object_id = format_object_id(type_name, (x, y, z))
        while object_id in self.by_id:
            x += 0.01
            object_id = format_object_id(type_name, (x, y, z))
        return object_id

    def _unique_name(self, type_name: str) -> str:
        while True:
            name = f"{type_name}_{self.rng.getrandbits(32):08x}"
            if name not in self._names:
                self._names.add(name)
                return name


def _distance_to_footprint(x: float, z: float, box: Box) -> float:
    dx = max(box.min_x - x, 0.0, x - box.max_x)
    dz = max(box.min_z - z, 0.0, z - box.max_z)
    return (dx * dx + dz * dz) ** 0.5


def largest_component(cells: set[tuple[int, int]]) -> set[tuple[int, int]]:
    best: set[tuple[int, int]] = set()
    seen: set[tuple[int, int]] = set()
    for start in sorted(cells):
        if start in seen:
            continue
        component = {start}
        queue = deque([start])
        seen.add(start)
        while queue:
            i, j = queue.popleft()
            for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                if n in cells and n not in seen:
                    seen.add(n)
                    component.add(n)
                    queue.append(n)
        if len(component) > len(best):
            best = component
    return best


def unreachable_objects(spec: SceneSpec, visibility_distance: float = 1.5, fov: float = 90.0) -> list[str]:
    """Objects a task can name that no free cell can see (standing or crouching, any of the four
    headings, any horizon AI2-THOR allows), by the emulator's visibility rule.

    Objects inside closed containers count as reachable when they would be with the container
    open, since an agent opens it first.
    """
    from robocortex.sim.emulator.engine import Simulation
    from robocortex.sim.emulator.navigation import DEFAULT_HORIZONS, DEFAULT_STANDINGS, interactable_poses

    sim = Simulation(spec, visibility_distance=visibility_distance, field_of_view=fov)
    for o in sim.objects.values():  # look inside every container
        if o.kind.openable:
            o.is_open = True
    sim.structure_changed()
    buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for i, j in spec.free_cells:  # cells in 1 m buckets, to hand each object only those near it
        buckets.setdefault((i // 4, j // 4), []).append((i * BASE_GRID, j * BASE_GRID))
    missing = []
    for o in sim.objects.values():
        if not nameable(o.object_type):
            continue
        reach = int((visibility_distance + max(o.size) + 0.1) // 1.0) + 1
        bi, bj = int(o.position[0] // 1.0), int(o.position[2] // 1.0)
        cells = [c for di in range(-reach, reach + 1) for dj in range(-reach, reach + 1) for c in buckets.get((bi + di, bj + dj), ())]
        # A sliceable object must stay reachable once cut: each of its pieces, where it will lie.
        for target in [o, *_future_pieces(o)]:
            if not interactable_poses(sim, AGENT_Y, target, cells, _HEADINGS, DEFAULT_HORIZONS, DEFAULT_STANDINGS, first_only=True):
                missing.append(o.object_id)
                break
    return missing


_HEADINGS = [0.0, 90.0, 180.0, 270.0]


def _future_pieces(o):  # type: ignore[no-untyped-def]
    from robocortex.knowledge.object_types import SLICES
    from robocortex.sim.emulator.state import SimObject
    from robocortex.sim.emulator.transforms import piece_layout

    if o.object_type not in SLICES or o.is_sliced:
        return []
    kind = object_type(SLICES[o.object_type][0])
    pieces = []
    for k, (position, size) in enumerate(piece_layout(o.object_type, o.position, o.size)):
        piece = SimObject(f"{o.object_id}|piece_{k}", kind.name, "", kind, position, size, 0.0, 0.0, "")
        piece.parent_id = o.parent_id
        pieces.append(piece)
    return pieces


def nameable(type_name: str) -> bool:
    """Objects a task can name and act on (the floor and decorations aside)."""
    kind = object_type(type_name)
    return type_name != "Floor" and (kind.pickupable or kind.openable or kind.toggleable or kind.receptacle)


def spawn_receptacle(o: ObjectSpec) -> bool:
    """Receptacles InitialRandomSpawn puts objects in or on: not pickupable ones, never the floor."""
    kind = object_type(o.object_type)
    return kind.receptacle and not kind.pickupable and o.object_type != "Floor"
