"""Latency of the memory room's hot paths, each as p50/p99 and as a multiple of the PING round trip
p50 measured in the same run (so numbers compare across machines and Redis deployments). Everything
here runs in one process; `bench_latency` measures across processes, as deployed.

    python -m benchmarks.bench_memory            # embedded redis-server
    ROBOCORTEX_REDIS_URL=redis://host:6379 python -m benchmarks.bench_memory

Goal: dispatch round trip (send -> receive -> result -> ack) p50 within 5x a PING round trip.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import uuid
from collections.abc import Callable

from langgraph.checkpoint.base import empty_checkpoint

from robocortex.memory.checkpoint import RedisCheckpointSaver
from robocortex.memory.connection import connect
from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.keys import Keys
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, Relation, SceneDelta, SceneNode, SubtaskMessage, SubtaskResult, Vec3

DISPATCH_GOAL = 5.0


def timed(fn: Callable[[int], object], ping: Callable[[], object], n: int, warmup: int = 20) -> tuple[list[float], list[float]]:
    """Samples of fn, and of a PING taken right after each one (shown to see the load the operation ran
    under; ratios divide by the run's PING p50), with the GC kept out of the way."""
    for i in range(warmup):
        fn(i)
        ping()
    samples, pings = [], []
    gc.collect()
    gc.disable()
    try:
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            t1 = time.perf_counter()
            ping()
            samples.append(t1 - t)
            pings.append(time.perf_counter() - t1)
    finally:
        gc.enable()
    return samples, pings


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def scene_nodes(n: int) -> list[SceneNode]:
    types = ["Apple", "Mug", "Bowl", "Knife", "Bread", "Tomato", "Plate", "Cup", "Egg", "Potato"]
    receptacles = [f"CounterTop|{i}" for i in range(10)] + ["Fridge|1", "Cabinet|1", "Sink|1"]
    nodes = [SceneNode(id=rid, objectType=rid.split("|")[0], position=Vec3(x=i, y=0.9, z=1), receptacle=True,
                       openable=rid.startswith(("Fridge", "Cabinet")), isOpen=False)
             for i, rid in enumerate(receptacles)]
    for i in range(n - len(nodes)):
        t = types[i % len(types)]
        nodes.append(SceneNode(
            id=f"{t}|{i}", objectType=t, position=Vec3(x=i * 0.013, y=0.95, z=-1.25 + i * 0.007),
            relations=[Relation(rel="on", target=receptacles[i % len(receptacles)])],
            pickupable=True, isDirty=False, isPickedUp=False, isCooked=False, isSliced=False, mass=0.2,
            temperature="RoomTemp", visible=True,
        ))
    return nodes


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="samples per measurement")
    args = parser.parse_args(argv)
    n = args.n

    r = connect()
    keys = Keys(f"bench:{uuid.uuid4().hex[:8]}")
    rows: dict[str, tuple[list[float], list[float]]] = {}
    ping = r.ping
    try:
        rows["PING round trip"] = timed(lambda i: r.ping(), ping, n)

        scene = SceneGraphStore(r, keys)
        rows["scene delta apply (2 patches)"] = timed(
            lambda i: scene.apply(SceneDelta(patches=[
                NodePatch(id=f"Apple|{i % 50}", set={"isPickedUp": bool(i % 2), "position": {"x": i, "y": 1, "z": 0}}),
                NodePatch(id="robot-1", set={"holding": f"Apple|{i % 50}"}),
            ], source="bench")),
            ping,
            n,
        )

        scene.reset(scene_nodes(500))
        rows["snapshot read, 500 nodes"] = timed(lambda i: scene.snapshot(), ping, max(50, n // 10))

        dispatcher = Dispatcher(r, keys)

        def round_trip(i: int) -> None:
            msg = SubtaskMessage(task_id="bench", subtask_id=f"s{i}", robot="robot-1", description="pick up the apple")
            dispatcher.send(msg)
            delivery = dispatcher.receive("robot-1", "worker-1", block_ms=1000)
            assert delivery is not None and delivery.message.subtask_id == msg.subtask_id
            dispatcher.complete(delivery, SubtaskResult(
                task_id=msg.task_id, subtask_id=msg.subtask_id, attempt=msg.attempt, robot=msg.robot, success=True))

        rows["dispatch round trip (send, receive, result+ack)"] = timed(round_trip, ping, n)

        saver = RedisCheckpointSaver(r, keys)
        values = {"instruction": "put the apple in the fridge", "plan": {"subtasks": [
            {"id": f"s{j}", "robot": "robot-1", "description": "x" * 40, "depends_on": []} for j in range(8)]},
            "results": [{"subtask": f"s{j}", "ok": True} for j in range(8)]}

        def checkpoint_write(i: int) -> None:
            ckpt = empty_checkpoint()
            versions = {ch: saver.get_next_version(None, None) for ch in values}
            ckpt["channel_values"] = values
            ckpt["channel_versions"] = versions
            saver.put({"configurable": {"thread_id": "bench", "checkpoint_ns": ""}}, ckpt,
                      {"source": "loop", "step": i, "parents": {}}, versions)

        rows["checkpoint write (3 channels)"] = timed(checkpoint_write, ping, max(200, n // 4))
    finally:
        stale = list(r.scan_iter(match=f"{keys.prefix}:*", count=1000))
        for i in range(0, len(stale), 500):
            r.delete(*stale[i : i + 500])

    url = r.connection_pool.connection_kwargs.get("path") or r.connection_pool.connection_kwargs.get("host")
    print(f"redis {r.info('server')['redis_version']} at {url}; {n} samples per row\n")
    # Every ratio is to the run's PING p50 (the first row). The PINGs interleaved with an operation's
    # samples are shown beside it, to see the load it ran under, but never divide: a PING right after a
    # 500-node snapshot is itself slowed by it, and dividing by it hid most of the snapshot's cost.
    run_ping50 = statistics.median(rows["PING round trip"][0])
    print(f"every ratio is to this run's PING p50 ({run_ping50 * 1e3:.3f} ms); 'PING after' is the p50 of the "
          "PINGs interleaved with that operation's samples\n")
    print(f"{'operation':50s} {'p50 ms':>9s} {'p99 ms':>9s} {'PING after':>10s} {'p50/PING':>9s} {'p99/PING':>9s}")
    report: dict[str, dict[str, float]] = {}
    for name, (samples, pings) in rows.items():
        p50, p99 = statistics.median(samples), pct(samples, 0.99)
        after50 = statistics.median(pings)
        report[name] = {
            "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3, "ping_p50_ms": run_ping50 * 1e3, "ping_after_p50_ms": after50 * 1e3,
            "p50_x_ping": p50 / run_ping50, "p99_x_ping": p99 / run_ping50,
        }
        print(f"{name:50s} {p50 * 1e3:9.3f} {p99 * 1e3:9.3f} {after50 * 1e3:10.3f} {p50 / run_ping50:9.1f} "
              f"{p99 / run_ping50:9.1f}")
    ratio = report["dispatch round trip (send, receive, result+ack)"]["p50_x_ping"]
    verdict = "meets" if ratio <= DISPATCH_GOAL else "MISSES"
    print(f"\ndispatch round trip p50 = {ratio:.1f}x PING: {verdict} the goal of <= {DISPATCH_GOAL:.0f}x")
    return report


if __name__ == "__main__":
    main()
