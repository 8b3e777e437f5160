import asyncio
import time

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from robocortex.memory.checkpoint import RedisCheckpointSaver


def test_passes_the_langgraph_checkpointer_conformance_suite(r, keys):
    @checkpointer_test(name="RedisCheckpointSaver")
    async def factory():
        yield RedisCheckpointSaver(r, keys)

    report = asyncio.run(validate(factory))
    failures = {cap: res.failures for cap, res in report.results.items() if res.passed is not True}
    assert report.passed_all_base(), failures
    assert {cap for cap, res in report.results.items() if res.detected} == {c.value for c in ALL_CAPABILITIES}
    assert report.passed_all(), failures


def test_a_graph_resumes_from_redis_after_a_restart(r, keys):
    """A brain process dies at an interrupt; a new process with a new saver picks the thread up."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        steps: list[str]

    def node(name):
        return lambda state: {"steps": state["steps"] + [name]}

    def build(saver):
        g = StateGraph(State)
        g.add_node("plan", node("plan"))
        g.add_node("dispatch", node("dispatch"))
        g.add_edge(START, "plan")
        g.add_edge("plan", "dispatch")
        g.add_edge("dispatch", END)
        return g.compile(checkpointer=saver, interrupt_before=["dispatch"])

    config = {"configurable": {"thread_id": "task-1"}}
    build(RedisCheckpointSaver(r, keys)).invoke({"steps": []}, config)

    resumed = build(RedisCheckpointSaver(r, keys))  # "restarted" process
    assert resumed.get_state(config).next == ("dispatch",)
    assert resumed.invoke(None, config) == {"steps": ["plan", "dispatch"]}
    history = list(resumed.get_state_history(config))
    assert len(history) >= 3 and history[0].values == {"steps": ["plan", "dispatch"]}


def test_thread_ids_and_namespaces_with_colons_do_not_collide(r, keys):
    from langgraph.checkpoint.base import empty_checkpoint

    saver = RedisCheckpointSaver(r, keys)
    a = saver.put({"configurable": {"thread_id": "a:b", "checkpoint_ns": ""}}, empty_checkpoint(), {}, {})
    saver.put({"configurable": {"thread_id": "a", "checkpoint_ns": "b:"}}, empty_checkpoint(), {}, {})
    assert [t.config for t in saver.list({"configurable": {"thread_id": "a:b"}})] == [a]
    saver.delete_thread("a")
    assert saver.get_tuple({"configurable": {"thread_id": "a:b"}}) is not None


def test_a_finished_thread_expires_and_a_running_one_does_not(r, keys):
    """The runner prunes a finished task's thread to its last checkpoint and gives what is left the
    task retention as TTL; another task's thread, still running, keeps no TTL."""
    from langgraph.checkpoint.base import empty_checkpoint

    saver = RedisCheckpointSaver(r, keys)

    def run(thread: str, steps: int) -> None:
        config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        for i in range(steps):
            checkpoint = {**empty_checkpoint(), "channel_versions": {"steps": str(i + 1)},
                          "channel_values": {"steps": i}}
            config = saver.put(config, checkpoint, {}, {"steps": str(i + 1)})
            saver.put_writes(config, [("steps", i + 1)], task_id=f"t{i}")

    def thread_keys(thread: str) -> list[str]:
        parts = len(keys.prefix.split(":"))  # the key's kind, then the thread
        return [k for k in r.scan_iter(match=f"{keys.prefix}:ckpt*:{thread}*") if k.split(":")[parts + 1] == thread]

    run("finished", 3)
    run("running", 3)
    saver.prune(["finished"])
    saver.expire(["finished"], 120)

    finished, running = thread_keys("finished"), thread_keys("running")
    # namespaces, index, blobs, the last checkpoint and its writes
    assert len(finished) == 5, finished
    assert all(0 < r.ttl(k) <= 120 for k in finished), {k: r.ttl(k) for k in finished}
    assert len(running) == 9 and all(r.ttl(k) == -1 for k in running), {k: r.ttl(k) for k in running}
    assert saver.get_tuple({"configurable": {"thread_id": "finished"}}).checkpoint["channel_values"] == {"steps": 2}
    assert r.sismember(keys.checkpoint_threads, "running") and not r.sismember(keys.checkpoint_threads, "finished")

    saver.expire(["finished"], 1)  # they really go
    deadline = time.time() + 5
    while thread_keys("finished") and time.time() < deadline:
        time.sleep(0.1)
    assert thread_keys("finished") == [] and len(thread_keys("running")) == 9
