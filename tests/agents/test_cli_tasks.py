"""`robocortex tasks interrupt|resume|kill|cancel` against a real `robocortex serve` on loopback and a real
Redis, each run as a subprocess: what each asks for is done (read back through the REST API, with who
asked), and every refusal is one line on stderr with exit 2 (bad input: an unknown task, a state that
does not allow it, a viewer's key) or 3 (the service unreachable). No brain runs these tasks: they are
stored without being queued, and the test moves them as the runner would."""

from __future__ import annotations

import uuid

import httpx
import pytest

from robocortex.agents.launcher import free_port
from robocortex.memory.apikeys import ApiKeyStore, Role
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.schemas import RobotProfile, TaskStatus
from robocortex.memory.tasks import TaskStore

from tests.agents.test_cli_errors import cli, env, one_line_error  # noqa: F401 - env is a fixture
from tests.support.service import Service

pytestmark = pytest.mark.e2e
S = TaskStatus


@pytest.fixture(scope="module")
def svc(redis_url, tmp_path_factory):
    service = Service(redis_url, f"clitasks-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("clitasks") / "serve.log",
                      env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "30"}).start()
    r = connect(redis_url)
    keys = Keys(service.prefix)
    RobotRegistry(r, keys).register(RobotProfile(name="robot1", agent_id=0, skills=["navigate_to", "pick_up", "put"]))
    r.delete(keys.robot_alive("robot1"))  # registered but offline: a resumed task waits for a robot (30 s)
    yield service, TaskStore(r, keys)
    service.stop()
    for key in list(r.scan_iter(match=f"{service.prefix}:*", count=1000)):
        r.delete(key)
    r.close()


def running(tasks: TaskStore) -> str:
    record = tasks.create("put the apple in the fridge")  # not queued: the test plays the runner
    tasks.transition(record.id, S.planning)
    tasks.transition(record.id, S.running)
    return record.id


def rest(svc, task_id: str) -> dict:
    return httpx.get(f"{svc[0].url}/tasks/{task_id}", timeout=10).json()


def trail(svc, task_id: str) -> list[tuple[str, str, str | None, str | None]]:
    events = httpx.get(f"{svc[0].url}/tasks/{task_id}/export", timeout=10).json()["events"]
    return [(e["kind"], e["data"].get("action") or e["data"].get("status"), e["data"].get("from"), e["actor"])
            for e in events if e["kind"] in ("status", "control")]


def test_interrupt_resume_and_kill_from_the_command_line(svc, env):
    service, tasks = svc
    task_id = running(tasks)
    out = cli(env, "tasks", "interrupt", task_id, "--api-url", service.url)
    assert out.returncode == 0, out.stderr
    assert f"task {task_id}: interrupt accepted, status running" in out.stdout and out.stderr == ""
    assert trail(svc, task_id)[-1] == ("control", "interrupt", None, "anonymous")
    tasks.transition(task_id, S.interrupted, "robots hold")  # what the runner does once the robots stop

    out = cli(env, "tasks", "resume", task_id, "--api-url", service.url)
    assert out.returncode == 0, out.stderr
    assert "resume accepted, status planning" in out.stdout
    assert rest(svc, task_id)["status"] == "planning"
    assert trail(svc, task_id)[-1] == ("status", "planning", "interrupted", "anonymous")

    out = cli({**env, "ROBOCORTEX_API_URL": service.url}, "tasks", "kill", task_id)  # the address from the env
    assert out.returncode == 0, out.stderr
    assert "kill accepted, status killed" in out.stdout
    assert rest(svc, task_id)["status"] == "killed"
    assert trail(svc, task_id)[-1][1:] == ("killed", "planning", "anonymous")


def test_cancel_an_interrupted_task_at_once(svc, env):
    service, tasks = svc
    task_id = running(tasks)
    tasks.transition(task_id, S.interrupted, "robots hold")
    out = cli(env, "tasks", "cancel", task_id, "--api-url", service.url)
    assert out.returncode == 0 and "cancel accepted, status cancelled" in out.stdout, out.stderr
    assert rest(svc, task_id)["status"] == "cancelled"


def test_what_the_state_does_not_allow_is_one_line_exit_2(svc, env):
    service, tasks = svc
    task_id = running(tasks)
    one_line_error(cli(env, "tasks", "resume", task_id, "--api-url", service.url), 2,
                   "only an interrupted task can be resumed")
    assert rest(svc, task_id)["status"] == "running", "nothing changed"
    tasks.transition(task_id, S.succeeded)
    for action in ("interrupt", "kill", "cancel"):
        one_line_error(cli(env, "tasks", action, task_id, "--api-url", service.url), 2, "already succeeded")
    assert rest(svc, task_id)["status"] == "succeeded"


@pytest.mark.parametrize("argv, fragment", [
    (["tasks", "kill", "t-nosuchtask", "--api-url", "URL"], "no task with id 't-nosuchtask'"),
    (["tasks", "interrupt", "--api-url", "URL"], "Missing argument 'ID'"),
    (["tasks", "resume", " ", "--api-url", "URL"], "the task id is empty"),
    (["tasks", "kill", "t-1", "--api-url", "localhost:8000"], "--api-url 'localhost:8000'"),
    (["tasks", "pause", "t-1"], "No such command"),
])
def test_bad_input_is_one_line_exit_2(svc, env, argv, fragment):
    one_line_error(cli(env, *(svc[0].url if a == "URL" else a for a in argv)), 2, fragment)


def test_an_unreachable_service_is_one_line_exit_3(env):
    url = f"http://127.0.0.1:{free_port()}"
    one_line_error(cli(env, "tasks", "interrupt", "t-1", "--api-url", url), 3, f"the brain service at {url} does not answer")


def test_keys_a_viewer_is_refused_and_an_operator_is_recorded(redis_url, env, tmp_path):
    prefix = f"clikeys-{uuid.uuid4().hex[:8]}"
    r = connect(redis_url)
    store, tasks = ApiKeyStore(r, Keys(prefix)), TaskStore(r, Keys(prefix))
    viewer = store.create("cli-viewer", Role.viewer).token
    operator = store.create("cli-operator", Role.operator).token
    service = Service(redis_url, prefix, tmp_path / "serve.log", env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0"}).start()
    try:
        task_id = running(tasks)
        one_line_error(cli(env, "tasks", "kill", task_id, "--api-url", service.url), 2, "an API key is required")
        one_line_error(cli(env, "tasks", "kill", task_id, "--api-url", service.url, "--api-key", viewer), 2,
                       "needs operator")
        assert tasks.get(task_id).status == S.running, "a viewer changes nothing"
        out = cli({**env, "ROBOCORTEX_API_KEY": operator}, "tasks", "kill", task_id, "--api-url", service.url)
        assert out.returncode == 0, out.stderr
        assert tasks.get(task_id).status == S.killed
        last = [e for _, e in tasks.events(task_id, "0", None, 100) if e.kind == "status"][-1]
        assert (last.data["status"], last.actor) == ("killed", "cli-operator")
    finally:
        service.stop()
        for key in list(r.scan_iter(match=f"{prefix}:*", count=1000)):
            r.delete(key)
        r.close()
