"""Operators' decisions on plans waiting for approval: the API writes one, the brain's runner reads it
and resumes the task's graph with it (LangGraph `Command(resume=...)`).

One key per task (`Keys.task_decision`) holding the decision for the pending round. It stays until the
task's graph has taken it (the runner clears it after resuming), so a brain that dies in between finds it
again on restart; a decision for another round (an older plan) is ignored.
"""

from __future__ import annotations

import redis

from .keys import Keys
from .schemas import ApprovalDecision

DECISION_TTL_S = 24 * 3600


class ApprovalStore:
    def __init__(self, r: redis.Redis, keys: Keys):
        self.r = r
        self.keys = keys

    def decide(self, task_id: str, decision: ApprovalDecision) -> bool:
        """Store `decision` unless one for the same round is already waiting; True if stored."""
        key, doc = self.keys.task_decision(task_id), decision.model_dump_json()
        if self.r.set(key, doc, ex=DECISION_TTL_S, nx=True):  # the first decision on the round wins
            return True
        current = self.get(task_id)
        if current is not None and current.round == decision.round:
            return False
        return bool(self.r.set(key, doc, ex=DECISION_TTL_S))  # a stale decision of an earlier round

    def get(self, task_id: str) -> ApprovalDecision | None:
        doc = self.r.get(self.keys.task_decision(task_id))
        return ApprovalDecision.model_validate_json(doc) if doc is not None else None

    def clear(self, task_id: str, round_: int | None = None) -> None:
        """Drop the stored decision (only the one for `round_` when given)."""
        if round_ is not None:
            current = self.get(task_id)
            if current is None or current.round != round_:
                return
        self.r.delete(self.keys.task_decision(task_id))
