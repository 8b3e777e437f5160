"""Built-in robot profiles: what each kind of robot can do and carry.

Users add their own in the config file (`profiles:`), with the same fields.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from robocortex.memory.schemas import RobotProfile

from robocortex.cerebellum.mcp_skills import McpServer
from robocortex.cerebellum.skills import BUILTIN_SKILLS as SKILLS

ALL_SKILLS = list(SKILLS)
ARM_SKILLS = [s for s in ALL_SKILLS if s not in ("navigate_to", "explore")]


class ProfileSpec(BaseModel):
    """A robot kind; a `RobotProfile` is a spec bound to a robot name and an agent index.

    `payload_kg` is compared with object mass as AI2-THOR reports it; a `fixed` robot cannot
    navigate and works only on objects within reach of its base.
    """

    embodiment: str
    skills: list[str]
    payload_kg: float = Field(ge=0)
    mobility: Literal["mobile", "fixed"] = "mobile"
    description: str = ""
    mcp_servers: list[McpServer] = Field(default_factory=list, description="MCP servers whose tools become "
                                         "this robot's skills when its worker starts (docs/cerebellum.md)")

    def for_robot(self, name: str, agent_id: int) -> RobotProfile:
        """The robot's profile; with MCP servers, a `ConfiguredRobot` carrying them for its worker."""
        fields = dict(name=name, agent_id=agent_id, embodiment=self.embodiment, skills=self.skills,
                      payload_kg=self.payload_kg, mobility=self.mobility)
        if self.mcp_servers:
            return ConfiguredRobot(**fields, mcp_servers=self.mcp_servers)
        return RobotProfile(**fields)


class ConfiguredRobot(RobotProfile):
    """A robot's profile with what only its worker needs: the MCP servers to take skills from (their
    commands and headers stay in the worker: never stored in Redis, never shown by the API)."""

    mcp_servers: list[McpServer] = Field(default_factory=list, exclude=True)


BUILTIN_PROFILES: dict[str, ProfileSpec] = {
    "mobile_manipulator": ProfileSpec(
        embodiment="mobile_manipulator", skills=ALL_SKILLS, payload_kg=5.0,
        description="wheeled base with one arm: goes anywhere, does everything",
    ),
    "light_manipulator": ProfileSpec(
        embodiment="mobile_manipulator", skills=ALL_SKILLS, payload_kg=0.5,
        description="small mobile arm: light objects only",
    ),
    "fixed_arm": ProfileSpec(
        embodiment="fixed_arm", skills=ARM_SKILLS, payload_kg=3.0, mobility="fixed",
        description="arm bolted to a counter: manipulates what is within reach of its base",
    ),
    "mobile_base": ProfileSpec(
        embodiment="mobile_base", skills=["navigate_to", "explore"], payload_kg=0.0,
        description="base without an arm: moves and looks, cannot manipulate",
    ),
}


def resolve_profile(name: str, extra: dict[str, ProfileSpec] | None = None) -> ProfileSpec:
    profiles = {**BUILTIN_PROFILES, **(extra or {})}
    try:
        spec = profiles[name]
    except KeyError:
        raise ValueError(f"unknown robot profile {name!r}; choose one of: {', '.join(sorted(profiles))}") from None
    unknown = [s for s in spec.skills if s not in SKILLS]
    if unknown:
        raise ValueError(f"profile {name!r} names unknown skills: {', '.join(unknown)}")
    return spec
