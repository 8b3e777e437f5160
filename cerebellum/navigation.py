"""Navigation: shortest paths over AI2-THOR's reachable grid, ending in an interactable pose.

Cells held by other robots are avoided; when a move is blocked anyway (a robot stepped in), the
blocked cell is excluded and the path is planned again, a bounded number of times. A robot that finds
itself somewhere its path does not say (something else moved or turned its body between two of its
actions) plans again from where it really is; whatever the world does, navigation ends in a pose or a
`NavigationError` with a failure code, never in another exception.
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
    standing: bool = True


class GridMap:
    """The reachable grid of one scene, in integer cells of `grid_size` metres.

    AI2-THOR leaves cells under other agents out of GetReachablePositions, so the map is the
    union of every answer seen: a cell once reachable stays on the map, and who stands on it is
    asked separately (the `occupied` cells at planning time).
    """

    def __init__(self, positions: Iterable[dict[str, float]] = (), grid_size: float = 0.25):
        self.grid_size = grid_size
        self.graph = nx.Graph()
        self.add(positions)

    @property
    def cells(self) -> set[Cell]:
        return set(self.graph.nodes)

    def add(self, positions: Iterable[dict[str, float]]) -> None:
        for p in positions:
            cx, cz = cell = self.cell_of(p)
            self.graph.add_node(cell)
            for n in ((cx + 1, cz), (cx - 1, cz), (cx, cz + 1), (cx, cz - 1)):
                if n in self.graph:
                    self.graph.add_edge(cell, n)

    def cell_of(self, p: dict[str, float]) -> Cell:
        return (round(p["x"] / self.grid_size), round(p["z"] / self.grid_size))

    def path(self, start: Cell, goals: set[Cell], blocked: set[Cell]) -> list[Cell] | None:
        """Shortest path from `start` to the nearest goal cell, never through a blocked cell."""
        self.graph.add_node(start)  # where the robot stands is reachable, whatever the map says
        usable = self.graph.subgraph(c for c in self.graph.nodes if c not in blocked or c == start)
        goals = {g for g in goals if g in usable}
        if not goals:
            return None
        try:
            _, path = nx.multi_source_dijkstra(usable, goals, target=start)
        except nx.NetworkXNoPath:
            return None
        return list(reversed(path))


def _cell_of_agent(grid: GridMap, md: dict[str, Any]) -> Cell | None:
    position = (md.get("agent") or {}).get("position")
    return grid.cell_of(position) if position else None


def _heading(md: dict[str, Any]) -> int:
    """The agent's yaw rounded to the nearest of 0/90/180/270."""
    yaw = float(((md.get("agent") or {}).get("rotation") or {}).get("y", 0.0))
    return int(round(yaw / 90.0)) * 90 % 360


def _rotations(current: int, wanted: int) -> list[str]:
    diff = int(round((wanted - current) / 90.0)) * 90 % 360
    return {0: [], 90: ["RotateRight"], 180: ["RotateRight", "RotateRight"], 270: ["RotateLeft"]}[diff]


def _horizon_actions(current: float, wanted: float, step: float = 30.0) -> list[str]:
    n = round((wanted - current) / step)
    return ["LookDown"] * n if n > 0 else ["LookUp"] * (-n)


