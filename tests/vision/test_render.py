"""The emulator's frames (in the emulator): ai2thor's names and shapes, consistent with visibility,
and actions by image coordinates resolved through the segmentation frame."""

from __future__ import annotations

import random

import numpy as np
import pytest

from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.emulator.controller import Controller
from robocortex.sim.emulator.render import render

MOVES = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight", "LookUp", "LookDown")
OBJECT_ACTIONS = ("PickupObject", "OpenObject", "CloseObject", "PutObject", "ToggleObjectOn", "DropHandObject")


def _center_of(frames, object_id: str) -> tuple[float, float]:
    rows, cols = np.nonzero(frames.ids == frames.names.index(object_id))
    i = len(rows) // 2
    order = np.lexsort((cols, rows))
    r, c = rows[order[i]], cols[order[i]]
    h, w = frames.ids.shape
    return (c + 0.5) / w, (r + 0.5) / h


def test_controller_frames_have_ai2thors_names_shapes_and_types() -> None:
    c = Controller(scene="Kitchen-0", width=320, height=240, fieldOfView=75,
                   renderInstanceSegmentation=True, renderDepthImage=True)
    e = c.step("RotateRight")
    assert e.frame.shape == (240, 320, 3) and e.frame.dtype == np.uint8
    assert e.depth_frame.shape == (240, 320) and e.depth_frame.dtype == np.float32
    assert 0.0 < float(e.depth_frame.max()) < 20.0  # metres inside a kitchen
    seg = e.instance_segmentation_frame
    assert seg.shape == (240, 320, 3) and seg.dtype == np.uint8
    colors = {tuple(int(v) for v in p) for p in seg.reshape(-1, 3)}
    assert colors <= set(e.color_to_object_id)  # every colour of the frame names an object
    for object_id, color in e.object_id_to_color.items():
        assert e.color_to_object_id[color] == object_id
    plain = Controller(scene="Kitchen-0").step("Pass")
    assert plain.frame.shape == (300, 300, 3)
    assert plain.depth_frame is None and plain.instance_segmentation_frame is None


def test_a_narrower_field_of_view_shows_the_same_object_larger() -> None:
    narrow = Controller(scene="Kitchen-0", fieldOfView=60, renderInstanceSegmentation=True)
    mug = narrow.last_event.objects_by_type("Mug")[0]["objectId"]
    p = narrow.step("GetInteractablePoses", objectId=mug).metadata["actionReturn"][0]  # in view at 60°, so at 90°
    counts = []
    for c in (Controller(scene="Kitchen-0", fieldOfView=90, renderInstanceSegmentation=True), narrow):
        e = c.step("Teleport", x=p["x"], z=p["z"], rotation=p["rotation"], horizon=p["horizon"])
        color = np.array(e.object_id_to_color[mug], dtype=np.uint8)
        counts.append(int(np.all(e.instance_segmentation_frame == color, axis=-1).sum()))
    # Same pose, same 300×300 frame: the mug covers about (tan 45° / tan 30°)² = 3× the pixels at 60°.
    assert counts[0] > 0 and 2.0 < counts[1] / counts[0] < 4.0, counts


