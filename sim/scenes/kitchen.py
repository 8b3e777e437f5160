"""Seeded procedural kitchen: a counter run with stove and sink, a fridge, appliances and food.

Layout (top view, +z is north): counters along the north wall with the fridge in the north-east
corner, an optional second counter on the west wall, a dining table when the room is large
enough, the light switch by the door on the south wall and the garbage can in a corner.
"""

from __future__ import annotations

import random

from robocortex.sim.geometry import BASE_GRID, Box
from robocortex.sim.scenes.builder import SceneBuilder
from robocortex.sim.scenes.spec import ObjectSpec, SceneSpec

COUNTER_DEPTH = 0.65
COUNTER_TOP = 0.95
FLOOR_ID = "Floor|+00.00|+00.00|+00.00"

# Small objects and the receptacle types they are put on at load time (each list is a subset of
# AI2-THOR's PlacementRestrictions for that type). Every entry is placed; "*" marks must-haves.
KITCHEN_ITEMS: list[tuple[str, tuple[str, ...]]] = [
    ("Apple*", ("CounterTop", "DiningTable")),
    ("Bread*", ("CounterTop", "DiningTable")),
    ("Tomato*", ("CounterTop", "DiningTable", "Fridge")),
    ("Potato*", ("CounterTop", "Fridge")),
    ("Egg*", ("Fridge", "CounterTop", "Bowl")),
    ("Lettuce", ("Fridge", "CounterTop")),
    ("Knife*", ("CounterTop", "DiningTable")),
    ("ButterKnife", ("Drawer", "CounterTop")),
    ("Fork", ("Drawer", "CounterTop", "DiningTable")),
    ("Spoon", ("Drawer", "CounterTop")),
    ("Spatula", ("CounterTop", "Drawer")),
    ("Mug*", ("CounterTop", "DiningTable", "Cabinet", "CoffeeMachine")),
    ("Cup*", ("CounterTop", "Cabinet", "DiningTable")),
    ("Plate*", ("CounterTop", "Cabinet", "DiningTable")),
    ("Bowl*", ("CounterTop", "Cabinet", "DiningTable")),
    ("Pan*", ("StoveBurner",)),
    ("Pot", ("StoveBurner", "CounterTop", "Cabinet")),
    ("SaltShaker", ("CounterTop", "Cabinet", "DiningTable")),
    ("PepperShaker", ("CounterTop", "Cabinet", "DiningTable")),
    ("SoapBottle*", ("CounterTop",)),
    ("DishSponge*", ("SinkBasin", "CounterTop")),
    ("PaperTowelRoll", ("CounterTop",)),
    ("WineBottle", ("Fridge", "CounterTop", "Cabinet")),
    ("Bottle", ("Fridge", "CounterTop")),
    ("Kettle", ("StoveBurner", "CounterTop")),
    ("Ladle", ("Drawer", "CounterTop")),
    ("CreditCard", ("CounterTop", "DiningTable")),
    ("Vase", ("CounterTop", "Cabinet")),
]
EXTRA_ITEMS = ("Apple", "Tomato", "Potato", "Egg", "Mug", "Cup", "Fork", "Spoon", "Plate", "Bowl", "Bread")


def generate_kitchen(seed: int, name: str | None = None, min_objects: int = 0) -> SceneSpec:
    rng = random.Random(f"Kitchen-{seed}")
    width = BASE_GRID * rng.randint(20, 26)  # 5.0 - 6.5 m
    depth = BASE_GRID * rng.randint(18, 24)  # 4.5 - 6.0 m
    min_x = -BASE_GRID * round(width / 2 / BASE_GRID)
    min_z = -BASE_GRID * round(depth / 2 / BASE_GRID)
    bounds = (min_x, min_z, min_x + width, min_z + depth)
    b = SceneBuilder(name or f"Kitchen-{seed}", "Kitchen", bounds, rng)
    floor = b.add(
        "Floor", ((bounds[0] + bounds[2]) / 2, -0.05, (bounds[1] + bounds[3]) / 2), (width, 0.1, depth),
        object_id=FLOOR_ID,
    )
    _north_run(b, rng)
    _west_run(b, rng)
    _fridge(b)
    _table(b, rng, floor)
    _wall_fixtures(b, rng, floor)
    _appliances(b)
    _small_objects(b, rng, min_objects)
    return b.build(repair=b.place_elsewhere)


