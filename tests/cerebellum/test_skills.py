"""The skill declarations: one source for the validator, the executor and the LLM's tools."""

import pytest

from robocortex.cerebellum.perception import nodes_from_metadata, observe
from robocortex.cerebellum.skills import SKILLS, SymbolicWorld, get_skill, openai_tools
from robocortex.memory.schemas import RobotProfile

STANDARD = {"navigate_to", "pick_up", "put", "drop", "open", "close", "toggle_on", "toggle_off", "slice",
            "break", "clean", "fill", "empty", "cook", "explore"}


def world():
    return SymbolicWorld({
        "Apple|1": {"id": "Apple|1", "kind": "object", "objectType": "Apple", "pickupable": True, "mass": 0.2,
                    "sliceable": True, "relations": [{"rel": "on", "target": "CounterTop|1"}]},
        "CounterTop|1": {"id": "CounterTop|1", "kind": "object", "objectType": "CounterTop", "receptacle": True},
        "Fridge|1": {"id": "Fridge|1", "kind": "object", "objectType": "Fridge", "receptacle": True,
                     "openable": True, "isOpen": False},
        "Knife|1": {"id": "Knife|1", "kind": "object", "objectType": "Knife", "pickupable": True, "mass": 0.1},
    })


def robot(**kw):
    return {"id": "r1", "kind": "robot", "skills": list(SKILLS), "payload_kg": 5.0, "mobility": "mobile", **kw}


def test_every_standard_skill_is_declared_once():
    assert set(SKILLS) == STANDARD


def test_openai_tool_schemas_come_from_the_declarations():
    tools = {t["function"]["name"]: t for t in openai_tools()}
    assert set(tools) == STANDARD
    put = tools["put"]["function"]["parameters"]
    assert put["required"] == ["receptacle"]
    assert tools["fill"]["function"]["parameters"]["properties"]["liquid"]["enum"] == ["water", "coffee", "wine"]


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="put: bad arguments .*receptacle: Field required"):
        get_skill("put").parse_args({"object": "Apple|1"})


def test_pick_put_sequence_and_effects():
    w, r = world(), robot()
    pick, put, open_ = get_skill("pick_up"), get_skill("put"), get_skill("open")
    args = pick.parse_args({"object": "Apple|1"})
    assert pick.check(w, r, args) == []
    pick.apply(w, r, args)
    assert r["holding"] == "Apple|1" and w.parents("Apple|1") == []
    assert pick.check(w, r, pick.parse_args({"object": "Knife|1"})) == [
        "pick_up: r1 already holds Apple|1; put it down first"]
    put_args = put.parse_args({"receptacle": "Fridge|1"})
    assert put.check(w, r, put_args) == ["put: Fridge|1 is closed; open it first"]
    open_.apply(w, r, open_.parse_args({"object": "Fridge|1"}))
    assert put.check(w, r, put_args) == []
    put.apply(w, r, put_args)
    assert w.parents("Apple|1") == ["Fridge|1"] and r["holding"] is None
    assert w.get("Apple|1")["relations"] == [{"rel": "in", "target": "Fridge|1"}]


def test_hidden_in_closed_receptacle_cannot_be_picked():
    w = world()
    w.set_parent("Apple|1", "Fridge|1")
    assert get_skill("pick_up").check(w, robot(), get_skill("pick_up").parse_args({"object": "Apple|1"})) == [
        "pick_up: Apple|1 is inside closed Fridge|1; open it first"]


def test_payload_limit_and_knife_for_slicing():
    w = world()
    heavy = robot(payload_kg=0.1)
    assert "over r1's payload of 0.1 kg" in get_skill("pick_up").check(
        w, heavy, get_skill("pick_up").parse_args({"object": "Apple|1"}))[0]
    s = get_skill("slice")
    assert s.check(w, robot(), s.parse_args({"object": "Apple|1"})) == ["slice: needs a Knife or ButterKnife in hand"]
    assert s.check(w, robot(holding="Knife|1"), s.parse_args({"object": "Apple|1"})) == []
    w.nodes["ButterKnife|1"] = {"id": "ButterKnife|1", "kind": "object", "objectType": "ButterKnife"}
    assert s.check(w, robot(holding="ButterKnife|1"), s.parse_args({"object": "Apple|1"})) == []


def test_an_object_in_another_robots_hand_cannot_be_picked_up():
    w = world()
    w.nodes["r2"] = {"id": "r2", "kind": "robot", "holding": "Apple|1"}
    w.get("Apple|1")["isPickedUp"] = True
    pick = get_skill("pick_up")
    assert pick.check(w, robot(), pick.parse_args({"object": "Apple|1"})) == [
        "pick_up: Apple|1 is in r2's hand; only r2 can put it down"]


def test_fixed_arm_cannot_navigate():
    w = world()
    nav = get_skill("navigate_to")
    assert nav.check(w, robot(mobility="fixed", position={"x": 0, "y": 0, "z": 0}),
                     nav.parse_args({"object": "Fridge|1"})) == ["navigate_to: r1 cannot move"]


def test_perception_turns_metadata_into_a_delta():
    md = {
        "agentId": 0,
        "agent": {"position": {"x": 1.0, "y": 0.9, "z": 2.0}, "rotation": {"x": 0, "y": 90, "z": 0},
                  "cameraHorizon": 30},
        "inventoryObjects": [{"objectId": "Apple|1", "objectType": "Apple"}],
        "objects": [
            {"objectId": "Apple|1", "objectType": "Apple", "visible": True, "isPickedUp": True, "pickupable": True,
             "parentReceptacles": None, "position": {"x": 1, "y": 1, "z": 2}, "temperature": "RoomTemp"},
            {"objectId": "Fridge|1", "objectType": "Fridge", "visible": True, "isOpen": True, "openable": True,
             "receptacle": True, "parentReceptacles": ["Floor|1"], "position": {"x": 2, "y": 0, "z": 2}},
            {"objectId": "Egg|1", "objectType": "Egg", "visible": False, "parentReceptacles": ["Fridge|1"],
             "position": {"x": 2, "y": 1, "z": 2}},
        ],
    }
    profile = RobotProfile(name="r1", agent_id=0, skills=["pick_up"])
    delta = observe(md, "r1", profile)
    ids = [p.id for p in delta.patches]
    assert ids == ["Apple|1", "Fridge|1", "r1"], "only what the robot sees, plus itself"
    r = delta.patches[-1].set
    assert r["holding"] == "Apple|1" and r["rotation"] == 90 and r["relations"] == [
        {"rel": "holding", "target": "Apple|1"}]
    nodes = {n.id: n for n in nodes_from_metadata(md)}
    assert nodes["Egg|1"].relations[0].rel == "in" and nodes["Egg|1"].relations[0].target == "Fridge|1"
