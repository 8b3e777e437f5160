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