def _north_run(b: SceneBuilder, rng: random.Random) -> None:
    min_x, _, max_x, max_z = b.bounds
    run_end = max_x - 0.85  # fridge corner
    z0 = max_z - COUNTER_DEPTH
    sections = ["stove", "sink"]
    rng.shuffle(sections)
    spare = (run_end - min_x) - 0.8 - 0.9
    lengths = _split(spare, 3, 0.6, rng)
    plan = [("counter", lengths[0]), (sections[0], 0.8 if sections[0] == "stove" else 0.9)]
    plan += [("counter", lengths[1]), (sections[1], 0.8 if sections[1] == "stove" else 0.9)]
    plan += [("counter", lengths[2])]
    x = min_x
    for kind, length in plan:
        if length <= 0:
            continue
        x0, x1 = x, x + length
        b.block(Box(x0, 0.0, z0, x1, COUNTER_TOP, max_z))
        if kind == "counter":
            _counter(b, (x0, z0, x1, max_z), facing="south")
        elif kind == "stove":
            _stove(b, x0, x1, z0, max_z)
        else:
            _sink(b, x0, x1, z0, max_z)
        x = x1
    # Upper cabinets above the run.
    cx = min_x + 0.35
    while cx + 0.3 < run_end and len(b.of_type("Cabinet")) < 12:
        b.add("Cabinet", (cx, 1.9, max_z - 0.18), (0.6, 0.7, 0.35), isOpen=False)
        cx += 0.62 + rng.choice((0.0, 0.62))


def _west_run(b: SceneBuilder, rng: random.Random) -> None:
    min_x, min_z, _, max_z = b.bounds
    z1 = max_z - COUNTER_DEPTH
    length = BASE_GRID * rng.randint(5, 8)
    z0 = max(z1 - length, min_z + 1.0)
    if z1 - z0 < 1.0:
        return
    b.block(Box(min_x, 0.0, z0, min_x + COUNTER_DEPTH, COUNTER_TOP, z1))
    _counter(b, (min_x, z0, min_x + COUNTER_DEPTH, z1), facing="east")


def _counter(b: SceneBuilder, rect: tuple[float, float, float, float], facing: str) -> None:
    x0, z0, x1, z1 = rect
    b.add("CounterTop", ((x0 + x1) / 2, COUNTER_TOP - 0.03, (z0 + z1) / 2), (x1 - x0, 0.06, z1 - z0))
    along_x = facing == "south"
    length = (x1 - x0) if along_x else (z1 - z0)
    slots = max(1, int(length / 0.6))
    slot = length / slots
    for k in range(slots):
        a0 = (x0 if along_x else z0) + k * slot
        centre = a0 + slot / 2
        if along_x:
            drawer_c, cab_c = (centre, 0.78, z0 + 0.3), (centre, 0.36, z0 + 0.3)
            drawer_s, cab_s = (slot - 0.06, 0.14, 0.55), (slot - 0.06, 0.52, 0.55)
        else:
            drawer_c, cab_c = (x0 + 0.35, 0.78, centre), (x0 + 0.35, 0.36, centre)
            drawer_s, cab_s = (0.55, 0.14, slot - 0.06), (0.55, 0.52, slot - 0.06)
        if k % 2 == 0:
            b.add("Drawer", drawer_c, drawer_s, isOpen=False)
        b.add("Cabinet", cab_c, cab_s, isOpen=False)


def _stove(b: SceneBuilder, x0: float, x1: float, z0: float, z1: float) -> None:
    cx, cz = (x0 + x1) / 2, (z0 + z1) / 2
    burners = []
    for dx, dz in ((-0.18, -0.14), (0.18, -0.14), (-0.18, 0.14), (0.18, 0.14)):
        burners.append(b.add("StoveBurner", (cx + dx, COUNTER_TOP - 0.02, cz + dz), (0.28, 0.04, 0.26)))
    for k, burner in enumerate(burners):
        knob = b.add("StoveKnob", (x0 + 0.16 + k * 0.16, COUNTER_TOP - 0.08, z0 - 0.02), (0.06, 0.06, 0.04))
        knob.controlled_ids = [burner.object_id]
        knob.state["isToggled"] = False
    b.add("Cabinet", (cx, 0.36, z0 + 0.3), (x1 - x0 - 0.06, 0.52, 0.55), isOpen=False)


def _sink(b: SceneBuilder, x0: float, x1: float, z0: float, z1: float) -> None:
    cx, cz = (x0 + x1) / 2, (z0 + z1) / 2
    sink = b.add("Sink", (cx, COUNTER_TOP - 0.05, cz), (x1 - x0 - 0.1, 0.1, z1 - z0 - 0.1))
    # The basin is named after the sink but, as in AI2-THOR, is not contained in it.
    b.add("SinkBasin", (cx, COUNTER_TOP - 0.12, cz - 0.03), (x1 - x0 - 0.3, 0.2, 0.42), object_id=f"{sink.object_id}|SinkBasin")
    b.add("Faucet", (cx, COUNTER_TOP + 0.15, z1 - 0.08), (0.1, 0.3, 0.12), isToggled=False)
    b.add("Cabinet", (cx, 0.36, z0 + 0.3), (x1 - x0 - 0.06, 0.52, 0.55), isOpen=False)
    b.add("Window", (cx, 1.65, z1 - 0.01), (1.0, 1.0, 0.04))


