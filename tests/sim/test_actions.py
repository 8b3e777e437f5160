"""Emulator actions: parameters, success conditions, error messages and effects."""

from __future__ import annotations

import pytest
from helpers import do, find, go_to, obj

from robocortex.sim.emulator import Controller, EmulatorWorld, MultiAgentEvent


def test_unknown_action_and_bad_arguments_raise_value_error(world: EmulatorWorld) -> None:
    with pytest.raises(ValueError, match="Invalid action"):
        world.step(0, "Fly")
    with pytest.raises(ValueError, match="invalid argument"):
        world.step(0, "MoveAhead", speed=3)
    with pytest.raises(ValueError, match="missing required"):
        world.step(0, "PickupObject")
    with pytest.raises(ValueError):
        world.step(0, "OpenObject", objectId=find(world.metadata(), "Fridge")["objectId"], openness=2)
    with pytest.raises(ValueError):
        world.step(0, "FillObjectWithLiquid", objectId=find(world.metadata(), "Mug")["objectId"], fillLiquid="milk")


def test_moves_follow_grid_and_walls_block(world: EmulatorWorld) -> None:
    md = world.metadata()
    start = md["agent"]["position"]
    do(world, 0, "TeleportFull", x=start["x"], y=start["y"], z=start["z"], rotation=0, horizon=0, standing=True)
    results = [world.step(0, "MoveAhead") for _ in range(40)]
    assert any(r["lastActionSuccess"] for r in results)
    last = results[-1]
    assert not last["lastActionSuccess"] and "is blocking Agent 0 from moving 0" in last["errorMessage"]
    reachable = {(p["x"], p["z"]) for p in world.step(0, "GetReachablePositions")["actionReturn"]}
    for r in results:
        p = r["agent"]["position"]
        assert (p["x"], p["z"]) in reachable
    md = do(world, 0, "RotateRight")
    assert md["agent"]["rotation"]["y"] == 90.0
    md = do(world, 0, "RotateLeft", degrees=180)
    assert md["agent"]["rotation"]["y"] == 270.0
    do(world, 0, "LookDown", degrees=60)
    md = world.step(0, "LookDown")
    assert not md["lastActionSuccess"]
    assert md["errorMessage"] == "can't look down beyond 60 degrees below the forward horizon"
    assert world.metadata()["agent"]["cameraHorizon"] == 60.0
    do(world, 0, "LookUp", degrees=90)
    md = world.step(0, "LookUp")
    assert md["errorMessage"] == "can't look up beyond 30 degrees above the forward horizon"
    assert md["agent"]["cameraHorizon"] == -30.0


def test_crouch_and_stand_are_idempotent_as_in_ai2thor(world: EmulatorWorld) -> None:
    camera = world.metadata()["cameraPosition"]["y"]
    do(world, 0, "Crouch")
    md = do(world, 0, "Crouch")  # already crouching: succeeds, nothing changes
    assert not md["agent"]["isStanding"] and md["cameraPosition"]["y"] < camera
    do(world, 0, "Stand")
    md = do(world, 0, "Stand")
    assert md["agent"]["isStanding"] and md["cameraPosition"]["y"] == camera


def test_agents_block_each_other() -> None:
    w = EmulatorWorld("Kitchen-0", agent_count=2)
    reach = w.step(0, "GetReachablePositions")["actionReturn"]
    a1 = w.metadata(1)["agent"]["position"]
    assert (a1["x"], a1["z"]) not in {(p["x"], p["z"]) for p in reach}
    md = w.step(0, "Teleport", x=a1["x"], z=a1["z"])
    assert not md["lastActionSuccess"] and "agent_1" in md["errorMessage"]
    # Step next to agent 1 and walk into it.
    for dx, dz, yaw in ((0.25, 0, 270), (-0.25, 0, 90), (0, 0.25, 180), (0, -0.25, 0)):
        if w.step(0, "Teleport", x=a1["x"] + dx, z=a1["z"] + dz, rotation=yaw)["lastActionSuccess"]:
            md = w.step(0, "MoveAhead")
            assert not md["lastActionSuccess"] and "agent_1 is blocking Agent 0" in md["errorMessage"]
            return
    pytest.fail("no free cell next to agent 1")


