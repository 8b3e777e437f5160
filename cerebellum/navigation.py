"""Navigation: shortest paths over AI2-THOR's reachable grid, ending in an interactable pose.

Cells held by other robots are avoided; when a move is blocked anyway (a robot stepped in), the
blocked cell is excluded and the path is planned again, a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import networkx as nx

Act = Callable[..., dict[str, Any]]
Cell = tuple[int, int]

# Unity's yaw: 0 faces +z, 90 faces +x, 180 faces -z, 270 faces -x.
_HEADING_OF_STEP = {(0, 1): 0, (1, 0): 90, (0, -1): 180, (-1, 0): 270}


class NavigationError(RuntimeError):
    def __init__(self, message: str, kind: str = "blocked"):
        super().__init__(message)
        self.kind = kind


@dataclass
class Pose:
    cell: Cell
    rotation: int
    horizon: float


class GridMap:
    """The reachable grid of one scene, in integer cells of `grid_size` metres."""

    def __init__(self, positions: Iterable[dict[str, float]], grid_size: float = 0.25):
        self.grid_size = grid_size
        self.cells = {self.cell_of(p) for p in positions}
        self.graph = nx.Graph()
        self.graph.add_nodes_from(self.cells)
        for cx, cz in self.cells:
            for dx, dz in ((1, 0), (0, 1)):
                if (cx + dx, cz + dz) in self.cells:
                    self.graph.add_edge((cx, cz), (cx + dx, cz + dz))

    def cell_of(self, p: dict[str, float]) -> Cell:
        return (round(p["x"] / self.grid_size), round(p["z"] / self.grid_size))

    def path(self, start: Cell, goals: set[Cell], blocked: set[Cell]) -> list[Cell] | None:
        usable = self.graph.subgraph(c for c in self.cells if c not in blocked or c == start)
        goals = {g for g in goals if g in usable}
        if start not in usable or not goals:
            return None
        try:
            _, path = nx.multi_source_dijkstra(usable, goals, target=start)
        except nx.NetworkXNoPath:
            return None
        return list(reversed(path))


def _rotations(current: int, wanted: int) -> list[str]:
    diff = (wanted - current) % 360
    return {0: [], 90: ["RotateRight"], 180: ["RotateRight", "RotateRight"], 270: ["RotateLeft"]}[diff]


def _horizon_actions(current: float, wanted: float, step: float = 30.0) -> list[str]:
    n = round((wanted - current) / step)
    return ["LookDown"] * n if n > 0 else ["LookUp"] * (-n)


class Navigator:
    """Moves one agent to a pose from which `object_id` can be interacted with."""

    def __init__(self, act: Act, grid: GridMap, max_replans: int = 6):
        self.act = act
        self.grid = grid
        self.max_replans = max_replans

    def interactable_poses(self, object_id: str) -> list[Pose]:
        md = self.act("GetInteractablePoses", objectId=object_id)
        if not md.get("lastActionSuccess"):
            raise NavigationError(md.get("errorMessage") or f"no pose reaches {object_id}", kind="object_missing")
        poses = [
            Pose(self.grid.cell_of(p), int(round(p.get("rotation", 0))) % 360, float(p.get("horizon", 0)))
            for p in md.get("actionReturn") or []
            if p.get("standing", True)
        ]
        if not poses:
            raise NavigationError(f"{object_id} cannot be reached from any free cell", kind="blocked")
        return poses

    def go_to(self, object_id: str, occupied: Callable[[], set[Cell]]) -> dict[str, Any]:
        blocked_extra: set[Cell] = set()
        md: dict[str, Any] = {}
        for _attempt in range(self.max_replans + 1):
            poses = self.interactable_poses(object_id)
            md = self.act("Pass")
            agent = md["agent"]
            here = self.grid.cell_of(agent["position"])
            blocked = occupied() | blocked_extra
            by_cell = {p.cell: p for p in poses if p.cell not in blocked or p.cell == here}
            path = self.grid.path(here, set(by_cell), blocked)
            if path is None:
                raise NavigationError(f"no free path to {object_id} (cells blocked: {len(blocked)})")
            heading = int(round(agent["rotation"]["y"])) % 360
            moved_ok = True
            for nxt in path[1:]:
                prev = self.grid.cell_of(md["agent"]["position"])
                want = _HEADING_OF_STEP[(nxt[0] - prev[0], nxt[1] - prev[1])]
                for rot in _rotations(heading, want):
                    md = self.act(rot)
                heading = want
                md = self.act("MoveAhead")
                if not md.get("lastActionSuccess"):
                    blocked_extra.add(nxt)
                    moved_ok = False
                    break
            if not moved_ok:
                continue
            goal = by_cell[path[-1]]
            for rot in _rotations(heading, goal.rotation):
                md = self.act(rot)
            for look in _horizon_actions(float(md["agent"].get("cameraHorizon", 0.0)), goal.horizon):
                md = self.act(look)
            return md
        raise NavigationError(f"blocked on the way to {object_id} after {self.max_replans} replans")
