"""The `robocortex` command: the service, a robot worker, the world host, the demo, runs, evaluations."""

from __future__ import annotations

import logging
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="RoboCortex: multi-robot orchestration with a planning brain and a shared scene graph.")
console = Console()
DEMO_INSTRUCTION = "put the apple in the fridge and turn off the light"


class BadInput(click.UsageError):
    """Bad input from the user: one line on stderr, exit code 2."""


_FLAGS = {"world_backend": "--backend"}  # command-line options named unlike their setting
log = logging.getLogger("robocortex.cli")


def _flag(name: str) -> str:
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _settings(**overrides):
    """The settings, with the options given on the command line; a bad one is one line naming the
    setting and where it came from (option, environment variable, or config file and line)."""
    from robocortex.agents.config_file import Provenance
    from robocortex.agents.settings import Settings

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        where = Provenance.current(cli={k: _flag(k) for k in given})
        raise BadInput("; ".join(_problem(e, where) for e in exc.errors())) from None
    except Exception as exc:  # a config file that cannot be read or parsed
        raise BadInput(" ".join(f"bad settings: {exc}".split())) from None


def _problem(error, where) -> str:
    import difflib

    loc = tuple(str(p) for p in error["loc"])
    name, source = ".".join(loc), where.source(loc, exact=False).removeprefix("CLI ").removeprefix("env ")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, _setting_names(), n=1)
        return f"unknown setting {name!r} ({source})" + (f"; did you mean {close[0]!r}?" if close else "")
    return f"bad setting {name} ({source}): {error['msg']}"


def _setting_names() -> list[str]:
    from robocortex.agents.settings import Settings

    return [".".join(loc) for loc, _ in _leaves(Settings.model_fields, None)]


def _leaves(fields, model, loc=()):
    """(loc, value) of every setting, nested blocks flattened (value None without a model)."""
    from pydantic import BaseModel

    for name, info in fields.items():
        value = getattr(model, name) if model is not None else None
        kind = info.annotation if isinstance(info.annotation, type) else None
        if kind is not None and issubclass(kind, BaseModel):
            yield from _leaves(kind.model_fields, value, (*loc, name))
        else:
            yield (*loc, name), value


@contextmanager
def _running(role: str, name: str, settings, needs_redis: bool = True):
    """A long-running command's start: logs set up, its Redis found (the URL set, or the machine's
    shared embedded one) and answering, one line saying which; on leaving, the shared Redis is
    left (and stopped if this was the last process on it)."""
    from robocortex.agents import logs, startup

    logs.setup(role, name, settings.log_level, settings.log_format)
    shared = None
    try:
        if needs_redis:
            settings, shared = startup.meet_redis(settings, f"{role}:{name}:{os.getpid()}")
            startup.wait_for_redis(settings.redis_url, settings.redis_wait_s)
        log.info("%s %s (pid %d) uses Redis %s (%s), key prefix %r", role, name, os.getpid(),
                 settings.redis_url if needs_redis else "(none)",
                 startup.redis_origin(settings, shared) if needs_redis else "not needed", settings.key_prefix)
        yield settings
    finally:
        if shared is not None:
            shared.leave()


def _no_empty(instruction: str) -> None:
    if not instruction.strip():
        raise BadInput(f"the instruction is empty: say what the robots should do, e.g. {DEMO_INSTRUCTION!r}")


@app.command()
def serve(host: Optional[str] = typer.Option(None, help="address to listen on (default: ROBOCORTEX_HOST, 127.0.0.1)"),
          port: Optional[int] = typer.Option(None, help="port (default: ROBOCORTEX_PORT, 8000)"),
          planner: Optional[str] = typer.Option(None, help="auto, or a registered planner: offline, llm, or your own")):
    """Run the brain service (REST API + task runner)."""
    from robocortex.agents import startup
    from robocortex.agents.brain_service import create_app

    settings = _settings(host=host, port=port, planner=planner)
    sock = startup.bind(settings.host, settings.port)  # a busy port fails here, before anything starts
    with _running("serve", settings.brain_id, settings) as settings:
        received = _stop_on_signals()
        # open event streams would hold a graceful shutdown forever: they get a few seconds to end
        started = startup.serve(create_app(settings), sock, "brain service")
    _exit_if_signalled(received)
    if not started:
        raise startup.Unavailable("the brain service could not start; see the log above")