class Navigator:
    """Moves one agent to a pose from which `object_id` is visible and within reach."""

    def __init__(self, act: Act, grid: GridMap, max_replans: int = 6,
                 on_replan: Callable[[str], None] = lambda why: None):
        self.act = act
        self.grid = grid
        self.max_replans = max_replans
        self.on_replan = on_replan

    def interactable_poses(self, object_id: str) -> list[Pose]:
        md = self.act("GetInteractablePoses", objectId=object_id)
        if not md.get("lastActionSuccess"):
            raise NavigationError(md.get("errorMessage") or f"no pose reaches {object_id}", kind="object_missing")
        poses = self._poses(md.get("actionReturn") or [])
        if not poses:
            raise NavigationError(f"{object_id} cannot be seen from any free cell", kind="blocked")
        return poses

    def _poses(self, found: list[dict[str, Any]]) -> list[Pose]:
        """AI2-THOR's interactable poses, standing ones first: crouching is only for what lies low
        (a thing on the floor or a bottom shelf), so a cell keeps its standing pose when it has one."""
        ordered = sorted(found, key=lambda p: not p.get("standing", True))
        return [Pose(self.grid.cell_of(p), int(round(p.get("rotation", 0))) % 360, float(p.get("horizon", 0)),
                     bool(p.get("standing", True))) for p in ordered]

    def refresh_map(self) -> None:
        md = self.act("GetReachablePositions")
        if not md.get("lastActionSuccess"):
            raise NavigationError(md.get("errorMessage") or "no reachable positions", kind="blocked")
        self.grid.add(md.get("actionReturn") or [])

    def go_to(self, object_id: str, occupied: Callable[[], set[Cell]]) -> dict[str, Any]:
        """Walk the shortest free path to the nearest interactable pose; replan when blocked."""
        self.refresh_map()
        blocked_extra: set[Cell] = set()
        for _attempt in range(self.max_replans + 1):
            poses = self.interactable_poses(object_id)
            md = self.act("Pass")
            here = _cell_of_agent(self.grid, md)
            if here is None:
                raise NavigationError("the world reports no pose for this robot", kind="other")
            blocked = (occupied() | blocked_extra) - {here}
            by_cell: dict[Cell, Pose] = {}
            for p in poses:  # standing poses come first and win their cell
                if p.cell not in blocked:
                    by_cell.setdefault(p.cell, p)
            path = self.grid.path(here, set(by_cell), blocked)
            if path is None:
                raise NavigationError(f"no free path to {object_id} ({len(blocked)} cell(s) blocked by robots)")
            md, stopped_at, displaced = self._walk(md, path)
            if stopped_at is not None:
                blocked_extra.add(stopped_at)
                self.on_replan(f"cell {stopped_at} on the way to {object_id} is blocked "
                               f"({md.get('errorMessage') or 'move failed'}); replanning")
                continue
            if displaced is not None:
                self.on_replan(f"on the way to {object_id} this robot is at {displaced}, off its path "
                               "(moved by something else); replanning from there")
                continue
            return self._face(md, by_cell[path[-1]])
        raise NavigationError(f"blocked on the way to {object_id} after {self.max_replans} replans")

    def turn_to(self, object_id: str) -> dict[str, Any]:
        """Without moving the base: turn and tilt to a pose from which `object_id` is in reach."""
        here = self.act("Pass")["agent"]["position"]
        md = self.act("GetInteractablePoses", objectId=object_id, positions=[here])
        poses = self._poses(md.get("actionReturn") or []) if md.get("lastActionSuccess") else []
        if not poses:
            raise NavigationError(f"{object_id} is out of reach of this robot's base", kind="blocked")
        return self._face(self.act("Pass"), poses[0])

    def _walk(self, md: dict[str, Any], path: list[Cell]) -> tuple[dict[str, Any], Cell | None, Cell | None]:
        """Follow `path`; returns the last metadata, the cell it could not enter (if any) and, when
        the robot turned out to be off the path (its body moved by something else), where it is."""
        for nxt in path[1:]:
            prev = _cell_of_agent(self.grid, md)
            if prev is None:
                raise NavigationError("the world reports no pose for this robot", kind="other")
            want = _HEADING_OF_STEP.get((nxt[0] - prev[0], nxt[1] - prev[1]))
            if want is None:  # not one step away from the next cell: somebody moved this body
                return md, None, prev
            for rot in _rotations(_heading(md), want):
                md = self.act(rot)
            if _heading(md) != want:  # turned by something else between the two actions
                return md, None, _cell_of_agent(self.grid, md) or prev
            md = self.act("MoveAhead")
            if not md.get("lastActionSuccess"):
                return md, nxt, None
        here = _cell_of_agent(self.grid, md)
        if here is not None and path and here != path[-1]:
            return md, None, here
        return md, None, None

    def _face(self, md: dict[str, Any], goal: Pose) -> dict[str, Any]:
        if goal.standing != md["agent"].get("isStanding", True):
            md = self.act("Stand" if goal.standing else "Crouch")
        for rot in _rotations(_heading(md), goal.rotation):
            md = self.act(rot)
        for look in _horizon_actions(float(md["agent"].get("cameraHorizon", 0.0)), goal.horizon):
            md = self.act(look)
        return md
