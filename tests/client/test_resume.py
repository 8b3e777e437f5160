"""Following a stream survives the service going away: the client reconnects by itself with the
Last-Event-ID of the last event it got, and the restarted service (a new process on the same port)
sends only what came after it: no snapshot again, no change lost or repeated."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest

from robocortex.agents.launcher import Stack
from robocortex.client import AsyncClient, Client, DispatchEvent, EndEvent, StreamGaveUp
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, SceneChange, SceneDelta, SceneSnapshot

from tests.support.service import Service

pytestmark = pytest.mark.e2e


@pytest.fixture
def lone(redis_url, tmp_path):
    prefix = f"res-{uuid.uuid4().hex[:8]}"
    svc = Service(redis_url, prefix, tmp_path / "serve.log").start()
    scene = SceneGraphStore(connect(redis_url), Keys(prefix))
    scene.apply(SceneDelta(patches=[NodePatch(id="Mug|1", set={"objectType": "Mug"})], source="test"))
    yield svc, scene
    svc.stop()


def _write(scene: SceneGraphStore, n: int) -> list[int]:
    return [scene.apply(SceneDelta(patches=[NodePatch(id=f"Cup|{i}", set={"objectType": "Cup"})], source="test"))
            for i in range(n)]


def test_sync_scene_stream_resumes_after_a_restart_without_gap_or_repeat(lone):
    svc, scene = lone
    with Client(svc.url, retry_s=0.2, reconnects=100) as rc:
        stream = rc.scene_events()
        first = next(stream)
        assert isinstance(first, SceneSnapshot) and first.rev == 1
        before = _write(scene, 2)
        assert [next(stream).rev for _ in before] == before
        svc.stop()  # the connection drops; the client keeps trying
        during = _write(scene, 3)  # written while no service runs
        restarted = threading.Timer(1.0, svc.start)
        restarted.start()
        got = [next(stream) for _ in during]
        restarted.join()
        assert all(isinstance(c, SceneChange) for c in got), got  # resumed: no new snapshot
        assert [c.rev for c in got] == during
        after = _write(scene, 1)
        assert next(stream).rev == after[0]
        stream.close()


def test_async_scene_stream_resumes_after_a_restart(lone):
    svc, scene = lone

    async def main() -> None:
        async with AsyncClient(svc.url, retry_s=0.2, reconnects=100) as rc:
            stream = rc.scene_events()
            assert isinstance(await anext(stream), SceneSnapshot)
            svc.stop()
            during = _write(scene, 2)
            restarted = threading.Timer(1.0, svc.start)
            restarted.start()
            got = [await anext(stream) for _ in during]
            await asyncio.to_thread(restarted.join)
            assert [(type(c), c.rev) for c in got] == [(SceneChange, rev) for rev in during]
            await stream.aclose()

    asyncio.run(main())


def test_a_stream_that_cannot_reconnect_gives_up_with_a_clear_error(lone):
    svc, _ = lone
    with Client(svc.url, retry_s=0.05, reconnects=3) as rc:
        stream = rc.scene_events()
        next(stream)
        svc.stop()
        with pytest.raises(StreamGaveUp, match="could not resume after 3 attempts"):
            next(stream)


def test_task_events_resume_across_a_brain_restart_mid_task(tmp_path):
    """A whole team; the brain is killed while the robots work and started again (same brain id, so it
    takes its task back from its checkpoint). The client's one `events()` iteration rides through it:
    what it got is exactly the task's stored story, in order, nothing missing and nothing twice."""
    with Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
               key_prefix=f"rs-{uuid.uuid4().hex[:8]}", log_dir=tmp_path / "logs",
               extra_env={"ROBOCORTEX_BRAIN_ID": "brain-client-resume"}) as stack:
        port = stack.api_url.rsplit(":", 1)[1]
        with Client(stack.api_url, retry_s=0.2, reconnects=200) as rc:
            accepted = rc.submit("put the potato in the fridge then turn off the light")
            stream = rc.events(accepted.id)
            got = []
            for event in stream:
                got.append(event)
                if isinstance(event, DispatchEvent):
                    break
            cut_at = stream.last_id
            stack.procs["brain"].kill()
            stack.procs["brain"].wait(10)
            stack.spawn("brain", "serve", "--port", port)
            got += list(stream)  # the same iteration: it reconnects by itself
            stored = list(rc.events(accepted.id, after="0"))
    assert cut_at and isinstance(got[-1], EndEvent), got[-1]

    def key(e):
        return (e.kind, getattr(e, "at", None), getattr(e, "message", None))

    assert [key(e) for e in got] == [key(e) for e in stored]
    assert len({key(e) for e in got}) == len(got)
