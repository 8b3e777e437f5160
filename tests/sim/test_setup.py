"""Set-up actions with ai2thor's parameter names, and initial states suites can state (in the emulator)."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import find

from robocortex.knowledge.placement import accepts
from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.initial_state import InitialStateRejected, apply_initial_state, check_initial_state


def _parents(md):
    return {o["objectId"]: (o["parentReceptacles"] or [None])[0] for o in md["objects"] if o["pickupable"]}


def test_initial_random_spawn_moves_pickupables_by_the_placement_rules_and_is_seeded() -> None:
    w = EmulatorWorld("Kitchen-0")
    before = _parents(w.metadata())
    md = w.step(0, "InitialRandomSpawn", randomSeed=7, numPlacementAttempts=5, placeStationary=True)
    assert md["lastActionSuccess"], md["errorMessage"]
    after = _parents(md)
    assert after != before
    types = {o["objectId"]: o["objectType"] for o in md["objects"]}
    for object_id, parent in after.items():
        assert parent is not None and accepts(types[parent], types[object_id]), (object_id, parent)
    again = EmulatorWorld("Kitchen-0")
    assert _parents(again.step(0, "InitialRandomSpawn", randomSeed=7)) == after
    assert _parents(again.step(0, "InitialRandomSpawn", randomSeed=8)) != after


def test_initial_random_spawn_exclusions_and_its_failures() -> None:
    w = EmulatorWorld("Kitchen-0")
    md = w.metadata()
    apple = find(md, "Apple")["objectId"]
    where = _parents(md)[apple]
    md = w.step(0, "InitialRandomSpawn", randomSeed=1, excludedReceptacles=["CounterTop", "Fridge"], excludedObjectIds=[apple])
    assert md["lastActionSuccess"], md["errorMessage"]
    types = {o["objectId"]: o["objectType"] for o in md["objects"]}
    moved = {i: p for i, p in _parents(md).items() if i != apple}
    assert not any(types[p] in ("CounterTop", "Fridge") for p in moved.values() if p)
    assert _parents(md)[apple] == where
    md = w.step(0, "InitialRandomSpawn", forceVisible=True, randomSeed=2)
    assert all(types[p] not in ("Cabinet", "Drawer", "Fridge", "Microwave") for p in _parents(md).values() if p)
    assert w.step(0, "InitialRandomSpawn", numPlacementAttempts=0)["errorMessage"] == "numPlacementAttempts must be a positive integer."
    assert "invalid Object Type used in excludedReceptacles array: Sofaa" in w.step(0, "InitialRandomSpawn", excludedReceptacles=["Sofaa"])["errorMessage"]
    assert "Cannot find sim object with id 'Nope|1'" in w.step(0, "InitialRandomSpawn", excludedObjectIds=["Nope|1"])["errorMessage"]
    with pytest.raises(ValueError, match="invalid argument"):
        w.step(0, "InitialRandomSpawn", objectsToExclude=[apple])  # ai2thor's name is excludedObjectIds


def test_initial_random_spawn_duplicates_of_a_type() -> None:
    w = EmulatorWorld("Kitchen-0")
    mug = find(w.metadata(), "Mug")
    md = w.step(0, "InitialRandomSpawn", randomSeed=2, numDuplicatesOfType=[{"objectType": "Apple", "count": 4}, {"objectType": "Mug", "count": 0}])
    assert md["lastActionSuccess"], md["errorMessage"]
    apples = [o for o in md["objects"] if o["objectType"] == "Apple"]
    assert len(apples) == 4 and sum("_copy_" in o["objectId"] for o in apples) == 3
    assert all(o["name"].rsplit("_random_copy_", 1)[0] == apples[0]["name"] for o in apples[1:])
    assert all(o["parentReceptacles"] for o in apples)
    assert find(md, "Mug")["parentReceptacles"] == mug["parentReceptacles"]  # count 0: mugs stay put
    md = w.step(0, "InitialRandomSpawn", numDuplicatesOfType=[{"objectType": "Aple", "count": 2}])
    assert md["errorMessage"] == "invalid Object Type used in numDuplicatesOfType array: Aple"


def test_set_object_states_by_type_and_refusals() -> None:
    w = EmulatorWorld("Kitchen-0")
    md = w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Mug", "stateChange": "dirtyable", "isDirty": True})
    assert md["lastActionSuccess"] and all(o["isDirty"] for o in md["objects"] if o["objectType"] == "Mug")
    md = w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Fridge", "stateChange": "openable", "isOpen": True})
    assert find(md, "Fridge")["isOpen"]
    md = w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Bread", "stateChange": "sliceable", "isSliced": True})
    bread = find(md, "Bread")["objectId"]
    assert any(o["objectId"] == f"{bread}|BreadSliced_0" for o in md["objects"])
    refused = [
        {"objectType": "Apple", "stateChange": "dirtyable", "isDirty": True},  # apples are not dirtyable
        {"objectType": "Bread", "stateChange": "sliceable", "isSliced": False},  # slicing cannot be undone
        {"objectType": "Sofa", "stateChange": "openable", "isOpen": True},  # none in this scene
    ]
    for spec in refused:
        md = w.step(0, "SetObjectStates", SetObjectStates=spec)
        assert not md["lastActionSuccess"] and md["errorMessage"], spec
    w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Microwave", "stateChange": "openable", "isOpen": True})
    md = w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Microwave", "stateChange": "toggleable", "isToggled": True})
    assert "Target must be closed to Toggle On!" in md["errorMessage"]
    with pytest.raises(ValueError, match="isDirty"):
        w.step(0, "SetObjectStates", SetObjectStates={"objectType": "Mug", "stateChange": "dirtyable", "isOpen": True})


def test_set_object_poses_round_trip_removes_unlisted_and_copies_repeats() -> None:
    w = EmulatorWorld("Kitchen-0")
    md = w.metadata()
    movable = [o for o in md["objects"] if o["pickupable"] or o["moveable"]]
    apple = find(md, "Apple")
    poses = [{"objectName": o["name"], "position": o["position"], "rotation": o["rotation"]} for o in movable if o is not apple]
    poses.append(poses[0])
    md = w.step(0, "SetObjectPoses", objectPoses=poses)
    assert md["lastActionSuccess"], md["errorMessage"]
    ids = {o["objectId"] for o in md["objects"]}
    assert apple["objectId"] not in ids
    first = next(o for o in movable if o["name"] == poses[0]["objectName"])
    assert f"{first['objectId']}_copy_{len(poses) - 1}" in ids
    kept = {o["objectId"]: (o["parentReceptacles"] or [None])[0] for o in md["objects"] if o["pickupable"]}
    for o in movable:
        if o["pickupable"] and o is not apple:  # each lands back on the receptacle it stood on
            assert kept[o["objectId"]] == (o["parentReceptacles"] or [None])[0], o["objectId"]
    md = w.step(0, "SetObjectPoses", objectPoses=[{"objectName": "Nothing_1", "position": {"x": 0, "y": 0, "z": 0}}])
    assert md["errorMessage"] == "No Pickupable or Moveable object of name Nothing_1 found in scene."


def test_spawn_coordinates_and_place_object_at_point() -> None:
    w = EmulatorWorld("Kitchen-0")
    md = w.metadata()
    table = find(md, "DiningTable")["objectId"]
    everywhere = w.step(0, "GetSpawnCoordinatesAboveReceptacle", objectId=table, anywhere=True)["actionReturn"]
    seen = w.step(0, "GetSpawnCoordinatesAboveReceptacle", objectId=table)["actionReturn"]
    assert everywhere and len(seen) <= len(everywhere)
    assert not w.step(0, "GetSpawnCoordinatesAboveReceptacle", objectId=find(md, "Apple")["objectId"])["lastActionSuccess"]
    fridge = find(md, "Fridge")["objectId"]  # closed: nothing inside is in view, though there is room
    assert w.step(0, "GetSpawnCoordinatesAboveReceptacle", objectId=fridge, anywhere=True)["actionReturn"]
    assert w.step(0, "GetSpawnCoordinatesAboveReceptacle", objectId=fridge)["actionReturn"] == []
    occupied = {round(o["position"]["x"], 1) for o in md["objects"] if (o["parentReceptacles"] or [None])[0] == table}
    tomato = find(md, "Tomato")["objectId"]
    for point in sorted(everywhere, key=lambda p: (p["x"] - find(md, "DiningTable")["position"]["x"]) ** 2):
        md = w.step(0, "PlaceObjectAtPoint", objectId=tomato, position=point)
        if md["lastActionSuccess"]:
            break
    assert md["lastActionSuccess"], (md["errorMessage"], occupied)
    assert find(md, "Tomato")["parentReceptacles"] == [table]
    md = w.step(0, "PlaceObjectAtPoint", objectId=tomato, position={"x": 0.0, "y": 5.0, "z": 0.0})
    assert not md["lastActionSuccess"] and find(md, "Tomato")["parentReceptacles"] == [table]
    assert not w.step(0, "PlaceObjectAtPoint", objectId=table, position=point)["lastActionSuccess"]


def test_initial_state_hook_applies_steps_and_rejects_what_ai2thor_refuses() -> None:
    steps = [
        {"action": "InitialRandomSpawn", "randomSeed": 4},
        {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Plate", "stateChange": "dirtyable", "isDirty": True}},
        {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Fridge", "stateChange": "openable", "isOpen": True}},
    ]
    assert check_initial_state("Kitchen-0", steps) == []
    w = EmulatorWorld("Kitchen-0", agent_count=2)
    mds = apply_initial_state(w, steps, agent_count=2)
    assert len(mds) == 2 and find(mds[1], "Fridge")["isOpen"] and all(o["isDirty"] for o in mds[0]["objects"] if o["objectType"] == "Plate")
    bad = [
        {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Microwave", "stateChange": "openable", "isOpen": True}},
        {"action": "SetObjectStates", "SetObjectStates": {"objectType": "Microwave", "stateChange": "toggleable", "isToggled": True}},
    ]
    problems = check_initial_state("Kitchen-0", bad)
    assert len(problems) == 1 and problems[0].startswith("step 1 SetObjectStates") and "Toggle On" in problems[0]
    assert "not a set-up action" in check_initial_state("Kitchen-0", [{"action": "MoveAhead"}])[0]
    assert "bogus" in check_initial_state("Kitchen-0", [{"action": "InitialRandomSpawn", "bogus": 1}])[0]
    with pytest.raises(InitialStateRejected) as rejected:
        apply_initial_state(EmulatorWorld("Kitchen-0"), bad)
    assert rejected.value.problems == problems
    counts = Counter(p.split()[0] for p in problems)
    assert counts["step"] == 1
