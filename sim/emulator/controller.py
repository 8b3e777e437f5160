"""`Controller`, `Event` and `MultiAgentEvent`: the ai2thor.controller surface, backed by the emulator.

Code written against ai2thor (`Controller(scene=..., agentCount=2)`, `step(action=..., agentId=1)`,
`last_event.metadata`, `last_event.events[i]`) runs unchanged. Frames come from the emulator's
small renderer (render.py), drawn from the event's metadata when first read: `frame` always,
`instance_segmentation_frame` (with `object_id_to_color` / `color_to_object_id`) when
`renderInstanceSegmentation` is set, `depth_frame` when `renderDepthImage` is set.
"""

from __future__ import annotations

from typing import Any

from robocortex.sim.emulator.engine import Simulation
from robocortex.sim.emulator.render import Frames, render
from robocortex.sim.scenes import load_scene
from robocortex.sim.scenes.spec import SceneSpec
from robocortex.sim.world import check_agent_count

# Initialize parameters the emulator understands, with ai2thor's defaults.
INIT_DEFAULTS: dict[str, Any] = {
    "agentCount": 1,
    "gridSize": 0.25,
    "rotateStepDegrees": 90.0,
    "visibilityDistance": 1.5,
    "fieldOfView": 90.0,
    "width": 300,
    "height": 300,
    "agentMode": "default",
    "snapToGrid": True,
}
# Accepted for compatibility; they only affect rendering, physics timing or the Unity process.
RENDER_INIT = frozenset({"renderDepthImage", "renderInstanceSegmentation"})
IGNORED_INIT = frozenset(
    {
        "renderDepthImage", "renderInstanceSegmentation", "renderSemanticSegmentation",
        "renderClassImage", "renderObjectImage", "renderNormalsImage", "renderFlowImage",
        "quality", "headless", "platform", "x_display", "local_executable_path", "local_build",
        "start_unity", "server_class", "commit_id", "branch", "makeAgentsVisible", "continuous",
        "applyActionNoise", "movementGaussianSigma", "rotateGaussianSigma", "fastActionEmit",
        "autoSimulation", "server_timeout", "server_start_timeout", "include_private_scenes",
        "massThreshold", "antiAliasing", "gpu_device", "visibilityScheme",
    }
)  # fmt: skip


def simulation_options(init: dict[str, Any]) -> dict[str, Any]:
    """Validate ai2thor Initialize parameters and translate them for `Simulation`."""
    unknown = set(init) - set(INIT_DEFAULTS) - IGNORED_INIT - {"layouts_dir"}
    if unknown:
        raise ValueError(f"unsupported initialization parameter(s) for the emulator: {sorted(unknown)}")
    merged = {**INIT_DEFAULTS, **{k: v for k, v in init.items() if k in INIT_DEFAULTS}}
    if merged["agentMode"] != "default":
        raise ValueError(f"agentMode {merged['agentMode']!r} is not supported by the emulator (only 'default')")
    return {
        "agent_count": check_agent_count(merged["agentCount"]),
        "grid_size": float(merged["gridSize"]),
        "rotate_step_degrees": float(merged["rotateStepDegrees"]),
        "visibility_distance": float(merged["visibilityDistance"]),
        "field_of_view": float(merged["fieldOfView"]),
        "width": int(merged["width"]),
        "height": int(merged["height"]),
    }


def build_simulation(scene: str | SceneSpec, init: dict[str, Any]) -> Simulation:
    spec = scene if isinstance(scene, SceneSpec) else load_scene(scene, layouts_dir=init.get("layouts_dir"))
    return Simulation(spec, **simulation_options(init))


