import threading

import pytest

from robocortex.memory.scene_graph import SceneGraphStore, StaleRevision, contents, nearest, replay, to_networkx
from robocortex.memory.schemas import NodePatch, Relation, SceneDelta, SceneNode, Vec3


def patch(node_id, **fields):
    return NodePatch(id=node_id, set=fields)


@pytest.fixture
def scene(r, keys):
    return SceneGraphStore(r, keys)


def test_apply_merges_fields_creates_and_removes_nodes(scene):
    assert scene.revision() == 0
    rev = scene.apply(SceneDelta(patches=[patch("Apple|1", objectType="Apple", position=Vec3(x=1, y=0, z=2))]))
    assert rev == 1
    rev = scene.apply(SceneDelta(patches=[patch("Apple|1", isDirty=True), patch("Mug|1", objectType="Mug")], source="robot1"))
    assert rev == 2
    apple = scene.node("Apple|1")
    assert apple.objectType == "Apple" and apple.flag("isDirty") is True and apple.position == Vec3(x=1, y=0, z=2)
    assert scene.apply(SceneDelta(patches=[NodePatch(id="Mug|1", remove=True)])) == 3
    assert scene.node("Mug|1") is None
    assert set(scene.snapshot().nodes) == {"Apple|1"}


def test_empty_delta_does_not_bump_the_revision(scene):
    scene.apply(SceneDelta(patches=[patch("a", objectType="Apple")]))
    assert scene.apply(SceneDelta(patches=[])) == 1
    assert scene.revision() == 1 and len(scene.changes_since(0)) == 1


def test_values_round_trip_exactly(scene):
    """Lua never re-encodes JSON: empty lists stay lists, floats keep every digit, unicode survives."""
    fields = dict(relations=[], temperature=1732190000.123456, mass=0.1 + 0.2, note="café ☕", tags=[], meta={})
    scene.apply(SceneDelta(patches=[patch("x", **fields)]))
    node = scene.snapshot().nodes["x"]
    assert node.relations == [] and node.tags == [] and node.meta == {}
    assert node.temperature == 1732190000.123456 and node.mass == 0.1 + 0.2 and node.note == "café ☕"


def test_remove_with_set_replaces_the_node(scene):
    scene.apply(SceneDelta(patches=[patch("a", objectType="Apple", isDirty=True)]))
    scene.apply(SceneDelta(patches=[NodePatch(id="a", remove=True, set={"objectType": "Potato"})]))
    node = scene.node("a")
    assert node.objectType == "Potato" and node.flag("isDirty") is None


def test_patches_are_validated_against_the_node_schema(scene):
    with pytest.raises(ValueError):
        scene.apply(SceneDelta(patches=[patch("a", kind="spaceship")]))
    assert scene.revision() == 0


def test_reset_replaces_the_graph_and_is_replayable(scene):
    scene.apply(SceneDelta(patches=[patch("old", objectType="Apple"), patch("keep", objectType="Mug", isDirty=True)]))
    rev = scene.reset([SceneNode(id="keep", objectType="Mug"), SceneNode(id="new", objectType="Bowl")])
    assert rev == 2
    snap = scene.snapshot()
    assert set(snap.nodes) == {"keep", "new"} and snap.nodes["keep"].flag("isDirty") is None
    assert replay(scene.changes_since(0)) == snap


def test_changes_since_and_stale_revision(r, keys):
    scene = SceneGraphStore(r, keys, max_changes=5)
    for i in range(8):
        scene.apply(SceneDelta(patches=[patch("n", i=i)], source=f"w{i}"))
    changes = scene.changes_since(5)
    assert [c.rev for c in changes] == [6, 7, 8] and changes[0].source == "w5"
    assert [c.rev for c in scene.changes_since(3, limit=2)] == [4, 5]
    assert scene.changes_since(8) == [] and scene.changes_since(100) == []
    with pytest.raises(StaleRevision) as err:
        scene.changes_since(1)
    assert err.value.oldest_available == 4


def test_wait_for_change_wakes_on_a_write_and_times_out_otherwise(scene):
    assert scene.wait_for_change(0, timeout_s=0.05) == 0
    timer = threading.Timer(0.1, lambda: scene.apply(SceneDelta(patches=[patch("a", x=1)])))
    timer.start()
    assert scene.wait_for_change(0, timeout_s=5) == 1
    timer.join()
    assert scene.wait_for_change(0, timeout_s=5) == 1  # already past: returns at once


