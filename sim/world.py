"""The `World` contract: what every backend (emulator, AI2-THOR) offers to the rest of RoboCortex.

Only the protocol lives here, so the rooms that act in a world (cerebellum) depend on no backend;
`sim.backends` builds worlds by name.

Metadata is always a plain JSON-able dict in AI2-THOR's `event.metadata` shape, so it can cross
the world host's HTTP boundary unchanged and be checked against AI2-THOR's own schema.

Optional beyond the protocol: `frames(agent_id, depth=True, segmentation=True)` → the agent's camera
frames (`sim.emulator.render.Frames`: `frame`, `instance_segmentation_frame`, `depth_frame`, the
colour maps, `object_at(x, y)`). The emulator, the world client and the thor backend have it; robots
with vision use it when present (`getattr(world, "frames", None)`).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Metadata = dict[str, Any]

# The most agents one world serves (AI2-THOR's `agentCount`): the world host's ResetRequest, the
# emulator and the thor backend all refuse more, with a ValueError that says this number.
MAX_AGENTS = 64


def check_agent_count(agent_count: Any) -> int:
    """`agent_count` as an int in 1..MAX_AGENTS, or ValueError saying what is allowed."""
    if isinstance(agent_count, bool) or not isinstance(agent_count, int) or not 1 <= agent_count <= MAX_AGENTS:
        raise ValueError(f"agent count must be a whole number from 1 to {MAX_AGENTS}, got {agent_count!r}")
    return agent_count


@runtime_checkable
class World(Protocol):
    """One simulated world shared by all robots of a run; agentId is the robot's index."""

    backend: str

    def reset(self, scene: str, agent_count: int = 1, **init: Any) -> list[Metadata]:
        """Load `scene` with `agent_count` agents; returns each agent's metadata."""

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        """Run one AI2-THOR action for one agent; returns that agent's event metadata.

        In-world failure is `lastActionSuccess: False` with `errorMessage`; an unknown action or
        a bad argument raises `ValueError`, as ai2thor does.
        """

    def metadata(self, agent_id: int = 0) -> Metadata:
        """The last metadata of `agent_id` without acting."""

    def stop(self) -> None:
        """Release the backend."""