@app.command()
def worker(name: Optional[str] = typer.Option(None, help="robot name, unique in the deployment (with --robots: "
                                             "the name prefix, default 'robot')"),
           profile: str = typer.Option("mobile_manipulator", help="robot profile (built-in or from config)"),
           agent_id: int = typer.Option(0, min=0, help="this robot's agent index in the shared world (with "
                                        "--robots: the first robot's)"),
           robots: Optional[int] = typer.Option(None, min=1, help="run this many robots in this process "
                                                "(<name>K on agents agent-id … agent-id+N-1)"),
           world_url: Optional[str] = typer.Option(None, help="world host address")):
    """Run one robot worker, or a pool of them (it waits for Redis and the world host, with backoff)."""
    from robocortex.cerebellum.profiles import resolve_profile

    if name is None and robots is None:
        raise BadInput("Missing option '--name' (or --robots N for a pool)")
    settings = _settings(world_url=world_url)
    try:
        spec = resolve_profile(profile, settings.profiles)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    count = robots or 1
    prefix = name or "robot"
    label = name if robots is None else f"{prefix}{agent_id + 1}..{prefix}{agent_id + count}"
    with _running("worker" if robots is None else "workers", label, settings) as settings:
        names = [name] if robots is None else [f"{prefix}{agent_id + k + 1}" for k in range(count)]
        _refuse_taken(settings, names, agent_id)
        _check_world(settings, agent_id, count)
        _claim(settings, names)
        if robots is None:
            _run_worker(settings, spec.for_robot(name, agent_id).model_copy(update={"profile_name": profile}))
        else:
            _run_pool(settings, robots, profile, agent_id, prefix)


def _refuse_taken(settings, names: list[str], first_agent_id: int) -> None:
    """One line (exit 2) when a live robot already has one of these names or agent ids (a heartbeat
    left by a worker that just died is waited out: a restart takes its name back)."""
    from robocortex.memory.stores import Memory

    registry = Memory.from_settings(settings).robots
    for k, robot in enumerate(names):
        reason = registry.taken(robot, first_agent_id + k)  # a just-killed worker's heartbeat may linger
        if reason is not None:
            raise BadInput(reason)


def _claim(settings, names: list[str]) -> None:
    """Take the names atomically just before the robots start (two workers started under one name at
    the same moment both pass `_refuse_taken`; one of them gets the name). All or none."""
    from robocortex.memory.stores import Memory

    registry = Memory.from_settings(settings).robots
    claimed: list[str] = []
    for robot in names:
        if not registry.claim(robot):
            for done in claimed:
                registry.release_claim(done)
            raise BadInput(f"robot name {robot!r} was just taken by another worker starting at the same time; "
                           "pick another --name")
        claimed.append(robot)


def _check_world(settings, agent_id: int, count: int) -> None:
    """Wait for the world host; refuse (before registering anything) agents it does not have."""
    from robocortex.agents import startup

    world = startup.wait_for_world(settings.world_url, settings.world_wait_s)
    if world is None:
        log.warning("the world host at %s accepts connections but does not answer yet (busy or paused); "
                    "starting anyway, without checking --agent-id against it", settings.world_url)
        return
    agents = world.get("agent_count")
    last = agent_id + count - 1
    if isinstance(agents, int) and last >= agents:
        raise BadInput(f"--agent-id {last}: the world at {settings.world_url} has {agents} agent(s) "
                       f"(ids 0 to {agents - 1}); start world-host with --agents {last + 1} or more")
    log.info("world host at %s: %s backend, scene %s, %s agent(s)", settings.world_url, world.get("backend"),
             world.get("scene"), agents)


def _logged_worker_class():
    from robocortex.agents.logs import task_context
    from robocortex.agents.robot_worker import RobotWorker

    class Worker(RobotWorker):  # every log line of a subtask carries its task id and robot
        def handle(self, delivery):
            with task_context(task_id=delivery.message.task_id, robot=self.name):
                return super().handle(delivery)

    return Worker


def _run_pool(settings, count: int, profile: str, first_agent_id: int, prefix: str) -> None:
    from robocortex.agents.pool import run_pool

    try:
        signum = run_pool(settings, count, profile=profile, first_agent_id=first_agent_id, prefix=prefix,
                          worker_class=_logged_worker_class())
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if signum:
        raise typer.Exit(128 + signum)


