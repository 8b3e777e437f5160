"""`robocortex run --vision` on a kitchen task (in the emulator): the robots' picks go through the
affordance role of a scripted vision server that reads each frame, the actions go by image
coordinates, and trace.json keeps every vision call with its frame's file reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.scripted_llm import ScriptedLLM
from tests.vision.servers import VisionServer


def test_run_with_vision_on_a_kitchen_task_keeps_frame_references_in_the_trace(tmp_path: Path) -> None:
    server = VisionServer({})
    with ScriptedLLM([], respond=server) as llm:
        env = {**os.environ, "ROBOCORTEX_VISION__BASE_URL": llm.base_url, "ROBOCORTEX_PLANNER": "offline"}
        done = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "run", "--vision", "--scene", "Kitchen-0",
                               "--robots", "mobile_manipulator", "--out", str(tmp_path), "put the apple in the fridge"],
                              capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert trace["status"] == "succeeded"
    calls = [e["data"] for e in trace["events"] if e["kind"] == "vision"]
    roles = {c["role"] for c in calls}  # every role has the endpoint; the plan names ids, so only picks ask
    assert roles == {"affordance", "trajectory"}
    for call in calls:
        frame = Path(call["image"])
        assert frame.is_file() and frame.parent == tmp_path / "frames"
        assert call["thinking"] and call["answer"]
    assert "base64" not in (tmp_path / "trace.json").read_text()
    picks = [e["data"]["params"] for e in trace["events"] if e["kind"] == "action" and e["data"]["action"] == "PickupObject"]
    assert picks and all("x" in p and "objectId" not in p for p in picks)
    assert any(s["task"] == "affordance" and s["type"] == "Apple" and s["pixels"] > 0 for s in server.seen)


def test_run_vision_without_an_endpoint_is_a_one_line_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_VISION")}
    done = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "run", "--vision", "open the fridge"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and "ROBOCORTEX_VISION__BASE_URL" in done.stderr
