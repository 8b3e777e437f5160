"""The scene graph in Redis: nodes changed only by atomic, revisioned deltas with a change log.

Every write is one Lua call that merges field-level patches, bumps the revision and appends the
delta to a stream whose entry id is "<rev>-0", so readers can ask "what changed since rev N" and
replay the log to the same graph. No writer ever rewrites a whole document it read earlier.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import networkx
import orjson
import redis
from pydantic import BaseModel, Field, TypeAdapter

from ._lua import script
from .keys import Keys
from .schemas import NodePatch, SceneChange, SceneDelta, SceneNode, SceneSnapshot, Vec3


class StaleRevision(Exception):
    """The asked-for revision is older than the oldest change still in the (capped) change log:
    the reader must take a fresh snapshot instead of catching up change by change."""

    def __init__(self, rev: int, oldest_available: int | None):
        self.rev = rev
        self.oldest_available = oldest_available
        super().__init__(
            f"revision {rev} is no longer in the change log (oldest change kept: {oldest_available}); "
            "take a snapshot instead"
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _normalized_fields(patch: NodePatch) -> dict[str, Any]:
    """The patch's fields validated against SceneNode and in their JSON form (id is never patched)."""
    if not patch.set:
        return {}
    node = SceneNode.model_validate({**patch.set, "id": patch.id})
    dumped = node.model_dump(mode="json")
    return {k: dumped[k] for k in patch.set if k != "id"}


def _normalized(delta_patches: list[NodePatch]) -> list[NodePatch]:
    return [NodePatch(id=p.id, set=_normalized_fields(p), remove=p.remove) for p in delta_patches]


_DEFAULTS = {name: field.default for name, field in SceneNode.model_fields.items()
             if not field.is_required() and field.default_factory is None}
_FACTORIES = {name: field.default_factory for name, field in SceneNode.model_fields.items()
              if field.default_factory is not None}


def _with_defaults(node: dict[str, Any]) -> dict[str, Any]:
    """A stored node with SceneNode's defaults for the fields it lacks (fresh lists for each node)."""
    out = {**_DEFAULTS, **node}
    for name, factory in _FACTORIES.items():
        if name not in node:
            out[name] = factory()  # type: ignore[call-arg]
    return out


_NODE_LIST = TypeAdapter(list[SceneNode])


def apply_patches(nodes: dict[str, dict[str, Any]], patches: list[NodePatch]) -> None:
    """Apply patches to plain node dicts exactly as the Lua script does (used to replay the log)."""
    for p in patches:
        if p.remove:
            nodes.pop(p.id, None)
            if not p.set:
                continue
        node = nodes.setdefault(p.id, {"id": p.id})
        node.update({k: v for k, v in p.set.items() if k != "id"})


class Footprint(BaseModel):
    """Where a piece of furniture stands, seen from above (its bounding box centre and size, metres)."""

    id: str
    type: str
    x: float
    z: float
    size_x: float = Field(ge=0)
    size_z: float = Field(ge=0)


class FloorPlan(BaseModel):
    """The floor of the scene, for drawing maps: the grid cells a robot can stand on and the furniture."""

    scene: str
    grid: float = Field(default=0.25, gt=0, description="cell size in metres")
    reachable: list[tuple[float, float]] = Field(default_factory=list, description="(x, z) cell centres")
    furniture: list[Footprint] = Field(default_factory=list)


