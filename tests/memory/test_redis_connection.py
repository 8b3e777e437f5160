import os
import subprocess
import sys

from robocortex.memory.connection import EmbeddedRedis, connect


def test_embedded_server_is_real_and_reachable_from_a_child_process(tmp_path):
    with EmbeddedRedis() as server:
        r = connect(server.url)
        assert r.info("server")["redis_version"] >= "6.2"
        r.set("greeting", "hello")
        child = subprocess.run(
            [sys.executable, "-c", f"from memory.connection import connect; print(connect({server.url!r}).get('greeting'))"],
            capture_output=True, text=True, check=True,
        )
        assert child.stdout.strip() == "hello"
        socket = server.socket_path
    assert not os.path.exists(socket)  # closed and cleaned up


def test_embedded_server_with_a_directory_keeps_its_data_across_restarts(tmp_path):
    with EmbeddedRedis(tmp_path) as server:
        connect(server.url).set("kept", "yes")
    with EmbeddedRedis(tmp_path) as server:
        assert connect(server.url).get("kept") == "yes"


def test_connect_without_url_uses_env_or_one_shared_embedded_server(monkeypatch, redis_url, r, keys):
    monkeypatch.setenv("ROBOCORTEX_REDIS_URL", redis_url)
    r.set(keys.reservation("probe"), "from-fixture")
    assert connect().get(keys.reservation("probe")) == "from-fixture"
    monkeypatch.delenv("ROBOCORTEX_REDIS_URL")
    a, b = connect(), connect()
    a.set("rc-test-shared", "1", px=5000)
    assert b.get("rc-test-shared") == "1"  # the same process-wide server


def test_a_client_rides_out_a_server_restart_and_says_so_once(tmp_path, caplog):
    import logging
    import threading
    import time

    from robocortex.memory.dispatch import Dispatcher
    from robocortex.memory.keys import Keys
    from robocortex.memory.schemas import SubtaskMessage

    servers = [EmbeddedRedis(tmp_path)]
    r = connect(servers[0].url)
    keys = Keys("restart")
    dispatcher = Dispatcher(r, keys)
    r.set("kept", "yes")
    dispatcher.send(SubtaskMessage(task_id="t", subtask_id="s1", robot="alpha", description="before"))
    clients = [connect(servers[0].url) for _ in range(3)]
    for c in clients:
        c.ping()  # pooled connections that the restart leaves stale
    servers[0].close()  # SIGTERM: the AOF is flushed

    def come_back() -> None:
        time.sleep(1.5)
        servers.append(EmbeddedRedis(tmp_path))

    threading.Thread(target=come_back).start()
    try:
        with caplog.at_level(logging.WARNING, logger="robocortex.redis"):
            started = time.monotonic()
            assert r.get("kept") == "yes"  # waits through the outage instead of raising
            assert time.monotonic() - started >= 1.0
            for c in clients:
                assert c.get("kept") == "yes"  # a stale connection reconnects: not another outage
            d = dispatcher.receive("alpha", "w1", block_ms=100)  # the hot connection, too
            assert d is not None and d.message.description == "before"
        lines = [rec.getMessage() for rec in caplog.records if rec.name == "robocortex.redis"]
        assert len(lines) == 2, lines
        assert lines[0].startswith("Redis unreachable") and lines[1].startswith("Redis is back after")
    finally:
        for server in servers:
            server.close()
