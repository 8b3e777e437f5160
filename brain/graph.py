"""The brain's closed loop as a LangGraph graph, one thread per task, checkpointed in Redis.

perceive → plan → check ─(problems: bounded repairs)→ plan
                    └→ approve ─(an operator's decision, when asked: LangGraph interrupt)→ dispatch
                                   dispatch → reflect ─→ dispatch | monitor | perceive (replan) | finish
                                                  ↑ monitor ┘

Each node is a module-level function `node(state, runtime) -> update` over the typed `TaskState`;
what it works with (memory stores, the planner, limits) comes as the run's context, `BrainDeps`,
through LangGraph's `Runtime` — so a node can be called alone with any state and any deps, and one
compiled graph (`compile_graph`) is shared by every task of a process. Every node leaves the
task record in Redis up to date, so the API shows the truth at each step, and the checkpoint after
each node lets a restarted brain resume without redoing finished work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore, StaleRevision
from robocortex.memory.schemas import (
    Approval,
    ApprovalDecision,
    Failure,
    PendingApproval,
    RobotState,
    RobotStatus,
    SkillCall,
    SubtaskMessage,
    SubtaskResult,
    SubtaskState,
    SubtaskStatus,
    TaskEvent,
    TaskStatus,
    Violation,
)
from robocortex.memory.tasks import TaskStore

from robocortex.brain import constitution as rules

from robocortex.brain.goals import final_goals, unmet_goals
from robocortex.brain.plan import Plan
from robocortex.brain.planner import FailedSubtask, InvalidReply, ModelCall, Planner, PlanningError, PlanRequest
from robocortex.brain.validator import validate

log = logging.getLogger("robocortex.brain")


# --------------------------------------------------------------------------- state and context


class FailureRecord(TypedDict, total=False):
    """A failed subtask as the state keeps it (plain JSON); `FailedSubtask.from_record` reads it.
    Checkpoints from before typed failures have only robot, steps, error and holding."""

    robot: str
    steps: list[dict[str, Any]]  # SkillCall dumps
    error: str
    holding: str | None
    code: str
    failed_step: dict[str, Any] | None
    details: dict[str, Any]
    step_index: int | None


class TaskState(TypedDict, total=False):
    """The graph state of one task: plain JSON values, so every checkpoint is readable by any
    version that knows these keys (a key a newer version adds is read with a default)."""

    task_id: str
    instruction: str
    plan: dict[str, Any] | None  # the plan in force, Plan.model_dump(mode="json")
    problems: list[str]  # why the last plan was rejected (empty when it was accepted)
    feedback: list[str]  # what the planner is told on the next call (problems, or what happened)
    repairs: int
    replans: int
    subtasks: dict[str, dict[str, Any]]  # SubtaskState dumps by id, every plan's (older ones as history)
    cursor: str  # the last result stream entry read
    status: str  # a TaskStatus value
    reason: str | None
    started_at: float
    last_reply: str  # the planner's last answer, sent back with the reasons when it must be repaired
    metrics: dict[str, float]  # model calls, attempts, tokens, latency and planning time, summed over the task
    failures: list[FailureRecord]  # every failed subtask so far, for the planner to learn from
    checked_rev: int  # the scene revision the rest of the plan was last found sound at (absent: unknown)
    interrupting: bool  # an interrupt was asked: nothing new is sent, the subtasks in flight are awaited
    violations: list[dict[str, Any]]  # the constitution's findings on the plan in force (Violation dumps)
    approval_round: int  # how many times an operator decided on this task's plans


@dataclass
class BrainConfig:
    max_repairs: int = 3
    max_replans: int = 3
    task_timeout_s: float = 600.0
    monitor_block_ms: int = 2000
    wait_for_robots_s: float = 30.0
    constitution: rules.Constitution = field(default_factory=rules.default)  # checked on every plan
    approve_all: bool = False  # every plan waits for an operator (the deployment's choice)


@dataclass
class BrainDeps:
    """What the nodes work with: the run's context (`graph.invoke(..., context=deps)`)."""

    scene: SceneGraphStore
    tasks: TaskStore
    robots: RobotRegistry
    dispatcher: Dispatcher
    planner: Planner
    config: BrainConfig


Update = dict[str, Any]  # a node's partial state update


def initial_state(task_id: str, instruction: str) -> TaskState:
    return TaskState(task_id=task_id, instruction=instruction, subtasks={}, cursor="0", repairs=0, replans=0,
                     status=TaskStatus.pending.value, reason=None, metrics={}, feedback=[], last_reply="",
                     failures=[])


# --------------------------------------------------------------------------- helpers the nodes share


def emit(deps: BrainDeps, state: TaskState, kind: str, message: str, **data: Any) -> None:
    deps.tasks.emit(TaskEvent(kind=kind, task_id=state["task_id"], message=message, data=data,
                              robot=data.pop("robot", None), subtask_id=data.pop("subtask_id", None)))


