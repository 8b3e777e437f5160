"""Print what a procedural scene holds, to write corpus goals that only name what is there.

    .venv/bin/python -m benchmarks.language.scene_objects Kitchen-0 [LivingRoom-3 ...]

One line per object type: count, affordances (pickupable, receptacle, openable, toggleable,
sliceable, cookable, dirtyable, fillable, breakable), non-default states, and where the instances are.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

from robocortex.evaluation.scenes import initial_nodes

AFFORDANCES = ("pickupable", "receptacle", "openable", "toggleable", "sliceable", "cookable", "dirtyable",
               "canFillWithLiquid", "breakable")
STATES = ("isOpen", "isToggled", "isDirty", "isFilledWithLiquid", "isCooked", "isSliced", "isBroken")


def describe(scene: str) -> list[str]:
    nodes = initial_nodes(scene)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in nodes.values():
        if node.get("kind", "object") == "object":
            by_type[str(node["objectType"])].append(node)
    lines = [f"{scene}: {sum(map(len, by_type.values()))} objects, {len(by_type)} types"]
    for otype in sorted(by_type):
        group = by_type[otype]
        aff = [a.replace("canFillWithLiquid", "fillable") for a in AFFORDANCES if any(n.get(a) for n in group)]
        states = sorted({f"{s}" + (f"({n.get('fillLiquid')})" if s == "isFilledWithLiquid" else "")
                         for n in group for s in STATES if n.get(s)})
        temps = sorted({n.get("temperature") for n in group} - {"RoomTemp", None})
        where = sorted({nodes[r["target"]]["objectType"] for n in group for r in n.get("relations") or []
                        if r["rel"] in ("in", "on") and r["target"] in nodes})
        lines.append(f"  {otype:<18} x{len(group)}  [{', '.join(aff)}]"
                     + (f"  states: {', '.join(states)}" if states else "")
                     + (f"  temp: {', '.join(temps)}" if temps else "")
                     + (f"  in/on: {', '.join(where)}" if where else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    scenes = (argv if argv is not None else sys.argv[1:]) or ["Kitchen-0"]
    for scene in scenes:
        print("\n".join(describe(scene)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
