"""Domain metrics on /metrics, scraped from real processes: a team (world host, two robot workers, the
brain planning with a model: the scripted OpenAI-compatible server on loopback) runs a task; the scrape
shows it by status, its latency, the dispatch round trips, the model's calls and tokens, the robots and
their queues. A second brain replica on the same Redis reports the same figures, and scraping again
never counts a task twice."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from robocortex.agents.launcher import Stack

from tests.support.scripted_llm import Reply, ScriptedLLM
from tests.support.service import Service

pytestmark = pytest.mark.e2e


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = httpx.get(f"{url}/metrics", timeout=10)
    assert resp.status_code == 200
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            if s.name.startswith("robocortex_"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    goals = {"goals": [{"object": "LightSwitch", "state": "isToggled", "value": False}]}
    answer = Reply(content=f"<answer>```json\n{json.dumps(goals)}\n```</answer>", usage=(300, 40))
    prefix = f"met-{uuid.uuid4().hex[:8]}"
    logs = tmp_path_factory.mktemp("metrics")
    with ScriptedLLM([answer], repeat_last=True) as llm, Stack(
            scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None, key_prefix=prefix,
            log_dir=logs, extra_env={"ROBOCORTEX_LLM__BASE_URL": llm.base_url, "ROBOCORTEX_PLANNER": "llm"}) as stack:
        yield stack, llm, prefix, logs


def test_a_finished_task_shows_on_metrics_and_replicas_agree(team):
    stack, llm, prefix, logs = team
    before = scrape(stack.api_url)
    assert value(before, "robocortex_robots", status="idle") + value(before, "robocortex_robots", status="busy") == 2
    task = httpx.post(f"{stack.api_url}/tasks", json={"instruction": "turn off the light"}).json()
    with httpx.stream("GET", f"{stack.api_url}{task['events_url']}", timeout=120) as events:
        for line in events.iter_lines():
            if line == "event: end":
                break
    record = httpx.get(f"{stack.api_url}/tasks/{task['id']}").json()
    assert record["status"] == "succeeded" and llm.requests
    subtasks = len(record["subtasks"])

    after = scrape(stack.api_url)
    assert value(after, "robocortex_tasks", status="succeeded") == value(before, "robocortex_tasks", status="succeeded") + 1
    assert value(after, "robocortex_task_latency_seconds_count", status="succeeded") == 1
    latency = (datetime.fromisoformat(record["updated_at"]) - datetime.fromisoformat(record["created_at"])).total_seconds()
    assert value(after, "robocortex_task_latency_seconds_sum", status="succeeded") == pytest.approx(latency, rel=1e-3)
    assert value(after, "robocortex_task_latency_seconds_bucket", status="succeeded", le="+Inf") == 1
    assert value(after, "robocortex_dispatch_round_trip_seconds_count") == subtasks >= 1
    assert 0 < value(after, "robocortex_dispatch_round_trip_seconds_sum") < latency
    assert value(after, "robocortex_model_calls_total") == record["metrics"]["model_calls"] >= 1
    assert value(after, "robocortex_model_tokens_total", kind="prompt") == 300 * record["metrics"]["model_calls"]
    assert value(after, "robocortex_model_tokens_total", kind="completion") == 40 * record["metrics"]["model_calls"]
    assert value(after, "robocortex_model_latency_seconds_total") > 0
    assert value(after, "robocortex_task_replans_total") == record["replans"]
    for robot in ("robot1", "robot2"):
        assert value(after, "robocortex_robot_queue_depth", robot=robot, state="waiting") == 0
        assert value(after, "robocortex_robot_queue_depth", robot=robot, state="pending") == 0
    assert value(after, "robocortex_task_queue_depth", state="waiting") == 0

    # scraping again counts nothing twice; a second replica on the same Redis says the same
    again = scrape(stack.api_url)
    replica = Service(stack.redis_url, prefix, logs / "replica.log").start()
    try:
        other = scrape(replica.url)
    finally:
        replica.stop()
    domain = {k: v for k, v in again.items() if not k[0].startswith(("robocortex_http",))}
    assert domain == {k: v for k, v in after.items() if k in domain}
    assert {k: v for k, v in other.items() if k in domain} == domain
