"""Plan approval: read the plan a task waits with, approve it, reject it, or edit it (issue 16.4).

The decision is written to Redis (memory/approvals.py); the brain replica that holds the task resumes its
graph with it (LangGraph `Command(resume=...)`, see brain/graph.py `approve`). An edit is checked here
first, against the scene and robots as they are now, by the validator and the safety constitution:
an invalid edit is refused with 422 and the reasons, and the task keeps waiting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from robocortex.brain import constitution as rules
from robocortex.brain.plan import Plan
from robocortex.brain.validator import validate
from robocortex.client.models import ApprovalAccepted, PendingPlan
from robocortex.memory.approvals import ApprovalStore
from robocortex.memory.schemas import ApprovalDecision, RobotStatus, TaskRecord, TaskStatus

from robocortex.agents.api.deps import ActorDep, MemoryDep
from robocortex.agents.api.errors import error_responses
from robocortex.agents.api.tasks import ExistingTask

router = APIRouter(prefix="/tasks", tags=["approvals"])

Who = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S", description="who decides (recorded on the task)")]


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"by": "alice", "reason": "checked"}]})

    by: Who = "operator"
    reason: str = Field(default="", max_length=2000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"by": "alice", "reason": "the oven is in use"}]})

    by: Who = "operator"
    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="why (the task fails with it)")


class PlanEdit(BaseModel):
    # The Plan schema as the API sends it (GET .../plan), so the OpenAPI has one Plan, not Plan-Input/-Output.
    model_config = ConfigDict(extra="forbid", json_schema_mode_override="serialization")

    plan: Plan = Field(description="the pending plan as changed: subtasks removed, robots reassigned…")
    by: Who = "operator"
    reason: str = Field(default="", max_length=2000)


def get_constitution(request: Request) -> rules.Constitution:
    return getattr(request.app.state, "constitution", None) or rules.default()


ConstitutionDep = Annotated[rules.Constitution, Depends(get_constitution)]


def _who(actor: str, named: str) -> str:
    """Who decided: the caller's API key when keys are in use (a body cannot speak for someone else);
    on an open service, the name the body gives."""
    return named if actor == "anonymous" else actor


def _pending(record: TaskRecord):
    if record.status != TaskStatus.awaiting_approval or record.pending_approval is None:
        raise HTTPException(409, f"task {record.id} is {record.status.value}, not awaiting_approval; "
                                 "only a plan that waits for an operator can be approved, rejected or edited")
    return record.pending_approval


def _decide(memory: MemoryDep, record: TaskRecord, decision: Literal["approve", "reject", "edit"], by: str,
            reason: str, plan: dict | None = None) -> ApprovalAccepted:
    pending = _pending(record)
    stored = ApprovalStore(memory.r, memory.keys).decide(
        record.id, ApprovalDecision(round=pending.round, decision=decision, by=by, reason=reason, plan=plan))
    if not stored:
        raise HTTPException(409, f"task {record.id}: round {pending.round} is already decided; "
                                 "the brain is acting on that decision")
    return ApprovalAccepted(task_id=record.id, round=pending.round, decision=decision, by=by,
                            url=f"/tasks/{record.id}")


@router.get("/{task_id}/plan", response_model=PendingPlan, responses=error_responses(404, 409))
def pending_plan(task: ExistingTask) -> PendingPlan:
    """The plan the task waits with (status awaiting_approval), its escalating violations and reasons."""
    pending = _pending(task)
    return PendingPlan(task_id=task.id, round=pending.round, plan=Plan.model_validate(pending.plan),
                       violations=pending.violations, reasons=pending.reasons, requested_at=pending.requested_at)


@router.post("/{task_id}/approve", status_code=202, response_model=ApprovalAccepted,
             responses=error_responses(400, 404, 409))
def approve_plan(task: ExistingTask, memory: MemoryDep, body: ApproveBody, actor: ActorDep) -> ApprovalAccepted:
    """Dispatch the pending plan as it is."""
    return _decide(memory, task, "approve", _who(actor, body.by), body.reason)


@router.post("/{task_id}/reject", status_code=202, response_model=ApprovalAccepted,
             responses=error_responses(400, 404, 409))
def reject_plan(task: ExistingTask, memory: MemoryDep, body: RejectBody, actor: ActorDep) -> ApprovalAccepted:
    """The task fails with `rejected by <by>: <reason>`."""
    return _decide(memory, task, "reject", _who(actor, body.by), body.reason)


@router.post("/{task_id}/plan", status_code=202, response_model=ApprovalAccepted,
             responses=error_responses(400, 404, 409))
async def edit_plan(task: ExistingTask, memory: MemoryDep, body: PlanEdit, constitution: ConstitutionDep,
                    actor: ActorDep) -> ApprovalAccepted:
    """Dispatch this plan instead of the pending one (remove a subtask, reassign a robot…). It must pass the
    validator (a dry run on the scene now, with the robots online) and the constitution's rejecting rules:
    otherwise 422 with the reasons, and the task keeps waiting. Escalating rules it meets are approved by
    the edit itself."""
    _pending(task)

    def problems() -> list[str]:
        scene = memory.scene.snapshot()
        profiles = [r.profile for r in memory.robots.list() if r.status != RobotStatus.offline]
        found = validate(body.plan, scene, profiles)
        if not found:
            found = [f"rule {v.rule!r}: {v.message}"
                     for v in rules.rejections(rules.check(body.plan, scene, profiles, constitution))]
        return found

    found = await run_in_threadpool(problems)
    if found:
        raise HTTPException(422, "the edited plan is refused: " + "; ".join(found))
    return await run_in_threadpool(_decide, memory, task, "edit", _who(actor, body.by), body.reason,
                                   body.plan.model_dump(mode="json"))