def _fridge(b: SceneBuilder) -> None:
    _, _, max_x, max_z = b.bounds
    b.add("Fridge", (max_x - 0.42, 0.9, max_z - 0.42), (0.75, 1.8, 0.75), yaw=180.0, blocks_floor=True, isOpen=False)


def _table(b: SceneBuilder, rng: random.Random, floor: ObjectSpec) -> None:
    min_x, min_z, max_x, max_z = b.bounds
    open_depth = (max_z - COUNTER_DEPTH) - min_z
    if open_depth < 3.5 or rng.random() < 0.25:
        return
    cx = BASE_GRID * round(((min_x + max_x) / 2 + rng.choice((-0.25, 0.0, 0.25))) / BASE_GRID) + 0.125
    cz = min_z + 1.25 + 0.125
    b.add("DiningTable", (cx, 0.39, cz), (1.2, 0.78, 0.75), parent=floor, blocks_floor=True)
    for side in (-1, 1):
        if rng.random() < 0.8:
            b.add("Chair", (cx + side * 0.85, 0.475, cz), (0.45, 0.95, 0.45), yaw=90.0 * side, parent=floor, blocks_floor=True)


def _wall_fixtures(b: SceneBuilder, rng: random.Random, floor: ObjectSpec) -> None:
    min_x, min_z, max_x, _ = b.bounds
    switch_x = min_x + BASE_GRID * rng.randint(3, 6)
    b.add("LightSwitch", (switch_x, 1.25, min_z + 0.02), (0.08, 0.12, 0.03), isToggled=True)
    corner_x = max_x - 0.25 if rng.random() < 0.5 else min_x + 0.25
    b.add("GarbageCan", (corner_x, 0.25, min_z + 0.25), (0.32, 0.5, 0.32), parent=floor, blocks_floor=True)


def _appliances(b: SceneBuilder) -> None:
    counters = b.of_type("CounterTop")
    for appliance in ("Microwave", "CoffeeMachine", "Toaster"):
        placed = b.place(appliance, counters, isToggled=False, **({"isOpen": False} if appliance == "Microwave" else {}))
        if placed is None:
            raise RuntimeError(f"{b.name}: no counter space for {appliance}")


def _small_objects(b: SceneBuilder, rng: random.Random, min_objects: int) -> None:
    for entry, receptacle_types in KITCHEN_ITEMS:
        type_name = entry.rstrip("*")
        must = entry.endswith("*")
        if not must and rng.random() < 0.3:
            continue
        placed = _place_preferring(b, rng, type_name, receptacle_types)
        if placed is None and must:
            raise RuntimeError(f"{b.name}: could not place required {type_name}")
    attempts = 0
    while len(b.objects) < min_objects and attempts < 10 * max(min_objects, 1):
        attempts += 1
        type_name = rng.choice(EXTRA_ITEMS)
        _place_preferring(b, rng, type_name, ("CounterTop", "DiningTable", "Cabinet", "Drawer", "Fridge"))


def _place_preferring(b: SceneBuilder, rng: random.Random, type_name: str, receptacle_types: tuple[str, ...]) -> ObjectSpec | None:
    state: dict[str, object] = {}
    if type_name in ("Mug", "Cup", "Plate", "Bowl", "Pan", "Pot") and rng.random() < 0.25:
        state["isDirty"] = True
    for recep_type in receptacle_types:
        placed = b.place(type_name, b.of_type(recep_type), **state)
        if placed is not None:
            return placed
    return None


def _split(total: float, parts: int, minimum: float, rng: random.Random) -> list[float]:
    """Split `total` metres into `parts` lengths on the 5 cm grid, each at least `minimum` if possible."""
    if total < parts * minimum:
        return [total / parts] * parts
    spare = total - parts * minimum
    cuts = sorted(rng.uniform(0, spare) for _ in range(parts - 1))
    edges = [0.0, *cuts, spare]
    lengths = [minimum + edges[i + 1] - edges[i] for i in range(parts)]
    lengths = [round(v / 0.05) * 0.05 for v in lengths]
    lengths[-1] = round(total - sum(lengths[:-1]), 4)
    return lengths
