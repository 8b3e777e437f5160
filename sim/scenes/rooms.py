"""Seeded procedural living rooms, bedrooms and bathrooms: furniture along the walls, small objects
on the furniture that AI2-THOR's placement rules allow, a light switch by the door."""

from __future__ import annotations

import random
from dataclasses import dataclass

from robocortex.sim.geometry import BASE_GRID
from robocortex.knowledge.object_types import object_type
from robocortex.sim.scenes.builder import SceneBuilder, unreachable_objects
from robocortex.sim.scenes.spec import ObjectSpec, SceneSpec

FLOOR_ID = "Floor|+00.00|+00.00|+00.00"


@dataclass(frozen=True)
class Furniture:
    type_name: str
    on_floor: bool = True  # False: mounted on the wall at `height`
    height: float = 0.0  # centre height for wall-mounted fixtures
    optional: bool = False


ROOMS: dict[str, dict[str, object]] = {
    "LivingRoom": {
        "size": ((20, 28), (18, 26)),
        "furniture": [
            Furniture("Sofa"), Furniture("TVStand"), Furniture("ArmChair", optional=True),
            Furniture("SideTable"), Furniture("Shelf", on_floor=False, height=1.2, optional=True),
            Furniture("FloorLamp", optional=True), Furniture("Painting", on_floor=False, height=1.6),
            Furniture("Window", on_floor=False, height=1.5),
        ],
        "centre": "CoffeeTable",
        "on_furniture": {"TVStand": ["Television"], "SideTable": ["DeskLamp"]},
        "items": [
            ("RemoteControl*", ("CoffeeTable", "Sofa", "TVStand")), ("Laptop", ("CoffeeTable", "Sofa", "SideTable")),
            ("Newspaper", ("CoffeeTable", "Sofa", "SideTable")), ("KeyChain*", ("SideTable", "CoffeeTable", "TVStand")),
            ("CreditCard", ("CoffeeTable", "SideTable")), ("Pillow*", ("Sofa", "ArmChair")),
            ("Box", ("CoffeeTable", "TVStand", "SideTable")), ("Statue", ("Shelf", "TVStand", "SideTable")),
            ("Vase*", ("Shelf", "SideTable", "TVStand", "CoffeeTable")), ("Book*", ("Shelf", "CoffeeTable", "Sofa")),
            ("CellPhone", ("CoffeeTable", "SideTable", "Sofa")), ("WateringCan", ("SideTable", "Shelf")),
            ("TissueBox", ("SideTable", "CoffeeTable")), ("Candle", ("CoffeeTable", "Shelf", "SideTable")),
        ],
        "extra": ("Book", "Statue", "Vase", "RemoteControl", "KeyChain", "CreditCard", "Newspaper", "Candle"),
    },
    "Bedroom": {
        "size": ((18, 24), (18, 24)),
        "furniture": [
            Furniture("Bed"), Furniture("Dresser"), Furniture("Desk"), Furniture("SideTable"),
            Furniture("LaundryHamper", optional=True), Furniture("GarbageCan"),
            Furniture("Shelf", on_floor=False, height=1.3, optional=True),
            Furniture("Mirror", on_floor=False, height=1.5, optional=True), Furniture("Window", on_floor=False, height=1.5),
        ],
        "centre": None,
        "on_furniture": {"Desk": ["DeskLamp"]},
        "items": [
            ("AlarmClock*", ("SideTable", "Dresser", "Desk")), ("Book*", ("Bed", "Desk", "Shelf", "Dresser")),
            ("CD", ("Desk", "Dresser", "Shelf")), ("CellPhone*", ("Bed", "Desk", "SideTable")),
            ("CreditCard", ("Desk", "Dresser")), ("KeyChain", ("Dresser", "SideTable", "Desk")),
            ("Laptop*", ("Bed", "Desk")), ("Pen", ("Desk", "Dresser")), ("Pencil", ("Desk", "Dresser")),
            ("Pillow*", ("Bed",)), ("TeddyBear", ("Bed", "Dresser")), ("BaseballBat", ("Bed", "Desk")),
            ("BasketBall", ("Bed", "Desk")), ("TennisRacket", ("Bed", "Desk")), ("Watch", ("Dresser", "SideTable")),
            ("Box", ("Desk", "Dresser")), ("Cloth", ("LaundryHamper", "Bed", "Dresser")), ("Mug", ("Desk", "SideTable")),
        ],
        "extra": ("Book", "CD", "Pen", "Pencil", "KeyChain", "CreditCard", "Watch", "AlarmClock"),
    },
    "Bathroom": {
        "size": ((12, 18), (12, 16)),
        "furniture": [
            Furniture("Toilet"), Furniture("CounterTop"), Furniture("Bathtub"), Furniture("GarbageCan"),
            Furniture("TowelHolder", on_floor=False, height=1.2), Furniture("HandTowelHolder", on_floor=False, height=1.3),
            Furniture("ToiletPaperHanger", on_floor=False, height=0.7), Furniture("Mirror", on_floor=False, height=1.5),
            Furniture("ShowerHead", on_floor=False, height=1.9, optional=True),
        ],
        "centre": None,
        "on_furniture": {"TowelHolder": ["Towel"], "HandTowelHolder": ["HandTowel"], "ToiletPaperHanger": ["ToiletPaper"]},
        "items": [
            ("SoapBar*", ("CounterTop", "BathtubBasin", "Toilet")), ("SoapBottle*", ("CounterTop", "Toilet")),
            ("SprayBottle*", ("Toilet", "CounterTop")), ("ScrubBrush", ("Floor",)), ("Plunger", ("Floor",)),
            ("Candle", ("CounterTop", "Toilet")), ("Cloth*", ("CounterTop", "BathtubBasin", "SinkBasin")),
            ("ToiletPaper", ("Toilet", "CounterTop")), ("TissueBox", ("CounterTop", "Toilet")),
        ],
        "extra": ("SoapBar", "Cloth", "ToiletPaper", "SprayBottle", "Candle"),
    },
}  # fmt: skip

