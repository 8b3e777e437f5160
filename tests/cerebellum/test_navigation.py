"""Navigation over the reachable grid: shortest paths around other robots, replanning when one
steps into the way."""

from __future__ import annotations

from typing import Any

from robocortex.cerebellum.navigation import GridMap

from tests.cerebellum.robots import Team, events_of, run_steps


def test_grid_path_avoids_blocked_cells():
    grid = GridMap({"x": x * 0.25, "y": 0, "z": z * 0.25} for x in range(5) for z in range(3))
    straight = grid.path((0, 1), {(4, 1)}, blocked=set())
    assert straight == [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]
    around = grid.path((0, 1), {(4, 1)}, blocked={(2, 1)})
    assert (2, 1) not in around and len(around) == len(straight) + 2
    assert grid.path((0, 1), {(4, 1)}, blocked={(2, 0), (2, 1), (2, 2)}) is None


def _cells(team: Team, robot) -> list[tuple[int, int]]:
    return [(round(x / 0.25), round(z / 0.25)) for x, z in robot.stats.path]


def _planned_path(team: Team, agent_id: int, target: str) -> list[tuple[int, int]]:
    grid = GridMap(team.world.step(agent_id, "GetReachablePositions")["actionReturn"])
    poses = team.world.step(agent_id, "GetInteractablePoses", objectId=target)["actionReturn"]
    here = grid.cell_of(team.world.metadata(agent_id)["agent"]["position"])
    return grid.path(here, {grid.cell_of(p) for p in poses if p["standing"]}, set())


def test_path_goes_around_a_robot_standing_on_it(team: Team):
    fridge = team.oid("Fridge")
    path = _planned_path(team, 0, fridge)
    assert len(path) > 4
    x, z = path[len(path) // 2]
    assert team.world.step(1, "Teleport", x=x * 0.25, z=z * 0.25)["lastActionSuccess"]
    team.robot("r2", 1)  # robot 2 publishes where it stands
    r1 = team.robot("r1", 0)
    result = run_steps(r1, ("navigate_to", {"object": fridge}))
    assert result.success, result.error
    assert (x, z) not in _cells(team, r1)
    assert result.failed_actions == 0, "it never bumped into robot 2: it planned around it"


class SteppingIn:
    """A world in which robot 2 steps in front of robot 1 after robot 1's third move."""

    def __init__(self, team: Team):
        self.world, self.moves, self.done = team.world, 0, False
        self.backend = "emulator"

    def step(self, agent_id: int, action: str, **params: Any) -> dict[str, Any]:
        if agent_id == 0 and action == "MoveAhead":
            self.moves += 1
            if self.moves == 3 and not self.done:
                agent = self.world.metadata(0)["agent"]
                dx, dz = {0: (0, 1), 90: (1, 0), 180: (0, -1), 270: (-1, 0)}[round(agent["rotation"]["y"]) % 360]
                moved = self.world.step(1, "Teleport", x=agent["position"]["x"] + dx * 0.25,
                                        z=agent["position"]["z"] + dz * 0.25)
                self.done = moved["lastActionSuccess"]
        return self.world.step(agent_id, action, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)


def test_a_robot_stepping_into_the_path_causes_a_replan_not_a_failure(team: Team):
    fridge = team.oid("Fridge")
    world = SteppingIn(team)
    r1 = team.robot("r1", 0)
    r1.world = world
    result = run_steps(r1, ("navigate_to", {"object": fridge}))
    assert world.done, "robot 2 did step into the way"
    assert result.success, result.error
    assert result.failed_actions == 1, "one blocked move, then a new path"
    thoughts = [m for k, m in events_of(team, result) if k == "thought"]
    assert any("is blocked (agent_1 is blocking" in m and "replanning" in m for m in thoughts), thoughts
    assert next(o for o in team.world.metadata(0)["objects"] if o["objectId"] == fridge)["visible"]
