"""The AI2-THOR backend's wiring, against a stand-in `ai2thor` package that records what it is asked.

Nothing here runs AI2-THOR (it is not installed in CI): the stand-in only has the surface
`sim.thor` uses (`Controller(scene=..., **init)`, `reset`, `step(action=..., agentId=...)`,
`last_event`, `MultiAgentEvent.events`), so these tests show how `ThorWorld` drives ai2thor and how
`auto` chooses it; they say nothing about AI2-THOR's own behaviour.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from robocortex.sim.backends import make_world

STAND_IN = '''
class Event:
    def __init__(self, metadata):
        self.metadata = metadata


class MultiAgentEvent:
    def __init__(self, active, events):
        self.events = events
        self.metadata = events[active].metadata


class Controller:
    calls = []

    def __init__(self, scene, **init):
        Controller.calls.append(("init", scene, init))
        self._count = init.get("agentCount", 1)
        self.last_event = self._event(0, "Initialize")

    def reset(self, scene, **init):
        Controller.calls.append(("reset", scene, init))
        self._count = init.get("agentCount", 1)
        self.last_event = self._event(0, "Initialize")
        return self.last_event

    def step(self, action, **params):
        Controller.calls.append(("step", action, params))
        self.last_event = self._event(params.get("agentId", 0), action)
        return self.last_event

    def stop(self):
        Controller.calls.append(("stop", None, {}))

    def _event(self, active, action):
        events = [Event({"agentId": i, "lastAction": action if i == active else "Pass", "lastActionSuccess": True})
                  for i in range(self._count)]
        return events[0] if self._count == 1 else MultiAgentEvent(active, events)
'''


@pytest.fixture
def stand_in_ai2thor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    package = tmp_path / "ai2thor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "controller.py").write_text(textwrap.dedent(STAND_IN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ROBOCORTEX_THOR_EXECUTABLE", sys.executable)  # "a local build that can start"
    import ai2thor.controller

    ai2thor.controller.Controller.calls.clear()
    yield ai2thor.controller.Controller
    for name in [m for m in sys.modules if m == "ai2thor" or m.startswith("ai2thor.")]:
        del sys.modules[name]


def test_auto_picks_ai2thor_when_its_build_can_start_and_says_so(stand_in_ai2thor, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="robocortex.sim"):
        world = make_world("auto")
    assert world.backend == "thor"
    assert "world backend: thor" in caplog.text


def test_auto_says_why_it_falls_back_to_the_emulator(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setenv("ROBOCORTEX_THOR_EXECUTABLE", "/nonexistent/thor-build")
    with caplog.at_level(logging.INFO, logger="robocortex.sim"):
        world = make_world("auto")
    assert world.backend == "emulator"
    assert "world backend: emulator (AI2-THOR unavailable:" in caplog.text


def test_thor_world_drives_one_multi_agent_controller(stand_in_ai2thor) -> None:
    world = make_world("thor")
    first = world.reset("FloorPlan1", agent_count=2, gridSize=0.25, visibilityDistance=1.5)
    assert [md["agentId"] for md in first] == [0, 1]
    kind, scene, init = stand_in_ai2thor.calls[0]
    assert (kind, scene) == ("init", "FloorPlan1")
    assert init["agentCount"] == 2 and init["gridSize"] == 0.25 and init["local_executable_path"] == sys.executable
    md = world.step(1, "MoveAhead", moveMagnitude=0.25)
    assert stand_in_ai2thor.calls[-1] == ("step", "MoveAhead", {"moveMagnitude": 0.25, "agentId": 1})
    assert md["agentId"] == 1 and md["lastAction"] == "MoveAhead"
    assert world.metadata(0)["agentId"] == 0
    with pytest.raises(ValueError, match="out of range for 2 agent"):
        world.step(2, "Pass")
    world.reset("FloorPlan2", agent_count=1)
    assert stand_in_ai2thor.calls[-1][:2] == ("reset", "FloorPlan2")
    world.step(0, "Pass")
    assert stand_in_ai2thor.calls[-1] == ("step", "Pass", {}), "a single agent gets no agentId, as in ai2thor"
    with pytest.raises(ValueError, match="out of range for 1 agent"):
        world.step(1, "Pass")
    world.stop()
    assert stand_in_ai2thor.calls[-1][0] == "stop"
