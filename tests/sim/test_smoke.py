"""End-to-end smoke test of the emulator world: two robots put an apple away and switch off the light."""

from __future__ import annotations

from robocortex.sim.backends import make_world


def _find(md: dict, object_type: str) -> dict:
    return next(o for o in md["objects"] if o["objectType"] == object_type)


def _go_interact(world, agent_id: int, object_id: str) -> dict:
    poses = world.step(agent_id, "GetInteractablePoses", objectId=object_id)
    assert poses["lastActionSuccess"], poses["errorMessage"]
    assert poses["actionReturn"], f"no pose to interact with {object_id}"
    pose = poses["actionReturn"][0]
    md = world.step(
        agent_id, "TeleportFull", x=pose["x"], y=pose["y"], z=pose["z"],
        rotation={"x": 0, "y": pose["rotation"], "z": 0}, horizon=pose["horizon"], standing=pose["standing"],
    )  # fmt: skip
    assert md["lastActionSuccess"], md["errorMessage"]
    target = next(o for o in md["objects"] if o["objectId"] == object_id)
    assert target["visible"] and target["isInteractable"]
    return md


def test_two_robots_store_apple_and_switch_off_light() -> None:
    world = make_world("emulator")
    md = world.reset("Kitchen-0", agent_count=2)
    assert len(md) == 2 and [m["agentId"] for m in md] == [0, 1]
    apple, fridge, switch = _find(md[0], "Apple"), _find(md[0], "Fridge"), _find(md[0], "LightSwitch")
    assert fridge["isOpen"] is False and switch["isToggled"] is True
    assert fridge["objectId"] not in (apple["parentReceptacles"] or [])

    _go_interact(world, 0, apple["objectId"])
    md0 = world.step(0, "PickupObject", objectId=apple["objectId"])
    assert md0["lastActionSuccess"], md0["errorMessage"]
    assert md0["inventoryObjects"] == [{"objectId": apple["objectId"], "objectType": "Apple"}]

    _go_interact(world, 1, switch["objectId"])
    md1 = world.step(1, "ToggleObjectOff", objectId=switch["objectId"])
    assert md1["lastActionSuccess"], md1["errorMessage"]

    _go_interact(world, 0, fridge["objectId"])
    for action, params in (
        ("OpenObject", {"objectId": fridge["objectId"]}),
        ("PutObject", {"objectId": fridge["objectId"]}),
        ("CloseObject", {"objectId": fridge["objectId"]}),
    ):
        md0 = world.step(0, action, **params)
        assert md0["lastActionSuccess"], f"{action}: {md0['errorMessage']}"

    final = world.metadata(1)
    assert fridge["objectId"] in _find(final, "Apple")["parentReceptacles"]
    assert _find(final, "LightSwitch")["isToggled"] is False
    assert apple["objectId"] in _find(final, "Fridge")["receptacleObjectIds"]
    assert final["inventoryObjects"] == [] and world.metadata(0)["inventoryObjects"] == []
    world.stop()
