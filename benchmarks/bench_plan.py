"""Planning time of the offline planner on a 100-object scene with 4 robots: parsing the instruction
(brain/understanding) and searching the plan from its goals (brain/search: Fast Downward through
unified-planning, lifting, allocation), each timed over a set of instructions.

    python -m benchmarks.bench_plan        (make bench BENCH=plan)

Goal: p95 of parse + plan ≤ 1 s per instruction. The first call (imports, lexicon, domain) is a
warm-up and not counted. The plan cache (brain/search/solve.py) is emptied before every measured
call, so each search runs Fast Downward; a last round with the cache kept shows what a repeated
problem costs.
"""

from __future__ import annotations

import statistics
import time

from robocortex.brain.offline import OfflinePlanner
from robocortex.brain.planner import PlanningError, PlanRequest
from robocortex.brain.search.solve import clear_plan_cache, plan_cache_info
from robocortex.brain.validator import validate
from robocortex.cerebellum.perception import nodes_from_metadata, robot_fields
from robocortex.cerebellum.profiles import BUILTIN_PROFILES
from robocortex.memory.schemas import RobotProfile, SceneNode, SceneSnapshot
from robocortex.sim.backends import make_world
from robocortex.sim.scenes import generate_scene

OBJECTS = 100
ROBOTS = 4
ROUNDS = 3
GOAL_P95_MS = 1000.0
INSTRUCTIONS = [
    "put the apple in the fridge and turn off the light",
    "put the apple in the fridge",
    "slice the tomato",
    "put a slice of tomato in the fridge",
    "heat the potato in the microwave",
    "wash the mug and fill it with coffee",
    "put all the eggs in the fridge",
    "throw away the apple then turn off the light",
    "put two potatoes in the sink",
    "open the fridge and the microwave",
    "clear the dining table",
    "put the bread on the counter and the mug in the sink",
]


def scene_of(objects: int, robots: int) -> tuple[SceneSnapshot, list[RobotProfile]]:
    """A generated kitchen with at least `objects` objects, seen whole, and `robots` robots in it."""
    spec = generate_scene("Kitchen", 0, min_objects=objects)
    world = make_world("emulator")
    metadata = world.reset(spec, robots)
    kind = BUILTIN_PROFILES["mobile_manipulator"]
    team = [RobotProfile(name=f"robot{i + 1}", agent_id=i, embodiment=kind.embodiment, skills=kind.skills,
                         payload_kg=kind.payload_kg, mobility=kind.mobility) for i in range(robots)]
    nodes = nodes_from_metadata(metadata[0])
    nodes += [SceneNode(id=r.name, **robot_fields(metadata[r.agent_id], r)) for r in team]
    world.stop()
    return SceneSnapshot(rev=1, nodes={n.id: n for n in nodes}), team


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    snapshot, robots = scene_of(OBJECTS, ROBOTS)
    planner = OfflinePlanner()
    planner.plan(PlanRequest(INSTRUCTIONS[0], snapshot, robots))  # warm-up
    parse, search, total = [], [], []
    print(f"scene: {len(snapshot.objects())} objects, {len(robots)} robots; {len(INSTRUCTIONS)} instructions x {ROUNDS}")
    print(f"{'instruction':55} {'parse ms':>9} {'plan ms':>8} {'subtasks':>8}  goals")
    for round_ in range(ROUNDS):
        for text in INSTRUCTIONS:
            clear_plan_cache()
            started = time.perf_counter()
            try:
                outcome = planner.plan(PlanRequest(text, snapshot, robots))
            except PlanningError as exc:
                if round_ == 0:
                    print(f"{text:55} refused: {exc}")
                continue
            total.append((time.perf_counter() - started) * 1000)
            parse.append(outcome.timing["parse_ms"])
            search.append(outcome.timing["plan_ms"])
            if round_ == 0:
                problems = validate(outcome.plan, snapshot, robots)
                status = ", ".join(r.status for r in outcome.plan.reports)
                print(f"{text:55} {parse[-1]:9.1f} {search[-1]:8.1f} {len(outcome.plan.subtasks):8}  {status}"
                      + (f"  INVALID: {problems[0]}" if problems else ""))
    for name, values in (("parse", parse), ("plan", search), ("parse + plan", total)):
        print(f"{name:13} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms"
              f"   max {max(values):7.1f} ms   (n={len(values)})")
    repeated = []
    for text in INSTRUCTIONS:  # searched once, then planned again from the cache
        try:
            planner.plan(PlanRequest(text, snapshot, robots))
        except PlanningError:
            continue
        started = time.perf_counter()
        try:
            planner.plan(PlanRequest(text, snapshot, robots))
        except PlanningError:
            continue
        repeated.append((time.perf_counter() - started) * 1000)
    print(f"{'repeated':13} p50 {statistics.median(repeated):7.1f} ms   p95 {percentile(repeated, 0.95):7.1f} ms"
          f"   (parse + plan of the same instructions again, answered by the plan cache: {plan_cache_info()})")
    p95 = percentile(total, 0.95)
    print(f"goal: p95 of parse + plan <= {GOAL_P95_MS:.0f} ms: {'met' if p95 <= GOAL_P95_MS else 'NOT met'} ({p95:.0f} ms)")


if __name__ == "__main__":
    main()
