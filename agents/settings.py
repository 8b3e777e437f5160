"""All settings in one place: command-line options, environment variables prefixed ROBOCORTEX_, or a
TOML/YAML config file named by ROBOCORTEX_CONFIG, in that order of precedence. Unknown keys are
refused (the file's are reported with their line: see config_file.py)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from robocortex.agents.config_file import file_source
from robocortex.memory.connection import default_socket_path

from robocortex.brain.graph import BrainConfig
from robocortex.brain.planner import Planner, available_planners, make_planner, unknown_planner_message
from robocortex.brain.runner import RunnerConfig
from robocortex.cerebellum.profiles import ProfileSpec


class LLMSettings(BaseModel):
    """The planning model: any OpenAI-compatible server (vLLM serving RoboBrain 2.0, OpenAI, llama.cpp).

    The defaults let a CPU model finish: the completion budget is sized to what is asked for (goals
    are small), and the time allowed grows with that budget instead of being one fixed per-call figure."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint; unset = offline planner")
    model: str = Field(default="", description="model name; empty = the first one the server lists at /v1/models")
    api_key: str = "EMPTY"
    mode: Literal["goals", "plan"] = Field(
        default="goals", description="goals: the model writes goals, the search planner plans them; "
        "plan: the model writes the whole multi-robot plan (RoboBrain 2.0's native output)")
    timeout_s: float = Field(default=120.0, gt=0, description="longest wait for the first token, or between two tokens")
    seconds_per_token: float = Field(default=0.5, gt=0, description="a call may take timeout_s + max_tokens × this")
    max_retries: int = Field(default=2, ge=0, description="retries after 429, 5xx and timeouts (within the task deadline)")
    backoff_s: float = Field(default=0.5, ge=0, description="first retry delay; doubles per retry")
    backoff_max_s: float = Field(default=8.0, ge=0)
    structured_output: Literal["auto", "json_schema", "json_object", "tools", "none"] = Field(
        default="auto", description="json_schema (vLLM, OpenAI, llama-server), json_object with a schema "
        "(llama-cpp-python, llama-server), tools, none (JSON from text); auto learns what the endpoint takes")
    stream: bool = Field(default=True, description="stream replies, so an abandoned call stops generating on the server")
    temperature: float = 0.0
    repair_temperature: float = Field(default=0.7, ge=0, description="when a repair gets the same answer back")
    max_tokens: int | None = Field(default=None, ge=1, description="completion budget; unset = sized to the mode "
                                   "(goals 768, plan 4096; +1024 with think)")
    context_length: int | None = Field(default=None, ge=256, description="the model's context in tokens; "
                                       "unset = read from the server (/v1/models, llama.cpp /props)")
    think: bool = Field(default=False, description="ask for <think>…</think><answer>…</answer> (RoboBrain 2.0); "
                        "without an explicit structured_output the answer is then read from text")

    def completion_budget(self) -> int:
        if self.max_tokens:
            return self.max_tokens
        return (768 if self.mode == "goals" else 4096) + (1024 if self.think else 0)


