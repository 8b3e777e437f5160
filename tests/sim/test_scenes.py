"""Scene sources: procedural rooms, ALFRED floor plans, recorded metadata dumps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from robocortex.sim.emulator import EmulatorWorld, Simulation
from robocortex.knowledge.placement import accepts
from robocortex.sim.scenes import ROOM_TYPES, generate_scene, load_scene
from robocortex.sim.scenes.from_metadata import load_metadata_dump
from robocortex.sim.thor import thor_available
from robocortex.sim.backends import make_world

KITCHEN_MUST_HAVE = {
    "Fridge", "Apple", "LightSwitch", "CounterTop", "Microwave", "Sink", "SinkBasin", "Faucet", "StoveBurner",
    "StoveKnob", "Knife", "Mug", "CoffeeMachine", "Toaster", "Bread", "Tomato", "Potato", "Egg", "Plate", "Bowl",
    "Pan", "GarbageCan", "Cabinet", "Drawer", "Cup", "SoapBottle", "DishSponge",
}  # fmt: skip
OBJECT_ID = re.compile(r"^[A-Za-z]+\|[+-]\d\d\.\d\d\|[+-]\d\d\.\d\d\|[+-]\d\d\.\d\d(\|[A-Za-z]+)?$")


@pytest.mark.parametrize("seed", range(12))
def test_kitchens_have_the_required_objects_in_realistic_states(seed: int) -> None:
    md = EmulatorWorld(f"Kitchen-{seed}").metadata()
    objects = {o["objectId"]: o for o in md["objects"]}
    assert KITCHEN_MUST_HAVE <= {o["objectType"] for o in objects.values()}
    apple = next(o for o in objects.values() if o["objectType"] == "Apple")
    assert objects[apple["parentReceptacles"][0]]["objectType"] in ("CounterTop", "DiningTable")
    fridge = next(o for o in objects.values() if o["objectType"] == "Fridge")
    assert fridge["openable"] and fridge["receptacle"] and not fridge["isOpen"]
    switch = next(o for o in objects.values() if o["objectType"] == "LightSwitch")
    assert switch["toggleable"] and switch["isToggled"]
    assert all(OBJECT_ID.match(i) for i in objects), [i for i in objects if not OBJECT_ID.match(i)]


@pytest.mark.parametrize("room_type", ROOM_TYPES)
def test_every_placement_is_legal_and_every_object_reachable(room_type: str) -> None:
    for seed in range(6):
        spec = generate_scene(room_type, seed)
        sim = Simulation(spec)
        for o in sim.objects.values():
            if o.kind.openable:
                o.is_open = True  # an agent opens containers first
        sim.structure_changed()
        agent = sim.agents[0]
        for o in sim.objects.values():
            parent = sim.objects.get(o.parent_id) if o.parent_id else None
            if o.kind.pickupable:
                assert parent is not None and accepts(parent.object_type, o.object_type), o.object_id
            if o.object_type == "Floor" or not (o.kind.pickupable or o.kind.openable or o.kind.toggleable):
                continue
            sim.step(0, "GetInteractablePoses", {"objectId": o.object_id})
            assert agent.action_return, f"{spec.name}: {o.object_id} is not reachable"


def test_scenes_are_deterministic_per_seed() -> None:
    a, b, c = load_scene("Kitchen-7"), generate_scene("Kitchen", 7), generate_scene("Kitchen", 8)
    assert [o.object_id for o in a.objects] == [o.object_id for o in b.objects]
    assert [o.object_id for o in a.objects] != [o.object_id for o in c.objects]
    assert len(generate_scene("Kitchen", 3, min_objects=100).objects) >= 100


def test_bad_scene_names_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROBOCORTEX_THOR_DATA", raising=False)
    with pytest.raises(ValueError, match="unknown scene"):
        load_scene("Garage-1")
    with pytest.raises(ValueError, match="ALFRED's floor-plan layouts") as missing:
        load_scene("FloorPlan1")
    message = str(missing.value)
    assert "\n" not in message and "ROBOCORTEX_THOR_DATA" in message and "gen/layouts" in message
    assert load_scene("Kitchen-0").objects  # procedural scenes need no data


def test_auto_backend_falls_back_to_the_emulator_without_ai2thor() -> None:
    ok, why = thor_available()
    if ok:
        pytest.skip("AI2-THOR is available here")
    assert why
    assert make_world("auto").backend == "emulator"
    with pytest.raises(RuntimeError, match="unavailable"):
        make_world("thor")
    with pytest.raises(ValueError, match="unknown world backend"):
        make_world("unity")


@pytest.mark.thor_data
def test_alfred_floor_plan_from_layouts(thor_data: Path) -> None:
    layouts = thor_data / "layouts"
    reachable = {tuple(p) for p in json.loads((layouts / "FloorPlan1-reachable.json").read_text())["positions"]}
    openable = json.loads((layouts / "FloorPlan1-openable.json").read_text())
    types = set(json.loads((layouts / "FloorPlan1-objects.json").read_text()))
    world = make_world("emulator")
    md = world.reset("FloorPlan1", agent_count=2)[0]
    ids = {o["objectId"] for o in md["objects"]}
    assert set(openable) <= ids
    assert types - {"Glassbottle"} <= {o["objectType"] for o in md["objects"]}
    got = {(p["x"], p["z"]) for p in world.step(0, "GetReachablePositions")["actionReturn"]}
    other = world.metadata(1)["agent"]["position"]
    assert got <= reachable and len(got) >= len(reachable) - 1 - 10
    assert (other["x"], other["z"]) in reachable
    explicit = EmulatorWorld("FloorPlan201", layouts_dir=layouts)
    assert explicit.metadata()["sceneName"] == "FloorPlan201"


@pytest.mark.thor_data
def test_import_of_a_recorded_metadata_dump(thor_data: Path) -> None:
    path = thor_data / "ai2thor/instance_segmentation_metadata.json"
    dump = json.loads(path.read_text())
    spec = load_metadata_dump(path)
    world = EmulatorWorld(spec, agent_count=2)
    md = world.metadata(0)
    assert md["sceneName"] == dump["sceneName"]
    assert md["agent"]["position"]["x"] == dump["agent"]["position"]["x"]
    names = {o["objectId"]: o["name"] for o in md["objects"]}
    assert names == {o["objectId"]: o["name"] for o in dump["objects"]}
    egg = next(o for o in md["objects"] if o["objectType"] == "Egg")
    assert egg["temperature"] == "Cold" and egg["parentReceptacles"][0].startswith("Fridge|")
