"""Which MCP servers to start: `mcp.json` files in the `mcpServers` format.

The format is the one Claude Code, Cursor and Kimi CLI read, so a user can
copy their existing file::

    {"mcpServers": {
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
        "docs": {"url": "http://127.0.0.1:8000/mcp",
                 "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}
    }}

Two files are read: the user's (`$XDG_CONFIG_HOME/kimicode/mcp.json`, else
`~/.config/kimicode/mcp.json`) and the project's (`.kimicode/mcp.json`); a
project entry replaces a user entry of the same name. `${VAR}` and
`${VAR:-default}` in strings are expanded from the environment, so secrets can
stay out of the files. A stdio server starts with a minimal environment (PATH,
HOME, USER, SHELL, TERM, LOGNAME) plus its own `env`: keys in our environment
reach a third-party server only when the entry names them. A broken file or
entry is reported and skipped, never fatal: the session goes on without it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kimicode.paths import config_dir

Transport = Literal["stdio", "http"]

_HTTP_TYPES = frozenset({"http", "streamable-http", "streamable_http", "streamableHttp"})
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to reach one MCP server, and which file said so."""

    name: str
    transport: Transport
    source: Path
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def target(self) -> str:
        """One line for reports: the command line or the URL."""
        if self.transport == "http":
            return self.url
        return " ".join([self.command, *self.args])


@dataclass(slots=True)
class McpConfig:
    servers: dict[str, ServerSpec] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One line per file or entry that could not be used."""
    files: list[Path] = field(default_factory=list)
    """The files that were read, user first."""


def user_mcp_path() -> Path:
    return config_dir() / "mcp.json"


def project_mcp_path(project_dir: Path) -> Path:
    return project_dir / ".kimicode" / "mcp.json"


def load_mcp_config(
    project_dir: Path,
    *,
    user_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> McpConfig:
    """The servers configured for `project_dir`, project entries over user entries."""
    environ = os.environ if env is None else env
    config = McpConfig()
    for path in (user_file or user_mcp_path(), project_mcp_path(project_dir)):
        if not path.is_file():
            continue
        config.files.append(path)
        entries = _read_entries(path, config.problems)
        for name, raw in entries.items():
            try:
                spec = parse_server(name, raw, path, environ)
            except ValueError as exc:
                config.problems.append(f"{path}: server {name!r}: {exc}")
                continue
            if spec is not None:
                config.servers[name] = spec
            else:
                config.servers.pop(name, None)  # disabled here, even if enabled by the user file
    return config


def _read_entries(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{path}: not valid JSON ({exc}); its MCP servers are skipped")
        return {}
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if servers is None:
        problems.append(f'{path}: no "mcpServers" object; nothing to start')
        return {}
    if not isinstance(servers, dict):
        problems.append(f'{path}: "mcpServers" must be an object of name -> server')
        return {}
    return servers


def parse_server(name: str, raw: Any, source: Path, env: Mapping[str, str]) -> ServerSpec | None:
    """One `mcpServers` entry as a ServerSpec; None when it is disabled."""
    if not isinstance(raw, dict):
        raise ValueError("expected an object with `command` or `url`")
    if raw.get("disabled") is True or raw.get("enabled") is False:
        return None
    kind = str(raw.get("type") or raw.get("transport") or "")
    if kind == "sse":
        raise ValueError('the legacy "sse" transport is not supported; use streamable HTTP')
    if "url" in raw or kind in _HTTP_TYPES:
        url = _expand(_string(raw, "url"), env)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"`url` must be an http:// or https:// URL, got {url!r}")
        headers = _string_map(raw, "headers", env)
        return ServerSpec(name, "http", source, url=url, headers=headers)
    if kind not in ("", "stdio"):
        raise ValueError(f"unknown server type {kind!r} (expected stdio or http)")
    command = _expand(_string(raw, "command"), env)
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
        raise ValueError("`args` must be a list of strings")
    cwd = raw.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError("`cwd` must be a string")
    return ServerSpec(
        name,
        "stdio",
        source,
        command=command,
        args=tuple(_expand(str(a), env) for a in args),
        env=_string_map(raw, "env", env),
        cwd=_expand(cwd, env) if cwd else None,
    )


def _string(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"`{key}` must be a non-empty string")
    return value


def _string_map(raw: dict[str, Any], key: str, env: Mapping[str, str]) -> dict[str, str]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"`{key}` must be an object of name -> string")
    return {str(k): _expand(str(v), env) for k, v in value.items()}


def _expand(text: str, env: Mapping[str, str]) -> str:
    """`${VAR}` -> its value ('' when unset), `${VAR:-default}` -> value or default."""

    def one(match: re.Match[str]) -> str:
        value = env.get(match.group(1), "")
        return value if value else (match.group(2) or "")

    return _VAR.sub(one, text)
