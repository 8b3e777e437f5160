"""Domain metrics on /metrics, computed from Redis when Prometheus scrapes, so every brain replica
behind a load balancer reports the same figures.

Gauges (read fresh at each scrape): tasks by status, robots by status, queue depth per robot (sent
and not yet delivered: `waiting`; delivered and not yet acked: `pending`), the brain's task queue.

Counters and histograms (monotonic, for rate() and histogram_quantile()): folded in once per finished
task, from its record and its events, into a small ledger in Redis (`<prefix>:metrics:*`). Whichever
replica scrapes first folds a task in; the fold is one atomic Lua call guarded by the task's id, so a
task is never counted twice and replicas agree. What is folded: the task's latency (created → finished)
by final status, its replans, its model calls, tokens and model latency, and each subtask's dispatch
round trip (the brain's `dispatch` event → the robot's `result` event).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from robocortex.memory.keys import BRAIN_GROUP, ROBOT_GROUP
from robocortex.memory.schemas import RobotStatus, TaskEvent, TaskRecord, TaskStatus
from robocortex.memory.stores import Memory

log = logging.getLogger("robocortex.brain.metrics")

TASK_LATENCY_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
ROUND_TRIP_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TERMINAL = [s for s in TaskStatus if s.terminal]
# What a task's record.metrics holds (brain/graph.py) -> the ledger field it is added to.
MODEL_FIELDS = {"model_calls": "model_calls", "prompt_tokens": "prompt_tokens",
                "completion_tokens": "completion_tokens", "model_latency_s": "model_latency_s"}

# Count a finished task once: ZADD NX on the ledger's set of counted ids gates the increments.
_FOLD = """
if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""


def _bucket(value: float, bounds: tuple[float, ...]) -> str:
    for b in bounds:
        if value <= b:
            return repr(b)
    return "+Inf"


def _round_trips(events: list[TaskEvent]) -> list[float]:
    """Seconds from each dispatch of a subtask to the robot's result for it (paired in order)."""
    sent: dict[str, list[float]] = {}
    out: list[float] = []
    for e in events:
        if e.kind == "dispatch" and e.subtask_id:
            sent.setdefault(e.subtask_id, []).append(e.at)
        elif e.kind == "result" and e.subtask_id and sent.get(e.subtask_id):
            out.append(max(0.0, e.at - sent[e.subtask_id].pop(0)))
    return out


