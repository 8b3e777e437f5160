"""The real AI2-THOR backend (`backend="thor"`), used when ai2thor is installed and its build starts.

Nothing here downloads anything by itself: `thor_available()` only reports whether ai2thor is
importable and a Unity build is already present locally (or a local executable is configured via
ROBOCORTEX_THOR_EXECUTABLE). Starting `ThorWorld` may make ai2thor fetch its build if the user's own
ai2thor configuration allows it; RoboCortex never asks it to.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from robocortex.sim.backends import register_backend
from robocortex.sim.world import check_agent_count

Metadata = dict[str, Any]


def thor_available() -> tuple[bool, str]:
    """(True, "") when ai2thor is importable and a local Unity build can start; else (False, why)."""
    if importlib.util.find_spec("ai2thor") is None:
        return False, "the ai2thor package is not installed (pip install 'robocortex[thor]')"
    executable = os.environ.get("ROBOCORTEX_THOR_EXECUTABLE")
    if executable:
        if not os.access(executable, os.X_OK):
            return False, f"ROBOCORTEX_THOR_EXECUTABLE={executable} is not an executable file"
        return True, ""
    builds = Path(os.environ.get("AI2THOR_HOME", Path.home() / ".ai2thor")) / "releases"
    if not builds.is_dir() or not any(builds.iterdir()):
        return False, f"no AI2-THOR Unity build found in {builds} (and ROBOCORTEX_THOR_EXECUTABLE is unset)"
    if os.name == "posix" and not os.environ.get("DISPLAY") and not _has_cloud_rendering():
        return False, "no X display and ai2thor's CloudRendering platform is unavailable"
    return True, ""


def _has_cloud_rendering() -> bool:
    try:
        from ai2thor.platform import CloudRendering  # noqa: F401
    except Exception:
        return False
    return True


class ThorWorld:
    """`sim.world.World` on a real `ai2thor.controller.Controller`."""

    backend = "thor"

    def __init__(self, scene: str | None = None, agent_count: int = 1, **init: Any) -> None:
        ok, why = thor_available()
        if not ok:
            raise RuntimeError(f"AI2-THOR backend unavailable: {why}")
        self._init = dict(init)
        self._controller: Any = None
        self._last: list[Metadata] = []
        if scene is not None:
            self.reset(scene, agent_count)

    def reset(self, scene: str, agent_count: int = 1, **init: Any) -> list[Metadata]:
        from ai2thor.controller import Controller

        params = {**self._init, **init, "agentCount": check_agent_count(agent_count)}
        executable = os.environ.get("ROBOCORTEX_THOR_EXECUTABLE")
        if executable and "local_executable_path" not in params:
            params["local_executable_path"] = executable
        if not os.environ.get("DISPLAY") and "platform" not in params and _has_cloud_rendering():
            from ai2thor.platform import CloudRendering

            params["platform"] = CloudRendering
        if self._controller is None:
            self._controller = Controller(scene=scene, **params)
            event = self._controller.last_event
        else:
            event = self._controller.reset(scene=scene, **params)
        self._last = _per_agent(event, agent_count)
        return list(self._last)

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        """One action; `x`, `y` (0–1 of the frame) in place of objectId go to ai2thor as they are:
        AI2-THOR resolves them through its own segmentation."""
        controller = self._require()
        self._check_agent(agent_id)
        if len(self._last) > 1:
            params["agentId"] = agent_id
        event = controller.step(action=action, **params)
        self._last = _per_agent(event, len(self._last))
        return self._last[agent_id]

    def frames(self, agent_id: int = 0, *, depth: bool = True, segmentation: bool = True) -> Any:
        """AI2-THOR's own frames of the agent's last event (`frame`, `instance_segmentation_frame`,
        `object_id_to_color`, `color_to_object_id`, `depth_frame`), in the emulator's `Frames` shape.
        Segmentation and depth need `renderInstanceSegmentation` / `renderDepthImage` at reset."""
        from robocortex.sim.emulator.render import frames_from_event

        self._check_agent(agent_id)
        event = self._require().last_event
        events = getattr(event, "events", None)
        if events is not None and len(self._last) > 1:
            event = events[agent_id]
        return frames_from_event(event)

    def metadata(self, agent_id: int = 0) -> Metadata:
        self._require()
        self._check_agent(agent_id)
        return self._last[agent_id]

    def _check_agent(self, agent_id: Any) -> None:
        if not isinstance(agent_id, int) or not 0 <= agent_id < len(self._last):
            raise ValueError(f"agent_id {agent_id!r} out of range for {len(self._last)} agent(s)")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _require(self) -> Any:
        if self._controller is None:
            raise RuntimeError("world not loaded: call reset(scene) first")
        return self._controller


def _per_agent(event: Any, agent_count: int) -> list[Metadata]:
    events = getattr(event, "events", None)
    if events is not None and agent_count > 1:
        return [e.metadata for e in events]
    return [event.metadata]


register_backend("thor", ThorWorld)
