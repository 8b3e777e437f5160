"""A LangGraph checkpointer on plain Redis (6.2+; no RedisJSON or RediSearch needed).

Layout (keys in keys.py; thread ids and namespaces are escaped so ":" in them stays unambiguous):
  ckpt:<thread>:<ns>:<id>      hash   checkpoint, metadata (serde-typed bytes), parent id, run id
  ckpt_idx:<thread>:<ns>       zset   checkpoint ids, all score 0, so they sort by id (= time)
  ckpt_w:<thread>:<ns>:<id>    hash   "<task_id>\\x00<idx>" -> one pending write
  ckpt_blobs:<thread>:<ns>     hash   [channel, version] -> channel value (stored once per version)
  ckpt_ns:<thread>             set    the thread's namespaces;  ckpt_threads  set of thread ids
A thread's keys live until it is deleted, or until `expire` gives them a TTL (the runner does so for a
finished task's thread, after pruning it to its last checkpoint, with the task retention).
Each put / put_writes / delete is one MULTI/EXEC. Values are the saver's serde output, stored as
bytes on a binary client that shares the given client's connection settings.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import redis
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    SerializerProtocol,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)

from .keys import Keys


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


def _pack(typed: tuple[str, bytes]) -> bytes:
    kind, data = typed
    return kind.encode() + b"\n" + data


def _unpack(raw: bytes) -> tuple[str, bytes]:
    kind, _, data = raw.partition(b"\n")
    return kind.decode(), data


def binary_client(r: redis.Redis) -> redis.Redis:
    """A client on the same server as `r` that returns bytes (checkpoints are binary)."""
    pool = r.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k != "himport_registry"}
    kwargs["decode_responses"] = False
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))


class RedisCheckpointSaver(BaseCheckpointSaver[str]):
    def __init__(self, r: redis.Redis, keys: Keys, *, serde: SerializerProtocol | None = None):
        super().__init__(serde=serde)
        self.r = binary_client(r)
        self.keys = keys

    # ------------------------------------------------------------------ key helpers

    def _ckpt(self, thread: str, ns: str, cid: str) -> str:
        return self.keys.checkpoint(_escape(thread), _escape(ns), cid)

    def _index(self, thread: str, ns: str) -> str:
        return self.keys.checkpoint_index(_escape(thread), _escape(ns))

    def _writes(self, thread: str, ns: str, cid: str) -> str:
        return self.keys.checkpoint_writes(_escape(thread), _escape(ns), cid)

    def _blobs(self, thread: str, ns: str) -> str:
        return self.keys.checkpoint_blobs(_escape(thread), _escape(ns))

    def _namespaces(self, thread: str) -> str:
        return self.keys.checkpoint_namespaces(_escape(thread))

    @staticmethod
    def _blob_field(channel: str, version: str | int | float) -> str:
        return json.dumps([channel, version])

    # ------------------------------------------------------------------ writes

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        conf = config["configurable"]
        thread, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        c = dict(checkpoint)
        values: dict[str, Any] = c.pop("channel_values", {})  # type: ignore[assignment]
        meta = get_checkpoint_metadata(config, metadata)
        blobs = {
            self._blob_field(ch, ver): _pack(self.serde.dumps_typed(values[ch]) if ch in values else ("empty", b""))
            for ch, ver in new_versions.items()
        }
        record = {
            "checkpoint": _pack(self.serde.dumps_typed(c)),
            "metadata": _pack(self.serde.dumps_typed(meta)),
            "parent": conf.get("checkpoint_id") or "",
            "run_id": str(meta.get("run_id") or ""),
        }
        with self.r.pipeline(transaction=True) as pipe:
            if blobs:
                pipe.hset(self._blobs(thread, ns), mapping=blobs)
            pipe.hset(self._ckpt(thread, ns, checkpoint["id"]), mapping=record)
            pipe.zadd(self._index(thread, ns), {checkpoint["id"]: 0})
            pipe.sadd(self._namespaces(thread), ns)
            pipe.sadd(self.keys.checkpoint_threads, thread)
            pipe.execute()
        return {"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        conf = config["configurable"]
        key = self._writes(conf["thread_id"], conf.get("checkpoint_ns", ""), conf["checkpoint_id"])
        with self.r.pipeline(transaction=True) as pipe:
            for idx, (channel, value) in enumerate(writes):
                widx = WRITES_IDX_MAP.get(channel, idx)
                field = f"{task_id}\x00{widx}"
                header = json.dumps([task_id, channel, task_path, widx]).encode()
                doc = header + b"\n" + _pack(self.serde.dumps_typed(value))
                if widx >= 0:  # ordinary writes are kept as first written; special ones replace
                    pipe.hsetnx(key, field, doc)
                else:
                    pipe.hset(key, field, doc)
            pipe.execute()

    def delete_thread(self, thread_id: str) -> None:
        namespaces = [ns.decode() for ns in self.r.smembers(self._namespaces(thread_id))]
        doomed = [self._namespaces(thread_id)]
        for ns in namespaces:
            for cid in self.r.zrange(self._index(thread_id, ns), 0, -1):
                doomed += [self._ckpt(thread_id, ns, cid.decode()), self._writes(thread_id, ns, cid.decode())]
            doomed += [self._index(thread_id, ns), self._blobs(thread_id, ns)]
        with self.r.pipeline(transaction=True) as pipe:
            for i in range(0, len(doomed), 500):
                pipe.delete(*doomed[i : i + 500])
            pipe.srem(self.keys.checkpoint_threads, thread_id)
            pipe.execute()

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        wanted = {str(r) for r in run_ids}
        if not wanted:
            return
        for thread in self._threads():
            for ns in self._thread_namespaces(thread):
                cids = [c.decode() for c in self.r.zrange(self._index(thread, ns), 0, -1)]
                with self.r.pipeline(transaction=False) as pipe:
                    for cid in cids:
                        pipe.hget(self._ckpt(thread, ns, cid), "run_id")
                    runs = pipe.execute()
                doomed = [cid for cid, run in zip(cids, runs) if run is not None and run.decode() in wanted]
                self._delete_checkpoints(thread, ns, doomed)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        for ns in self._thread_namespaces(source_thread_id):
            cids = [c.decode() for c in self.r.zrange(self._index(source_thread_id, ns), 0, -1)]
            with self.r.pipeline(transaction=False) as pipe:
                pipe.hgetall(self._blobs(source_thread_id, ns))
                for cid in cids:
                    pipe.hgetall(self._ckpt(source_thread_id, ns, cid))
                    pipe.hgetall(self._writes(source_thread_id, ns, cid))
                blobs, *rest = pipe.execute()
            with self.r.pipeline(transaction=True) as pipe:
                if blobs:
                    pipe.hset(self._blobs(target_thread_id, ns), mapping=blobs)
                for i, cid in enumerate(cids):
                    record, writes = rest[2 * i], rest[2 * i + 1]
                    if not record:
                        continue
                    record[b"metadata"] = self._retarget(record[b"metadata"], target_thread_id)
                    pipe.hset(self._ckpt(target_thread_id, ns, cid), mapping=record)
                    if writes:
                        pipe.hset(self._writes(target_thread_id, ns, cid), mapping=writes)
                    pipe.zadd(self._index(target_thread_id, ns), {cid: 0})
                pipe.sadd(self._namespaces(target_thread_id), ns)
                pipe.sadd(self.keys.checkpoint_threads, target_thread_id)
                pipe.execute()

    def _retarget(self, packed_metadata: bytes, thread_id: str) -> bytes:
        meta = self.serde.loads_typed(_unpack(packed_metadata))
        if isinstance(meta, dict) and "thread_id" in meta:
            meta = {**meta, "thread_id": thread_id}
        return _pack(self.serde.dumps_typed(meta))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """"keep_latest" keeps each namespace's newest checkpoint; "delete" removes the threads.
        (Not DeltaChannel-aware: do not keep_latest-prune threads of graphs that use DeltaChannel.)"""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        for thread in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread)
                continue
            for ns in self._thread_namespaces(thread):
                cids = [c.decode() for c in self.r.zrange(self._index(thread, ns), 0, -1)]
                self._delete_checkpoints(thread, ns, cids[:-1])
                if cids:
                    self._drop_unreferenced_blobs(thread, ns, cids[-1])

    def expire(self, thread_ids: Sequence[str], seconds: int) -> None:
        """Give every key of the threads a TTL of `seconds` (a finished task's thread, after `prune`).
        The threads leave `ckpt_threads` at once, so that set names only threads that do not expire."""
        ttl = max(1, int(seconds))
        for thread in thread_ids:
            keys = [self._namespaces(thread)]
            for ns in self._thread_namespaces(thread):
                for cid in self.r.zrange(self._index(thread, ns), 0, -1):
                    keys += [self._ckpt(thread, ns, cid.decode()), self._writes(thread, ns, cid.decode())]
                keys += [self._index(thread, ns), self._blobs(thread, ns)]
            with self.r.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.expire(key, ttl)  # a key that does not exist (no pending writes) is left alone
                pipe.srem(self.keys.checkpoint_threads, thread)
                pipe.execute()

    async def aexpire(self, thread_ids: Sequence[str], seconds: int) -> None:
        await asyncio.to_thread(self.expire, thread_ids, seconds)

    def _drop_unreferenced_blobs(self, thread: str, ns: str, kept: str) -> None:
        raw = self.r.hget(self._ckpt(thread, ns, kept), "checkpoint")
        if raw is None:
            return
        versions = self.serde.loads_typed(_unpack(raw)).get("channel_versions", {})
        keep = {self._blob_field(ch, ver) for ch, ver in versions.items()}
        stale = [f for f in self.r.hkeys(self._blobs(thread, ns)) if f.decode() not in keep]
        if stale:
            self.r.hdel(self._blobs(thread, ns), *stale)

    def _delete_checkpoints(self, thread: str, ns: str, cids: list[str]) -> None:
        if not cids:
            return
        with self.r.pipeline(transaction=True) as pipe:
            for cid in cids:
                pipe.delete(self._ckpt(thread, ns, cid), self._writes(thread, ns, cid))
            pipe.zrem(self._index(thread, ns), *cids)
            pipe.execute()

    # ------------------------------------------------------------------ reads

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        cid = get_checkpoint_id(config)
        if not cid:
            latest = self.r.zrevrange(self._index(thread, ns), 0, 0)
            if not latest:
                return None
            cid = latest[0].decode()
        return self._load(thread, ns, cid)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Newest first within each thread and namespace."""
        conf = config["configurable"] if config else {}
        threads = [conf["thread_id"]] if conf.get("thread_id") is not None else sorted(self._threads())
        only_ns = conf.get("checkpoint_ns")
        only_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        remaining = limit
        for thread in threads:
            namespaces = [only_ns] if only_ns is not None else sorted(self._thread_namespaces(thread))
            for ns in namespaces:
                hi = f"({before_id}" if before_id else "+"
                for raw in self.r.zrevrangebylex(self._index(thread, ns), hi, "-"):
                    if remaining is not None and remaining <= 0:
                        return
                    cid = raw.decode()
                    if only_id and cid != only_id:
                        continue
                    if filter:
                        meta_raw = self.r.hget(self._ckpt(thread, ns, cid), "metadata")
                        if meta_raw is None:
                            continue
                        meta = self.serde.loads_typed(_unpack(meta_raw))
                        if not all(meta.get(k) == v for k, v in filter.items()):
                            continue
                    tup = self._load(thread, ns, cid)
                    if tup is None:
                        continue
                    if remaining is not None:
                        remaining -= 1
                    yield tup

    def _threads(self) -> set[str]:
        return {t.decode() for t in self.r.smembers(self.keys.checkpoint_threads)}

    def _thread_namespaces(self, thread: str) -> list[str]:
        return sorted(ns.decode() for ns in self.r.smembers(self._namespaces(thread)))

    def _load(self, thread: str, ns: str, cid: str) -> CheckpointTuple | None:
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._ckpt(thread, ns, cid))
            pipe.hgetall(self._writes(thread, ns, cid))
            record, raw_writes = pipe.execute()
        if not record:
            return None
        checkpoint: dict[str, Any] = self.serde.loads_typed(_unpack(record[b"checkpoint"]))
        versions = checkpoint.get("channel_versions", {})
        fields = [self._blob_field(ch, ver) for ch, ver in versions.items()]
        values: dict[str, Any] = {}
        if fields:
            for ch, raw in zip(versions, self.r.hmget(self._blobs(thread, ns), fields)):
                if raw is not None:
                    kind, data = _unpack(raw)
                    if kind != "empty":
                        values[ch] = self.serde.loads_typed((kind, data))
        writes = []
        for doc in raw_writes.values():
            header, _, packed = doc.partition(b"\n")
            task_id, channel, task_path, widx = json.loads(header)
            writes.append((writes_sort_key(task_path, task_id, widx), (task_id, channel, packed)))
        writes.sort(key=lambda w: w[0])
        parent = record.get(b"parent", b"").decode()
        return CheckpointTuple(
            config={"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": cid}},
            checkpoint={**checkpoint, "channel_values": values},  # type: ignore[typeddict-item]
            metadata=self.serde.loads_typed(_unpack(record[b"metadata"])),
            parent_config=(
                {"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": parent}}
                if parent
                else None
            ),
            pending_writes=[(t, c, self.serde.loads_typed(_unpack(p))) for _, (t, c, p) in writes],
        )

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Zero-padded so versions compare correctly as strings (the same scheme as InMemorySaver)."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # ------------------------------------------------------------------ async (run the sync calls off the loop)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        items = await asyncio.to_thread(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in items:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)
