"""Robots that see (in the emulator): grounding, affordance and pointing roles on scripted
OpenAI-compatible servers that read the frame they are sent; the robot maps the answers to objects
through its segmentation frame and acts by image coordinates. Everything over real HTTP and Redis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robocortex.cerebellum.vision import FrameStore, VisionClient, VisionEndpoint, parse_answer
from tests.cerebellum.robots import Team, make_team, run_steps
from tests.support.scripted_llm import ScriptedLLM
from tests.vision.servers import VisionServer

WORDS = {"mug next to the kettle": "Mug", "mug": "Mug", "apple": "Apple", "counter": "CounterTop",
         "bread": "Bread"}


@pytest.fixture
def team(r, keys) -> Team:
    return make_team(r, keys, agents=1)


def _vision(tmp_path: Path, server: ScriptedLLM, roles=("grounding", "affordance", "pointing"), **models: str) -> VisionClient:
    return VisionClient({role: VisionEndpoint(base_url=server.base_url, model=models.get(role, ""), max_retries=0)
                         for role in roles}, FrameStore(tmp_path / "frames"))


def _vision_events(team: Team, task_id: str) -> list[dict]:
    return [e.data for _, e in team.tasks.events(task_id, count=10_000) if e.kind == "vision"]


def _actions(team: Team, task_id: str) -> list[tuple[str, dict]]:
    return [(e.data["action"], e.data["params"]) for _, e in team.tasks.events(task_id, count=10_000)
            if e.kind == "action"]


@pytest.mark.parametrize("units", ["pixel", "fraction"])
def test_a_description_is_grounded_in_the_frame_and_picked_by_coordinates(team: Team, tmp_path: Path, units: str) -> None:
    server = VisionServer(WORDS, units=units)
    mug = team.oid("Mug")
    with ScriptedLLM([], respond=server) as llm:
        robot = team.robot("r1", 0, vision=_vision(tmp_path, llm, roles=("grounding",)))
        # The plan knows where to go by id, and names what to take only by a description.
        result = run_steps(robot, ("navigate_to", {"object": mug}), ("pick_up", {"object": "the mug next to the kettle"}))
    assert result.success, "\n".join(f"{e.kind} {e.message}" for _, e in team.tasks.events(result.task_id, count=10_000))
    assert team.truth(mug)["isPickedUp"]
    calls = _vision_events(team, result.task_id)
    assert calls and calls[-1]["role"] == "grounding" and calls[-1]["units"] == units
    assert calls[-1]["thinking"].startswith("The Mug spans")
    frame = Path(calls[-1]["image"])
    assert frame.is_file() and frame.suffix == ".png"  # the image by reference, never inline
    assert all("base64" not in json.dumps(c) for c in calls)
    pick = [p for a, p in _actions(team, result.task_id) if a == "PickupObject"]
    assert pick and "objectId" not in pick[-1] and 0 <= pick[-1]["x"] <= 1 and 0 <= pick[-1]["y"] <= 1
    # The 300×300 frame goes at Qwen2.5-VL's 28-px grid size, and the answer's pixels are read in it.
    assert server.seen[-1]["size"] == (308, 308) and server.seen[-1]["pixels"] > 0


def test_a_stale_id_is_found_again_by_its_type(team: Team, tmp_path: Path) -> None:
    server = VisionServer(WORDS)
    apple = team.oid("Apple")
    with ScriptedLLM([], respond=server) as llm:
        robot = team.robot("r1", 0, vision=_vision(tmp_path, llm, roles=("grounding",)))
        result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": "Apple|+09.99|+01.00|+09.99"}))
    assert result.success, result.error
    assert team.truth(apple)["isPickedUp"]
    assert server.seen[-1]["query"] == "apple"


def test_affordance_picks_at_the_grasp_box_and_pointing_puts_on_the_free_counter(team: Team, tmp_path: Path) -> None:
    server = VisionServer(WORDS)
    bread = team.oid("Bread")
    with ScriptedLLM([], respond=server) as llm:
        robot = team.robot("r1", 0, vision=_vision(tmp_path, llm, roles=("grounding", "affordance", "pointing", "trajectory"),
                                                    affordance="robobrain1-affordance-lora",
                                                    trajectory="robobrain1-trajectory-lora"))
        result = run_steps(robot, ("navigate_to", {"object": bread}), ("pick_up", {"object": bread}),
                           ("put", {"receptacle": "the empty space on the counter"}))
    assert result.success, "\n".join(f"{e.kind} {e.message}" for _, e in team.tasks.events(result.task_id, count=10_000))
    assert team.truth(bread)["parentReceptacles"][0].startswith("CounterTop")
    roles = [c["role"] for c in _vision_events(team, result.task_id)]
    assert "affordance" in roles and "pointing" in roles and "trajectory" in roles
    assert next(s for s in server.seen if s["task"] == "affordance")["model"] == "robobrain1-affordance-lora"
    assert next(s for s in server.seen if s["task"] == "trajectory")["model"] == "robobrain1-trajectory-lora"
    path = next(c for c in _vision_events(team, result.task_id) if c["role"] == "trajectory")["points"]
    assert 1 <= len(path) <= 10 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y in path)
    acts = _actions(team, result.task_id)
    assert any(a == "PickupObject" and "x" in p for a, p in acts) and any(a == "PutObject" and "x" in p for a, p in acts)


def test_nothing_in_view_is_an_unknown_object_failure_not_a_wrong_pick(team: Team, tmp_path: Path) -> None:
    server = VisionServer({"mug": "Mug"})
    with ScriptedLLM([], respond=server) as llm:
        robot = team.robot("r1", 0, vision=_vision(tmp_path, llm, roles=("grounding",)))
        md = team.world.metadata(0)
        if any(o["visible"] and o["objectType"] == "Mug" for o in md["objects"]):
            pytest.skip("the mug is in view from the start")
        result = run_steps(robot, ("pick_up", {"object": "the mug"}))
    assert not result.success and result.failure.code in ("object_missing", "precondition")
    assert not any(o["isPickedUp"] for o in team.world.metadata(0)["objects"])
    assert len([s for s in server.seen if s["task"] == "grounding"]) == 4  # one per turn on the spot


def test_frames_go_at_qwen_vl_grid_sizes() -> None:
    from robocortex.cerebellum.vision import model_size

    assert model_size(300, 300) == (308, 308)
    assert model_size(640, 480) == (644, 476)
    assert model_size(10, 10) == (56, 56)
    w, h = model_size(4000, 3000)
    assert w % 28 == 0 and h % 28 == 0 and w * h <= 28 * 28 * 1280


def test_trajectory_answers_are_read_in_pixels_or_fractions(tmp_path: Path) -> None:
    text = "<think>reach over</think><answer>[(30, 60), (150, 120), (299, 10)]</answer>"
    thinking, _, units, box, points = parse_answer("trajectory", text, 300, 200)
    assert thinking == "reach over" and units == "pixel" and box is None
    assert points == [(0.1, 0.3), (0.5, 0.6), (299 / 300, 0.05)]
    _, _, units, box, _ = parse_answer("grounding", "<answer>[0.1, 0.2, 0.5, 0.6]</answer>", 300, 200)
    assert units == "fraction" and box == (0.1, 0.2, 0.5, 0.6)
    with pytest.raises(Exception, match="outside the 300×200 image"):
        parse_answer("grounding", "<answer>[10, 20, 500, 60]</answer>", 300, 200)
    server = VisionServer({"bread": "Bread"})
    image = np.zeros((100, 120, 3), dtype=np.uint8)
    from robocortex.sim.emulator.render import type_color
    image[40:60, 30:50] = type_color("Bread")
    with ScriptedLLM([], respond=server) as llm:
        vision = _vision(tmp_path, llm, roles=("trajectory",))
        answer = vision.ask("trajectory", "reach for the bread", image)
    assert 1 <= len(answer.points) <= 10
    assert all(30 / 120 <= x <= 50 / 120 and 40 / 100 <= y <= 60 / 100 for x, y in answer.points)
