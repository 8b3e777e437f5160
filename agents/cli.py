"""The `robocortex` command: the service, a robot worker, the world host, the demo, runs, evaluations."""

from __future__ import annotations

import logging
import os
import signal
import sys
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


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


_FLAGS = {"world_backend": "--backend"}  # command-line options named unlike their setting


def _settings(**overrides):
    from robocortex.agents.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:  # say which setting, where it comes from, and what it should be
        problems = []
        for e in exc.errors():
            name = ".".join(str(p) for p in e["loc"])
            env = "ROBOCORTEX_" + name.upper().replace(".", "__")
            flag = f" or {_FLAGS.get(name, '--' + name.replace('_', '-'))}" if name in overrides else ""
            problems.append(f"{name} ({env}{flag}): {e['msg']}")
        raise BadInput("bad setting " + "; ".join(problems)) from None
    except Exception as exc:  # a bad config file
        raise BadInput(f"bad settings: {exc}".splitlines()[0]) from None


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          planner: Optional[str] = typer.Option(None, help="auto, or a registered planner: offline, llm, or your own")):
    """Run the brain service (REST API + task runner)."""
    import uvicorn

    from robocortex.agents.brain_service import create_app

    _logging()
    settings = _settings(host=host, port=port, planner=planner)
    received = _stop_on_signals()
    # open event streams would hold a graceful shutdown forever: they get a few seconds to end
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    _exit_if_signalled(received)


@app.command()
def worker(name: str = typer.Option(..., help="robot name, unique in the deployment"),
           profile: str = typer.Option("mobile_manipulator", help="robot profile (built-in or from config)"),
           agent_id: int = typer.Option(0, min=0, help="this robot's agent index in the shared world"),
           world_url: Optional[str] = typer.Option(None, help="world host address")):
    """Run one robot worker."""
    from robocortex.agents.robot_worker import RobotWorker
    from robocortex.cerebellum.profiles import resolve_profile
    from robocortex.sim.client import WorldClient

    _logging()
    settings = _settings(world_url=world_url)
    try:
        spec = resolve_profile(profile, settings.profiles)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    w = RobotWorker(settings, spec.for_robot(name, agent_id), WorldClient(settings.world_url))
    stopped_by: list[int] = []

    def stop(signum, frame):  # noqa: ARG001 - the worker stops at its next world action, within seconds
        stopped_by.append(signum)
        w.stop_event.set()

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
    import uvicorn

    from robocortex.agents.world_host import build_world_app

    _logging()
    settings = _settings(world_backend=backend)
    try:
        world_app = build_world_app(settings, scene or settings.scene, agents, seed_memory=seed_memory)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    received = _stop_on_signals()
    uvicorn.run(world_app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    _exit_if_signalled(received)


@app.command()
def demo(instruction: str = typer.Argument(DEMO_INSTRUCTION),
         scene: str = "Kitchen-0", verbose: bool = typer.Option(False, "--verbose", "-v", help="show every action"),
         logs: Optional[Path] = typer.Option(None, help="keep the processes' logs in this folder")):
    """Start everything on embedded defaults, run one task end to end, check it in the world."""
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
            console.print(f"processes up: {', '.join(f'{n} (pid {p.pid})' for n, p in stack.procs.items())}")
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

    logging.basicConfig(level="WARNING")
    settings = _settings(planner=planner)
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

    logging.basicConfig(level="WARNING")
    settings = _settings(planner=planner)
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
        ctx = f"{exc.ctx.command_path}: " if exc.ctx else "robocortex: "
        message = " ".join(exc.format_message().split())  # one line, whatever the message
        print(f"{ctx}error: {message}", file=sys.stderr)
        sys.exit(2)
    except (click.exceptions.Exit, typer.Exit) as exc:  # typer turns a KeyboardInterrupt into Exit(130)
        sys.exit(_interrupt_code(exc.__cause__) if isinstance(exc.__cause__, KeyboardInterrupt) else exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