class DomainCollector(Collector):
    def __init__(self, memory: Memory, prefix: str = "robocortex"):
        self.memory, self.ns = memory, prefix
        k = memory.keys.prefix
        self.counted_key, self.ledger_key = f"{k}:metrics:counted", f"{k}:metrics:ledger"
        self._fold = memory.r.register_script(_FOLD)

    # ------------------------------------------------------------------ folding finished tasks in

    def _increments(self, record: TaskRecord) -> dict[str, float]:
        inc: dict[str, float] = {}
        status = record.status.value
        latency = max(0.0, record.updated_at - record.created_at)
        inc[f"latency_bucket:{status}:{_bucket(latency, TASK_LATENCY_BUCKETS)}"] = 1
        inc[f"latency_sum:{status}"] = latency
        inc[f"latency_count:{status}"] = 1
        inc["replans"] = record.replans
        for src, field in MODEL_FIELDS.items():
            value = record.metrics.get(src)
            if isinstance(value, (int, float)):
                inc[field] = float(value)
        events = [e for _, e in self.memory.tasks.events(record.id, "0", None, 10_000)]
        for rt in _round_trips(events):
            key = f"rt_bucket:{_bucket(rt, ROUND_TRIP_BUCKETS)}"
            inc[key] = inc.get(key, 0) + 1
            inc["rt_sum"] = inc.get("rt_sum", 0) + rt
            inc["rt_count"] = inc.get("rt_count", 0) + 1
        return inc

    def fold(self, records: list[TaskRecord]) -> int:
        """Count the finished tasks not counted yet; returns how many this call counted."""
        finished = [r for r in records if r.status.terminal]
        if not finished:
            return 0
        known = self.memory.r.zmscore(self.counted_key, [r.id for r in finished])
        counted = 0
        for record, score in zip(finished, known):
            if score is not None:
                continue
            args: list[Any] = [repr(record.updated_at), record.id]
            for field, value in self._increments(record).items():
                args += [field, repr(float(value))]
            counted += int(self._fold(keys=[self.counted_key, self.ledger_key], args=args))
        # Remember ids only while their records may still be read (the ledger's figures stay).
        retention = self.memory.tasks.retention_s
        if retention:
            self.memory.r.zremrangebyscore(self.counted_key, "-inf", time.time() - 2 * retention)
        return counted

    # ------------------------------------------------------------------ exposition

    def describe(self) -> Iterator[Metric]:
        return iter(self._families({}, [], [], {}, {}))

    def collect(self) -> Iterator[Metric]:
        try:
            records = self.memory.tasks.list(limit=100_000)
            self.fold(records)
            robots = self.memory.robots.list()
            queues = {r.profile.name: self._queue(self.memory.keys.inbox(r.profile.name), ROBOT_GROUP) for r in robots}
            brain_queue = self._queue(self.memory.keys.task_queue, BRAIN_GROUP)
            ledger = {k: float(v) for k, v in self.memory.r.hgetall(self.ledger_key).items()}
        except Exception:  # a scrape must answer even when Redis is away; the HTTP metrics still help
            log.exception("domain metrics: could not read Redis")
            return iter(())
        return iter(self._families(ledger, records, robots, queues, brain_queue))

    def _queue(self, stream: str, group: str) -> dict[str, float]:
        """`waiting`: entries the group has not been handed yet (Redis' lag); `pending`: handed, not acked."""
        try:
            for g in self.memory.r.xinfo_groups(stream):
                if g["name"] == group:
                    lag = g.get("lag")
                    return {"waiting": float(lag or 0), "pending": float(g.get("pending") or 0)}
        except Exception:  # no such stream yet: nothing queued
            pass
        return {"waiting": 0.0, "pending": 0.0}

    def _families(self, ledger: dict[str, float], records: list[TaskRecord], robots: list, queues: dict,
                  brain_queue: dict) -> list[Metric]:
        ns = self.ns
        tasks = GaugeMetricFamily(f"{ns}_tasks", "Tasks stored, by status", labels=["status"])
        for status in TaskStatus:
            tasks.add_metric([status.value], sum(1 for r in records if r.status == status))
        robots_g = GaugeMetricFamily(f"{ns}_robots", "Registered robots, by status", labels=["status"])
        for status in RobotStatus:
            robots_g.add_metric([status.value], sum(1 for r in robots if r.status == status))
        depth = GaugeMetricFamily(f"{ns}_robot_queue_depth", "Subtasks in a robot's inbox: waiting (not yet "
                                  "delivered) or pending (delivered, not yet acked)", labels=["robot", "state"])
        for robot, q in sorted(queues.items()):
            for state, value in q.items():
                depth.add_metric([robot, state], value)
        task_queue = GaugeMetricFamily(f"{ns}_task_queue_depth", "Submitted tasks not yet taken (waiting) or "
                                       "taken and not finished (pending) by a brain replica", labels=["state"])
        for state, value in brain_queue.items():
            task_queue.add_metric([state], value)
        running_replans = GaugeMetricFamily(f"{ns}_running_task_replans", "Replans so far of the tasks still running")
        running_replans.add_metric([], sum(r.replans for r in records if not r.status.terminal))

        latency = HistogramMetricFamily(f"{ns}_task_latency_seconds", "Submission to end of finished tasks",
                                        labels=["status"])
        for status in TERMINAL:
            s = status.value
            latency.add_metric([s], self._buckets(ledger, f"latency_bucket:{s}:", TASK_LATENCY_BUCKETS),
                               ledger.get(f"latency_sum:{s}", 0.0))
        rt = HistogramMetricFamily(f"{ns}_dispatch_round_trip_seconds",
                                   "A subtask's dispatch to its robot's result, in finished tasks")
        rt.add_metric([], self._buckets(ledger, "rt_bucket:", ROUND_TRIP_BUCKETS), ledger.get("rt_sum", 0.0))

        def counter(name: str, doc: str, field: str) -> CounterMetricFamily:
            c = CounterMetricFamily(f"{ns}_{name}", doc)
            c.add_metric([], ledger.get(field, 0.0))
            return c

        tokens = CounterMetricFamily(f"{ns}_model_tokens", "Model tokens of finished tasks", labels=["kind"])
        tokens.add_metric(["prompt"], ledger.get("prompt_tokens", 0.0))
        tokens.add_metric(["completion"], ledger.get("completion_tokens", 0.0))
        return [
            tasks, robots_g, depth, task_queue, running_replans, latency, rt,
            counter("task_replans", "Replans of finished tasks", "replans"),
            counter("model_calls", "Planner model calls of finished tasks", "model_calls"),
            tokens,
            counter("model_latency_seconds", "Time spent waiting for the planner model, finished tasks",
                    "model_latency_s"),
        ]

    @staticmethod
    def _buckets(ledger: dict[str, float], prefix: str, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
        out, running = [], 0.0
        for b in (*map(repr, bounds), "+Inf"):
            running += ledger.get(prefix + b, 0.0)
            out.append((b if b == "+Inf" else b, running))
        return out
