"""Real processes for the client tests: a whole team (world host, two robot workers, the brain) that runs
real tasks, and a lone brain service (tests/support/service.py) that a test may stop and start again."""

from __future__ import annotations

import pytest

from tests.support.processes import team


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with team("cl", tmp_path_factory.mktemp("client-stack")) as s:
        yield s