def test_pickup_conditions(world: EmulatorWorld) -> None:
    md = world.metadata()
    apple, counter = find(md, "Apple"), find(md, "CounterTop")
    far = world.step(0, "PickupObject", objectId=apple["objectId"])
    if not obj(far, apple["objectId"])["visible"]:
        assert not far["lastActionSuccess"] and "is not interactable" in far["errorMessage"]
    assert world.step(0, "PickupObject", objectId="Apple|+09.99|+00.00|+00.00")["errorMessage"].startswith("Object ID appears to be invalid")
    go_to(world, 0, counter["objectId"])
    md = world.step(0, "PickupObject", objectId=counter["objectId"], forceAction=True)
    assert md["errorMessage"] == f"{counter['objectId']} must have the property CanPickup to be picked up."
    go_to(world, 0, apple["objectId"])
    md = do(world, 0, "PickupObject", objectId=apple["objectId"])
    a = obj(md, apple["objectId"])
    assert a["isPickedUp"] and a["parentReceptacles"] is None and a["visible"]
    assert apple["objectId"] not in obj(md, apple["parentReceptacles"][0])["receptacleObjectIds"]
    knife = find(md, "Knife")
    go_to(world, 0, knife["objectId"])
    assert not world.step(0, "PickupObject", objectId=knife["objectId"])["lastActionSuccess"]


def test_put_respects_open_state_restrictions_and_space(world: EmulatorWorld) -> None:
    md = world.metadata()
    apple, fridge, toaster = find(md, "Apple"), find(md, "Fridge"), find(md, "Toaster")
    assert world.step(0, "PutObject", objectId=fridge["objectId"])["errorMessage"] == (
        "Can't place an object if Agent isn't holding anything"
    )
    go_to(world, 0, apple["objectId"])
    do(world, 0, "PickupObject", objectId=apple["objectId"])
    go_to(world, 0, fridge["objectId"])
    md = world.step(0, "PutObject", objectId=fridge["objectId"])
    assert not md["lastActionSuccess"] and "must be open" in md["errorMessage"]
    go_to(world, 0, toaster["objectId"])
    md = world.step(0, "PutObject", objectId=toaster["objectId"])
    assert md["errorMessage"].endswith(f"is not a valid Object Type to be placed in {toaster['name']}")
    light = find(md, "LightSwitch")
    md = world.step(0, "PutObject", objectId=light["objectId"], forceAction=True)
    assert md["errorMessage"] == "This target object is NOT a receptacle!"


def test_put_object_in_ai2thor_2_form_names_the_receptacle_receptacleObjectId(world: EmulatorWorld) -> None:
    md = world.metadata()
    apple, plate, counter = find(md, "Apple"), find(md, "Plate"), find(md, "CounterTop")
    go_to(world, 0, apple["objectId"])
    do(world, 0, "PickupObject", objectId=apple["objectId"])
    go_to(world, 0, counter["objectId"])
    md = world.step(0, "PutObject", objectId=plate["objectId"], receptacleObjectId=counter["objectId"])
    assert md["errorMessage"] == f"{plate['objectId']} is not the object in Agent 0's hand"
    md = do(world, 0, "PutObject", objectId=apple["objectId"], receptacleObjectId=counter["objectId"])
    assert obj(md, apple["objectId"])["parentReceptacles"] == [counter["objectId"]]


def test_contents_of_closed_receptacles_are_hidden(world: EmulatorWorld) -> None:
    md = world.metadata()
    fridge = find(md, "Fridge")
    inside = [o for o in md["objects"] if o["parentReceptacles"] == [fridge["objectId"]]]
    assert inside, "the kitchen fridge holds food"
    go_to(world, 0, fridge["objectId"])
    md = world.metadata()
    assert not any(obj(md, o["objectId"])["visible"] for o in inside)
    assert world.step(0, "GetInteractablePoses", objectId=inside[0]["objectId"])["actionReturn"] == []
    md = do(world, 0, "OpenObject", objectId=fridge["objectId"], openness=0.5)
    assert obj(md, fridge["objectId"])["openness"] == 0.5 and obj(md, fridge["objectId"])["isOpen"]
    assert world.step(0, "GetInteractablePoses", objectId=inside[0]["objectId"])["actionReturn"]
    go_to(world, 0, inside[0]["objectId"])
    assert obj(world.metadata(), inside[0]["objectId"])["visible"]
    assert all(obj(md, o["objectId"])["temperature"] == "Cold" for o in inside)


