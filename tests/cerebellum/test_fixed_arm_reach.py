"""A fixed arm reaches an object when the object's near edge lies within reach of its base: the
allocator (brain) and the skills' preconditions (validator, executor) use the one rule."""

from robocortex.cerebellum.skills import INTERACTION_REACH_M, beyond_reach
from robocortex.knowledge.object_types import half_extent


def node(object_type, x):
    return {"id": f"{object_type}|1", "objectType": object_type, "position": {"x": x, "y": 0.9, "z": 0.0}}


def test_a_wide_object_is_reached_by_its_near_edge():
    x = INTERACTION_REACH_M + half_extent("SinkBasin") / 2  # centre beyond reach, near edge within
    assert half_extent("SinkBasin") > 0.1
    assert not beyond_reach((0.0, 0.0), node("SinkBasin", x))


def test_a_small_object_just_past_reach_is_beyond_it():
    x = INTERACTION_REACH_M + half_extent("Apple") + 0.01
    assert beyond_reach((0.0, 0.0), node("Apple", x))
    assert not beyond_reach((0.0, 0.0), node("Apple", INTERACTION_REACH_M))


def test_an_object_without_a_position_or_a_known_type():
    assert not beyond_reach((0.0, 0.0), {"id": "x"})
    assert not beyond_reach((0.0, 0.0), None)
    assert beyond_reach((0.0, 0.0), {"id": "Thing|1", "objectType": "NoSuchType", "position": {"x": 1.51, "y": 0, "z": 0}})
