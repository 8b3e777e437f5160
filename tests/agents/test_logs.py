"""Structured logs from a real process: ROBOCORTEX_LOG_FORMAT=json gives one JSON object per line,
with role and name, the listen URL, uvicorn's access lines through the same formatter, and the level
setting obeyed."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from robocortex.agents import logs
from robocortex.agents.launcher import free_port


def run_serve(tmp_path, level: str) -> list[dict]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")},
           "ROBOCORTEX_REDIS_SOCKET": str(tmp_path / "meet" / "redis.socket"), "ROBOCORTEX_LOG_FORMAT": "json",
           "ROBOCORTEX_LOG_LEVEL": level, "ROBOCORTEX_BRAIN_ID": "brain-7", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143 and err == "", err
    return [json.loads(line) for line in out.splitlines()]  # every line is one JSON object


@pytest.mark.e2e
def test_json_lines_from_a_real_process(tmp_path):
    lines = run_serve(tmp_path, "INFO")
    assert all({"ts", "level", "logger", "message", "role", "name", "task_id", "robot"} <= set(r) for r in lines)
    assert all(r["role"] == "serve" and r["name"] == "brain-7" for r in lines)
    started = next(r for r in lines if "uses Redis" in r["message"])
    assert f"unix://{tmp_path}/meet/redis.socket" in started["message"]
    assert any(r["message"].startswith("brain service listening on http://127.0.0.1:") for r in lines)
    access = [r for r in lines if r["logger"] == "uvicorn.access"]
    assert any(r["path"] == "/health" and r["status"] == 200 and r["method"] == "GET" for r in access)


@pytest.mark.e2e
def test_the_level_setting_is_obeyed(tmp_path):
    lines = run_serve(tmp_path, "WARNING")
    assert lines == [] or all(r["level"] in ("WARNING", "ERROR", "CRITICAL") for r in lines), lines


def test_task_context_and_extra_reach_every_record(capsys):
    logs.setup("worker", "robot3", "DEBUG", "json")
    log = logging.getLogger("robocortex.test")
    with logs.task_context(task_id="t-1"):
        log.info("inside")
    log.info("outside")
    logging.LoggerAdapter(log, {"task_id": "t-2", "robot": "robot9"}).info("adapted")
    logging.getLogger("httpx").info("HTTP Request: POST http://world/step")
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["message"], r["task_id"], r["robot"]) for r in records[:3]] == [
        ("inside", "t-1", "robot3"), ("outside", None, "robot3"), ("adapted", "t-2", "robot9")]
    assert records[3]["level"] == "DEBUG", "a world call (httpx request line) is a debug line"
    logs.setup("test", "", "INFO", "text")
    logging.getLogger("httpx").info("HTTP Request: POST http://world/step")
    assert capsys.readouterr().out == "", "and hidden at INFO"


def test_a_line_logged_inside_the_brain_graph_carries_the_task_id(capsys):
    from typing import TypedDict

    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        n: int

    def node(state: State) -> State:
        logging.getLogger("robocortex.brain").info("planning")
        return {"n": state["n"] + 1}

    graph = StateGraph(State)
    graph.add_node("plan", node)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", END)
    logs.setup("serve", "brain-1", "INFO", "json")
    graph.compile(checkpointer=InMemorySaver()).invoke({"n": 0}, {"configurable": {"thread_id": "task-42"}})
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (record["message"], record["task_id"], record["robot"]) == ("planning", "task-42", None)