class SceneGraphStore:
    def __init__(self, r: redis.Redis, keys: Keys, max_changes: int = 10_000):
        if max_changes < 1:
            raise ValueError("max_changes must be >= 1")
        self.r = r
        self.keys = keys
        self.max_changes = max_changes
        self._apply = script(r, "scene_apply")
        self._reset = script(r, "scene_reset")
        # The last snapshot's nodes by their stored document: a document read again unchanged needs
        # no validation (validation is a function of the document), only a copy of its model.
        self._validated: dict[str, SceneNode] = {}

    # ------------------------------------------------------------------ writes

    def apply(self, delta: SceneDelta) -> int:
        """Apply a delta atomically and return the new revision (the current one if it is empty)."""
        if not delta.patches:
            return self.revision()
        patches = _normalized(delta.patches)
        args: list[Any] = [
            self.keys.scene_node_fields(""),
            self.max_changes,
            delta.source,
            repr(time.time()),
            _dumps([p.model_dump(mode="json") for p in patches]),
            len(patches),
        ]
        for p in patches:
            args += [p.id, _dumps(p.id), "1" if p.remove else "0", len(p.set)]
            for field, value in p.set.items():
                args += [_dumps(field), _dumps(value)]
        return int(self._apply(keys=self._write_keys(), args=args))

    def reset(self, nodes: list[SceneNode], source: str = "reset") -> int:
        """Replace the whole graph atomically; logged like any other change."""
        dumped = {n.id: n.model_dump(mode="json") for n in nodes}
        patches = [
            {"id": nid, "set": {k: v for k, v in fields.items() if k != "id"}, "remove": False}
            for nid, fields in dumped.items()
        ]
        args: list[Any] = [
            self.keys.scene_node_fields(""),
            self.max_changes,
            source,
            repr(time.time()),
            _dumps(patches),
            len(dumped),
        ]
        for nid, fields in dumped.items():
            args += [nid, len(fields)]
            for field, value in fields.items():
                args += [_dumps(field), _dumps(value)]
        return int(self._reset(keys=self._write_keys(), args=args))

    def set_floor_plan(self, plan: FloorPlan) -> None:
        """Store the floor plan of the loaded scene (it is not part of the revisioned graph: it does not change)."""
        self.r.set(self.keys.scene_floor, plan.model_dump_json())

    def floor_plan(self) -> FloorPlan | None:
        doc = self.r.get(self.keys.scene_floor)
        return FloorPlan.model_validate_json(doc) if doc is not None else None

    def _write_keys(self) -> list[str]:
        return [self.keys.scene_nodes, self.keys.scene_rev, self.keys.scene_changes]

    # ------------------------------------------------------------------ reads

    def _read_docs(self) -> tuple[int, list[str]]:
        """The revision and every node document, read together in one round trip: a MULTI/EXEC of
        GET and HVALS, so no write lands between them. Each stored node document carries its own id
        (both write scripts store it), so the documents need no keys."""
        pipe = self.r.pipeline(transaction=True)
        pipe.get(self.keys.scene_rev)
        pipe.hvals(self.keys.scene_nodes)
        rev, docs = pipe.execute()
        if docs and isinstance(docs[0], bytes):  # a client without decode_responses
            docs = [d.decode() for d in docs]
        return int(rev or 0), docs

    def _read_all(self) -> tuple[int, str]:
        """The same as one JSON array (joining here is cheaper than building one document in Lua)."""
        rev, docs = self._read_docs()
        return rev, "[" + ",".join(docs) + "]"

    def snapshot(self) -> SceneSnapshot:
        """Revision and nodes from one atomic read, every node a validated SceneNode. The documents
        that changed since this store's last snapshot are validated together, in one pydantic
        `validate_json` call; a document read again unchanged reuses its validated model. Each node
        returned is a copy of its own (`model_copy`): setting a field on it changes no other
        snapshot; its nested position and relations are shared, to be replaced, not edited in place."""
        rev, docs = self._read_docs()
        known = self._validated
        new = [doc for doc in docs if doc not in known]
        fresh = dict(zip(new, _NODE_LIST.validate_json("[" + ",".join(new) + "]"))) if new else {}
        validated = {doc: fresh[doc] if doc in fresh else known[doc] for doc in docs}
        self._validated = validated
        return SceneSnapshot(rev=rev, nodes={n.id: n.model_copy() for n in validated.values()})

    def node_dicts(self) -> tuple[int, dict[str, dict[str, Any]]]:
        """The revision and every node as plain dicts, from the same atomic read as `snapshot()` but
        not validated again (each node was validated when written): for goal checks and dry runs,
        which work on dicts, at a fraction of the cost (make bench BENCH=latency)."""
        rev, doc = self._read_all()
        return rev, {node["id"]: _with_defaults(node) for node in orjson.loads(doc)}

    def node(self, node_id: str) -> SceneNode | None:
        doc = self.r.hget(self.keys.scene_nodes, node_id)
        return SceneNode.model_validate_json(doc) if doc is not None else None

    def revision(self) -> int:
        return int(self.r.get(self.keys.scene_rev) or 0)

    def changes_since(self, rev: int, limit: int | None = None) -> list[SceneChange]:
        """Changes with revision > rev, oldest first. Raises StaleRevision if some were trimmed."""
        # The revision is read before the log: a change landing between the two reads is then in the
        # log read, never mistaken for a trimmed one (which would skip it behind a snapshot).
        current = self.revision()
        entries = self.r.xrange(self.keys.scene_changes, min=f"{rev + 1}-0", count=limit)
        if entries:
            first = int(entries[0][0].split("-")[0])
            if first > rev + 1:
                raise StaleRevision(rev, first)
            return [_change(entry_id, fields) for entry_id, fields in entries]
        if current > rev:  # everything after rev was trimmed (or the log was deleted)
            oldest = self.r.xrange(self.keys.scene_changes, count=1)
            raise StaleRevision(rev, int(oldest[0][0].split("-")[0]) if oldest else None)
        return []

    def wait_for_change(self, rev: int, timeout_s: float) -> int:
        """Block until the revision is past `rev` or the timeout passes; return the current revision."""
        current = self.revision()
        if current > rev or timeout_s <= 0:
            return current
        block_ms = max(1, int(timeout_s * 1000))
        self.r.xread({self.keys.scene_changes: f"{rev}-0"}, count=1, block=block_ms)
        return self.revision()