def sync(deps: BrainDeps, state: TaskState, update: Update) -> Update:
    """Mirror the graph state (with `update` applied) into the task record the API reads; returns `update`."""
    merged: dict[str, Any] = {**state, **update}
    record = deps.tasks.get(merged["task_id"])
    if record is None:
        return update
    record.plan = merged.get("plan")
    record.subtasks = [SubtaskState.model_validate(s) for s in (merged.get("subtasks") or {}).values()]
    record.replans = merged.get("replans", 0)
    record.reason = merged.get("reason")
    record.metrics.update(merged.get("metrics") or {})
    if "violations" in update:
        record.violations = [Violation.model_validate(v) for v in update["violations"] or []]
    deps.tasks.save(record)
    status = TaskStatus(merged.get("status", record.status))
    if status != record.status and not status.terminal:  # the end is recorded by `finish`, after its event
        _transition(deps, record.id, status, merged.get("reason"))
    return update


def _transition(deps: BrainDeps, task_id: str, status: TaskStatus, reason: str | None) -> None:
    try:
        deps.tasks.transition(task_id, status, reason)
    except ValueError as exc:  # e.g. cancelled meanwhile: the record's terminal state wins
        log.info("task %s: %s", task_id, exc)


def online_robots(deps: BrainDeps) -> list[RobotState]:
    return [r for r in deps.robots.list() if r.status != RobotStatus.offline]


def team_of(deps: BrainDeps, task_id: str, robots: list[RobotState]) -> list[RobotState]:
    """`robots` less those outside the task's team (its `options.robots`, when it names one)."""
    record = deps.tasks.get(task_id)
    team = record.options.robots if record is not None else None
    return robots if team is None else [r for r in robots if r.profile.name in team]


def robots_for(deps: BrainDeps, task_id: str) -> list[RobotState]:
    """The online robots of the task's team a plan for it may use: not one busy on another task's
    subtask — what it holds and where it stands belong to that task. When every robot is busy
    elsewhere, all of them (their new subtasks queue behind the current ones) rather than none."""
    online = team_of(deps, task_id, online_robots(deps))
    free = [r for r in online if not r.current_subtask or r.current_subtask.split(":", 1)[0] == task_id]
    return free or online


def cancel_update(deps: BrainDeps, state: TaskState) -> Update | None:
    """The update that ends the task when a cancel or a kill was requested, else None."""
    control = deps.tasks.control(state["task_id"])
    if control is not None and control.action == "interrupt":
        return None
    if control is None and not deps.tasks.cancel_requested(state["task_id"]):
        return None
    killed = control is not None and control.action == "kill"
    status = TaskStatus.killed if killed else TaskStatus.cancelled
    reason = f"killed by {control.actor}" if killed and control else "cancelled by request"
    return sync(deps, state, {"status": status.value, "reason": reason,
                              "subtasks": _cancel_open(dict(state.get("subtasks") or {}))})


def interrupt_update(deps: BrainDeps, state: TaskState) -> Update | None:
    """When an interrupt was requested: with subtasks still in flight, hold (`interrupting`: nothing
    new is sent while their robots finish the step they are in); once none is, the task is
    `interrupted` (the rest of its plan cancelled: a resume replans from the scene as it is then).
    None when no interrupt was requested."""
    control = deps.tasks.control(state["task_id"])
    if control is None or control.action != "interrupt":
        return None
    if any(s["status"] == SubtaskStatus.dispatched.value for s in current(state).values()):
        return {"interrupting": True}
    return sync(deps, state, {"status": TaskStatus.interrupted.value, "interrupting": False,
                              "reason": f"interrupted by {control.actor}",
                              "subtasks": _cancel_open(dict(state.get("subtasks") or {}))})


def stop_update(deps: BrainDeps, state: TaskState) -> Update | None:
    """cancel_update, else interrupt_update when that ends this run (nothing in flight)."""
    update = cancel_update(deps, state) or interrupt_update(deps, state)
    return update if update and not update.get("interrupting") else None


def current(state: TaskState) -> dict[str, dict[str, Any]]:
    """The subtasks of the plan in force (older plans' subtasks stay in the record as history)."""
    ids = {st["id"] for st in (state.get("plan") or {}).get("subtasks", [])}
    return {k: v for k, v in (state.get("subtasks") or {}).items() if k in ids}