def test_slice_needs_knife_and_creates_pieces(world: EmulatorWorld) -> None:
    md = world.metadata()
    apple, knife = find(md, "Apple"), find(md, "Knife")
    go_to(world, 0, apple["objectId"])
    md = world.step(0, "SliceObject", objectId=apple["objectId"])
    assert md["errorMessage"] == "Slice: ObjectInteraction only supported for held object Knife"
    go_to(world, 0, knife["objectId"])
    do(world, 0, "PickupObject", objectId=knife["objectId"])
    go_to(world, 0, apple["objectId"])
    md = do(world, 0, "SliceObject", objectId=apple["objectId"])
    pieces = [o for o in md["objects"] if o["objectType"] == "AppleSliced"]
    assert [p["objectId"] for p in pieces] == [f"{apple['objectId']}|AppleSliced_{i}" for i in range(8)]
    assert all(p["parentReceptacles"] == apple["parentReceptacles"] for p in pieces)
    whole = obj(md, apple["objectId"])
    assert whole["isSliced"] and not whole["visible"]
    assert world.step(0, "SliceObject", objectId=find(md, "Mug")["objectId"], forceAction=True)["errorMessage"].endswith(
        "Does not have the CanBeSliced property!"
    )


def test_microwave_cooks_and_must_be_off_to_open(world: EmulatorWorld) -> None:
    md = world.metadata()
    potato, microwave = find(md, "Potato"), find(md, "Microwave")
    go_to(world, 0, potato["objectId"])
    do(world, 0, "PickupObject", objectId=potato["objectId"])
    go_to(world, 0, microwave["objectId"])
    do(world, 0, "OpenObject", objectId=microwave["objectId"])
    assert world.step(0, "ToggleObjectOn", objectId=microwave["objectId"])["errorMessage"] == "Target must be closed to Toggle On!"
    do(world, 0, "PutObject", objectId=microwave["objectId"])
    do(world, 0, "CloseObject", objectId=microwave["objectId"])
    md = do(world, 0, "ToggleObjectOn", objectId=microwave["objectId"])
    p = obj(md, potato["objectId"])
    assert p["isCooked"] and p["temperature"] == "Hot" and p["ObjectTemperature"] == "Hot"
    assert world.step(0, "OpenObject", objectId=microwave["objectId"])["errorMessage"] == "Target must be OFF to open!"
    assert world.step(0, "ToggleObjectOn", objectId=microwave["objectId"])["errorMessage"] == "can't toggle object on if it's already on!"


def test_coffee_machine_fills_mug_and_faucet_cleans(world: EmulatorWorld) -> None:
    md = world.metadata()
    mug, machine, basin, faucet = (find(md, t) for t in ("Mug", "CoffeeMachine", "SinkBasin", "Faucet"))
    go_to(world, 0, mug["objectId"])
    do(world, 0, "PickupObject", objectId=mug["objectId"])
    go_to(world, 0, machine["objectId"])
    do(world, 0, "PutObject", objectId=machine["objectId"])
    md = do(world, 0, "ToggleObjectOn", objectId=machine["objectId"])
    m = obj(md, mug["objectId"])
    assert m["isFilledWithLiquid"] and m["fillLiquid"] == "coffee"
    go_to(world, 0, mug["objectId"])
    do(world, 0, "PickupObject", objectId=mug["objectId"])
    if not m["isDirty"]:
        do(world, 0, "DirtyObject", objectId=mug["objectId"])
    do(world, 0, "EmptyLiquidFromObject", objectId=mug["objectId"])
    go_to(world, 0, basin["objectId"])
    do(world, 0, "PutObject", objectId=basin["objectId"])
    go_to(world, 0, faucet["objectId"])
    md = do(world, 0, "ToggleObjectOn", objectId=faucet["objectId"])
    m = obj(md, mug["objectId"])
    assert not m["isDirty"] and m["fillLiquid"] == "water"


def test_stove_knob_heats_its_burner(world: EmulatorWorld) -> None:
    md = world.metadata()
    pan = find(md, "Pan")
    burner_id = pan["parentReceptacles"][0]
    knob = next(o for o in md["objects"] if o["objectType"] == "StoveKnob" and o["controlledObjects"] == [burner_id])
    egg = find(md, "Egg")
    assert egg["temperature"] in ("Cold", "RoomTemp")
    go_to(world, 0, knob["objectId"])
    md = do(world, 0, "ToggleObjectOn", objectId=knob["objectId"])
    assert obj(md, pan["objectId"])["temperature"] == "Hot"
    potato = find(md, "Potato")
    go_to(world, 0, potato["objectId"])
    do(world, 0, "PickupObject", objectId=potato["objectId"])
    go_to(world, 0, pan["objectId"])
    md = do(world, 0, "PutObject", objectId=pan["objectId"])
    assert obj(md, potato["objectId"])["isCooked"]