def _run_worker(settings, profile) -> None:
    from robocortex.sim.client import WorldClient

    w = _logged_worker_class()(settings, profile, WorldClient(settings.world_url, secret=settings.world_secret))
    stopped_by: list[int] = []

    def stop(signum, frame):  # noqa: ARG001 - the worker stops at its next world action, within seconds
        stopped_by.append(signum)
        w.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    w.run()
    if stopped_by:
        raise typer.Exit(143 if stopped_by[0] == signal.SIGTERM else 130)


@app.command("world-host")
def world_host(scene: Optional[str] = typer.Option(None, help="scene to load (default: ROBOCORTEX_SCENE, Kitchen-0)"),
               agents: int = typer.Option(2, min=1, max=8),
               host: str = "127.0.0.1", port: int = 8001,
               backend: Optional[str] = typer.Option(None, help="auto|emulator|thor"),
               seed_memory: bool = typer.Option(True, help="start the scene graph from the world's object list")):
    """Run the shared world (emulator or AI2-THOR) over HTTP."""
    from robocortex.agents import startup

    settings = _settings(world_backend=backend)
    sock = startup.bind(host, port)
    with _running("world-host", f"world-{port}", settings, needs_redis=seed_memory) as settings:
        world_app = _world_app(settings, scene or settings.scene, agents, seed_memory)
        received = _stop_on_signals()
        started = startup.serve(world_app, sock, "world host")
    _exit_if_signalled(received)
    if not started:
        raise startup.Unavailable("the world host could not start; see the log above")


def _world_app(settings, scene: str, agents: int, seed_memory: bool):
    from robocortex.agents import startup
    from robocortex.agents.world_host import build_world_app

    try:
        return build_world_app(settings, scene, agents, seed_memory=seed_memory)
    except ValueError as exc:  # an unknown scene or backend
        raise BadInput(str(exc).splitlines()[0]) from None
    except Exception as exc:  # a backend that cannot start (no AI2-THOR build, no display...)
        log.debug("world start failed", exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0]
        raise startup.Unavailable(f"cannot start the {settings.world_backend} world: {type(exc).__name__}: {first}"
                                  ) from None


@app.command()
def demo(instruction: str = typer.Argument(DEMO_INSTRUCTION),
         scene: str = "Kitchen-0", verbose: bool = typer.Option(False, "--verbose", "-v", help="show every action"),
         logs: Optional[Path] = typer.Option(None, help="keep the processes' logs in this folder")):
    """Start everything on embedded defaults, run one task end to end, check it in the world."""
    _no_empty(instruction)
    from robocortex.agents.follow import events, print_event, submit, world_check
    from robocortex.agents.launcher import Stack, exit_code, raise_on_sigterm

    from robocortex.evaluation.commands import check_run_input

    settings = _settings()
    try:  # the scene exists and fits two robots; the planner is usable — before anything starts
        check_run_input(scene, ["mobile_manipulator"] * 2, settings)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    raise_on_sigterm()
    console.print(f"[bold]RoboCortex demo[/] — scene {scene}, 2 robots, "
                  f"Redis: {'embedded' if not settings.redis_url else settings.redis_url}, "
                  f"planner: {settings.planner_kind()}")
    stack = Stack(scene=scene, redis_url=settings.redis_url, log_dir=logs)
    try:
        stack.start()
    except RuntimeError as exc:
        stack.stop()
        console.print(f"[bold red]could not start[/]: {exc}")
        raise typer.Exit(1)
    except BaseException as exc:  # Ctrl-C or SIGTERM while starting: leave nothing behind
        stack.stop()
        console.print("interrupted: every process stopped")
        raise typer.Exit(exit_code(exc))
    import httpx

    try:
        with stack:
            console.print(f"processes up: {', '.join(f'{n} (pid {p.pid})' for n, p in stack.procs.items())}"
                          f"; Redis {stack.redis_url}")
            console.print(f"brain API: {stack.api_url}  ·  web page: {stack.api_url}/")
            try:
                task_id = submit(stack.api_url, instruction)
                console.print(f"submitted task {task_id}: {instruction!r}")
                for kind, data in events(stack.api_url, task_id):
                    print_event(console, kind, data, verbose)
                record = httpx.get(f"{stack.api_url}/tasks/{task_id}", timeout=30).json()
                unmet = world_check(stack.world_url, record.get("plan"))
            except (httpx.HTTPError, ValueError) as exc:
                gone = stack.exited(grace_s=2.0)
                exited = ", ".join(f"{n} (exit code {code})" for n, code in gone.items())
                console.print(f"[bold red]failed[/]: {escape(str(exc) or type(exc).__name__)}"
                              + (f"; process(es) gone: {exited}" if exited else ""))
                for name in gone:
                    console.print(escape(f"--- last lines of {name}.log:\n{stack.tail(name)}"))
                raise typer.Exit(1)
            for s in record["subtasks"]:
                console.print(f"  {s['id']}: {s['robot']:<8} {s['status']:<10} {s['description']}")
            if record["status"] == "succeeded" and not unmet:
                console.print(f"[bold green]success[/]: every goal holds in the world ({stack.world_backend})")
                return
            reason = record.get("reason") or ("goals not met in the world: " + ", ".join(unmet))
            console.print(f"[bold red]failed[/]: task {record['status']}: {reason}")
            raise typer.Exit(1)
    except KeyboardInterrupt as exc:
        console.print("interrupted: every process stopped")
        raise typer.Exit(exit_code(exc))