def test_depth_of_a_wall_is_its_distance_along_the_camera_axis() -> None:
    world = EmulatorWorld("Kitchen-0")
    for _ in range(4):
        md = world.step(0, "RotateRight")
        frames = world.frames(0)
        h, w = frames.ids.shape
        if frames.ids[h // 2, w // 2] != 0:  # the centre shows an object, not the wall
            continue
        pts = np.array(md["sceneBounds"]["cornerPoints"])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        cam, yaw = md["cameraPosition"], round(md["agent"]["rotation"]["y"]) % 360
        expected = {0: hi[2] - cam["z"], 90: hi[0] - cam["x"], 180: cam["z"] - lo[2], 270: cam["x"] - lo[0]}[yaw]
        assert float(frames.depth_frame[h // 2, w // 2]) == pytest.approx(expected, abs=0.02)
        return
    pytest.fail("no direction showed a wall at the centre")


@pytest.mark.parametrize("seed", range(6))
def test_visible_objects_and_segmentation_pixels_agree_over_random_episodes(seed: int) -> None:
    rng = random.Random(seed)
    world = EmulatorWorld(rng.choice(["Kitchen-0", "Kitchen-1", "LivingRoom-0", "Bedroom-0", "Bathroom-0"]),
                          agent_count=2, width=rng.choice([120, 200]), height=rng.choice([100, 160]))
    checked = 0
    for _ in range(40):
        agent = rng.randrange(2)
        md = world.metadata(agent)
        if rng.random() < 0.6:
            world.step(agent, rng.choice(MOVES))
        else:
            visible = [o for o in md["objects"] if o["visible"]] or md["objects"]
            world.step(agent, rng.choice(OBJECT_ACTIONS[:-1]), objectId=rng.choice(visible)["objectId"])
        md = world.metadata(agent)
        frames = render(md)
        visible = {o["objectId"] for o in md["objects"] if o["visible"]}
        shown = {frames.names[i] for i in np.unique(frames.ids) if i >= 3}
        assert shown == visible, f"visible without pixels: {visible - shown}; pixels but not visible: {shown - visible}"
        colors = {frames.color_to_object_id[tuple(int(v) for v in p)]
                  for p in np.unique(frames.instance_segmentation_frame.reshape(-1, 3), axis=0)}
        assert colors - {"Walls", "Floor", "Ceiling"} == visible
        checked += len(visible)
    assert checked > 0


def test_pickup_open_and_put_by_coordinates_in_the_emulator() -> None:
    world = EmulatorWorld("Kitchen-0", renderInstanceSegmentation=True)
    md = world.metadata(0)
    # Walk to something pickable, as a planner would, then pick it by the pixel it shows at.
    target = next(o for o in md["objects"] if o["pickupable"] and not o["parentReceptacles"] is None
                  and not any(p.startswith(("Fridge", "Cabinet", "Drawer", "Microwave")) for p in o["parentReceptacles"]))
    poses = world.step(0, "GetInteractablePoses", objectId=target["objectId"])["actionReturn"]
    p = poses[0]
    world.step(0, "Teleport", x=p["x"], z=p["z"], rotation=p["rotation"], horizon=p["horizon"])
    frames = world.frames(0)
    assert frames.pixels_of(target["objectId"]) > 0
    x, y = _center_of(frames, target["objectId"])
    md = world.step(0, "PickupObject", x=x, y=y)
    assert md["lastActionSuccess"], md["errorMessage"]
    assert md["inventoryObjects"][0]["objectId"] == target["objectId"]
    # Put it back on what shows at another pixel: the receptacle it came from.
    recep = target["parentReceptacles"][0]
    frames = world.frames(0)
    if frames.pixels_of(recep):
        x, y = _center_of(frames, recep)
        md = world.step(0, "PutObject", x=x, y=y)
        assert md["lastActionSuccess"], md["errorMessage"]
        assert recep in (world.metadata(0)["objects"][[o["objectId"] for o in md["objects"]].index(target["objectId"])]
                         ["parentReceptacles"] or [])


def test_coordinates_that_hit_no_object_fail_like_a_world_refusal_and_bad_ones_raise() -> None:
    world = EmulatorWorld("Kitchen-0")
    frames = world.frames(0)
    walls = np.argwhere(frames.ids == 0)  # a pixel of the wall
    r, c = walls[0]
    h, w = frames.ids.shape
    md = world.step(0, "PickupObject", x=(c + 0.5) / w, y=(r + 0.5) / h)
    assert not md["lastActionSuccess"] and "No object found" in md["errorMessage"]
    with pytest.raises(ValueError, match="x must be a number in"):
        world.step(0, "PickupObject", x=1.5, y=0.5)
    with pytest.raises(ValueError, match="invalid argument"):
        world.step(0, "MoveAhead", x=0.5, y=0.5)
    with pytest.raises(ValueError, match="either objectId or x and y"):
        world.step(0, "OpenObject", objectId="Fridge|x", x=0.5, y=0.5)


def test_frames_from_an_ai2thor_shaped_event_map_pixels_to_object_ids() -> None:
    from robocortex.sim.emulator.render import frames_from_event

    class ThorEvent:  # the attributes an ai2thor Event carries (the thor backend reads only these)
        frame = np.zeros((4, 6, 3), dtype=np.uint8)
        depth_frame = np.ones((4, 6), dtype=np.float32)
        instance_segmentation_frame = np.zeros((4, 6, 3), dtype=np.uint8)
        color_to_object_id = {(0, 0, 0): "Wall|1", (9, 9, 9): "Mug|+01.00|+00.90|+00.50"}

    ThorEvent.instance_segmentation_frame[1:3, 3:5] = (9, 9, 9)
    frames = frames_from_event(ThorEvent())
    assert frames.object_at(4 / 6, 0.5) == "Mug|+01.00|+00.90|+00.50"
    assert frames.object_at(0.05, 0.05) == "Wall|1"
    assert frames.pixels_of("Mug|+01.00|+00.90|+00.50") == 4
