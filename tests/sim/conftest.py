"""Fixtures for the sim tests: a fresh emulator world and the AI2-THOR reference data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `helpers`

from robocortex.sim.emulator import EmulatorWorld  # noqa: E402


@pytest.fixture
def world() -> EmulatorWorld:
    w = EmulatorWorld()
    w.reset("Kitchen-0", agent_count=1)
    return w


@pytest.fixture
def thor_data() -> Path:
    root = os.environ.get("ROBOCORTEX_THOR_DATA")
    if not root:
        pytest.skip("ROBOCORTEX_THOR_DATA is not set")
    return Path(root)
