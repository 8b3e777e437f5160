"""Retention in a running service: the brain's trimming pass removes finished tasks beyond
`max_finished_tasks` (records, events, results, idempotency keys) and leaves unfinished ones alone.
A real `robocortex serve` on loopback, a real Redis; no robot (tasks wait for one)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys

from tests.support.service import Service


@pytest.fixture
def svc(redis_url, tmp_path):
    service = Service(redis_url, f"keep-{uuid.uuid4().hex[:8]}", tmp_path / "serve.log",
                      env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "30", "ROBOCORTEX_MAX_FINISHED_TASKS": "2",
                           "ROBOCORTEX_TRIM_EVERY_S": "1"}).start()
    yield service
    service.stop()


def test_the_brain_trims_finished_tasks_beyond_the_cap(svc, redis_url):
    r, keys = connect(redis_url), Keys(svc.prefix)
    with httpx.Client(base_url=svc.url, timeout=10) as api:
        ids = []
        for i in range(4):
            ids.append(api.post("/tasks", json={"instruction": f"put apple {i} in the fridge",
                                                "idempotency_key": f"k{i}"}).json()["id"])
            time.sleep(0.01)
        waiting = api.post("/tasks", json={"instruction": "turn off the light"}).json()["id"]
        for task_id in ids:
            assert api.post(f"/tasks/{task_id}/kill").json()["status"] == "killed"
        deadline = time.time() + 15
        while time.time() < deadline and api.get(f"/tasks/{ids[0]}").status_code != 404:
            time.sleep(0.2)
        gone = [t for t in ids if api.get(f"/tasks/{t}").status_code == 404]
        assert gone == ids[:2], "the two oldest finished tasks are trimmed, the newest two kept"
        assert api.get(f"/tasks/{ids[0]}/export").status_code == 404
        assert not r.exists(keys.task_events(ids[0]), keys.task_idempotency("k0"))
        assert r.exists(keys.task_events(ids[3])) and api.get(f"/tasks/{ids[3]}/export").json()["events"]
        assert api.get(f"/tasks/{waiting}").json()["status"] == "pending", "an unfinished task is never trimmed"
        again = api.post("/tasks", json={"instruction": "put apple 0 in the fridge", "idempotency_key": "k0"})
        assert again.status_code == 202 and again.json()["id"] != ids[0], "a trimmed task's key is free again"
        api.post(f"/tasks/{waiting}/cancel")
        api.post(f"/tasks/{again.json()['id']}/cancel")
    r.close()
