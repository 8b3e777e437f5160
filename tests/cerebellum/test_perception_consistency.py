"""Perception keeps the shared scene graph true to the world: after long random multi-robot
episodes, every object the robots observed has the state and parent the world itself reports."""

from __future__ import annotations

import random
from typing import Any

import pytest

from robocortex.cerebellum.skills import SKILLS, SymbolicWorld
from robocortex.memory.schemas import STATE_FLAGS

from tests.cerebellum.robots import make_team, run_steps

ROBOTS = 3
STEPS = 120
COMPARED = STATE_FLAGS + ("temperature", "fillLiquid")


def random_call(rng: random.Random, robot, world: SymbolicWorld) -> tuple[str, dict[str, Any]] | None:
    """A skill call whose declared preconditions hold on the robot's current knowledge."""
    me = world.nodes[robot.robot]
    me.update(robot.profile.model_dump(include={"skills", "payload_kg", "mobility"}))
    objects = [n["id"] for n in world.nodes.values() if n.get("kind") == "object"]
    for _ in range(40):
        name = rng.choice(robot.profile.skills)
        skill = SKILLS[name]
        raw: dict[str, Any] = {}
        for field in skill.args.model_fields:
            raw[field] = "water" if field == "liquid" else rng.choice(objects)
        args = skill.parse_args(raw)
        if not skill.check(world, me, args):
            return name, raw
    return None


@pytest.mark.parametrize("seed", [7, 11])
def test_observed_objects_match_the_world_after_random_episodes(r, keys, seed):
    team = make_team(r, keys, agents=ROBOTS)
    robots = [team.robot(f"r{i}", i) for i in range(ROBOTS)]
    rng = random.Random(seed)
    done = 0
    for n in range(STEPS):
        robot = robots[n % ROBOTS]
        picked = random_call(rng, robot, robot.symbolic()[0])
        if picked is not None:
            done += run_steps(robot, picked).success
    assert done >= STEPS // 3, "the episode did real work"

    truth = {o["objectId"]: o for o in team.world.metadata(0)["objects"]}
    snapshot = team.scene.snapshot()
    observed = set().union(*(robot.observed for robot in robots))
    assert len(observed) > 30
    mismatches = []
    for oid in sorted(observed):
        node, real = snapshot.nodes.get(oid), truth.get(oid)
        if real is None:
            if node is not None:
                mismatches.append(f"{oid}: gone from the world, still in the scene graph")
            continue
        if node is None:
            mismatches.append(f"{oid}: missing from the scene graph")
            continue
        for key in COMPARED:
            if key in real and node.flag(key) != real[key]:
                mismatches.append(f"{oid}.{key}: scene graph {node.flag(key)!r}, world {real[key]!r}")
        if set(node.parents()) != set(real.get("parentReceptacles") or []):
            mismatches.append(f"{oid}: parents {node.parents()} in the scene graph, "
                              f"{real.get('parentReceptacles')} in the world")
    for robot in robots:
        held = team.world.metadata(robot.profile.agent_id)["inventoryObjects"]
        assert snapshot.nodes[robot.robot].holding == (held[0]["objectId"] if held else None)
    assert not mismatches, "\n".join(mismatches)