_DEPTH_AXIS_SIZE = {"Bed": (1.6, 0.6, 2.1), "CounterTop": (1.2, 0.9, 0.6)}  # the vanity block  # length along the wall, height, depth into the room


def generate_room(room_type: str, seed: int, min_objects: int = 0) -> SceneSpec:
    """A seeded room; regenerated with a derived seed until every object is reachable."""
    for attempt in range(40):
        spec = _attempt(room_type, seed, attempt, min_objects)
        if spec is not None and not unreachable_objects(spec):
            return spec
    raise RuntimeError(f"could not generate a fully reachable {room_type}-{seed}")


def _attempt(room_type: str, seed: int, attempt: int, min_objects: int) -> SceneSpec | None:
    cfg = ROOMS[room_type]
    rng = random.Random(f"{room_type}-{seed}-{attempt}")
    (w0, w1), (d0, d1) = cfg["size"]  # type: ignore[misc]
    width, depth = BASE_GRID * rng.randint(w0, w1), BASE_GRID * rng.randint(d0, d1)
    min_x = -BASE_GRID * round(width / 2 / BASE_GRID)
    min_z = -BASE_GRID * round(depth / 2 / BASE_GRID)
    bounds = (min_x, min_z, min_x + width, min_z + depth)
    b = SceneBuilder(f"{room_type}-{seed}", room_type, bounds, rng)
    floor = b.add("Floor", ((bounds[0] + bounds[2]) / 2, -0.05, (bounds[1] + bounds[3]) / 2), (width, 0.1, depth), object_id=FLOOR_ID)
    walls = _Walls(bounds, door_x=min_x + BASE_GRID * rng.randint(3, 5))
    b.add("LightSwitch", (walls.door_x + 0.45, 1.25, min_z + 0.02), (0.08, 0.12, 0.03), isToggled=True)
    placed: dict[str, ObjectSpec] = {}
    for item in cfg["furniture"]:  # type: ignore[attr-defined]
        if item.optional and rng.random() < 0.35:
            continue
        spec = _place_furniture(b, rng, walls, item, floor)
        if spec is None:
            if item.optional:
                continue
            return None
        placed[item.type_name] = spec
    if cfg["centre"]:
        cx, cz = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        size = object_type(cfg["centre"]).size  # type: ignore[arg-type]
        b.add(cfg["centre"], (cx, size[1] / 2, cz), size, parent=floor, blocks_floor=True)  # type: ignore[arg-type]
    if "CounterTop" in placed:
        _vanity_sink(b, placed["CounterTop"])
    if "Bathtub" in placed:
        tub = placed["Bathtub"]
        basin_size = (tub.size[0] - 0.2, 0.4, tub.size[2] - 0.15)
        b.add("BathtubBasin", (tub.position[0], tub.position[1] + 0.05, tub.position[2]), basin_size, object_id=f"{tub.object_id}|BathtubBasin")
    for holder, contents in cfg["on_furniture"].items():  # type: ignore[attr-defined]
        host = b.of_type(holder)
        for type_name in contents:
            if host and b.place(type_name, host, **({"isToggled": False} if object_type(type_name).toggleable else {})) is None:
                return None
    for entry, receptacle_types in cfg["items"]:  # type: ignore[attr-defined]
        type_name, must = entry.rstrip("*"), entry.endswith("*")
        if not must and rng.random() < 0.3:
            continue
        if _place_item(b, type_name, receptacle_types) is None and must:
            return None
    tries = 0
    while len(b.objects) < min_objects and tries < 10 * max(min_objects, 1):
        tries += 1
        _place_item(b, rng.choice(cfg["extra"]), tuple(sorted({o.object_type for o in b.objects if object_type(o.object_type).receptacle})))  # type: ignore[arg-type]
    return b.build(repair=b.place_elsewhere)


