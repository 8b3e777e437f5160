"""The emulator's frames (in the emulator): milliseconds per rendered frame (RGB + instance
segmentation + depth) and per coordinate-resolved action, on a 100-object kitchen.

Run: make bench BENCH=render   (goal: a 300×300 frame with segmentation and depth in <= 50 ms CPU)
"""

from __future__ import annotations

import random
import time

from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.emulator.render import render
from robocortex.sim.scenes import generate_scene

GOAL_MS_PER_FRAME = 50.0
MOVES = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight", "LookUp", "LookDown")


def _metadata(size: tuple[int, int], frames: int = 60) -> list[dict]:
    world = EmulatorWorld(generate_scene("Kitchen", 11, min_objects=100), width=size[0], height=size[1])
    rng = random.Random(3)
    out = []
    for _ in range(frames):
        out.append(world.step(0, rng.choice(MOVES)))
    return out


def ms_per_frame(size: tuple[int, int], **flags: bool) -> tuple[float, float]:
    """(wall ms, CPU ms) per frame over a walk of 60 views."""
    mds = _metadata(size)
    wall, cpu = time.perf_counter(), time.process_time()
    for md in mds:
        render(md, **flags)
    n = len(mds)
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def main() -> None:
    for size in ((300, 300), (640, 480)):
        for flags in ({"depth": False, "segmentation": False}, {"depth": True, "segmentation": True}):
            wall, cpu = ms_per_frame(size, **flags)
            what = "rgb" if not flags["depth"] else "rgb+seg+depth"
            print(f"{size[0]}x{size[1]} {what:14s} {wall:7.1f} ms/frame wall  {cpu:7.1f} ms CPU"
                  + (f"  (goal <= {GOAL_MS_PER_FRAME:.0f} ms CPU: {GOAL_MS_PER_FRAME / cpu:.2f}x)" if size == (300, 300)
                     and flags["depth"] else ""))
    world = EmulatorWorld("Kitchen-0")
    started = time.process_time()
    for _ in range(50):
        world.step(0, "PickupObject", x=0.5, y=0.6)
    print(f"PickupObject by x, y: {(time.process_time() - started) * 1000 / 50:.1f} ms CPU per action "
          "(the segmentation of the current view is rendered to resolve it)")
