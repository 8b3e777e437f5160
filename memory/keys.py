"""Every Redis key RoboCortex uses, in one place (see docs/memory.md for types and lifetimes).

All keys share a deployment prefix so several deployments can share one Redis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "rc"

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # scene graph
    @property
    def scene_nodes(self) -> str:  # hash: node id -> node JSON; forever
        return self._k("scene", "nodes")

    @property
    def scene_rev(self) -> str:  # string (int): current revision; forever
        return self._k("scene", "rev")

    @property
    def scene_changes(self) -> str:  # stream, id = "<rev>-0": one entry per delta; capped
        return self._k("scene", "changes")

    @property
    def scene_floor(self) -> str:  # string: FloorPlan JSON (reachable floor, furniture); replaced per scene
        return self._k("scene", "floor")

    def scene_node_fields(self, node_id: str) -> str:  # hash: JSON-encoded field name -> JSON value; forever
        # The source of truth for one node's fields; scene_nodes holds the same node as one JSON
        # document, rebuilt from this hash by the same Lua call that changes it.
        return self._k("scene", "node", node_id)

    # robots
    @property
    def robots(self) -> str:  # hash: robot name -> RobotProfile JSON; forever
        return self._k("robots")

    @property
    def robots_seen(self) -> str:  # hash: robot name -> time of its last heartbeat; forever
        return self._k("robots", "seen")

    def robot_alive(self, name: str) -> str:  # string: last heartbeat; own TTL per robot
        return self._k("robot", name, "alive")

    def robot_work(self, name: str) -> str:  # string: current subtask key; own TTL per robot
        return self._k("robot", name, "work")

    def robot_claim(self, name: str) -> str:  # string (SET NX, heartbeat TTL): a worker is starting under this name
        return self._k("robot", name, "claim")

    # tasks
    @property
    def tasks(self) -> str:  # hash: task id -> TaskRecord JSON; forever
        return self._k("tasks")

    @property
    def task_index(self) -> str:  # sorted set: task id scored by created_at; forever (listing, newest first)
        return self._k("tasks", "index")

    @property
    def task_queue(self) -> str:  # stream + group "brains": submitted task ids
        return self._k("tasks", "queue")

    @property
    def task_delayed(self) -> str:  # sorted set: task id scored by its earliest start; until queued again
        return self._k("tasks", "delayed")

    def task_events(self, task_id: str) -> str:  # stream: TaskEvent JSON; capped
        return self._k("task", task_id, "events")

    def task_cancel(self, task_id: str) -> str:  # string flag: cancel requested; 1 day (before task_control)
        return self._k("task", task_id, "cancel")

    def task_control(self, task_id: str) -> str:  # string: TaskControl JSON (cancel/kill/interrupt asked); 1 day
        return self._k("task", task_id, "control")

    def task_idempotency(self, key: str) -> str:  # string: task id submitted with this idempotency key; retention
        return self._k("tasks", "idem", key)

    def task_decision(self, task_id: str) -> str:  # string: ApprovalDecision JSON for the pending plan; 1 day
        return self._k("task", task_id, "decision")

    # dispatch
    def inbox(self, robot: str) -> str:  # stream + group "robots": SubtaskMessage JSON
        return self._k("inbox", robot)

    def results(self, task_id: str) -> str:  # stream: SubtaskResult JSON
        return self._k("task", task_id, "results")

    def done(self, message_key: str) -> str:  # string: SubtaskResult JSON (idempotency); 7 days
        return self._k("done", message_key)

    def attempt(self, message_key: str) -> str:
        # hash: "starts" (workers that began it), "steps" (steps finished); same TTL as done
        return self._k("attempt", message_key)

    @property
    def dead_letter(self) -> str:  # stream: messages past the delivery limit
        return self._k("dispatch", "dead")

    # access control (memory/apikeys.py)
    @property
    def api_keys(self) -> str:  # hash: key id -> ApiKeyRecord JSON (sha256 of the token, never the token); forever
        return self._k("apikeys")

    @property
    def api_keys_revoked(self) -> str:  # hash: key id -> ApiKeyRecord JSON with revoked_at; forever (audit)
        return self._k("apikeys", "revoked")

    # robot administration (memory/robots.py)
    @property
    def robots_decommissioned(self) -> str:  # hash: robot name -> time it was decommissioned; until removed
        return self._k("robots", "decommissioned")

    # reservations
    def reservation(self, object_id: str) -> str:  # string: owner; TTL
        return self._k("reserve", object_id)

    # checkpoints (LangGraph)
    def checkpoint(self, thread_id: str, ns: str, checkpoint_id: str) -> str:
        # hash: checkpoint, metadata (serde bytes), parent id, run id; until the thread is deleted
        return self._k("ckpt", thread_id, ns, checkpoint_id)

    def checkpoint_index(self, thread_id: str, ns: str) -> str:  # sorted set of checkpoint ids (score 0)
        return self._k("ckpt_idx", thread_id, ns)

    def checkpoint_writes(self, thread_id: str, ns: str, checkpoint_id: str) -> str:
        # hash: "<task id>\x00<idx>" -> one pending write; until the thread is deleted
        return self._k("ckpt_w", thread_id, ns, checkpoint_id)

    @property
    def checkpoint_threads(self) -> str:  # set of thread ids with checkpoints
        return self._k("ckpt_threads")

    def checkpoint_namespaces(self, thread_id: str) -> str:  # set of the thread's checkpoint namespaces
        return self._k("ckpt_ns", thread_id)

    def checkpoint_blobs(self, thread_id: str, ns: str) -> str:  # hash: [channel, version] JSON -> value
        return self._k("ckpt_blobs", thread_id, ns)


ROBOT_GROUP = "robots"
BRAIN_GROUP = "brains"
