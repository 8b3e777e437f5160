"""Emulator throughput, scene build time and memory per world.

Run: python -m benchmarks.bench_sim   (goal: >= 5,000 actions/s on one core, 100-object scene)
"""

from __future__ import annotations

import random
import time
import tracemalloc

from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.scenes import generate_scene

GOAL_ACTIONS_PER_SECOND = 5_000
OBJECTS = 100
SEED = 11

# A navigation-heavy mix like the cerebellum's, with some interaction.
MOVES = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight", "LookUp", "LookDown")


def _scene():
    return generate_scene("Kitchen", SEED, min_objects=OBJECTS)


def actions_per_second(agent_count: int, steps: int = 3_000, runs: int = 3, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    """Best of `runs` timed runs, so a busy machine does not hide the emulator's own speed. With
    `clock=time.process_time` the figure counts only this process's CPU time: comparable across
    runs on a machine shared with other work."""
    return max(_timed_run(agent_count, steps, clock) for _ in range(runs))


def _timed_run(agent_count: int, steps: int, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    world = EmulatorWorld(_scene(), agent_count=agent_count)
    rng = random.Random(agent_count)
    object_ids = [o["objectId"] for o in world.metadata(0)["objects"]]
    plan = []
    for i in range(steps):
        agent = i % agent_count
        if i % 10 == 9:
            plan.append((agent, "OpenObject" if i % 20 == 9 else "PickupObject", {"objectId": rng.choice(object_ids)}))
        else:
            plan.append((agent, rng.choice(MOVES), {}))
    start = clock()
    for agent, action, params in plan:
        md = world.step(agent, action, **params)
    elapsed = clock() - start
    assert len(md["objects"]) >= OBJECTS
    return steps / elapsed


def scene_build_seconds(repeats: int = 20, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    start = clock()
    for seed in range(repeats):
        generate_scene.__wrapped__("Kitchen", 1000 + seed, min_objects=OBJECTS)  # uncached
    return (clock() - start) / repeats


def world_reset_seconds(repeats: int = 20) -> float:
    spec = _scene()
    world = EmulatorWorld()
    start = time.perf_counter()
    for _ in range(repeats):
        world.reset(spec, agent_count=4)
    return (time.perf_counter() - start) / repeats


def memory_per_world_bytes(worlds: int = 10) -> float:
    spec = _scene()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = []
    for _ in range(worlds):
        w = EmulatorWorld(spec, agent_count=4)
        w.step(0, "Pass")  # fill the per-object record caches
        kept.append(w)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del kept
    return total / worlds


def initial_random_spawn_seconds(repeats: int = 10) -> float:
    world = EmulatorWorld(_scene(), agent_count=1)
    start = time.perf_counter()
    for seed in range(repeats):
        md = world.step(0, "InitialRandomSpawn", randomSeed=seed)
        assert md["lastActionSuccess"], md["errorMessage"]
    return (time.perf_counter() - start) / repeats


def main() -> None:
    print(f"sim emulator benchmark ({OBJECTS}-object kitchen, one core)")
    for agents in (1, 4):
        rate = actions_per_second(agents)
        print(f"  actions/s, {agents} agent(s): {rate:10,.0f}   ({rate / GOAL_ACTIONS_PER_SECOND:.2f}x goal {GOAL_ACTIONS_PER_SECOND:,})")
        cpu = actions_per_second(agents, clock=time.process_time)
        print(f"    per CPU second:      {cpu:10,.0f}   (what the emulator costs, whatever else runs)")
    print(f"  scene generation:   {scene_build_seconds() * 1000:8.1f} ms  ({scene_build_seconds(clock=time.process_time) * 1000:.1f} ms CPU)")
    print(f"  world reset (4 ag): {world_reset_seconds() * 1000:8.1f} ms")
    print(f"  InitialRandomSpawn: {initial_random_spawn_seconds() * 1000:8.1f} ms")
    print(f"  memory per world:   {memory_per_world_bytes() / 1024:8.0f} KiB (tracemalloc)")


if __name__ == "__main__":
    main()
