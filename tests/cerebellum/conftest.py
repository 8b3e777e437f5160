"""Fixtures for the cerebellum tests: an emulated kitchen whose scene graph lives in a real Redis."""

from __future__ import annotations

import pytest

from tests.cerebellum.robots import Team, make_team


@pytest.fixture
def team(r, keys) -> Team:
    return make_team(r, keys, agents=2)
