"""A skill executed by an external policy server (RoboBrain-X0 style, in the emulator): the robot
sends frames and state, runs the actions it gets back, until the server says done."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocortex.cerebellum.policy import PolicyClient
from robocortex.cerebellum.vision import FrameStore
from tests.cerebellum.robots import Team, make_team, run_steps
from tests.vision.policy_server import PolicyServer


@pytest.fixture
def team(r, keys) -> Team:
    return make_team(r, keys, agents=1)


def test_pick_up_by_a_policy_server_that_reads_the_frame(team: Team, tmp_path: Path) -> None:
    mug = team.oid("Mug")
    with PolicyServer() as server:
        policy = PolicyClient({"pick_up": server.url}, store=FrameStore(tmp_path / "frames"))
        robot = team.robot("r1", 0, policy=policy)
        result = run_steps(robot, ("navigate_to", {"object": mug}), ("pick_up", {"object": mug}))
    assert result.success, result.error
    assert team.truth(mug)["isPickedUp"]
    assert server.requests and server.requests[0]["skill"] == "pick_up" and server.requests[0]["args"] == {"object": mug}
    assert server.requests[0]["state"]["holding"] is None and server.requests[0]["robot"] == "r1"
    events = [e for _, e in team.tasks.events(result.task_id, count=10_000)]
    rounds = [e.data for e in events if e.kind == "policy"]
    assert rounds and rounds[-1]["done"] and Path(rounds[-1]["image"]).is_file()
    picks = [e.data["params"] for e in events if e.kind == "action" and e.data["action"] == "PickupObject"]
    assert picks and "x" in picks[-1] and "objectId" not in picks[-1]


def test_the_policy_turns_until_it_sees_the_object(team: Team, tmp_path: Path) -> None:
    mug = team.oid("Mug")
    with PolicyServer() as server:
        robot = team.robot("r1", 0, policy=PolicyClient({"pick_up": server.url}))
        run_steps(robot, ("navigate_to", {"object": mug}))
        robot.act("RotateRight")
        robot.act("RotateRight")  # the mug is now behind the robot
        result = run_steps(robot, ("pick_up", {"object": mug}))
    assert result.success, result.error
    assert len(server.requests) >= 2  # it turned before it saw the mug
    assert [h["action"] for h in server.requests[-1]["history"]][:1] == ["RotateRight"]


def test_a_policy_that_gives_up_fails_the_skill_with_its_reason(team: Team) -> None:
    mug = team.oid("Mug")
    with PolicyServer(give_up_after=0) as server:
        robot = team.robot("r1", 0, policy=PolicyClient({"pick_up": server.url}, max_rounds=3))
        result = run_steps(robot, ("navigate_to", {"object": mug}), ("pick_up", {"object": mug}))
    assert not result.success and "cannot see it" in result.error
    assert not team.truth(mug)["isPickedUp"]


def test_an_unreachable_policy_server_is_a_clear_failure(team: Team) -> None:
    mug = team.oid("Mug")
    robot = team.robot("r1", 0, policy=PolicyClient({"pick_up": "http://127.0.0.1:9/act"}, timeout_s=2))
    result = run_steps(robot, ("navigate_to", {"object": mug}), ("pick_up", {"object": mug}))
    assert not result.success and "policy server http://127.0.0.1:9/act failed" in result.error