def plan_request(deps: BrainDeps, state: TaskState) -> PlanRequest:
    """What the planner is asked: the instruction, the scene and robots now, and what happened so far.

    The task's deadline, a cancel check and a model-call reporter go along, so a planner that talks
    to a model stops when the task does and its calls show up as `model_call` events."""
    robots = robots_for(deps, state["task_id"])
    return PlanRequest(
        state["instruction"], deps.scene.snapshot(), [r.profile for r in robots],
        feedback=list(state.get("feedback") or []), previous_reply=state.get("last_reply", ""),
        robot_status={r.profile.name: r.status.value for r in robots},
        id_prefix=f"r{state.get('replans', 0)}." if state.get("replans") else "s",
        failures=[FailedSubtask.from_record(dict(f)) for f in state.get("failures") or []],
        deadline=(state.get("started_at") or time.time()) + deps.config.task_timeout_s,
        should_stop=lambda: deps.tasks.cancel_requested(state["task_id"]),
        on_model_call=lambda kind, data: emit(deps, state, "model_call", f"model call {kind}", phase=kind, **data),
    )


def failure_record(subtask: dict[str, Any], steps: list[SkillCall], holding: str | None) -> FailureRecord:
    """A failed subtask as the state keeps it: its robot, steps and error, what the robot held after,
    and the executor's typed failure."""
    failure = Failure.model_validate(subtask.get("failure") or {"code": "other"})
    failed_step = SkillCall(skill=failure.skill, args=dict(failure.args)) if failure.skill else None
    return FailureRecord(robot=subtask["robot"], error=subtask.get("error") or "", holding=holding,
                         steps=[c.model_dump(mode="json") for c in steps], code=failure.code,
                         failed_step=failed_step.model_dump(mode="json") if failed_step else None,
                         details=dict(failure.details), step_index=failure.step_index)


def remaining_problems(deps: BrainDeps, state: TaskState, subtasks: dict[str, dict[str, Any]]) -> tuple[list[str], int]:
    """Dry-run the subtasks still waiting on the scene graph as it is now: (problems, the revision read)."""
    waiting = {k for k, s in subtasks.items() if s["status"] == SubtaskStatus.waiting.value}
    plan_now = Plan.model_validate(state["plan"])
    rest = [st.model_copy(update={"depends_on": [d for d in st.depends_on if d in waiting]})
            for st in plan_now.subtasks if st.id in waiting]
    scene = deps.scene.snapshot()
    return validate(plan_now.model_copy(update={"subtasks": rest}), scene,
                    [r.profile for r in online_robots(deps)]), scene.rev


def ready_subtasks(plan: Plan, subtasks: dict[str, dict[str, Any]]) -> list[str]:
    """Ids of the plan's waiting subtasks whose dependencies have all succeeded, in plan order."""
    done = {k for k, v in subtasks.items() if v["status"] == SubtaskStatus.succeeded.value}
    return [st.id for st in plan.subtasks
            if st.id in subtasks and subtasks[st.id]["status"] == SubtaskStatus.waiting.value
            and set(st.depends_on) <= done]


def send_subtasks(deps: BrainDeps, task_id: str, plan: Plan, subtasks: dict[str, dict[str, Any]],
                  ids: list[str]) -> None:
    """Mark `ids` dispatched (next attempt) in `subtasks` and send them; events are the caller's to emit.

    Sending before the step's checkpoint is safe: a brain killed in between resumes from the earlier
    checkpoint, where these subtasks are still waiting at the same attempt, so it sends the same
    (task, subtask, attempt) again — a duplicate the robot recognises by that idempotency key (it acks it
    again without redoing it), and whose duplicate result the monitor skips."""
    for sid in ids:
        st, s = plan.subtask(sid), subtasks[sid]
        s["attempt"] += 1
        s["status"] = SubtaskStatus.dispatched.value
        deps.dispatcher.send(SubtaskMessage(task_id=task_id, subtask_id=sid, attempt=s["attempt"], robot=st.robot,
                                            description=st.description, steps=st.steps, objects=st.object_ids()))


def emit_dispatched(deps: BrainDeps, state: TaskState, plan: Plan, subtasks: dict[str, dict[str, Any]],
                    ids: list[str]) -> None:
    for sid in ids:
        st = plan.subtask(sid)
        emit(deps, state, "dispatch", f"{sid} → {st.robot}: {st.description}", robot=st.robot, subtask_id=sid,
             attempt=subtasks[sid]["attempt"])


def _robot_of(source: str) -> str | None:
    """The robot whose own work a scene change reports ("perception:robot2"); None for anyone else
    (the world host, the registry marking a robot offline, a person or another program)."""
    kind, _, who = source.partition(":")
    if kind in ("world", "robots") or not who or " " in who:
        return None
    return who


