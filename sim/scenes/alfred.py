"""Scenes from ALFRED floor-plan layouts (`FloorPlanN-objects.json`, `-reachable.json`, `-openable.json`).

The layout files give the reachable grid, the object types present, and the real objectIds (hence
positions) of the openable and receptacle furniture with an agent pose to use them. Everything
else is placed by the emulator: pickupable objects and appliances on receptacles that AI2-THOR's
placement rules allow, fixed fixtures (burners, knobs, switches, faucets...) along the edge of the
reachable area. The result has ALFRED's object set and floor space, not its exact geometry.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from robocortex.sim.geometry import BASE_GRID, cell_of
from robocortex.knowledge.object_types import OBJECT_TYPES, object_type
from robocortex.sim.scenes.builder import SceneBuilder, spawn_receptacle
from robocortex.sim.scenes.spec import AgentStart, ObjectSpec, SceneSpec

TYPE_ALIASES = {"Glassbottle": "Bottle", "Lamp": "DeskLamp"}
# Centre height of fixtures placed along the edge of the reachable area.
FIXTURE_HEIGHT = {
    "StoveBurner": 0.93, "StoveKnob": 0.88, "Faucet": 1.05, "LightSwitch": 1.25, "Window": 1.5,
    "Painting": 1.6, "Poster": 1.6, "Mirror": 1.5, "Blinds": 1.6, "Curtains": 1.4, "ShowerHead": 1.9,
    "ShowerDoor": 0.95, "ShowerCurtain": 1.2, "ShowerGlass": 0.95, "Television": 1.0,
}  # fmt: skip
FLOOR_ID = "Floor|+00.00|+00.00|+00.00"


def load_floor_plan(name: str, layouts_dir: Path) -> SceneSpec:
    layouts_dir = Path(layouts_dir)
    objects_file, reachable_file = layouts_dir / f"{name}-objects.json", layouts_dir / f"{name}-reachable.json"
    if not objects_file.is_file() or not reachable_file.is_file():
        raise ValueError(f"scene {name!r}: {objects_file.name} / {reachable_file.name} not found in {layouts_dir}")
    types = [TYPE_ALIASES.get(t, t) for t in json.loads(objects_file.read_text())]
    reachable = json.loads(reachable_file.read_text())
    openable_file = layouts_dir / f"{name}-openable.json"
    poses = json.loads(openable_file.read_text()) if openable_file.is_file() else {}
    cells = frozenset(cell_of(x, z) for x, z in reachable["positions"])
    xs = [x for x, _ in reachable["positions"]]
    zs = [z for _, z in reachable["positions"]]
    bounds = (min(xs) - 0.75, min(zs) - 0.75, max(xs) + 0.75, max(zs) + 0.75)
    rng = random.Random(name)
    b = SceneBuilder(name, _room_type(name), bounds, rng)
    floor = b.add("Floor", ((bounds[0] + bounds[2]) / 2, -0.05, (bounds[1] + bounds[3]) / 2),
                  (bounds[2] - bounds[0], 0.1, bounds[3] - bounds[1]), object_id=FLOOR_ID)  # fmt: skip
    _known_furniture(b, poses)
    edge = _edge_spots(cells, rng)
    wanted = [t for t in dict.fromkeys(types) if t in OBJECT_TYPES and not b.of_type(t)]
    # AI2-THOR's rules: furniture and fixtures stand on the floor or along the walls; appliances and
    # lamps stand on open surfaces, never inside anything; then pickupable objects are spread over
    # the receptacles their type allows, as InitialRandomSpawn spreads them.
    for type_name in wanted:
        if type_name in BASINS:
            _basin_with_host(b, type_name, edge)
        elif not object_type(type_name).pickupable and type_name not in STANDS_ON_SURFACES:
            _fixture(b, type_name, edge, floor)
    for type_name in wanted:
        if type_name in STANDS_ON_SURFACES and not b.of_type(type_name):
            if b.place(type_name, _open_surfaces(b), **_initial_state(type_name, rng)) is None:
                _fixture(b, type_name, edge, floor)
    for type_name in wanted:
        if object_type(type_name).pickupable:
            if b.spawn(type_name, _spawn_receptacles(b), **_initial_state(type_name, rng)) is None:
                b.spawn(type_name, [floor], **_initial_state(type_name, rng))
    _pair_knobs(b)
    b.free_cells = lambda: cells  # type: ignore[method-assign]  # ALFRED's measured reachable grid
    spec = b.build(repair=lambda o: _repair(b, o, edge))
    starts = sorted(cells)
    rng.shuffle(starts)
    spec.agent_starts = [AgentStart(i * BASE_GRID, j * BASE_GRID, float(rng.choice((0, 90, 180, 270)))) for i, j in starts[:8]]
    return spec


# Objects that cannot be picked up but stand on counters and tables (never inside furniture).
STANDS_ON_SURFACES = frozenset({"CoffeeMachine", "Toaster", "Microwave", "DeskLamp", "Television", "HousePlant"})
OPEN_SURFACES = frozenset({"CounterTop", "DiningTable", "Desk", "Dresser", "SideTable", "TVStand", "CoffeeTable", "Shelf"})
BASINS = {"SinkBasin": "Sink", "BathtubBasin": "Bathtub", "Sink": "Sink", "Bathtub": "Bathtub"}
# Share of dirtyable pickupable objects (dishes) that start dirty, so "wash the plates" means something.
DIRTY_SHARE = 0.5


def _initial_state(type_name: str, rng: random.Random) -> dict[str, object]:
    kind = object_type(type_name)
    state: dict[str, object] = {}
    if kind.toggleable:
        state["isToggled"] = False
    if kind.openable:
        state["isOpen"] = False
    if kind.dirtyable and kind.pickupable and rng.random() < DIRTY_SHARE:
        state["isDirty"] = True
    return state


def _open_surfaces(b: SceneBuilder) -> list[ObjectSpec]:
    return [o for o in b.objects if o.object_type in OPEN_SURFACES]


def _spawn_receptacles(b: SceneBuilder) -> list[ObjectSpec]:
    return [o for o in b.objects if spawn_receptacle(o)]


def _basin_with_host(b: SceneBuilder, type_name: str, edge: list[tuple[float, float]]) -> None:
    """A sink or bathtub the layout lists without a known pose: host and basin along a wall."""
    host_type = BASINS[type_name]
    basin_type = f"{host_type}Basin"
    if b.of_type(basin_type) or not edge:
        return
    x, z = edge.pop()
    size = object_type(host_type).size
    host = b.add(host_type, (x, FIXTURE_HEIGHT.get(host_type, size[1] / 2), z))
    b.add(basin_type, (x, host.position[1] - 0.05, z), parent=None, object_id=f"{host.object_id}|{basin_type}")


def _repair(b: SceneBuilder, o: ObjectSpec, edge: list[tuple[float, float]]) -> bool:
    """Make an object no free cell can see reachable: re-spawn it, or move it along the wall."""
    if object_type(o.object_type).pickupable:
        return b.place_elsewhere(o)
    if b.children.get(o.object_id) or o.parent_id not in (None, FLOOR_ID) or not edge:
        return _nudge_towards_free_space(b, o)
    x, z = edge.pop()
    _move(b, o, (x, o.position[1], z))
    return True


def _nudge_towards_free_space(b: SceneBuilder, o: ObjectSpec) -> bool:
    """Move known furniture (whose id fixes its pose) and what it holds 0.25 m towards the nearest free cell."""
    cells = b.free_cells()
    if not cells:
        return False
    x, _, z = o.position
    i, j = min(cells, key=lambda c: (c[0] * BASE_GRID - x) ** 2 + (c[1] * BASE_GRID - z) ** 2)
    dx, dz = i * BASE_GRID - x, j * BASE_GRID - z
    d = (dx * dx + dz * dz) ** 0.5
    if d < 0.3:
        return False
    step = min(0.25, d - 0.3) / d
    _move(b, o, (x + dx * step, o.position[1], z + dz * step))
    return True


def _move(b: SceneBuilder, o: ObjectSpec, to: tuple[float, float, float]) -> None:
    """Move `o`, what it holds and the basin named after it (a sink's SinkBasin) by the same offset."""
    dx, dy, dz = (to[k] - o.position[k] for k in range(3))
    moving, seen = [o], set()
    while moving:
        m = moving.pop()
        if m.object_id in seen:
            continue
        seen.add(m.object_id)
        m.position = (round(m.position[0] + dx, 4), round(m.position[1] + dy, 4), round(m.position[2] + dz, 4))
        moving.extend(b.by_id[c] for c in b.children.get(m.object_id, []))
        for basin_type in ("SinkBasin", "BathtubBasin"):
            basin = b.by_id.get(f"{m.object_id}|{basin_type}")
            if basin is not None:
                moving.append(basin)


def _room_type(name: str) -> str:
    number = int(name.removeprefix("FloorPlan"))
    return {0: "Kitchen", 2: "LivingRoom", 3: "Bedroom", 4: "Bathroom"}.get(number // 100, "Kitchen")


def _parse_id(object_id: str) -> tuple[str, tuple[float, float, float]]:
    parts = object_id.split("|")
    return parts[0], (float(parts[1]), float(parts[2]), float(parts[3]))


def _known_furniture(b: SceneBuilder, poses: dict[str, list[float]]) -> None:
    for object_id in sorted(poses, key=lambda k: k.count("|")):
        type_name, position = _parse_id(object_id)
        type_name = TYPE_ALIASES.get(type_name, type_name)
        if object_id.endswith("|SinkBasin") or object_id.endswith("|BathtubBasin"):
            parent_id = object_id.rsplit("|", 1)[0]
            host_type = "Sink" if object_id.endswith("|SinkBasin") else "Bathtub"
            if parent_id not in b.by_id:  # the basin is named after its host but not contained in it
                b.add(host_type, position, object_id=parent_id)
            basin_type = object_id.rsplit("|", 1)[1]
            b.add(basin_type, (position[0], position[1] - 0.05, position[2]), object_id=object_id)
            continue
        if type_name not in OBJECT_TYPES or object_id in b.by_id:
            continue
        state = {"isOpen": False} if object_type(type_name).openable else {}
        if object_type(type_name).toggleable:
            state["isToggled"] = False
        # objectIds carry the pivot, which for floor-standing furniture is at its base.
        half_height = object_type(type_name).size[1] / 2
        x, y, z = position
        b.add(type_name, (x, max(y, half_height), z), object_id=object_id, **state)


def _edge_spots(cells: frozenset[tuple[int, int]], rng: random.Random) -> list[tuple[float, float]]:
    """Lattice points just outside the reachable area: where walls and counters are."""
    spots = set()
    for i, j in cells:
        for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if n not in cells:
                spots.add(n)
    ordered = sorted(spots)
    rng.shuffle(ordered)
    return [(i * BASE_GRID, j * BASE_GRID) for i, j in ordered]


def _fixture(b: SceneBuilder, type_name: str, edge: list[tuple[float, float]], floor: ObjectSpec) -> None:
    if not edge:
        return
    x, z = edge.pop()
    size = object_type(type_name).size
    y = FIXTURE_HEIGHT.get(type_name, size[1] / 2)
    state: dict[str, object] = {}
    if object_type(type_name).toggleable:
        state["isToggled"] = type_name == "LightSwitch"
    if object_type(type_name).openable:
        state["isOpen"] = False
    parent = floor if y == size[1] / 2 and object_type(type_name).moveable else None
    b.add(type_name, (x, y, z), size, parent=parent, **state)


def _pair_knobs(b: SceneBuilder) -> None:
    burners = b.of_type("StoveBurner")
    for k, knob in enumerate(b.of_type("StoveKnob")):
        knob.controlled_ids = [burners[k % len(burners)].object_id] if burners else []