def _change(entry_id: str, fields: dict[str, str]) -> SceneChange:
    return SceneChange(
        rev=int(entry_id.split("-")[0]),
        source=fields["source"],
        at=float(fields["at"]),
        patches=[NodePatch.model_validate(p) for p in json.loads(fields["patches"])],
    )


def replay(changes: list[SceneChange], base: SceneSnapshot | None = None) -> SceneSnapshot:
    """The graph that results from applying `changes` (in revision order) to `base`."""
    nodes = {nid: n.model_dump(mode="json") for nid, n in (base.nodes.items() if base else [])}
    rev = base.rev if base else 0
    for change in sorted(changes, key=lambda c: c.rev):
        apply_patches(nodes, change.patches)
        rev = change.rev
    return SceneSnapshot(rev=rev, nodes={nid: SceneNode.model_validate(d) for nid, d in nodes.items()})


# ---------------------------------------------------------------------- graph helpers


def to_networkx(snapshot: SceneSnapshot) -> networkx.MultiDiGraph:
    """Nodes carry their fields as attributes; each relation is an edge keyed by its `rel`."""
    g = networkx.MultiDiGraph(rev=snapshot.rev)
    for nid, node in snapshot.nodes.items():
        g.add_node(nid, **node.model_dump(mode="json", exclude={"id", "relations"}))
    for nid, node in snapshot.nodes.items():
        for rel in node.relations:
            g.add_edge(nid, rel.target, key=rel.rel, rel=rel.rel)
    return g


def contents(snapshot: SceneSnapshot, receptacle_id: str) -> list[SceneNode]:
    """Nodes directly in or on the receptacle."""
    return [n for n in snapshot.nodes.values() if receptacle_id in n.parents()]


def nearest(snapshot: SceneSnapshot, object_type: str, position: Vec3) -> SceneNode | None:
    """The node of `object_type` closest to `position` (nodes without a position are skipped)."""
    best, best_d = None, math.inf
    for n in snapshot.nodes.values():
        if n.objectType != object_type or n.position is None:
            continue
        d = math.dist((n.position.x, n.position.y, n.position.z), (position.x, position.y, position.z))
        if d < best_d:
            best, best_d = n, d
    return best
