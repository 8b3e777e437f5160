"""A control loop written the way published ai2thor multi-robot planners write theirs (SMART-LLM,
LLaMAR…): reset a scene, `Initialize` with agentCount, teleport robots onto reachable positions,
walk each robot to an object by reading `last_event.events[i]`, then act with agentId. It runs on
the emulator unchanged, importing only the Controller."""

import math

from robocortex.sim.emulator import Controller


def go_to_object(c: Controller, agent_id: int, object_id: str, max_steps: int = 200) -> None:
    """Greedy walk in the published style: face the object, step ahead, sidestep when blocked."""
    for _ in range(max_steps):
        md = c.last_event.events[agent_id].metadata
        obj = next(o for o in md["objects"] if o["objectId"] == object_id)
        if obj["visible"]:
            return
        a = md["agent"]["position"]
        yaw = math.degrees(math.atan2(obj["position"]["x"] - a["x"], obj["position"]["z"] - a["z"])) % 360
        turn = round(((yaw - md["agent"]["rotation"]["y"] + 180) % 360 - 180) / 90) * 90
        if turn:
            c.step(dict(action="RotateRight" if turn > 0 else "RotateLeft", degrees=abs(turn), agentId=agent_id))
        event = c.step(dict(action="MoveAhead", agentId=agent_id))
        if not event.events[agent_id].metadata["lastActionSuccess"]:
            c.step(dict(action="MoveRight", agentId=agent_id))
    raise AssertionError(f"agent {agent_id} never saw {object_id}")


def test_published_style_two_robot_loop_runs_unchanged():
    c = Controller()
    c.reset("Kitchen-0")
    event = c.step(dict(action="Initialize", agentMode="default", gridSize=0.25, rotateStepDegrees=90,
                        visibilityDistance=1.5, fieldOfView=90, agentCount=2))
    assert len(event.events) == 2
    positions = c.step(action="GetReachablePositions").metadata["actionReturn"]
    for agent_id, p in enumerate((positions[0], positions[-1])):
        moved = c.step(dict(action="Teleport", position=dict(x=p["x"], y=p["y"], z=p["z"]), agentId=agent_id))
        assert moved.events[agent_id].metadata["lastActionSuccess"], moved.events[agent_id].metadata["errorMessage"]

    objects = c.last_event.metadata["objects"]
    apple = next(o["objectId"] for o in objects if o["objectType"] == "Apple")
    fridge = next(o["objectId"] for o in objects if o["objectType"] == "Fridge")
    switch = next(o["objectId"] for o in objects if o["objectType"] == "LightSwitch")

    go_to_object(c, 0, apple)
    assert c.step(dict(action="PickupObject", objectId=apple, agentId=0, forceAction=True)).metadata["lastActionSuccess"]
    go_to_object(c, 1, switch)
    assert c.step(dict(action="ToggleObjectOff", objectId=switch, agentId=1, forceAction=True)).metadata["lastActionSuccess"]
    go_to_object(c, 0, fridge)
    c.step(dict(action="OpenObject", objectId=fridge, agentId=0, forceAction=True))
    put = c.step(dict(action="PutObject", objectId=fridge, agentId=0, forceAction=True))
    assert put.metadata["lastActionSuccess"], put.metadata["errorMessage"]
    c.step(dict(action="CloseObject", objectId=fridge, agentId=0, forceAction=True))
    final = {o["objectId"]: o for o in c.last_event.metadata["objects"]}
    assert fridge in final[apple]["parentReceptacles"]
    assert final[switch]["isToggled"] is False
    c.stop()