def untouched_since(deps: BrainDeps, plan: Plan, subtasks: dict[str, dict[str, Any]], rev: int | None) -> int | None:
    """The scene revision up to which nothing but the plan's own robots touched what the rest of the plan
    uses (its objects and robots) since `rev`, the revision it was last found sound at; None when something
    else did, or `rev` is unknown or too old — then the rest of the plan must be dry-run again.

    This is the cheap check between a result and the next dispatch: one read of the scene's change log,
    looking only at the nodes the remaining subtasks touch. The plan's own robots change those nodes as
    planned (a robot that could not reports a failure, which is replanned)."""
    if rev is None:
        return None
    rest = [st for st in plan.subtasks if subtasks.get(st.id, {}).get("status") == SubtaskStatus.waiting.value]
    touched = {o for st in rest for o in st.object_ids()} | {st.robot for st in rest}
    ours = {st.robot for st in plan.subtasks}
    try:
        changes = deps.scene.changes_since(rev)
    except StaleRevision:
        return None
    for change in changes:
        if _robot_of(change.source) in ours:
            continue
        if any(p.id in touched for p in change.patches):
            return None
    return changes[-1].rev if changes else rev


def replan(deps: BrainDeps, state: TaskState, feedback: list[str],
           failures: list[FailureRecord] | None = None) -> Update:
    """Back to perceive → plan with `feedback`, or fail when the replans are spent."""
    replans = state.get("replans", 0) + 1
    if replans > deps.config.max_replans:
        return sync(deps, state, {"status": TaskStatus.failed.value,
                                  "reason": f"gave up after {deps.config.max_replans} replans: " + "; ".join(feedback)})
    emit(deps, state, "replan", "; ".join(feedback), replan=replans)
    done = [f"{s['id']} ({s['robot']}: {s['description']}) succeeded" for s in current(state).values()
            if s["status"] == SubtaskStatus.succeeded.value]
    # The old plan's unfinished subtasks are cancelled; finished ones stay finished (and are not redone:
    # the planner plans only for goals that do not hold yet).
    return sync(deps, state, {"replans": replans, "feedback": done + feedback, "repairs": 0, "last_reply": "",
                              "subtasks": _cancel_open(dict(state["subtasks"])),
                              "failures": failures if failures is not None else list(state.get("failures") or []),
                              "status": TaskStatus.planning.value})


# --------------------------------------------------------------------------- nodes


