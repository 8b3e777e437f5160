"""All 120 ALFRED floor plans start the way AI2-THOR's do (in the emulator): AI2-THOR's placement
rules, InitialRandomSpawn's spread, every nameable object reachable, also once sliced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import do, go_to

from robocortex.knowledge.object_types import object_type
from robocortex.knowledge.placement import accepts
from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.scenes import load_scene
from robocortex.sim.scenes.builder import unreachable_objects

pytestmark = pytest.mark.thor_data


def _plans(thor_data: Path) -> list[str]:
    names = {p.name.split("-")[0] for p in (thor_data / "layouts").glob("FloorPlan*-objects.json")}
    return sorted(names, key=lambda n: int(n.removeprefix("FloorPlan")))


def _closed_ancestor(o, by_id) -> bool:  # type: ignore[no-untyped-def]
    parent = by_id.get(o.parent_id) if o.parent_id else None
    while parent is not None:
        if object_type(parent.object_type).openable:
            return True
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return False


def test_every_floor_plan_keeps_ai2thors_placement_rules_and_spread(thor_data: Path) -> None:
    plans = _plans(thor_data)
    assert len(plans) == 120
    pickupables = closed = apples = apples_chilled = dirtyable = dirty = 0
    for name in plans:
        spec = load_scene(name, thor_data / "layouts")
        by_id = spec.by_id()
        listed = set(json.loads((thor_data / "layouts" / f"{name}-objects.json").read_text()))
        present = {o.object_type for o in spec.objects}
        for needed in ("SinkBasin", "BathtubBasin", "CounterTop"):
            assert needed not in listed or needed in present, f"{name}: no {needed}"
        for o in spec.objects:
            kind = object_type(o.object_type)
            parent = by_id.get(o.parent_id) if o.parent_id else None
            if not kind.pickupable:  # furniture, appliances, fixtures: on the floor or a surface, never inside
                assert parent is None or not (object_type(parent.object_type).openable or object_type(parent.object_type).pickupable), (name, o.object_id, o.parent_id)
                continue
            assert parent is not None and accepts(parent.object_type, o.object_type), (name, o.object_id, o.parent_id)
            pickupables += 1
            closed += _closed_ancestor(o, by_id)
            if o.object_type == "Apple":
                apples += 1
                apples_chilled += parent.object_type == "Fridge"
            if kind.dirtyable:
                dirtyable += 1
                dirty += bool(o.state.get("isDirty"))
    share = closed / pickupables
    print(f"\nin the emulator, over 120 floor plans: {closed}/{pickupables} pickupable objects ({share:.0%}) start inside "
          f"closed receptacles; {apples_chilled}/{apples} apples start in a fridge; {dirty}/{dirtyable} dishes start dirty")
    assert 0.1 <= share <= 0.4  # most on open surfaces, some shut away, as InitialRandomSpawn leaves them
    assert apples_chilled <= apples / 4  # "chill the apple" is usually something to do
    assert 0.25 <= dirty / dirtyable <= 0.75  # "wash the plates" too


def test_every_nameable_object_is_reachable_in_every_floor_plan_also_once_sliced(thor_data: Path) -> None:
    missing = {}
    for name in _plans(thor_data):
        unreachable = unreachable_objects(load_scene(name, thor_data / "layouts"))
        if unreachable:
            missing[name] = unreachable
    assert not missing, missing


@pytest.mark.parametrize("plan", ["FloorPlan1", "FloorPlan7", "FloorPlan15", "FloorPlan21", "FloorPlan414"])
def test_issue_examples_work(plan: str, thor_data: Path) -> None:
    world = EmulatorWorld(plan, layouts_dir=thor_data / "layouts")
    md = world.metadata()
    for o in md["objects"]:
        parents = o["parentReceptacles"] or []
        if not o["pickupable"] and parents:
            parent = next(p for p in md["objects"] if p["objectId"] == parents[0])
            assert not parent["openable"], (o["objectId"], parent["objectId"])
        if o["objectType"] in ("SinkBasin", "BathtubBasin", "Apple", "Tomato", "ButterKnife", "Egg", "Mug", "Spoon"):
            if not any(p["objectId"] in parents and p["openable"] for p in md["objects"]):
                assert world.step(0, "GetInteractablePoses", objectId=o["objectId"])["actionReturn"], o["objectId"]


@pytest.mark.parametrize("plan", [f"FloorPlan{n}" for n in (1, 5, 10, 14, 22, 27)])
def test_slices_lie_where_the_whole_was_and_can_be_picked_up(plan: str, thor_data: Path) -> None:
    world = EmulatorWorld(plan, layouts_dir=thor_data / "layouts")
    md = world.step(0, "SetObjectStates", SetObjectStates={"objectType": "Tomato", "stateChange": "sliceable", "isSliced": True})
    assert md["lastActionSuccess"], md["errorMessage"]
    tomato = next(o for o in md["objects"] if o["objectType"] == "Tomato")
    box = tomato["axisAlignedBoundingBox"]
    pieces = [o for o in md["objects"] if o["objectId"].startswith(tomato["objectId"] + "|TomatoSliced_")]
    assert len(pieces) > 1
    assert len({str(p["parentReceptacles"]) for p in pieces}) == 1  # all on the receptacle the whole was on
    for piece in pieces:
        for axis in "xz":
            lo = box["center"][axis] - box["size"][axis] / 2 - 1e-6
            assert lo <= piece["position"][axis] <= lo + box["size"][axis] + 2e-6
    parent = (pieces[-1]["parentReceptacles"] or [None])[0]
    if parent and next(o for o in md["objects"] if o["objectId"] == parent)["openable"]:
        do(world, 0, "SetObjectStates", SetObjectStates={"objectType": parent.split("|")[0], "stateChange": "openable", "isOpen": True})
    target = pieces[-1]["objectId"]
    go_to(world, 0, target)
    md = do(world, 0, "PickupObject", objectId=target)
    assert md["inventoryObjects"][0]["objectId"] == target


@pytest.mark.parametrize("plan", ["FloorPlan15", "FloorPlan21"])
def test_put_the_mug_in_the_coffee_machine_as_a_new_user_would(plan: str, thor_data: Path) -> None:
    world = EmulatorWorld(plan, layouts_dir=thor_data / "layouts")
    md = world.metadata()
    by_id = {o["objectId"]: o for o in md["objects"]}
    machine = next(o for o in md["objects"] if o["objectType"] == "CoffeeMachine")
    assert not any(by_id[p]["openable"] for p in machine["parentReceptacles"] or [])  # not shut in a drawer
    mug = next(o for o in md["objects"] if o["objectType"] == "Mug")
    for parent in mug["parentReceptacles"] or []:
        if by_id[parent]["openable"]:
            go_to(world, 0, parent)
            do(world, 0, "OpenObject", objectId=parent)
    go_to(world, 0, mug["objectId"])
    do(world, 0, "PickupObject", objectId=mug["objectId"])
    go_to(world, 0, machine["objectId"])
    md = do(world, 0, "PutObject", objectId=machine["objectId"])
    assert next(o for o in md["objects"] if o["objectId"] == mug["objectId"])["parentReceptacles"] == [machine["objectId"]]
    md = do(world, 0, "ToggleObjectOn", objectId=machine["objectId"])
    assert next(o for o in md["objects"] if o["objectId"] == mug["objectId"])["fillLiquid"] == "coffee"