def test_graph_helpers():
    from robocortex.memory.schemas import SceneSnapshot

    snap = SceneSnapshot(
        rev=3,
        nodes={
            "Fridge|1": SceneNode(id="Fridge|1", objectType="Fridge", position=Vec3(x=0, y=0, z=0)),
            "Apple|1": SceneNode(id="Apple|1", objectType="Apple", position=Vec3(x=5, y=0, z=0),
                                 relations=[Relation(rel="in", target="Fridge|1")]),
            "Apple|2": SceneNode(id="Apple|2", objectType="Apple", position=Vec3(x=1, y=0, z=0),
                                 relations=[Relation(rel="on", target="Table|1"), Relation(rel="near", target="Fridge|1")]),
            "Apple|3": SceneNode(id="Apple|3", objectType="Apple"),
        },
    )
    g = to_networkx(snap)
    assert g.nodes["Apple|1"]["objectType"] == "Apple"
    assert g.has_edge("Apple|1", "Fridge|1", key="in") and g.has_edge("Apple|2", "Fridge|1", key="near")
    assert not g.has_edge("Apple|2", "Fridge|1", key="in")
    assert [n.id for n in contents(snap, "Fridge|1")] == ["Apple|1"]
    assert nearest(snap, "Apple", Vec3(x=0, y=0, z=0)).id == "Apple|2"
    assert nearest(snap, "Banana", Vec3()) is None


# ---------------------------------------------------------------------- property: Lua == reference

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
field_names = st.sampled_from(["isOpen", "temperature", "note", "tags", "x:y", 'quote"d', "ünï"])
patches = st.builds(
    NodePatch,
    id=st.sampled_from(["a", "b", "c|1", "d:2"]),
    set=st.dictionaries(field_names, json_values, max_size=3),
    remove=st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deltas=st.lists(st.lists(patches, min_size=1, max_size=4), min_size=1, max_size=6))
def test_lua_merge_matches_the_reference_replay(r, keys, deltas):
    """Whatever the patches, the stored graph equals the Python replay of the logged changes,
    and every stored value equals the value that was sent (no JSON re-encoding loss)."""
    import uuid

    from robocortex.memory.keys import Keys
    from robocortex.memory.scene_graph import apply_patches

    example_keys = Keys(f"{keys.prefix}:{uuid.uuid4().hex[:8]}")  # a fresh graph per example
    scene = SceneGraphStore(r, example_keys)
    model: dict = {}
    for delta in deltas:
        scene.apply(SceneDelta(patches=delta))
        apply_patches(model, delta)
    snap = scene.snapshot()
    assert {nid: n.model_dump(mode="json", exclude_unset=True) for nid, n in snap.nodes.items()} == model
    assert replay(scene.changes_since(0)) == snap


def test_node_dicts_are_the_snapshots_nodes_as_plain_dicts(scene):
    scene.reset([SceneNode(id="Fridge|1", objectType="Fridge", position=Vec3(x=1, y=0, z=2), openable=True),
                 SceneNode(id="Apple|1", objectType="Apple", relations=[Relation(rel="in", target="Fridge|1")])])
    rev = scene.apply(SceneDelta(source="t", patches=[patch("robot1", kind="robot", holding=None),
                                                      patch("Fridge|1", isOpen=True)]))
    got_rev, nodes = scene.node_dicts()
    assert got_rev == rev == scene.snapshot().rev
    assert nodes == scene.snapshot().node_dicts()
    assert nodes["robot1"]["relations"] == [] and nodes["Fridge|1"]["isOpen"] is True
    nodes["robot1"]["relations"].append("x")  # each call's defaults are its own
    assert scene.node_dicts()[1]["robot1"]["relations"] == []


def test_a_snapshot_validates_only_changed_documents_and_hands_out_copies(scene):
    scene.apply(SceneDelta(patches=[patch("Apple|1", objectType="Apple", isDirty=False),
                                    patch("Mug|1", objectType="Mug", isDirty=False)]))
    first = scene.snapshot()
    first.nodes["Apple|1"].isDirty = True  # a caller editing its own snapshot
    first.nodes["Mug|1"].relations = [Relation(rel="in", target="Sink|1")]
    second = scene.snapshot()
    assert second.nodes["Apple|1"].flag("isDirty") is False and second.nodes["Mug|1"].relations == []
    assert second.nodes["Mug|1"] is not first.nodes["Mug|1"]
    scene.apply(SceneDelta(patches=[patch("Mug|1", isDirty=True), patch("Bowl|1", objectType="Bowl")]))
    third = scene.snapshot()
    assert third.rev == 2 and set(third.nodes) == {"Apple|1", "Mug|1", "Bowl|1"}
    assert third.nodes["Mug|1"].flag("isDirty") is True and third.nodes["Apple|1"].flag("isDirty") is False
    scene.apply(SceneDelta(patches=[NodePatch(id="Apple|1", remove=True)]))
    assert set(scene.snapshot().nodes) == {"Mug|1", "Bowl|1"}
    # A document that does not validate is refused whether or not an earlier snapshot was taken.
    scene.r.hset(scene.keys.scene_nodes, "Bad|1", '{"id": "Bad|1", "kind": "spaceship"}')
    with pytest.raises(ValueError):
        scene.snapshot()