def perceive(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Wait (bounded) for a robot to be online; the task is planning from here."""
    deps = runtime.context
    deadline = time.time() + deps.config.wait_for_robots_s
    while not online_robots(deps) and time.time() < deadline and not deps.tasks.cancel_requested(state["task_id"]):
        time.sleep(0.1)
    stopped = cancel_update(deps, state)
    if stopped:
        return stopped
    robots = [r.profile.name for r in online_robots(deps)]
    emit(deps, state, "perceive", f"scene rev {deps.scene.revision()}, {len(robots)} robot(s) online", robots=robots)
    return sync(deps, state, {"status": TaskStatus.planning.value,
                              "started_at": state.get("started_at") or time.time()})


def back_online(deps: BrainDeps, state: TaskState) -> bool:
    """Wait (bounded by wait_for_robots_s) for a robot that is registered but offline to come back;
    True if one did. A plan that failed without it may work with it: a worker restarting after a
    crash, or robots that all looked dead through a Redis blip, are back within seconds."""
    offline = {r.profile.name for r in deps.robots.list() if r.status == RobotStatus.offline}
    if not offline:
        return False
    names = ", ".join(sorted(offline))
    emit(deps, state, "thought", f"no plan with the robots online; waiting up to "
         f"{deps.config.wait_for_robots_s:.0f} s for {names} (offline) to come back", offline=sorted(offline))
    deadline = time.time() + deps.config.wait_for_robots_s
    while time.time() < deadline and not deps.tasks.cancel_requested(state["task_id"]):
        if offline & {r.profile.name for r in online_robots(deps)}:
            return True
        time.sleep(0.5)
    return False


def plan(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Ask the planner; the `plan` event carries the plan, its goal reports and the planning time."""
    deps = runtime.context
    stopped = stop_update(deps, state)
    if stopped:
        return stopped
    request = plan_request(deps, state)
    started = time.perf_counter()
    try:
        try:
            outcome = deps.planner.plan(request)
        except PlanningError:
            if not back_online(deps, state):
                raise
            request = plan_request(deps, state)  # the team changed: plan again with it
            outcome = deps.planner.plan(request)
    except InvalidReply as exc:
        planning_ms = _ms_since(started)
        emit(deps, state, "plan_invalid", str(exc), raw=exc.call.raw[:4000], thinking=exc.call.thinking[:4000],
             planning_ms=planning_ms, **_call_data(exc.call))
        return sync(deps, state, {"plan": None, "problems": [str(exc)],
                                  "last_reply": exc.call.raw or "(an empty reply)",
                                  "metrics": _add_planning(_add_call(state, exc.call), planning_ms)})
    except PlanningError as exc:
        planning_ms = _ms_since(started)
        call = getattr(exc, "call", None)  # ModelCallFailed: what the failed calls cost
        metrics = _add_planning(_add_call(state, call) if call is not None else dict(state.get("metrics") or {}),
                                planning_ms)
        cancelled = stop_update(deps, {**state, "metrics": metrics})
        if cancelled:
            return {**cancelled, "metrics": metrics}
        emit(deps, state, "plan_failed", str(exc), planning_ms=planning_ms)
        return sync(deps, state, {"status": TaskStatus.failed.value, "reason": f"planning failed: {exc}",
                                  "plan": None, "metrics": metrics})
    planning_ms = _ms_since(started)
    p = _fresh_ids(outcome.plan, set(state.get("subtasks") or {}), request.id_prefix)
    dumped = p.model_dump(mode="json")
    call = outcome.call
    emit(deps, state, "plan", p.reasoning or f"{len(p.subtasks)} subtask(s)", plan=dumped,
         reports=dumped.get("reports") or [], planning_ms=planning_ms,
         timing=dict(getattr(outcome, "timing", None) or {}),  # the planner's own split (parse_ms, search_ms…)
         thinking=call.thinking if call else "", **(_call_data(call) if call else {}))
    return sync(deps, state, {
        "plan": dumped, "problems": [],
        "last_reply": call.raw if call else p.model_dump_json(),
        "metrics": _add_planning(_add_call(state, call) if call else dict(state.get("metrics") or {}), planning_ms),
    })


def check(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Validate the plan on the scene graph now; rejected plans go back for a bounded number of repairs."""
    deps = runtime.context
    if state.get("plan") is None:  # the model's reply was not a plan at all
        problems = list(state.get("problems") or ["no plan"])
    else:
        p = Plan.model_validate(state["plan"])
        scene = deps.scene.snapshot()
        profiles = [r.profile for r in team_of(deps, state["task_id"], online_robots(deps))]
        problems = validate(p, scene, profiles)
        if not problems:
            emit(deps, state, "plan_valid", f"plan valid: {len(p.subtasks)} subtask(s)")
            return constitution_update(deps, state, p, scene, profiles)
        emit(deps, state, "plan_invalid", "; ".join(problems), problems=problems)
    repairs = state.get("repairs", 0) + 1
    update: Update = {"problems": problems, "feedback": problems, "repairs": repairs}
    if repairs > deps.config.max_repairs:
        update.update(status=TaskStatus.failed.value,
                      reason=f"no valid plan after {deps.config.max_repairs} repairs: " + "; ".join(problems))
        return sync(deps, state, update)
    return update


def constitution_update(deps: BrainDeps, state: TaskState, p: Plan, scene: Any, profiles: list[Any]) -> Update:
    """The valid plan against the safety constitution: a rejecting rule fails the task before anything is
    dispatched (its name in the reason); escalating ones go with the plan to `approve`."""
    found = rules.check(p, scene, profiles, deps.config.constitution)
    dumps = [v.model_dump(mode="json") for v in found]
    update: Update = {"problems": [], "feedback": [], "last_reply": "", "checked_rev": scene.rev, "violations": dumps}
    if not found:  # the record keeps the findings on the plan in force: clear older ones
        return sync(deps, state, update) if state.get("violations") else update
    emit(deps, state, "constitution", "; ".join(f"{v.rule} ({v.effect}): {v.message}" for v in found),
         violations=dumps)
    if rules.rejections(found):
        update.update(status=TaskStatus.failed.value, reason=rules.reject_reason(found))
    return sync(deps, state, update)


def approval_reasons(deps: BrainDeps, state: TaskState) -> tuple[list[str], list[Violation]]:
    """Why the plan in force needs an operator ('task', 'deployment', 'rule:<name>'), and the escalating findings."""
    escalating = rules.escalations([Violation.model_validate(v) for v in state.get("violations") or []])
    record = deps.tasks.get(state["task_id"])
    reasons = (["task"] if record is not None and record.require_approval else []) \
        + (["deployment"] if deps.config.approve_all else []) \
        + [f"rule:{name}" for name in dict.fromkeys(v.rule for v in escalating)]
    return reasons, escalating


def approve(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Hold the plan for an operator when the task, the deployment or an escalating rule asks for it.

    The task goes to awaiting_approval with the plan in `pending_approval`, and the graph stops at
    LangGraph's `interrupt`; its checkpoint keeps it, so it survives a brain restart. The runner resumes
    it with `Command(resume=<ApprovalDecision>)`, and this node runs again from the top (what it did
    before the interrupt is not repeated: the record already shows the pending round) and applies it:
    approve → dispatch, edit → dispatch the edited plan, reject → failed, cancel → cancelled."""
    deps = runtime.context
    cancelled = cancel_update(deps, state)
    if cancelled:
        return cancelled
    reasons, escalating = approval_reasons(deps, state)
    if not reasons:
        return {}
    round_ = state.get("approval_round", 0) + 1
    record = deps.tasks.get(state["task_id"])
    pending = record.pending_approval if record is not None else None
    if pending is None or pending.round != round_:
        pending = PendingApproval(round=round_, plan=state["plan"], violations=escalating, reasons=reasons)
        if record is not None:
            record.pending_approval = pending
            deps.tasks.save(record)
        emit(deps, state, "approval_requested", f"the plan waits for an operator ({', '.join(reasons)})",
             round=round_, reasons=reasons, violations=[v.model_dump(mode="json") for v in escalating])
        _transition(deps, state["task_id"], TaskStatus.awaiting_approval, None)
    decision = ApprovalDecision.model_validate(interrupt(pending.model_dump(mode="json")))
    return apply_decision(deps, state, pending, decision)


def apply_decision(deps: BrainDeps, state: TaskState, pending: PendingApproval, decision: ApprovalDecision) -> Update:
    """Record an operator's decision on the task (its `approvals`, an `approval` event) and act on it."""
    record = deps.tasks.get(state["task_id"])
    if record is not None and not any(a.round == pending.round for a in record.approvals):
        record.approvals.append(Approval(round=pending.round, decision=decision.decision, by=decision.by,
                                         reason=decision.reason, at=decision.at,
                                         violations=list(dict.fromkeys(v.rule for v in pending.violations)),
                                         edited_plan=decision.plan if decision.decision == "edit" else None))
        record.pending_approval = None
        deps.tasks.save(record)
    emit(deps, state, "approval", f"{decision.decision} by {decision.by}" + (f": {decision.reason}" if decision.reason else ""),
         round=pending.round, decision=decision.decision, by=decision.by, reason=decision.reason, at=decision.at)
    waited = max(0.0, time.time() - pending.requested_at)  # the task's deadline does not run while it waits
    update: Update = {"approval_round": pending.round, "started_at": (state.get("started_at") or time.time()) + waited}
    if decision.decision == "reject":
        return sync(deps, state, {**update, "status": TaskStatus.failed.value,
                                  "reason": f"rejected by {decision.by}: {decision.reason or 'no reason given'}"})
    if decision.decision == "cancel":
        return sync(deps, state, {**update, "status": TaskStatus.cancelled.value, "reason": "cancelled by request"})
    if decision.decision == "edit" and decision.plan is not None:
        edited = _fresh_ids(Plan.model_validate(decision.plan), set(state.get("subtasks") or {}), "e")
        scene = deps.scene.snapshot()  # the world may have moved since the API checked the edit
        profiles = [r.profile for r in online_robots(deps)]
        problems = validate(edited, scene, profiles) + [
            v.message for v in rules.rejections(rules.check(edited, scene, profiles, deps.config.constitution))]
        if problems:
            return sync(deps, state, {**update, "status": TaskStatus.failed.value,
                                      "reason": f"the plan as edited by {decision.by} no longer holds: " + "; ".join(problems)})
        dumped = edited.model_dump(mode="json")
        emit(deps, state, "plan", f"plan edited by {decision.by}: {len(edited.subtasks)} subtask(s)", plan=dumped,
             reports=dumped.get("reports") or [], edited_by=decision.by)
        return sync(deps, state, {**update, "plan": dumped, "checked_rev": scene.rev})
    return update


def dispatch(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Send every waiting subtask whose dependencies have succeeded to its robot."""
    deps = runtime.context
    cancelled = cancel_update(deps, state)
    if cancelled:
        return cancelled
    held = interrupt_update(deps, state)
    if held:
        return held
    subtasks = {k: dict(v) for k, v in (state.get("subtasks") or {}).items()}
    p = Plan.model_validate(state["plan"])
    for st in p.subtasks:
        if st.id not in subtasks:
            subtasks[st.id] = SubtaskState(id=st.id, robot=st.robot, description=st.description,
                                           depends_on=st.depends_on).model_dump(mode="json")
    ready = ready_subtasks(p, subtasks)
    send_subtasks(deps, state["task_id"], p, subtasks, ready)
    emit_dispatched(deps, state, p, subtasks, ready)
    return sync(deps, state, {"subtasks": subtasks, "status": TaskStatus.running.value})


def monitor(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Read the robots' results (blocking up to `monitor_block_ms`); watch for a cancel meanwhile.

    A success that makes further subtasks ready dispatches them here, first thing after the read —
    before the events, the task record and this step's checkpoint — when nothing but the plan's own
    robots touched what the rest of the plan uses since it was last found sound (`untouched_since`).
    Otherwise (a failure, or a world changed by someone else) `reflect` decides, with a dry run."""
    deps = runtime.context
    subtasks = {k: dict(v) for k, v in state["subtasks"].items()}
    cursor = state.get("cursor", "0")
    deadline = time.time() + deps.config.monitor_block_ms / 1000
    fresh: list[SubtaskResult] = []
    update: Update = {}
    holding = bool(state.get("interrupting"))  # an interrupt: await what is in flight, send nothing new
    while True:
        if deps.tasks.cancel_requested(state["task_id"]):
            stopped = stop_update(deps, {**state, "subtasks": subtasks, "cursor": cursor})
            if stopped:
                return {**stopped, "cursor": cursor}
            holding = holding or bool(interrupt_update(deps, {**state, "subtasks": subtasks}))
        got = deps.dispatcher.results(state["task_id"], after=cursor, block_ms=500)
        for entry_id, result in got:
            cursor = entry_id
            s = subtasks.get(result.subtask_id)
            if s is None or result.attempt != s["attempt"] or s["status"] != SubtaskStatus.dispatched.value:
                continue  # a stale or duplicate result (redelivery): already accounted for
            s["status"] = (SubtaskStatus.succeeded if result.success else SubtaskStatus.failed).value
            s["error"] = result.error
            s["failure"] = result.failure.model_dump(mode="json") if result.failure else None
            fresh.append(result)
        if got or time.time() >= deadline:
            break
    sent: list[str] = []
    p = Plan.model_validate(state["plan"]) if fresh and state.get("plan") else None
    if p is not None and not holding and all(r.success for r in fresh) and not any(
            subtasks.get(st.id, {}).get("status") == SubtaskStatus.failed.value for st in p.subtasks):
        ready = ready_subtasks(p, subtasks)
        rev = untouched_since(deps, p, subtasks, state.get("checked_rev")) if ready else None
        if rev is not None:
            send_subtasks(deps, state["task_id"], p, subtasks, ready)  # the handoff: nothing else before it
            sent = ready
            update = {"checked_rev": rev, "status": TaskStatus.running.value}
    # bookkeeping, after the dispatch
    for result in fresh:
        emit(deps, state, "result", f"{result.subtask_id} by {result.robot}: "
             + ("done" if result.success else f"failed ({result.failure_kind}): {result.error}"),
             robot=result.robot, subtask_id=result.subtask_id, success=result.success,
             actions=result.actions, failed_actions=result.failed_actions, failure_kind=result.failure_kind,
             failure=subtasks[result.subtask_id]["failure"])
    if p is not None and sent:
        emit_dispatched(deps, state, p, subtasks, sent)
    return sync(deps, state, {**update, "subtasks": subtasks, "cursor": cursor})


def reflect(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Decide what the results mean: wait, go on, replan (a failure, a changed world, unmet goals) or succeed."""
    deps = runtime.context
    if ended(state):
        return {}
    held = interrupt_update(deps, state)  # robots finish their step; nothing new is sent, nothing replanned
    if held:
        return held
    subtasks = current(state)
    statuses = [s["status"] for s in subtasks.values()]
    if time.time() - state.get("started_at", time.time()) > deps.config.task_timeout_s:
        return sync(deps, state, {"status": TaskStatus.failed.value, "subtasks": _cancel_open(dict(state["subtasks"])),
                                  "reason": f"timed out after {deps.config.task_timeout_s:.0f} s"})
    in_flight = SubtaskStatus.dispatched.value in statuses
    failed = [s for s in subtasks.values() if s["status"] == SubtaskStatus.failed.value]
    if failed and not in_flight:
        plan_now = Plan.model_validate(state["plan"])
        scene = deps.scene.snapshot()
        failures = list(state.get("failures") or []) + [
            failure_record(s, plan_now.subtask(s["id"]).steps,
                           scene.nodes[s["robot"]].flag("holding") if s["robot"] in scene.nodes else None)
            for s in failed]
        return replan(deps, state, [f"subtask {s['id']} ({s['robot']}: {s['description']}) failed: {s['error']}"
                                    for s in failed], failures=failures)
    if failed or in_flight:
        return {}
    if SubtaskStatus.waiting.value in statuses:
        changed, rev = remaining_problems(deps, state, subtasks)
        return replan(deps, state, ["the world changed, so the rest of the plan no longer works: "
                                    + "; ".join(changed)]) if changed else {"checked_rev": rev}
    plan_now = Plan.model_validate(state["plan"])
    goals = final_goals(plan_now.goals)  # the DAG ordered the stages on the way
    unmet = unmet_goals(deps.scene.node_dicts()[1], goals)
    if not unmet:
        emit(deps, state, "goals_met", "all goals hold in the scene graph: " + ", ".join(g.describe() for g in goals))
        impossible = [r for r in plan_now.reports if r.status == "infeasible"]
        if impossible:  # the feasible part is done; the task as asked is not
            return sync(deps, state, {"status": TaskStatus.failed.value, "reason": "done but for what cannot be: "
                                      + "; ".join(f"{r.goal.describe()}: {r.reason}" for r in impossible)})
        return sync(deps, state, {"status": TaskStatus.succeeded.value, "reason": None})
    return replan(deps, state, ["after all subtasks, these goals still do not hold: "
                                + ", ".join(g.describe() for g in unmet)])


def finish(state: TaskState, runtime: Runtime[BrainDeps]) -> Update:
    """Log the end, then record it: a client that stops reading at the terminal status has every event."""
    emit(runtime.context, state, "finished",
         f"task {state.get('status')}" + (f": {state['reason']}" if state.get("reason") else ""),
         status=state.get("status"))
    record = runtime.context.tasks.get(state["task_id"])
    status = TaskStatus(state["status"])
    # (an interrupt was recorded when it took effect; the task may be resumed already)
    if record is not None and record.status != status and status.terminal:
        _transition(runtime.context, record.id, status, state.get("reason"))
    return {}


# --------------------------------------------------------------------------- routing


def ended(state: TaskState) -> bool:
    """This run of the graph is over: the task finished, or was interrupted (a resume runs it again)."""
    if not state.get("status"):
        return False
    status = TaskStatus(state["status"])
    return status.terminal or status == TaskStatus.interrupted


def after_plan(state: TaskState) -> Literal["check", "finish"]:
    return "finish" if ended(state) else "check"


def after_check(state: TaskState) -> Literal["plan", "approve", "finish"]:
    if ended(state):
        return "finish"
    return "plan" if state.get("problems") else "approve"


def after_approve(state: TaskState) -> Literal["dispatch", "finish"]:
    return "finish" if ended(state) else "dispatch"


def after_reflect(state: TaskState) -> Literal["dispatch", "monitor", "perceive", "finish"]:
    if ended(state):
        return "finish"
    if state.get("status") == TaskStatus.planning.value:
        return "perceive"
    if state.get("interrupting"):
        return "monitor"  # await the subtasks in flight; send nothing new
    subtasks = current(state)
    done = {k for k, s in subtasks.items() if s["status"] == SubtaskStatus.succeeded.value}
    ready = any(s["status"] == SubtaskStatus.waiting.value and set(s["depends_on"]) <= done
                for s in subtasks.values())
    return "dispatch" if ready else "monitor"


# --------------------------------------------------------------------------- the graph


def graph_builder() -> StateGraph:
    """The loop's shape; `compile_graph` compiles it."""
    g = StateGraph(TaskState, context_schema=BrainDeps)
    for node in (perceive, plan, check, approve, dispatch, monitor, reflect, finish):
        g.add_node(node.__name__, node)
    g.add_edge(START, "perceive")
    g.add_edge("perceive", "plan")
    g.add_conditional_edges("plan", after_plan)
    g.add_conditional_edges("check", after_check)
    g.add_conditional_edges("approve", after_approve)
    g.add_edge("dispatch", "reflect")  # reflect routes a cancelled dispatch to finish
    g.add_edge("monitor", "reflect")
    g.add_conditional_edges("reflect", after_reflect)
    g.add_edge("finish", END)
    return g


def compile_graph(checkpointer: Any = None):
    """The brain's graph, compiled. Nothing task- or deployment-specific is baked in, so one compiled
    graph serves every task of a process (the TaskRunner compiles it once): run a task with
    `graph.invoke(state, config, context=deps)`."""
    return graph_builder().compile(checkpointer=checkpointer)


# --------------------------------------------------------------------------- small pure helpers


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


def _cancel_open(subtasks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for k, s in subtasks.items():
        s = dict(s)
        if s["status"] in (SubtaskStatus.waiting.value, SubtaskStatus.dispatched.value):
            s["status"] = SubtaskStatus.cancelled.value
        out[k] = s
    return out


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _call_data(call: ModelCall) -> dict[str, Any]:
    """What a plan event records of the model call behind it."""
    return {"latency_s": round(call.latency_s, 3), "attempts": call.attempts, "output_format": call.output_format,
            "usage": {"prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens}}


def _add_call(state: TaskState, call: ModelCall) -> dict[str, float]:
    """The task's model metrics with one more call added."""
    m = dict(state.get("metrics") or {})
    for key, value in (("model_calls", call.calls), ("model_attempts", call.attempts),
                       ("prompt_tokens", call.prompt_tokens), ("completion_tokens", call.completion_tokens),
                       ("model_latency_s", call.latency_s), ("tokens", call.prompt_tokens + call.completion_tokens)):
        m[key] = round(m.get(key, 0) + value, 3)
    return m


def _add_planning(metrics: dict[str, float], planning_ms: float) -> dict[str, float]:
    """The metrics with one more planner call's time added (`planning_ms`, summed; `planner_calls`, counted)."""
    return {**metrics, "planning_ms": round(metrics.get("planning_ms", 0) + planning_ms, 1),
            "planner_calls": metrics.get("planner_calls", 0) + 1}
