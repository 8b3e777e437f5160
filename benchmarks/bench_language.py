"""Instruction understanding on the language corpus: exact-goal accuracy per phrasing class.

    python -m benchmarks.bench_language [--part dev|heldout|all] [--failures] [--dry-run] [--json FILE]
    make bench BENCH=language                                   # the dev part

Each sentence of benchmarks/language/corpus-*.yaml is given to
`robocortex.brain.understanding.understand(text, snapshot)` with the scene graph a team starts with
in its scene (built from the emulator's metadata by the perception code the evaluation harness
uses, two mobile manipulators registered; no Redis involved). A sentence scores when the goals mean
exactly what the corpus says on that scene (`evaluation/goal_meaning.py`: selectors resolved
to the scene's objects, quantifiers and in/on normalised, stage by stage), or, for a refusal, when
`understand` raises and its message names the word the corpus gives.

The held-out part is run once, at the end, by the lead; `--dry-run` only checks that the files load
and that every goal names what its scene has, without parsing anything.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.language.corpus import CLASSES, Entry, entry_problems, load
from robocortex.evaluation.goal_meaning import difference
from robocortex.evaluation.scenes import initial_nodes
from robocortex.cerebellum.perception import nodes_from_metadata, robot_fields
from robocortex.cerebellum.profiles import BUILTIN_PROFILES
from robocortex.memory.schemas import RobotProfile, SceneNode, SceneSnapshot
from robocortex.sim.emulator import EmulatorWorld

TEAM = ("mobile_manipulator", "mobile_manipulator")


@functools.lru_cache(maxsize=64)
def snapshot_of(scene: str) -> SceneSnapshot:
    """The scene graph at the start of a run in `scene`: every object, and the team's robots."""
    world = EmulatorWorld()
    metadata = world.reset(scene, len(TEAM))
    nodes = nodes_from_metadata(metadata[0])
    for i, name in enumerate(TEAM):
        kind = BUILTIN_PROFILES[name]
        robot = RobotProfile(name=f"robot{i + 1}", agent_id=i, embodiment=kind.embodiment, skills=kind.skills,
                             payload_kg=kind.payload_kg, mobility=kind.mobility)
        nodes.append(SceneNode(id=robot.name, **robot_fields(metadata[i], robot)))
    world.stop()
    return SceneSnapshot(rev=1, nodes={n.id: n for n in nodes})


@dataclass
class Outcome:
    id: str
    cls: str
    part: str
    ok: bool
    seconds: float
    why: str = ""
    suggested: bool | None = None  # refusals with a `suggest:` word: did the message name it


def score(entry: Entry, part: str, understand) -> Outcome:  # type: ignore[no-untyped-def]
    snapshot = snapshot_of(entry.scene)
    started = time.perf_counter()
    try:
        result = understand(entry.text, snapshot)
        error: Exception | None = None
    except Exception as exc:  # noqa: BLE001 - every failure is a measured outcome
        result, error = None, exc
    seconds = time.perf_counter() - started
    if entry.error is not None:
        if error is None:
            return Outcome(entry.id, entry.cls, part, False, seconds, "understood; expected a refusal naming "
                           f"{entry.error!r}: " + "; ".join(g.describe() for g in result.goals))
        message = str(error).lower()
        ok = type(error).__name__ == "NotUnderstood" and entry.error.lower() in message
        suggested = None if entry.suggest is None else entry.suggest.lower() in message
        why = "" if ok else f"{type(error).__name__}: {error}"
        return Outcome(entry.id, entry.cls, part, ok, seconds, why, suggested)
    if error is not None:
        return Outcome(entry.id, entry.cls, part, False, seconds, f"{type(error).__name__}: {error}")
    assert entry.goals is not None
    nodes = {nid: n for nid, n in snapshot.node_dicts().items() if n.get("kind", "object") == "object"}
    why = difference(entry.goals, result.goals, nodes)
    return Outcome(entry.id, entry.cls, part, not why, seconds, why)


def _pct(ok: int, n: int) -> str:
    return f"{ok}/{n} {100 * ok / n:.0f}%" if n else "—"


def report(console: Console, outcomes: list[Outcome], parts: list[str]) -> None:
    console.print("[bold]exact-goal accuracy per phrasing class[/]")
    table = Table()
    table.add_column("class")
    for part in parts:
        table.add_column(part, justify="right")
    by = defaultdict(list)
    for o in outcomes:
        by[(o.part, o.cls)].append(o.ok)
    for cls in CLASSES:
        table.add_row(cls, *[_pct(sum(by[(p, cls)]), len(by[(p, cls)])) for p in parts])
    table.add_section()
    totals = [[o.ok for o in outcomes if o.part == p] for p in parts]
    table.add_row("all", *[_pct(sum(t), len(t)) for t in totals], style="bold")
    console.print(table)
    times = sorted(o.seconds for o in outcomes)
    if times:
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        console.print(f"understand(): p50 {1000 * statistics.median(times):.1f} ms, p95 {1000 * p95:.1f} ms "
                      f"over {len(times)} sentences", highlight=False)
    hints = [o.suggested for o in outcomes if o.suggested is not None]
    if hints:
        console.print(f"refusals naming the closest known word: {sum(hints)}/{len(hints)}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_language", description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("dev", "heldout", "all"), default="dev")
    parser.add_argument("--failures", action="store_true", help="list the sentences that failed and why")
    parser.add_argument("--dry-run", action="store_true", help="check the corpus files only; parse nothing")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 120))
    parts = ["dev", "heldout"] if args.part == "all" else [args.part]
    entries = {part: load(part) for part in parts}
    if args.dry_run:
        problems = [p for part in parts for e in entries[part] for p in entry_problems(e)]
        for part in parts:
            console.print(f"{part}: {len(entries[part])} entries, "
                          f"{len({e.cls for e in entries[part]})} classes, "
                          f"{len({e.scene for e in entries[part]})} scenes", highlight=False)
        for p in problems:
            console.print(f"[red]{p}[/]")
        return 1 if problems else 0
    try:
        from robocortex.brain.understanding import understand
    except ImportError as exc:
        print(f"bench_language: robocortex.brain.understanding is not available ({exc})", file=sys.stderr)
        return 2
    outcomes = [score(e, part, understand) for part in parts for e in entries[part]]
    report(console, outcomes, parts)
    if args.failures:
        for o in outcomes:
            if not o.ok:
                text = next(e.text for e in entries[o.part] if e.id == o.id)
                console.print(f"[red]{o.id}[/] {text!r}: {o.why}", highlight=False)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