class Event:
    """One agent's view after an action: `metadata` plus its frames (rendered when first read)."""

    semantic_segmentation_frame = None
    third_party_camera_frames: list[Any] = []

    def __init__(self, metadata: dict[str, Any], render: dict[str, bool] | None = None) -> None:
        self.metadata = metadata
        self._render = render or {}
        self._frames: Frames | None = None

    def _rendered(self) -> Frames:
        if self._frames is None:
            self._frames = render(self.metadata, depth=bool(self._render.get("renderDepthImage")),
                                  segmentation=bool(self._render.get("renderInstanceSegmentation")))
        return self._frames

    @property
    def frame(self) -> Any:
        return self._rendered().frame

    @property
    def depth_frame(self) -> Any:
        return self._rendered().depth_frame

    @property
    def instance_segmentation_frame(self) -> Any:
        return self._rendered().instance_segmentation_frame

    @property
    def object_id_to_color(self) -> dict[str, tuple[int, int, int]]:
        return self._rendered().object_id_to_color

    @property
    def color_to_object_id(self) -> dict[tuple[int, int, int], str]:
        return self._rendered().color_to_object_id

    @property
    def cv2img(self) -> Any:
        return self.frame[..., ::-1]

    def get_object(self, object_id: str) -> dict[str, Any] | None:
        return next((o for o in self.metadata["objects"] if o["objectId"] == object_id), None)

    def objects_by_type(self, object_type: str) -> list[dict[str, Any]]:
        return [o for o in self.metadata["objects"] if o["objectType"] == object_type]

    def __repr__(self) -> str:
        md = self.metadata
        return f"<Event agent={md['agentId']} action={md['lastAction']} success={md['lastActionSuccess']}>"


class MultiAgentEvent:
    """What ai2thor returns with agentCount > 1: one Event per agent, `metadata` of the acting one."""

    def __init__(self, active_agent_id: int, events: list[Event]) -> None:
        self.active_agent_id = active_agent_id
        self.events = events
        self.metadata = events[active_agent_id].metadata

    @property
    def frame(self) -> Any:
        return self.events[self.active_agent_id].frame

    def get_object(self, object_id: str) -> dict[str, Any] | None:
        return self.events[self.active_agent_id].get_object(object_id)

    def objects_by_type(self, object_type: str) -> list[dict[str, Any]]:
        return self.events[self.active_agent_id].objects_by_type(object_type)

    def __repr__(self) -> str:
        return f"<MultiAgentEvent active={self.active_agent_id} agents={len(self.events)}>"


class Controller:
    """Drop-in for `ai2thor.controller.Controller` running the headless emulator."""

    def __init__(self, scene: str | SceneSpec = "Kitchen-0", **init: Any) -> None:
        self.initialization_parameters: dict[str, Any] = {}
        self.simulation: Simulation | None = None
        self.last_event: Event | MultiAgentEvent | None = None
        self.scene: str | SceneSpec = scene
        self.reset(scene, **init)

    def reset(self, scene: str | SceneSpec | None = None, **init: Any) -> Event | MultiAgentEvent:
        params = {**self.initialization_parameters, **init}
        self.simulation = build_simulation(scene or self.scene, params)
        self.initialization_parameters = params
        self.scene = scene or self.scene
        self.last_event = self._event(0)
        return self.last_event

    def step(self, action: str | dict[str, Any] | None = None, **params: Any) -> Event | MultiAgentEvent:
        if isinstance(action, dict):
            params = {**action, **params}
            action = params.pop("action", None)
        if action is None:
            raise ValueError("step() needs an action")
        if action == "Initialize":  # ai2thor re-initialises the loaded scene with these parameters
            return self.reset(**params)
        if self.simulation is None:
            raise RuntimeError("controller is stopped; call reset() first")
        agent_id = params.pop("agentId", 0)
        raise_for_failure = params.pop("raise_for_failure", False)
        self.simulation.step(agent_id, action, params)
        self.last_event = self._event(agent_id)
        if raise_for_failure and not self.last_event.metadata["lastActionSuccess"]:
            raise RuntimeError(f"{action} failed: {self.last_event.metadata['errorMessage']}")
        return self.last_event

    def stop(self) -> None:
        self.simulation = None

    def _event(self, agent_id: int) -> Event | MultiAgentEvent:
        sim = self.simulation
        assert sim is not None
        flags = {k: bool(v) for k, v in self.initialization_parameters.items() if k in RENDER_INIT}
        if len(sim.agents) == 1:
            return Event(sim.metadata(0), flags)
        return MultiAgentEvent(agent_id, [Event(sim.metadata(i), flags) for i in range(len(sim.agents))])