class VisionRoleSettings(BaseModel):
    """One spatial role's endpoint; unset fields fall back to the vision block's."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint; unset = the vision base_url")
    model: str | None = Field(default=None, description="model name, e.g. a RoboBrain 1.0 LoRA adapter served by "
                              "vLLM (affordance, trajectory); unset = the vision model")
    api_key: str | None = None
    enabled: bool = True


class VisionSettings(BaseModel):
    """RoboBrain's spatial roles for the robots (grounding, affordance, pointing, trajectory): camera
    frames go to OpenAI-compatible endpoints as images; one server may serve several roles."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="robots use the roles below (`robocortex run --vision`)")
    base_url: str | None = Field(default=None, description="default endpoint of every role; unset with no role "
                                 "endpoint = no vision")
    model: str = Field(default="", description="default model; empty = the first the server lists")
    api_key: str = "EMPTY"
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    think: bool = Field(default=True, description="ask for <think>…</think><answer>…</answer> (kept in events)")
    max_tokens: int = Field(default=1024, ge=1)
    image_factor: int = Field(default=28, ge=0, description="frames are sent resized to multiples of this (Qwen2.5-VL's "
                              "28 px grid, so pixel answers are in the image sent); 0 = as rendered")
    frames_dir: str = Field(default="", description="where camera frames sent to the models are saved (events "
                            "reference them); empty = <tmp>/robocortex-frames")
    grounding: VisionRoleSettings = Field(default_factory=VisionRoleSettings)
    affordance: VisionRoleSettings = Field(default_factory=VisionRoleSettings)
    pointing: VisionRoleSettings = Field(default_factory=VisionRoleSettings)
    trajectory: VisionRoleSettings = Field(default_factory=VisionRoleSettings)

    def endpoints(self) -> dict[str, Any]:
        """role → VisionEndpoint for every role with an endpoint."""
        from robocortex.cerebellum.vision import ROLES, VisionEndpoint

        out = {}
        for role in ROLES:
            r: VisionRoleSettings = getattr(self, role)
            url = r.base_url or self.base_url
            if r.enabled and url:
                out[role] = VisionEndpoint(base_url=url, model=r.model if r.model is not None else self.model,
                                           api_key=r.api_key or self.api_key, timeout_s=self.timeout_s,
                                           max_retries=self.max_retries, think=self.think, max_tokens=self.max_tokens,
                                           image_factor=self.image_factor)
        return out

    def client(self) -> Any:
        """A VisionClient for the configured roles, or None when no role has an endpoint."""
        import tempfile

        from robocortex.cerebellum.vision import FrameStore, VisionClient

        endpoints = self.endpoints()
        if not self.enabled or not endpoints:
            return None
        directory = self.frames_dir or str(Path(tempfile.gettempdir()) / "robocortex-frames")
        return VisionClient(endpoints, FrameStore(directory))  # type: ignore[arg-type]


