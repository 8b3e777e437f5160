"""Navigation never crashes on another robot's moves: a robot whose body is moved or turned under it
(two robots sharing a body, or anything else acting on its agent) plans again from where it is, and
an unexpected world state ends the subtask as a typed failure, never as an exception."""

from __future__ import annotations

from typing import Any

from robocortex.sim.emulator import EmulatorWorld

from tests.cerebellum.robots import Team, events_of, run_steps


class Interleaved:
    """The shared world as robot 1 sees it: after robot 1's `after`-th MoveAhead, `other(world)` acts
    first (another robot moving the same body, a world reset...)."""

    def __init__(self, world: EmulatorWorld, after: int, other):
        self.world, self.after, self.other = world, after, other
        self.moves, self.done = 0, False
        self.backend = "emulator"

    def step(self, agent_id: int, action: str, **params: Any) -> dict[str, Any]:
        if action == "MoveAhead":
            self.moves += 1
            if self.moves == self.after and not self.done:
                self.done = True
                self.other(self.world)
        return self.world.step(agent_id, action, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)


def _teleport_sideways(world: EmulatorWorld) -> None:
    """Another robot driving the same body (agent 0) two cells to the side of where it heads."""
    agent = world.metadata(0)["agent"]
    yaw = round(agent["rotation"]["y"]) % 360
    side = {0: (1, 0), 90: (0, -1), 180: (-1, 0), 270: (0, 1)}[yaw]
    x, z = agent["position"]["x"], agent["position"]["z"]
    for k in (2, -2, 3, -3):
        md = world.step(0, "Teleport", x=x + side[0] * 0.25 * k, z=z + side[1] * 0.25 * k, rotation=(yaw + 90) % 360)
        if md["lastActionSuccess"]:
            return
    raise AssertionError("no free cell beside the robot to move it to")


def test_a_body_moved_under_the_robot_means_a_new_path_not_a_crash(team: Team):
    fridge = team.oid("Fridge")
    world = Interleaved(team.world, after=2, other=_teleport_sideways)
    r1 = team.robot("r1", 0)
    r1.world = world
    result = run_steps(r1, ("navigate_to", {"object": fridge}))
    assert world.done, "the other robot did move the body"
    assert result.success, result.error
    thoughts = [m for k, m in events_of(team, result) if k == "thought"]
    assert any("off its path" in m and "replanning" in m for m in thoughts), thoughts
    assert next(o for o in team.world.metadata(0)["objects"] if o["objectId"] == fridge)["visible"]


def test_two_robots_sharing_one_body_both_end_with_results(team: Team):
    """r1 and r2 both drive agent 0 (more robots than bodies): each subtask ends in a result."""
    fridge, sink = team.oid("Fridge"), team.oid("SinkBasin")
    r1, r2 = team.robot("r1", 0), team.robot("r2", 0)

    def r2_walks(world: EmulatorWorld) -> None:
        r2.world = world
        r2_result.append(run_steps(r2, ("navigate_to", {"object": sink})))

    r2_result: list = []
    r1.world = Interleaved(team.world, after=2, other=r2_walks)
    result = run_steps(r1, ("navigate_to", {"object": fridge}))
    assert r2_result and r2_result[0].success, r2_result
    assert result.success or result.failure is not None, result
    assert result.success, result.error  # it replans from where r2 left the body


def test_a_world_that_goes_away_mid_subtask_is_a_typed_failure(team: Team):
    fridge = team.oid("Fridge")
    r1 = team.robot("r1", 0)
    r1.world = Interleaved(team.world, after=2, other=lambda world: world.stop())
    result = run_steps(r1, ("navigate_to", {"object": fridge}), ("open", {"object": fridge}))
    assert not result.success
    assert result.failure is not None and result.failure.code == "other"
    assert result.failure.details["problem"] == "unexpected_world_state"
    assert result.failure.details["error_type"] == "RuntimeError"
    assert result.failure.step_index == 0 and result.failure.skill == "navigate_to"
    assert "unexpected world state" in (result.error or "")
