"""Following a stream survives the service going away: the client reconnects by itself with the
Last-Event-ID of the last event it got, and the restarted service (a new process on the same port)
sends only what came after it: no snapshot again, no change lost or repeated."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from robocortex.client import AsyncClient, Client, StreamGaveUp
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
