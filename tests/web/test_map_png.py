"""map.png (evaluation/topdown.py): pick, put and failure markers where they happened, a scale
bar, and labels that never overlap, drawn from a trace alone."""

from __future__ import annotations

from PIL import Image, ImageDraw

from robocortex.evaluation import topdown
from robocortex.evaluation.trace import GoalOutcome, MapObject, RobotInfo, RunTrace, SceneMap
from robocortex.memory.schemas import TaskEvent


def _action(robot: str, action: str, x: float, z: float, obj: str = "", success: bool = True) -> TaskEvent:
    return TaskEvent(kind="action", task_id="t1", robot=robot, message=action,
                     data={"action": action, "params": {"objectId": obj} if obj else {}, "success": success,
                           "position": {"x": x, "y": 0.9, "z": z}})


def _trace() -> RunTrace:
    events = [
        _action("robot1", "MoveAhead", 0.0, 0.25), _action("robot1", "MoveAhead", 0.0, 0.5),
        _action("robot1", "PickupObject", 0.0, 0.5, "Apple|1"),
        _action("robot1", "MoveAhead", 0.5, 0.5), _action("robot1", "PutObject", 0.5, 0.5, "Fridge|1"),
        _action("robot2", "MoveAhead", -1.0, 0.0), _action("robot2", "PickupObject", -1.0, 0.0, "Mug|1", success=False),
        TaskEvent(kind="result", task_id="t1", robot="robot2", data={"success": False, "failure_kind": "blocked"}),
    ]
    return RunTrace(
        run_id="r1", task_id="t1", scene="Kitchen-0", room="kitchen", instruction="put the apple in the fridge",
        planner="offline", backend="emulator", goals_from="suite", goals=[GoalOutcome(goal="Apple in Fridge", met=True)],
        status="failed", started_at=0.0, finished_at=1.0, events=events,
        robots=[RobotInfo(name="robot1", profile="mobile_manipulator", agent_id=0, start=(0.0, 0.0)),
                RobotInfo(name="robot2", profile="mobile_manipulator", agent_id=1, start=(-1.0, -0.5))],
        scene_map=SceneMap(bounds=(-2.0, -1.0, 2.0, 2.0),
                           reachable=[(x / 4, z / 4) for x in range(-6, 6) for z in range(-2, 6)],
                           objects=[MapObject(id="Apple|1", type="Apple", x=0.2, z=0.8, size_x=0.1, size_z=0.1),
                                    MapObject(id="Fridge|1", type="Fridge", x=0.8, z=0.8, size_x=0.7, size_z=0.7)]))


def test_markers_are_where_the_robot_stood_when_it_picked_put_and_failed():
    found = topdown.markers(_trace())
    assert [(m.kind, m.robot, m.x, m.z, m.label) for m in found] == [
        ("pick", "robot1", 0.0, 0.5, "pick Apple"),
        ("put", "robot1", 0.5, 0.5, "put Apple at Fridge"),  # a failed pick is no pick
        ("fail", "robot2", -1.0, 0.0, "failed: blocked"),
    ]


def test_the_png_shows_the_markers_and_a_scale_bar(tmp_path):
    trace = _trace()
    path = topdown.draw_map(trace, tmp_path / "map.png")
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        pixels = {rgb.getpixel((x, y)) for x in range(rgb.width) for y in range(rgb.height)}
        assert topdown.FAILURE in pixels  # the failure cross
        robot1 = topdown.ROBOT_COLOURS[0]
        # the pick pin: robot1's colour 24 px above the spot (0.0, 0.5), where no path runs
        scale = min(160.0, max(40.0, 820 / 4.0))
        sx, sy = topdown.MARGIN + 2.0 * scale, topdown.TITLE_H + topdown.MARGIN + 1.5 * scale
        assert rgb.getpixel((round(sx), round(sy - 24))) == robot1
        # the scale bar: a dark line in the strip under the map
        bar_y = image.height - topdown.SCALE_H + 4 + 10
        assert rgb.getpixel((topdown.MARGIN + 20, bar_y)) == topdown.TEXT


def test_labels_never_overlap_and_stay_inside():
    image = Image.new("RGB", (300, 200), "white")
    draw = ImageDraw.Draw(image)
    labels = [(i % 3, 150.0, 100.0 + (i % 2), f"label {i}", topdown.TEXT) for i in range(20)]  # all at one spot
    taken: list[topdown.Box] = [(140.0, 90.0, 160.0, 110.0)]  # a marker already there
    topdown._place_labels(draw, labels, taken, (0, 0, 300, 200))
    placed = taken[1:]
    assert 4 <= len(placed) < 20  # some fit around the spot, the rest are left out rather than stacked
    for i, a in enumerate(taken):
        assert all(not topdown._overlap(a, b) for b in taken[i + 1:])
    assert all(0 <= b[0] and 0 <= b[1] and b[2] <= 300 and b[3] <= 200 for b in placed)
