"""Goal checking on the scene graph (or on any node map of the same shape, e.g. world ground truth)."""

from __future__ import annotations

from typing import Any, Mapping

from robocortex.brain.plan import Goal

Nodes = Mapping[str, Mapping[str, Any]]


def _matches(node: Mapping[str, Any], ref: str) -> bool:
    return node.get("id") == ref or node.get("objectType") == ref


def _ancestors(nodes: Nodes, node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Receptacles holding `node`, transitively (an apple on a plate in the fridge is in the fridge)."""
    out: list[Mapping[str, Any]] = []
    frontier = [node]
    while frontier:
        for r in frontier.pop().get("relations") or []:
            parent = nodes.get(r["target"])
            if r["rel"] in ("in", "on") and parent is not None and parent not in out:
                out.append(parent)
                frontier.append(parent)
    return out


def _sliced(nodes: Nodes, node: Mapping[str, Any]) -> bool:
    """AI2-THOR replaces a sliced object by pieces whose ids extend its own (`Apple|…|AppleSliced_0`);
    the whole object is then hidden, so the team may only ever see the pieces."""
    prefix = f"{node.get('id')}|"
    return bool(node.get("isSliced")) or any(str(nid).startswith(prefix) for nid in nodes)


def _state_holds(nodes: Nodes, node: Mapping[str, Any], goal: Goal) -> bool:
    if goal.state == "isSliced" and goal.value is True:
        return _sliced(nodes, node)
    if isinstance(goal.value, bool):  # an absent flag is false, as AI2-THOR reports it
        return bool(node.get(goal.state or "")) == goal.value
    return node.get(goal.state or "") == goal.value


def goal_holds(nodes: Nodes, goal: Goal) -> bool:
    """True when some instance matching `goal.object` satisfies the goal."""
    candidates = [n for n in nodes.values() if n.get("kind", "object") == "object" and _matches(n, goal.object)]
    for node in candidates:
        if goal.relation is None:
            if _state_holds(nodes, node, goal):
                return True
        # "in" and "on" are how people say it, not how AI2-THOR files it (a sink is "on"), so both count.
        elif any(_matches(p, goal.target or "") for p in _ancestors(nodes, node)):
            return True
    return False


def unmet_goals(nodes: Nodes, goals: list[Goal]) -> list[Goal]:
    return [g for g in goals if not goal_holds(nodes, g)]