def _quiet_logs(role: str, settings) -> None:
    """Commands that print their own progress log warnings only, unless ROBOCORTEX_LOG_LEVEL says."""
    from robocortex.agents import logs

    explicit = "ROBOCORTEX_LOG_LEVEL" in os.environ or "log_level" in settings.model_fields_set
    logs.setup(role, "", settings.log_level if explicit else "WARNING", settings.log_format)


@app.command()
def run(instruction: str = typer.Argument(..., help="what the team should do"),
        scene: str = typer.Option("Kitchen-0", help="Kitchen-N, LivingRoom-N, Bedroom-N, Bathroom-N, or FloorPlanN"),
        robots: str = typer.Option("mobile_manipulator,mobile_manipulator",
                                   help="comma-separated robot profiles, one per robot"),
        planner: Optional[str] = typer.Option(None, help="auto, or a registered planner: offline, llm, or your own"),
        timeout: float = typer.Option(240.0, min=1, help="seconds before the task counts as failed"),
        out: Optional[Path] = typer.Option(None, help="folder for trace.json and map.png"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="show every action"),
        vision: bool = typer.Option(False, "--vision", help="robots see: camera frames go to the vision roles "
                                    "(ROBOCORTEX_VISION__BASE_URL, or per role VISION__GROUNDING__BASE_URL…); "
                                    "frames saved in <out>/frames")):
    """One simulated run in this process: live progress, a report, the trace as JSON and a map PNG."""
    from robocortex.evaluation.commands import check_run_input, simulate, stamp
    from robocortex.evaluation.harness import RunRequest
    from robocortex.evaluation.scenes import room_of

    _no_empty(instruction)
    settings = _settings(planner=planner)
    _quiet_logs("run", settings)
    profiles = [p.strip() for p in robots.split(",") if p.strip()]
    try:
        check_run_input(scene, profiles, settings)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    request = RunRequest(instruction=instruction, scene=scene, robots=profiles, timeout_s=timeout,
                         room=room_of(scene))
    out = out or Path("robocortex-runs") / f"{stamp()}-{scene}"
    if vision:
        if not settings.vision.endpoints():
            raise BadInput("--vision needs a vision endpoint: set ROBOCORTEX_VISION__BASE_URL "
                           "(or ROBOCORTEX_VISION__GROUNDING__BASE_URL and the other roles')")
        settings.vision = settings.vision.model_copy(update={
            "enabled": True, "frames_dir": settings.vision.frames_dir or str(out / "frames")})
    if not simulate(console, request, settings, out, verbose):
        raise typer.Exit(1)


