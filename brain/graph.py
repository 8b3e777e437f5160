"""The brain's closed loop as a LangGraph graph, one thread per task, checkpointed in Redis.

perceive → plan → validate ─(problems: bounded repairs)→ plan
                     └→ dispatch → monitor → reflect ─→ dispatch | monitor | replan (perceive) | finish

Every node leaves the task record in Redis up to date, so the API shows the truth at each step,
and the checkpoint after each node lets a restarted brain resume without redoing finished work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph

from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import (
    Failure,
    RobotStatus,
    SkillCall,
    SubtaskMessage,
    SubtaskState,
    SubtaskStatus,
    TaskEvent,
    TaskStatus,
)
from robocortex.memory.tasks import TaskStore

from robocortex.brain.goals import unmet_goals
from robocortex.brain.plan import Plan
from robocortex.brain.planner import FailedSubtask, InvalidReply, ModelCall, Planner, PlanningError, PlanRequest
from robocortex.brain.validator import validate

log = logging.getLogger("robocortex.brain")


class TaskState(TypedDict, total=False):
    task_id: str
    instruction: str
    plan: dict[str, Any] | None
    problems: list[str]
    feedback: list[str]
    repairs: int
    replans: int
    subtasks: dict[str, dict[str, Any]]
    cursor: str
    status: str
    reason: str | None
    started_at: float
    last_reply: str  # the planner's last answer, sent back with the reasons when it must be repaired
    metrics: dict[str, float]  # model calls, attempts, tokens and latency, summed over the task
    failures: list[dict[str, Any]]  # every failed subtask so far (robot, steps, error), for the planner to learn from


@dataclass
class BrainConfig:
    max_repairs: int = 3
    max_replans: int = 3
    task_timeout_s: float = 600.0
    monitor_block_ms: int = 2000
    wait_for_robots_s: float = 30.0


@dataclass
class BrainDeps:
    scene: SceneGraphStore
    tasks: TaskStore
    robots: RobotRegistry
    dispatcher: Dispatcher
    planner: Planner
    config: BrainConfig


def build_graph(deps: BrainDeps, checkpointer: Any = None):
    cfg = deps.config

    def emit(state: TaskState, kind: str, message: str, **data: Any) -> None:
        deps.tasks.emit(TaskEvent(kind=kind, task_id=state["task_id"], message=message, data=data,
                                  robot=data.pop("robot", None), subtask_id=data.pop("subtask_id", None)))

    def sync(state: TaskState, update: dict[str, Any]) -> dict[str, Any]:
        """Mirror the graph state into the task record the API reads."""
        merged = {**state, **update}
        record = deps.tasks.get(merged["task_id"])
        if record is None:
            return update
        record.plan = merged.get("plan")
        record.subtasks = [SubtaskState.model_validate(s) for s in (merged.get("subtasks") or {}).values()]
        record.replans = merged.get("replans", 0)
        record.reason = merged.get("reason")
        record.metrics.update(merged.get("metrics") or {})
        deps.tasks.save(record)
        status = TaskStatus(merged.get("status", record.status))
        if status != record.status:
            try:
                deps.tasks.transition(record.id, status, merged.get("reason"))
            except ValueError as exc:  # e.g. cancelled meanwhile: the record's terminal state wins
                log.info("task %s: %s", record.id, exc)
        return update

    def online_robots():
        return [r for r in deps.robots.list() if r.status != RobotStatus.offline]

    def online_profiles():
        return [r.profile for r in online_robots()]

    def cancel_update(state: TaskState) -> dict[str, Any] | None:
        """The update that ends the task when a cancel was requested, else None."""
        if not deps.tasks.cancel_requested(state["task_id"]):
            return None
        return sync(state, {"status": TaskStatus.cancelled.value, "reason": "cancelled by request",
                            "subtasks": _cancel_open(dict(state.get("subtasks") or {}))})

    # ------------------------------------------------------------------ nodes

    def perceive(state: TaskState) -> dict[str, Any]:
        deadline = time.time() + cfg.wait_for_robots_s
        while not online_profiles() and time.time() < deadline:
            time.sleep(0.5)
        robots = online_profiles()
        emit(state, "perceive", f"scene rev {deps.scene.revision()}, {len(robots)} robot(s) online",
             robots=[r.name for r in robots])
        return sync(state, {"status": TaskStatus.planning.value, "started_at": state.get("started_at") or time.time()})

    def plan(state: TaskState) -> dict[str, Any]:
        cancelled = cancel_update(state)
        if cancelled:
            return cancelled
        robots = online_robots()
        request = PlanRequest(state["instruction"], deps.scene.snapshot(), [r.profile for r in robots],
                              feedback=list(state.get("feedback") or []), previous_reply=state.get("last_reply", ""),
                              robot_status={r.profile.name: r.status.value for r in robots},
                              id_prefix=f"r{state.get('replans', 0)}." if state.get("replans") else "s",
                              failures=[FailedSubtask.from_record(f) for f in state.get("failures") or []],
                              deadline=(state.get("started_at") or time.time()) + cfg.task_timeout_s,
                              should_stop=lambda: deps.tasks.cancel_requested(state["task_id"]),
                              on_model_call=lambda kind, data: emit(state, "model_call", f"model call {kind}",
                                                                    phase=kind, **data))
        try:
            outcome = deps.planner.plan(request)
        except InvalidReply as exc:
            emit(state, "plan_invalid", str(exc), raw=exc.call.raw[:4000], thinking=exc.call.thinking[:4000],
                 **_call_data(exc.call))
            return sync(state, {"plan": None, "problems": [str(exc)], "last_reply": exc.call.raw or "(an empty reply)",
                                "metrics": _add_call(state, exc.call)})
        except PlanningError as exc:
            call = getattr(exc, "call", None)  # ModelCallFailed: what the failed calls cost
            metrics = _add_call(state, call) if call is not None else dict(state.get("metrics") or {})
            cancelled = cancel_update({**state, "metrics": metrics})
            if cancelled:
                return {**cancelled, "metrics": metrics}
            emit(state, "plan_failed", str(exc))
            return sync(state, {"status": TaskStatus.failed.value, "reason": f"planning failed: {exc}", "plan": None,
                                "metrics": metrics})
        p = _fresh_ids(outcome.plan, set(state.get("subtasks") or {}), request.id_prefix)
        call = outcome.call
        emit(state, "plan", p.reasoning or f"{len(p.subtasks)} subtask(s)", plan=p.model_dump(mode="json"),
             thinking=call.thinking if call else "", **(_call_data(call) if call else {}))
        return sync(state, {
            "plan": p.model_dump(mode="json"), "problems": [],
            "last_reply": call.raw if call else p.model_dump_json(),
            "metrics": _add_call(state, call) if call else dict(state.get("metrics") or {}),
        })

    def check(state: TaskState) -> dict[str, Any]:
        if state.get("plan") is None:  # the model's reply was not a plan at all
            problems = list(state.get("problems") or ["no plan"])
        else:
            p = Plan.model_validate(state["plan"])
            problems = validate(p, deps.scene.snapshot(), online_profiles())
            if not problems:
                emit(state, "plan_valid", f"plan valid: {len(p.subtasks)} subtask(s)")
                return {"problems": [], "feedback": [], "last_reply": ""}
            emit(state, "plan_invalid", "; ".join(problems), problems=problems)
        repairs = state.get("repairs", 0) + 1
        update: dict[str, Any] = {"problems": problems, "feedback": problems, "repairs": repairs}
        if repairs > cfg.max_repairs:
            update.update(status=TaskStatus.failed.value,
                          reason=f"no valid plan after {cfg.max_repairs} repairs: " + "; ".join(problems))
            return sync(state, update)
        return update

    def dispatch(state: TaskState) -> dict[str, Any]:
        cancelled = cancel_update(state)
        if cancelled:
            return cancelled
        subtasks = {k: dict(v) for k, v in (state.get("subtasks") or {}).items()}
        p = Plan.model_validate(state["plan"])
        for st in p.subtasks:
            if st.id not in subtasks:
                subtasks[st.id] = SubtaskState(id=st.id, robot=st.robot, description=st.description,
                                               depends_on=st.depends_on).model_dump(mode="json")
        done = {k for k, v in subtasks.items() if v["status"] == SubtaskStatus.succeeded.value}
        for st in p.subtasks:
            s = subtasks[st.id]
            if s["status"] != SubtaskStatus.waiting.value or not set(st.depends_on) <= done:
                continue
            s["attempt"] += 1
            s["status"] = SubtaskStatus.dispatched.value
            deps.dispatcher.send(SubtaskMessage(task_id=state["task_id"], subtask_id=st.id, attempt=s["attempt"],
                                                robot=st.robot, description=st.description, steps=st.steps,
                                                objects=st.object_ids()))
            emit(state, "dispatch", f"{st.id} → {st.robot}: {st.description}", robot=st.robot, subtask_id=st.id,
                 attempt=s["attempt"])
        return sync(state, {"subtasks": subtasks, "status": TaskStatus.running.value})

    def monitor(state: TaskState) -> dict[str, Any]:
        subtasks = {k: dict(v) for k, v in state["subtasks"].items()}
        cursor = state.get("cursor", "0")
        deadline = time.time() + cfg.monitor_block_ms / 1000
        while True:
            if deps.tasks.cancel_requested(state["task_id"]):
                return {**(cancel_update({**state, "subtasks": subtasks}) or {}), "cursor": cursor}
            got = deps.dispatcher.results(state["task_id"], after=cursor, block_ms=500)
            for entry_id, result in got:
                cursor = entry_id
                s = subtasks.get(result.subtask_id)
                if s is None or result.attempt != s["attempt"] or s["status"] != SubtaskStatus.dispatched.value:
                    continue  # a stale or duplicate result (redelivery): already accounted for
                s["status"] = (SubtaskStatus.succeeded if result.success else SubtaskStatus.failed).value
                s["error"] = result.error
                s["failure"] = result.failure.model_dump(mode="json") if result.failure else None
                emit(state, "result", f"{result.subtask_id} by {result.robot}: "
                     + ("done" if result.success else f"failed ({result.failure_kind}): {result.error}"),
                     robot=result.robot, subtask_id=result.subtask_id, success=result.success,
                     actions=result.actions, failed_actions=result.failed_actions, failure_kind=result.failure_kind,
                     failure=s["failure"])
            if got or time.time() >= deadline:
                break
        return sync(state, {"subtasks": subtasks, "cursor": cursor})

    def current(state: TaskState) -> dict[str, dict[str, Any]]:
        """The subtasks of the plan in force (older plans' subtasks stay in the record as history)."""
        ids = {st["id"] for st in (state.get("plan") or {}).get("subtasks", [])}
        return {k: v for k, v in (state.get("subtasks") or {}).items() if k in ids}

    def reflect(state: TaskState) -> dict[str, Any]:
        if state.get("status") in (TaskStatus.cancelled.value, TaskStatus.failed.value):
            return {}
        subtasks = current(state)
        statuses = [s["status"] for s in subtasks.values()]
        if time.time() - state.get("started_at", time.time()) > cfg.task_timeout_s:
            return sync(state, {"status": TaskStatus.failed.value, "subtasks": _cancel_open(dict(state["subtasks"])),
                                "reason": f"timed out after {cfg.task_timeout_s:.0f} s"})
        in_flight = SubtaskStatus.dispatched.value in statuses
        failed = [s for s in subtasks.values() if s["status"] == SubtaskStatus.failed.value]
        if failed and not in_flight:
            plan_now = Plan.model_validate(state["plan"])
            scene = deps.scene.snapshot()
            failures = list(state.get("failures") or []) + [
                failure_record(s, plan_now.subtask(s["id"]).steps,
                               scene.nodes[s["robot"]].flag("holding") if s["robot"] in scene.nodes else None)
                for s in failed]
            return _replan(state, [f"subtask {s['id']} ({s['robot']}: {s['description']}) failed: {s['error']}"
                                   for s in failed], failures=failures)
        if failed or in_flight:
            return {}
        if SubtaskStatus.waiting.value in statuses:
            changed = remaining_problems(state, subtasks)
            return _replan(state, ["the world changed, so the rest of the plan no longer works: "
                                   + "; ".join(changed)]) if changed else {}
        goals = Plan.model_validate(state["plan"]).goals
        unmet = unmet_goals(deps.scene.snapshot().node_dicts(), goals)
        if not unmet:
            emit(state, "goals_met", "all goals hold in the scene graph: " + ", ".join(g.describe() for g in goals))
            return sync(state, {"status": TaskStatus.succeeded.value, "reason": None})
        return _replan(state, ["after all subtasks, these goals still do not hold: "
                               + ", ".join(g.describe() for g in unmet)])

    def remaining_problems(state: TaskState, subtasks: dict[str, dict[str, Any]]) -> list[str]:
        """Dry-run the subtasks still waiting on the scene graph as it is now."""
        waiting = {k for k, s in subtasks.items() if s["status"] == SubtaskStatus.waiting.value}
        plan_now = Plan.model_validate(state["plan"])
        rest = [st.model_copy(update={"depends_on": [d for d in st.depends_on if d in waiting]})
                for st in plan_now.subtasks if st.id in waiting]
        return validate(plan_now.model_copy(update={"subtasks": rest}), deps.scene.snapshot(), online_profiles())

    def _replan(state: TaskState, feedback: list[str], failures: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        replans = state.get("replans", 0) + 1
        if replans > cfg.max_replans:
            return sync(state, {"status": TaskStatus.failed.value,
                                "reason": f"gave up after {cfg.max_replans} replans: " + "; ".join(feedback)})
        emit(state, "replan", "; ".join(feedback), replan=replans)
        done = [f"{s['id']} ({s['robot']}: {s['description']}) succeeded" for s in current(state).values()
                if s["status"] == SubtaskStatus.succeeded.value]
        # The old plan's unfinished subtasks are cancelled; finished ones stay finished (and are not redone:
        # the planner plans only for goals that do not hold yet).
        return sync(state, {"replans": replans, "feedback": done + feedback, "repairs": 0, "last_reply": "",
                            "subtasks": _cancel_open(dict(state["subtasks"])),
                            "failures": failures if failures is not None else list(state.get("failures") or []),
                            "status": TaskStatus.planning.value})

    # ------------------------------------------------------------------ routing

    def ended(state: TaskState) -> bool:
        return state.get("status") in (TaskStatus.succeeded.value, TaskStatus.failed.value,
                                       TaskStatus.cancelled.value)

    def after_plan(state: TaskState) -> Literal["check", "finish"]:
        return "finish" if ended(state) else "check"

    def after_check(state: TaskState) -> Literal["plan", "dispatch", "finish"]:
        if ended(state):
            return "finish"
        return "plan" if state.get("problems") else "dispatch"

    def after_reflect(state: TaskState) -> Literal["dispatch", "monitor", "perceive", "finish"]:
        if ended(state):
            return "finish"
        if state.get("status") == TaskStatus.planning.value:
            return "perceive"
        subtasks = current(state)
        done = {k for k, s in subtasks.items() if s["status"] == SubtaskStatus.succeeded.value}
        ready = any(s["status"] == SubtaskStatus.waiting.value and set(s["depends_on"]) <= done
                    for s in subtasks.values())
        return "dispatch" if ready else "monitor"

    def finish(state: TaskState) -> dict[str, Any]:
        emit(state, "finished", f"task {state.get('status')}" + (f": {state['reason']}" if state.get("reason") else ""),
             status=state.get("status"))
        return {}

    g = StateGraph(TaskState)
    for name, fn in [("perceive", perceive), ("plan", plan), ("check", check), ("dispatch", dispatch),
                     ("monitor", monitor), ("reflect", reflect), ("finish", finish)]:
        g.add_node(name, fn)
    g.add_edge(START, "perceive")
    g.add_edge("perceive", "plan")
    g.add_conditional_edges("plan", after_plan)
    g.add_conditional_edges("check", after_check)
    g.add_edge("dispatch", "reflect")  # reflect routes a cancelled dispatch to finish
    g.add_edge("monitor", "reflect")
    g.add_conditional_edges("reflect", after_reflect)
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)


def _fresh_ids(plan: Plan, taken: set[str], prefix: str) -> Plan:
    """The plan with subtask ids that earlier plans of the task did not use.

    A replanning model often numbers its subtasks s1, s2… again; the task record keeps every
    earlier subtask under its id, so a reused id would be taken for the finished (or cancelled)
    old one and never dispatched. Reused ids get the round's prefix (`r1.s1`)."""
    ids = {s.id for s in plan.subtasks}
    if not ids & taken:
        return plan
    used = taken | ids
    rename: dict[str, str] = {}
    for sid in sorted(ids & taken):
        new, n = f"{prefix}{sid}", 1
        while new in used:
            n += 1
            new = f"{prefix}{sid}.{n}"
        rename[sid] = new
        used.add(new)
    subtasks = [s.model_copy(update={"id": rename.get(s.id, s.id),
                                     "depends_on": [rename.get(d, d) for d in s.depends_on]})
                for s in plan.subtasks]
    return plan.model_copy(update={"subtasks": subtasks})


def failure_record(subtask: dict[str, Any], steps: list[SkillCall], holding: str | None) -> dict[str, Any]:
    """A failed subtask as the graph state keeps it (plain JSON; `FailedSubtask.from_record` reads it back):
    its robot, steps and error, what the robot held after, and the executor's typed failure."""
    failure = Failure.model_validate(subtask.get("failure") or {"code": "other"})
    failed_step = SkillCall(skill=failure.skill, args=dict(failure.args)) if failure.skill else None
    return {"robot": subtask["robot"], "error": subtask.get("error") or "", "holding": holding,
            "steps": [c.model_dump(mode="json") for c in steps], "code": failure.code,
            "failed_step": failed_step.model_dump(mode="json") if failed_step else None,
            "details": dict(failure.details), "step_index": failure.step_index}


def _cancel_open(subtasks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for k, s in subtasks.items():
        s = dict(s)
        if s["status"] in (SubtaskStatus.waiting.value, SubtaskStatus.dispatched.value):
            s["status"] = SubtaskStatus.cancelled.value
        out[k] = s
    return out


def _call_data(call: ModelCall) -> dict[str, Any]:
    """What a plan event records of the model call behind it."""
    return {"latency_s": round(call.latency_s, 3), "attempts": call.attempts, "output_format": call.output_format,
            "usage": {"prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens}}


def _add_call(state: TaskState, call: ModelCall) -> dict[str, float]:
    """The task's model metrics with one more call added."""
    m = dict(state.get("metrics") or {})
    for key, value in (("model_calls", call.calls), ("model_attempts", call.attempts), ("prompt_tokens", call.prompt_tokens),
                       ("completion_tokens", call.completion_tokens), ("model_latency_s", call.latency_s),
                       ("tokens", call.prompt_tokens + call.completion_tokens)):
        m[key] = round(m.get(key, 0) + value, 3)
    return m


def initial_state(task_id: str, instruction: str) -> TaskState:
    return TaskState(task_id=task_id, instruction=instruction, subtasks={}, cursor="0", repairs=0, replans=0,
                     status=TaskStatus.pending.value, reason=None, metrics={}, feedback=[], last_reply="",
                     failures=[])
