"""A small hand-made kitchen scene graph for planner and validator tests (no world needed)."""

import pytest

from memory.schemas import RobotProfile, SceneNode, SceneSnapshot
from cerebellum.profiles import BUILTIN_PROFILES


def _obj(oid, otype, x, z, parent=None, rel="on", **flags):
    rels = [{"rel": rel, "target": parent}] if parent else []
    return SceneNode(id=oid, kind="object", objectType=otype, position={"x": x, "y": 0.9, "z": z},
                     relations=rels, **flags)


@pytest.fixture
def kitchen() -> SceneSnapshot:
    nodes = [
        _obj("CounterTop|1", "CounterTop", 0, 0, receptacle=True),
        _obj("Fridge|1", "Fridge", 3, 0, receptacle=True, openable=True, isOpen=False),
        _obj("Apple|1", "Apple", 0.2, 0, parent="CounterTop|1", pickupable=True, mass=0.2),
        _obj("Pumpkin|1", "Pumpkin", 0.4, 0, parent="CounterTop|1", pickupable=True, mass=3.0),
        _obj("Egg|1", "Egg", 3.1, 0, parent="Fridge|1", rel="in", pickupable=True, mass=0.05),
        _obj("LightSwitch|1", "LightSwitch", -2, 1, toggleable=True, isToggled=True),
        _obj("Microwave|1", "Microwave", 1, 1, receptacle=True, openable=True, toggleable=True),
        _obj("GarbageCan|1", "GarbageCan", -1, -2, receptacle=True),
        SceneNode(id="robot1", kind="robot", position={"x": 0, "y": 0.9, "z": 0}),
        SceneNode(id="robot2", kind="robot", position={"x": -2, "y": 0.9, "z": 1}),
    ]
    return SceneSnapshot(rev=1, nodes={n.id: n for n in nodes})


def profile(name, kind="mobile_manipulator", agent_id=0):
    spec = BUILTIN_PROFILES[kind]
    return RobotProfile(name=name, agent_id=agent_id, embodiment=spec.embodiment, skills=spec.skills,
                        payload_kg=spec.payload_kg, mobility=spec.mobility)


@pytest.fixture
def make_profile():
    return profile


@pytest.fixture
def two_robots():
    return [profile("robot1"), profile("robot2", agent_id=1)]
