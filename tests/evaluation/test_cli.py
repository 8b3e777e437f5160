"""`robocortex run` and `robocortex eval` as a user runs them: exit codes, one-line errors, files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image


def robocortex(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robocortex.agents.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_run_succeeds_and_writes_the_trace_and_the_map(tmp_path):
    done = robocortex("run", "--scene", "Bathroom-0", "--robots", "mobile_manipulator", "--out", str(tmp_path),
                      "turn off the light")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "success" in done.stdout and "makespan" in done.stdout
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert trace["status"] == "succeeded" and trace["goals"] == [{"goal": "LightSwitch isToggled=False", "met": True}]
    with Image.open(tmp_path / "map.png") as image:
        assert image.format == "PNG"


@pytest.mark.parametrize("args, fragment", [
    (("run", "--robots", "mobile_manipulator,flying_car", "open the fridge"), "unknown robot profile 'flying_car'"),
    (("run", "--scene", "Garage-1", "open the fridge"), "unknown scene 'Garage-1'"),
    (("run", "--robots", ",", "open the fridge"), "--robots needs at least one robot profile"),
    (("eval", "no-such-suite"), "unknown suite 'no-such-suite'"),
])
def test_bad_input_is_exit_2_with_one_line(args, fragment):
    done = robocortex(*args, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