@app.command("eval")
def evaluate(suite: str = typer.Argument(..., help="a built-in suite name (e.g. builtin) or a .yaml/.json file"),
             planner: Optional[str] = typer.Option(None, help="a registered planner: offline, llm, or your own (default: auto)"),
             repeat: int = typer.Option(1, min=1, help="runs per task"),
             workers: Optional[int] = typer.Option(None, min=1, help="worlds run at once (default: one per core)"),
             out: Optional[Path] = typer.Option(None, help="folder for results.json, metrics.png and traces"),
             maps: bool = typer.Option(False, "--maps", help="also draw a map PNG of every run")):
    """Run an evaluation suite in parallel worlds; print the metrics; write JSON and a plot."""
    from robocortex.evaluation import commands
    from robocortex.evaluation.suite import SuiteError, load_suite

    settings = _settings(planner=planner)
    _quiet_logs("eval", settings)
    try:
        commands.check_planner(settings)
        spec = load_suite(suite, profiles=settings.profiles, thor_data=settings.thor_data)
    except (SuiteError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    if not os.environ.get(_EVAL_CHILD):
        raise typer.Exit(_supervise_eval())
    _kill_worlds_on_sigterm()
    commands.evaluate(console, spec, settings, out or Path("robocortex-eval") / f"{spec.name}-{commands.stamp()}",
                      repeat=repeat, workers=workers, maps=maps)


@app.command()
def mcp(api_url: str = typer.Option("http://127.0.0.1:8000", help="the brain service's REST address"),
        transport: str = typer.Option("stdio", help="stdio (an agent starts this command) or http (endpoint /mcp)"),
        host: str = typer.Option("127.0.0.1", help="address to listen on (http)"),
        port: int = typer.Option(8765, min=1, max=65535, help="port to listen on (http)"),
        api_key: Optional[str] = typer.Option(None, envvar="ROBOCORTEX_API_KEY", show_envvar=True,
                                              help="the brain service's API key its calls carry")):
    """Serve the fleet to LLM agents over MCP: submit, follow and cancel tasks, list robots, read the scene."""
    if transport not in ("stdio", "http"):
        raise typer.BadParameter(f"{transport!r}: use stdio or http", param_hint="--transport")
    from robocortex.agents.mcp_server import serve as serve_mcp

    serve_mcp(api_url, transport, host=host, port=port, api_key=api_key)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- administration: keys and robots

keys_app = typer.Typer(no_args_is_help=True, help="API keys with roles: viewer (read), operator (submit, "
                       "cancel, approve, interrupt, resume, kill), admin (robots and settings).")
robots_app = typer.Typer(no_args_is_help=True, help="Robots: list, decommission, remove, and where a lost "
                         "robot's held object ended up.")
tasks_app = typer.Typer(no_args_is_help=True, help="A running task's lifecycle over the brain service's REST API: "
                        "interrupt, resume, kill, cancel (an operator key when the service has keys).")
app.add_typer(keys_app, name="keys")
app.add_typer(robots_app, name="robots")
app.add_typer(tasks_app, name="tasks")


@contextmanager
def _admin_memory():
    """The deployment's memory (ROBOCORTEX_REDIS_URL, or the machine's shared embedded Redis), quietly."""
    from robocortex.agents import startup
    from robocortex.memory.stores import Memory

    settings, shared = startup.meet_redis(_settings(), f"admin:{os.getpid()}")
    if shared is not None and shared.started:  # nothing runs on this machine: a key made now would vanish
        shared.leave()
        raise startup.Unavailable(f"no RoboCortex process uses this machine's shared Redis ({settings.redis_socket}), "
                                  "and what is written there lasts only while one does: start `robocortex serve` "
                                  "first, or set ROBOCORTEX_REDIS_URL")
    try:
        startup.wait_for_redis(settings.redis_url, min(settings.redis_wait_s, 5.0))
        yield Memory.from_settings(settings)
    finally:
        if shared is not None:
            shared.leave()


def _key_store(memory):
    from robocortex.memory.apikeys import ApiKeyStore

    return ApiKeyStore(memory.r, memory.keys)


@keys_app.command("create")
def keys_create(role: str = typer.Option(..., help="viewer, operator or admin"),
                name: str = typer.Option(..., help="who or what holds the key (e.g. alice, ci, console)")):
    """Make a key; its token is printed once (only its SHA-256 is stored)."""
    from robocortex.memory.apikeys import Role

    if role not in Role.__members__:
        raise BadInput(f"--role {role!r}: use viewer, operator or admin")
    with _admin_memory() as memory:
        try:
            created = _key_store(memory).create(name, Role(role))
        except ValueError as exc:
            raise BadInput(f"--name: {exc}") from None
    print(created.token)
    print(f"key {created.key.id} ({created.key.name}, {created.key.role.value}) created; the token above is "
          "shown this once: send it as 'Authorization: Bearer <token>' or 'X-API-Key: <token>'", file=sys.stderr)


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json", help="one JSON array"),
              revoked: bool = typer.Option(False, "--revoked", help="include revoked keys")):
    """The keys (never their tokens): id, name, role, created."""
    import json
    import time

    with _admin_memory() as memory:
        keys = _key_store(memory).list(include_revoked=revoked)
    if as_json:
        print(json.dumps([k.model_dump(mode="json", exclude={"digest"}) for k in keys], indent=2))
        return
    if not keys:
        print("no API keys: the service is open to anyone who can reach it (`robocortex keys create` makes one)")
        return
    stamp = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t else ""  # noqa: E731
    print(f"{'id':<12}  {'role':<8}  {'created (UTC)':<19}  {'revoked (UTC)':<19}  name")
    for k in keys:
        print(f"{k.id:<12}  {k.role.value:<8}  {stamp(k.created_at):<19}  {stamp(k.revoked_at):<19}  {k.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., metavar="ID", help="the key's id (`keys list`)")):
    """Revoke a key: every request with it is refused (401) from now on."""
    from robocortex.memory.apikeys import UnknownKey

    with _admin_memory() as memory:
        try:
            record = _key_store(memory).revoke(key_id)
        except UnknownKey as exc:
            raise BadInput(str(exc)) from None
    print(f"revoked key {record.id} ({record.name}, {record.role.value})")


@robots_app.command("list")
def robots_list():
    """Every registered robot: status, profile, agent id, heartbeat."""
    import time

    with _admin_memory() as memory:
        robots = memory.robots.list()
    if not robots:
        print("no robots registered")
        return
    print(f"{'name':<16}  {'status':<15}  {'agent':>5}  {'profile':<20}  last seen")
    for r in robots:
        status = "decommissioned" if r.decommissioned_at else r.status.value
        seen = f"{time.time() - r.last_seen:.0f} s ago" if r.last_seen else "never"
        print(f"{r.profile.name:<16}  {status:<15}  {r.profile.agent_id:>5}  "
              f"{r.profile.profile_name or r.profile.embodiment:<20}  {seen}")


def _administer_robot(name: str, action: str, done: str) -> None:
    """One registry action on a robot (`decommission`, `remove`); what the registry refuses is bad input."""
    from robocortex.memory.robots import RobotAdminError

    with _admin_memory() as memory:
        try:
            getattr(memory.robots, action)(name)
        except RobotAdminError as exc:
            raise BadInput(str(exc)) from None
    print(f"robot {name} {done}")


@robots_app.command("decommission")
def robots_decommission(name: str = typer.Argument(..., help="the robot's name")):
    """Take a robot out of service (listed offline, never planned with, its name refused to workers)."""
    _administer_robot(name, "decommission", "decommissioned")


@robots_app.command("remove")
def robots_remove(name: str = typer.Argument(..., help="the robot's name")):
    """Forget an offline or decommissioned robot (profile, status and scene-graph node)."""
    _administer_robot(name, "remove", "removed")


@robots_app.command("place-held")
def robots_place_held(name: str = typer.Argument(..., help="the lost robot"),
                      obj: str = typer.Argument(..., metavar="OBJECT", help="the object it held"),
                      at: str = typer.Argument(..., help="a receptacle's id, or 'floor'")):
    """Say where the object a lost robot held ended up; the object can be planned with again."""
    from robocortex.knowledge.placement import IN_RECEPTACLES
    from robocortex.memory.robots import FLOOR, RobotAdminError

    with _admin_memory() as memory:
        target = memory.scene.node(at) if at != FLOOR else None
        rel = "in" if target is not None and target.objectType in IN_RECEPTACLES else "on"
        try:
            rev = memory.robots.place_held(name, obj, at, rel)
        except RobotAdminError as exc:
            raise BadInput(str(exc)) from None
    print(f"{obj} is {'on the floor' if at == FLOOR else f'{rel} {at}'} (scene rev {rev})")


# ---------------------------------------------------------------------- tasks: the lifecycle over REST

_API_URL = typer.Option("http://127.0.0.1:8000", "--api-url", envvar="ROBOCORTEX_API_URL", show_envvar=True,
                        help="the brain service's REST address")
_API_KEY = typer.Option(None, "--api-key", envvar="ROBOCORTEX_API_KEY", show_envvar=True,
                        help="an operator (or admin) key, when the service has keys")
_TASK_ID = typer.Argument(..., metavar="ID", help="the task's id (GET /tasks, or the console, lists them)")
# action -> (what the command does, for its help; what happens next, said after it is accepted)
_TASK_ACTIONS = {
    "interrupt": ("Hold a planning or running task: nothing new is dispatched, its robots finish their step and "
                  "keep what they hold.", "its robots finish their current step and hold; then it is interrupted"),
    "resume": ("Resume an interrupted task: it is planned again from the scene as it is now.",
               "it is planned again from the scene as it is now"),
    "kill": ("Stop a task now, in any unfinished state: killed at once, its open subtasks cancelled.",
             "its open subtasks are cancelled; its robots stop after the step they are in"),
    "cancel": ("Cancel a task in any unfinished state (a queued, waiting or interrupted one at once).",
               "its robots stop after their current step"),
}


def _task_action(action: str, task_id: str, api_url: str, api_key: str | None) -> None:
    """POST /tasks/{id}/{action} through the typed client. What the service refuses (unknown task, a state
    that does not allow it, a missing or too weak key) is bad input: one line, exit 2; a service that
    cannot be reached (or answers 502-504) is unavailable: exit 3."""
    import httpx

    from robocortex.agents.startup import Unavailable
    from robocortex.client import Client, ServiceError

    if not api_url.startswith(("http://", "https://")):
        raise BadInput(f"--api-url {api_url!r}: give the service's address, e.g. http://127.0.0.1:8000")
    if not task_id.strip():
        raise BadInput("the task id is empty: give one from GET /tasks (or the console)")
    try:
        with Client(api_url, api_key=api_key, timeout=10.0) as rc:
            task = getattr(rc, action)(task_id)
    except ServiceError as exc:
        if exc.status in (502, 503, 504):
            raise Unavailable(f"the brain service at {api_url} answers {exc.status}: {exc.detail}") from None
        if exc.status >= 500:
            raise
        raise BadInput(f"{action} {task_id}: {exc.detail}") from None
    except httpx.TransportError as exc:
        raise Unavailable(f"the brain service at {api_url} does not answer ({type(exc).__name__}: {exc}); start "
                          "`robocortex serve`, or give its address with --api-url") from None
    then = _TASK_ACTIONS[action][1] if not task.status.terminal or action == "kill" else ""
    print(f"task {task.id}: {action} accepted, status {task.status.value}" + (f"; {then}" if then else ""))


def _task_command(action: str) -> None:
    def command(task_id: str = _TASK_ID, api_url: str = _API_URL, api_key: Optional[str] = _API_KEY):
        _task_action(action, task_id, api_url, api_key)

    command.__name__, command.__doc__ = f"tasks_{action}", _TASK_ACTIONS[action][0]
    tasks_app.command(action)(command)


for _action in _TASK_ACTIONS:
    _task_command(_action)


@app.command("config")
def show_config(as_json: bool = typer.Option(False, "--json", help="one JSON object: setting → {value, source}"),
                planner: Optional[str] = typer.Option(None, help="as the commands' --planner"),
                backend: Optional[str] = typer.Option(None, help="as world-host's --backend")):
    """Print the effective settings and where each came from (CLI, env var, file:line, default)."""
    import json

    from robocortex.agents.config_file import Provenance

    given = {k: v for k, v in {"planner": planner, "world_backend": backend}.items() if v is not None}
    settings = _settings(**given)
    where = Provenance.current(cli={k: _flag(k) for k in given})
    rows = {".".join(loc): (_shown(loc, value), where.source(loc))
            for loc, value in _leaves(type(settings).model_fields, settings)}
    if as_json:
        print(json.dumps({k: {"value": v, "source": src} for k, (v, src) in rows.items()}, indent=2, default=str))
        return
    width = max(len(k) for k in rows)
    for key, (value, source) in rows.items():
        print(f"{key:<{width}} = {json.dumps(value, default=str):<40} # {source}")


def _shown(loc, value):
    """A setting's value as printed: secrets masked, models as plain data."""
    from pydantic import BaseModel

    if loc[-1] in ("api_key", "world_secret") and value not in (None, "", "EMPTY"):
        return "***"
    if isinstance(value, dict):
        return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in value.items()}
    return value