class PolicySettings(BaseModel):
    """Skills run by external policy servers (RoboBrain-X0 style; protocol in docs/cerebellum.md)."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, str] = Field(default_factory=dict, description="skill name → policy server URL")
    timeout_s: float = Field(default=30.0, gt=0)
    max_rounds: int = Field(default=20, ge=1, description="requests per skill call before it counts as failed")

    def client(self, frames_dir: str = "") -> Any:
        import tempfile

        from robocortex.cerebellum.policy import PolicyClient
        from robocortex.cerebellum.skills import SKILLS
        from robocortex.cerebellum.vision import FrameStore

        if not self.servers:
            return None
        unknown = sorted(set(self.servers) - set(SKILLS))
        if unknown:
            raise ValueError(f"policy.servers: unknown skill(s) {unknown}; skills are {', '.join(SKILLS)}")
        directory = frames_dir or str(Path(tempfile.gettempdir()) / "robocortex-frames")
        return PolicyClient(dict(self.servers), self.timeout_s, self.max_rounds, FrameStore(directory))


class StrictProfileSpec(ProfileSpec):
    """A robot profile from the settings: unknown keys are refused, like every other setting's."""

    model_config = ConfigDict(extra="forbid")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROBOCORTEX_", env_nested_delimiter="__", extra="forbid")

    redis_url: str | None = Field(default=None, description="Redis URL; unset = the machine's shared embedded "
                                  "Redis at redis_socket (serve, worker, world-host) or a private one (demo, run, eval)")
    redis_socket: str = Field(default_factory=default_socket_path, description="where processes on this machine "
                              "meet: the first starts an embedded Redis on this unix socket, the others join it")
    redis_wait_s: float = Field(default=30.0, ge=0, description="how long a process waits for Redis before it gives up")
    world_wait_s: float = Field(default=120.0, ge=0, description="how long a worker waits for the world host")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="ROBOCORTEX_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", description="text, or one JSON object per line")
    key_prefix: str = Field(default="rc", description="prefix of every Redis key (several deployments, one Redis)")
    host: str = "127.0.0.1"
    port: int = 8000
    world_url: str = Field(default="http://127.0.0.1:8001", description="world host address (robot workers)")
    world_backend: Literal["auto", "emulator", "thor"] = "auto"
    scene: str = "Kitchen-0"
    planner: str = Field(default="auto", description="auto (llm when LLM__BASE_URL is set, else offline), or any "
                         "registered planner: offline, llm, or one a package adds (entry points robocortex.planners)")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    vision: VisionSettings = Field(default_factory=VisionSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    brain_id: str = Field(default_factory=socket.gethostname, description="consumer name of this brain replica")
    brain_workers: int = Field(default=4, ge=1, description="tasks one brain runs at once")
    max_repairs: int = 3
    max_replans: int = 3
    task_timeout_s: float = 600.0
    wait_for_robots_s: float = Field(default=30.0, ge=0, description="how long a new task waits for a robot "
                                     "to come online before it is planned anyway (0: plan at once)")
    heartbeat_ttl_s: float = 5.0
    lease_ms: int = 120_000
    max_deliveries: int = Field(default=3, ge=1, description="starts of one subtask before it fails over to a replan")
    retention_s: int = Field(default=7 * 24 * 3600, ge=1, description="how long a finished task's event and "
                             "result streams, and subtask results and progress, are kept")
    max_finished_tasks: int | None = Field(default=10_000, ge=0, description="finished tasks kept (records, "
                                           "events, results); the oldest beyond this are trimmed; unset = no cap")
    trim_every_s: float = Field(default=60.0, gt=0, description="how often the brain trims finished tasks older "
                                "than retention_s or beyond max_finished_tasks")
    max_priority: int = Field(default=10, ge=0, description="task priorities run 0 (default, lowest) to this")
    profiles: dict[str, StrictProfileSpec] = Field(default_factory=dict, description="extra robot profiles")
    thor_data: str | None = Field(default=None, description="path to AI2-THOR reference data (../shared/thor)")
    cors_origins: list[str] = Field(default_factory=list, description="origins whose pages may call the API "
                                    "(CORS); empty = CORS off, and cross-site state changes refused")
    world_secret: str | None = Field(default=None, description="shared secret the world host requires "
                                     "(X-World-Secret) on every call but /health; unset = open world host")
    constitution: str | None = Field(default=None, description="the safety constitution every plan is checked "
                                     "against (YAML rules, docs/brain.md); unset = the shipped default rules")
    approve_all_plans: bool = Field(default=False, description="every plan waits for an operator's approval "
                                    "(POST /tasks/{id}/approve) before dispatch")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, env_settings, file_source(settings_cls), file_secret_settings

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("planner")
    @classmethod
    def _known_planner(cls, name: str) -> str:
        if name != "auto" and name not in available_planners():
            raise ValueError(unknown_planner_message(name))
        return name

    @field_validator("constitution")
    @classmethod
    def _readable_constitution(cls, path: str | None) -> str | None:
        if path:
            from robocortex.brain.constitution import load

            load(path)  # a bad rule file stops the process at start, saying where
        return path

    def load_constitution(self) -> Any:
        """The rules every plan is checked against (brain.constitution.Constitution)."""
        from robocortex.brain.constitution import load

        return load(self.constitution)

    def planner_kind(self) -> str:
        if self.planner == "auto":
            return "llm" if self.llm.base_url else "offline"
        return self.planner

    def runner_config(self) -> RunnerConfig:
        """How this process's brain runs tasks."""
        return RunnerConfig(
            brain_id=self.brain_id, workers=self.brain_workers, retention_s=self.retention_s,
            max_finished_tasks=self.max_finished_tasks, trim_every_s=self.trim_every_s,
            brain=BrainConfig(max_repairs=self.max_repairs, max_replans=self.max_replans,
                              task_timeout_s=self.task_timeout_s, wait_for_robots_s=self.wait_for_robots_s,
                              constitution=self.load_constitution(), approve_all=self.approve_all_plans),
        )

    def make_planner(self) -> Planner:
        return make_planner(self.planner_kind(), self)