def test_state_actions(world: EmulatorWorld) -> None:
    md = world.metadata()
    cup, bread = find(md, "Cup"), find(md, "Bread")
    go_to(world, 0, cup["objectId"])
    md = do(world, 0, "FillObjectWithLiquid", objectId=cup["objectId"], fillLiquid="wine")
    assert obj(md, cup["objectId"])["fillLiquid"] == "wine"
    assert not world.step(0, "FillObjectWithLiquid", objectId=cup["objectId"], fillLiquid="water")["lastActionSuccess"]
    md = do(world, 0, "BreakObject", objectId=cup["objectId"])
    c = obj(md, cup["objectId"])
    assert c["isBroken"] and not c["isFilledWithLiquid"]
    go_to(world, 0, bread["objectId"])
    assert world.step(0, "CookObject", objectId=bread["objectId"])["errorMessage"].endswith("is not cookable")
    assert not world.step(0, "BreakObject", objectId=bread["objectId"])["lastActionSuccess"]
    assert not world.step(0, "UseUpObject", objectId=bread["objectId"])["lastActionSuccess"]


def test_use_up_in_bathroom() -> None:
    w = EmulatorWorld("Bathroom-0")
    paper = find(w.metadata(), "ToiletPaper")
    go_to(w, 0, paper["objectId"])
    md = do(w, 0, "UseUpObject", objectId=paper["objectId"])
    assert obj(md, paper["objectId"])["isUsedUp"]


def test_drop_and_throw(world: EmulatorWorld) -> None:
    md = world.metadata()
    assert world.step(0, "DropHandObject")["errorMessage"] == "nothing in hand to drop!"
    apple, mug = find(md, "Apple"), find(md, "Mug")
    go_to(world, 0, apple["objectId"])
    do(world, 0, "PickupObject", objectId=apple["objectId"])
    md = do(world, 0, "DropHandObject")
    a = obj(md, apple["objectId"])
    assert not a["isPickedUp"] and len(a["parentReceptacles"]) == 1 and md["inventoryObjects"] == []
    go_to(world, 0, mug["objectId"])
    do(world, 0, "PickupObject", objectId=mug["objectId"])
    md = do(world, 0, "ThrowObject", moveMagnitude=200)
    m = obj(md, mug["objectId"])
    assert m["parentReceptacles"] == ["Floor|+00.00|+00.00|+00.00"] and m["isBroken"]


def test_controller_surface_matches_ai2thor() -> None:
    c = Controller(scene="Kitchen-0", agentCount=2, gridSize=0.25, visibilityDistance=1.5, renderDepthImage=False)
    event = c.step(dict(action="RotateRight", agentId=1))
    assert isinstance(event, MultiAgentEvent) and len(event.events) == 2
    assert event.metadata["agentId"] == 1 and event.events[1].metadata["lastAction"] == "RotateRight"
    assert c.last_event is event
    with pytest.raises(RuntimeError):
        c.step(action="MoveAhead", moveMagnitude=50.0, raise_for_failure=True)
    single = Controller(scene="Kitchen-3")
    e = single.step("Pass")
    assert e.metadata["lastActionSuccess"] and e.frame.shape == (300, 300, 3) and e.get_object(find(e.metadata, "Apple")["objectId"])
    e = single.reset(scene="Bedroom-1")
    assert e.metadata["sceneName"] == "Bedroom-1"
    with pytest.raises(ValueError, match="unsupported initialization"):
        Controller(scene="Kitchen-0", teleportToTheMoon=True)
    with pytest.raises(ValueError):
        Controller(scene="Kitchen-0", agentMode="arm")
    single.stop()


def test_interactable_poses_are_on_the_reachable_grid_and_work(world: EmulatorWorld) -> None:
    reachable = {(p["x"], p["z"]) for p in world.step(0, "GetReachablePositions")["actionReturn"]}
    for object_type in ("Apple", "Fridge", "LightSwitch", "Microwave", "StoveKnob"):
        target = find(world.metadata(), object_type)
        poses = world.step(0, "GetInteractablePoses", objectId=target["objectId"])["actionReturn"]
        assert poses and poses[0]["standing"]
        for p in poses[:: max(1, len(poses) // 10)]:
            assert (p["x"], p["z"]) in reachable and p["rotation"] % 90 == 0
            if p["standing"]:
                md = do(world, 0, "Teleport", x=p["x"], z=p["z"], rotation=p["rotation"], horizon=p["horizon"], standing=True)
                assert obj(md, target["objectId"])["isInteractable"], (object_type, p)