_EVAL_CHILD = "ROBOCORTEX_EVAL_CHILD"
_ARGV: list[str] = []


def _supervise_eval() -> int:
    """Run the evaluation in a process group of its own, so a terminal's Ctrl-C reaches only this
    process: the parallel worlds never see it (no tracebacks), and one press stops everything — the
    evaluation gets SIGTERM, kills its worlds and unwinds its clean-up (its embedded Redis too)."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", *_ARGV],
                             env={**os.environ, _EVAL_CHILD: "1"}, start_new_session=True)
    try:
        return child.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (Terminated) here
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # further presses while stopping change nothing
        console.print("interrupted: stopping the evaluation")
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise


def _kill_worlds_on_sigterm() -> None:
    """In the evaluation process: SIGTERM kills the worlds first, so the pool does not wait for them."""
    import multiprocessing

    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        for world in multiprocessing.active_children():
            world.kill()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


try:  # typer >= 0.2x parses with its own copy of click, whose exceptions are not click's
    from typer._click.exceptions import UsageError as _TyperUsageError
except ImportError:  # pragma: no cover - an older typer parses with click itself
    _TyperUsageError = click.UsageError
USAGE_ERRORS = (click.UsageError, _TyperUsageError)  # BadInput is a click.UsageError
ABORTS = (click.exceptions.Abort, typer.Abort)


def _stop_on_signals() -> list[int]:
    """SIGTERM unwinds like Ctrl-C (a KeyboardInterrupt), so every `finally` and atexit clean-up
    runs — the embedded Redis and its folder included — and the command exits 143 (Ctrl-C: 130).
    uvicorn captures both while it serves, shuts down, raises the signal again here and swallows the
    interrupt: the list returned records the signals, for `_exit_if_signalled` after it returns."""
    from robocortex.agents.launcher import Terminated

    received: list[int] = []

    def handler(signum, frame):  # noqa: ARG001
        received.append(signum)
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return received


def _exit_if_signalled(received: list[int]) -> None:
    if received:
        raise typer.Exit(143 if received[0] == signal.SIGTERM else 130)


def _interrupt_code(exc: BaseException) -> int:
    from robocortex.agents.launcher import exit_code

    if not isinstance(exc, KeyboardInterrupt):  # an Abort: the interrupt is its cause
        exc = exc.__cause__ or exc.__context__ or exc
    return exit_code(exc)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors are one line on stderr with exit code 2; Ctrl-C exits 130 and
    SIGTERM 143, without a traceback."""
    global _ARGV
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    received = _stop_on_signals()  # from the start: a signal while still loading unwinds the same way
    try:
        rv = app(args=argv, standalone_mode=False)
        if rv == 130 and received and received[0] == signal.SIGTERM:
            rv = 143  # typer returns 130 for any KeyboardInterrupt; this one was SIGTERM
    except ABORTS as exc:  # click turns a KeyboardInterrupt into Abort
        sys.exit(_interrupt_code(exc))
    except KeyboardInterrupt as exc:
        sys.exit(_interrupt_code(exc))
    except USAGE_ERRORS as exc:
        ctx = f"{exc.ctx.command_path}: " if exc.ctx else f"{_command_name()}: "
        message = " ".join(exc.format_message().split())  # one line, whatever the message
        print(f"{ctx}error: {message}", file=sys.stderr)
        sys.exit(2)
    except (click.exceptions.Exit, typer.Exit) as exc:  # typer turns a KeyboardInterrupt into Exit(130)
        sys.exit(_interrupt_code(exc.__cause__) if isinstance(exc.__cause__, KeyboardInterrupt) else exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (unless asked for)
        sys.exit(_one_line_error(exc))
    sys.exit(rv if isinstance(rv, int) else 0)


EXIT_UNEXPECTED = 1


def _command_name() -> str:
    return f"robocortex {_ARGV[0]}" if _ARGV and not _ARGV[0].startswith("-") else "robocortex"


def _one_line_error(exc: Exception) -> int:
    """Print what went wrong as one line on stderr; the exit code: 3 when something needed is
    unreachable or taken (Redis, the world host, the port, the simulator), 1 for anything else
    (with ROBOCORTEX_LOG_LEVEL=DEBUG the traceback follows)."""
    from robocortex.agents.startup import EXIT_UNAVAILABLE, Unavailable

    command = _command_name()
    if isinstance(exc, Unavailable):
        print(f"{command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    text = " ".join(str(exc).split())
    print(f"{command}: error: unexpected {type(exc).__name__}{': ' + text if text else ''} "
          "(ROBOCORTEX_LOG_LEVEL=DEBUG shows the traceback)", file=sys.stderr)
    if os.environ.get("ROBOCORTEX_LOG_LEVEL", "").upper() == "DEBUG":
        import traceback

        traceback.print_exception(exc)
    return EXIT_UNEXPECTED


if __name__ == "__main__":
    main()
