"""The config file (ROBOCORTEX_CONFIG: TOML, or YAML for any other suffix) and where each setting
came from: the command line, an environment variable, a line of the file, or the default.

Loading is pydantic-settings' own TOML/YAML sources; this module adds the line of each key, so
an unknown or bad key is reported as `file:line`, and `robocortex config` can say where every
effective value came from.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource, \
    YamlConfigSettingsSource

ENV_CONFIG = "ROBOCORTEX_CONFIG"
ENV_PREFIX = "ROBOCORTEX_"
Loc = tuple[str, ...]


def config_path() -> Path | None:
    """The config file named by ROBOCORTEX_CONFIG; ValueError if it names no file."""
    path = os.environ.get(ENV_CONFIG)
    if not path:
        return None
    if not Path(path).is_file():
        raise ValueError(f"{ENV_CONFIG}={path}: no such file")
    return Path(path)


class _Empty(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {}


def file_source(settings_cls: type[BaseSettings]) -> PydanticBaseSettingsSource:
    """pydantic-settings' TOML or YAML source for the config file (an empty one without a file)."""
    path = config_path()
    if path is None:
        return _Empty(settings_cls)
    ConfigFile.load()  # a file that is not TOML/YAML, or not a mapping, is refused naming the file
    if path.suffix == ".toml":
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    return YamlConfigSettingsSource(settings_cls, yaml_file=path)


# ---------------------------------------------------------------------- lines of keys


def _yaml_lines(text: str) -> dict[Loc, int]:
    lines: dict[Loc, int] = {}

    def walk(node: yaml.Node, loc: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*loc, str(key.value))
                lines[here] = key.start_mark.line + 1
                walk(value, here)

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _toml_key(text: str) -> Loc:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def _toml_lines(text: str) -> dict[Loc, int]:
    """Lines of table headers and `key =` lines (keys inside inline tables get their table's line)."""
    lines: dict[Loc, int] = {}
    table: Loc = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(line):
            table = _toml_key(m.group(1))
            for i in range(1, len(table) + 1):
                lines.setdefault(table[:i], number)
        elif m := _KEY.match(line):
            lines[(*table, *_toml_key(m.group(1)))] = number
    return lines


@dataclass
class ConfigFile:
    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int]

    @classmethod
    def load(cls) -> "ConfigFile | None":
        path = config_path()
        if path is None:
            return None
        text = path.read_text()
        try:
            if path.suffix == ".toml":
                return cls(path, tomllib.loads(text), _toml_lines(text))
            data = yaml.safe_load(text) or {}
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: "
                             + " ".join(str(exc).split())) from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a config file holds settings as keys and values, not a {type(data).__name__}")
        return cls(path, data, _yaml_lines(text))

    def has(self, loc: Loc) -> bool:
        node: Any = self.data
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def where(self, loc: Loc, exact: bool = True) -> str | None:
        """`file:line` of the key at `loc`, None if the file does not set it. With `exact=False` (an
        error's location, which may name a key that is missing), the line of its nearest enclosing key."""
        if not self.has(loc if exact else loc[:1]):
            return None
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.lines:
                return f"{self.path}:{self.lines[loc[:n]]}"
        return str(self.path)


# ---------------------------------------------------------------------- provenance


def env_name(loc: Loc) -> str:
    return ENV_PREFIX + "__".join(loc).upper()


@dataclass
class Provenance:
    """Where each setting comes from, by precedence: CLI option, environment variable, file, default."""

    cli: dict[str, str] = field(default_factory=dict)  # setting → option name
    file: ConfigFile | None = None
    env: dict[str, str] = field(default_factory=lambda: {k.upper(): k for k in os.environ})

    @classmethod
    def current(cls, cli: dict[str, str] | None = None) -> "Provenance":
        try:
            file = ConfigFile.load()
        except (OSError, ValueError, yaml.YAMLError, tomllib.TOMLDecodeError):
            file = None
        return cls(cli=dict(cli or {}), file=file)

    def _env_var(self, loc: Loc) -> str | None:
        for n in range(len(loc), 0, -1):  # the setting itself, or an enclosing one given as JSON
            if env_name(loc[:n]) in self.env:
                return self.env[env_name(loc[:n])]
        deeper = env_name(loc) + "__"
        return next((name for upper, name in self.env.items() if upper.startswith(deeper)), None)

    def source(self, loc: Loc, exact: bool = True) -> str:
        """`CLI --flag`, `env NAME`, `file:line`, or `default` (`exact`: see ConfigFile.where)."""
        if loc[0] in self.cli:
            return f"CLI {self.cli[loc[0]]}"
        if name := self._env_var(loc):
            return f"env {name}"
        if self.file is not None and (where := self.file.where(loc, exact)):
            return where
        return "default"