def _place_item(b: SceneBuilder, type_name: str, receptacle_types: tuple[str, ...]) -> ObjectSpec | None:
    state = {"isToggled": False} if object_type(type_name).toggleable else {}
    for recep_type in receptacle_types:
        spec = b.place(type_name, b.of_type(recep_type), **state)
        if spec is not None:
            return spec
    return None


def _vanity_sink(b: SceneBuilder, counter: ObjectSpec) -> None:
    x, y, z = counter.position
    sx, _, sz = counter.size
    top = y + counter.size[1] / 2
    along_x = sx >= sz
    sink_size = (0.55, 0.1, sz - 0.15) if along_x else (sx - 0.15, 0.1, 0.55)
    sink = b.add("Sink", (x, top - 0.05, z), sink_size)
    b.add("SinkBasin", (x, top - 0.12, z), (sink_size[0] - 0.1, 0.2, sink_size[2] - 0.1), object_id=f"{sink.object_id}|SinkBasin")
    # The sink takes the middle of the vanity: items go to its ends only.
    b.children.setdefault(counter.object_id, [])
    faucet_at = (x, top + 0.15, z + sz / 2 - 0.06) if along_x else (x + sx / 2 - 0.06, top + 0.15, z)
    b.add("Faucet", faucet_at, (0.1, 0.3, 0.12), isToggled=False)
    b.children[counter.object_id].append(sink.object_id)  # reserve the sink's footprint on the counter top


class _Walls:
    """Free intervals along the four walls, so furniture does not overlap."""

    def __init__(self, bounds: tuple[float, float, float, float], door_x: float) -> None:
        self.bounds = bounds
        self.door_x = door_x
        min_x, min_z, max_x, max_z = bounds
        self.used: dict[str, list[tuple[float, float]]] = {"north": [], "south": [(door_x - 0.5, door_x + 1.0)], "east": [], "west": []}

    def length(self, wall: str) -> tuple[float, float]:
        min_x, min_z, max_x, max_z = self.bounds
        return (min_x, max_x) if wall in ("north", "south") else (min_z, max_z)

    def claim(self, wall: str, width: float, rng: random.Random, depth: float) -> float | None:
        lo, hi = self.length(wall)
        lo, hi = lo + depth + 0.05, hi - depth - 0.05  # keep corners for the perpendicular walls
        options = []
        start = lo
        while start + width <= hi:
            if all(start + width <= a or start >= b for a, b in self.used[wall]):
                options.append(start)
            start += 0.05
        if not options:
            return None
        start = rng.choice(options)
        self.used[wall].append((start - 0.05, start + width + 0.05))
        return start + width / 2


def _place_furniture(b: SceneBuilder, rng: random.Random, walls: _Walls, item: Furniture, floor: ObjectSpec) -> ObjectSpec | None:
    length, height, depth = _DEPTH_AXIS_SIZE.get(item.type_name, object_type(item.type_name).size)
    min_x, min_z, max_x, max_z = walls.bounds
    for wall in rng.sample(["north", "east", "south", "west"], 4):
        centre = walls.claim(wall, length, rng, depth if item.on_floor else 0.0)
        if centre is None:
            continue
        y = height / 2 if item.on_floor else item.height
        d = depth if item.on_floor else min(depth, 0.12)
        if wall == "north":
            pos, size, yaw = (centre, y, max_z - d / 2), (length, height, d), 180.0
        elif wall == "south":
            pos, size, yaw = (centre, y, min_z + d / 2), (length, height, d), 0.0
        elif wall == "east":
            pos, size, yaw = (max_x - d / 2, y, centre), (d, height, length), 270.0
        else:
            pos, size, yaw = (min_x + d / 2, y, centre), (d, height, length), 90.0
        kind = object_type(item.type_name)
        state = {}
        if kind.openable:
            state["isOpen"] = False
        if kind.toggleable:
            state["isToggled"] = False
        parent = floor if item.on_floor and (kind.moveable or kind.receptacle) and item.type_name != "Toilet" else None
        return b.add(item.type_name, pos, size, yaw=yaw, parent=parent, blocks_floor=item.on_floor, **state)
    return None
