"""Configuration: defaults < user TOML < project TOML < environment < flags.

`load_settings` resolves every value once and remembers where it came from, so
`kimicode config show` can say it. The API key is a `SecretStr`: it is never
printed whole, and sessions and logs only ever see `Settings.redacted()`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from kimicode.errors import MissingApiKey, UsageError
from kimicode.paths import config_dir

DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
DEFAULT_MODEL = "kimi-k2.5"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(Section):
    name: str = DEFAULT_MODEL
    """Model id sent to the endpoint."""
    base_url: str = DEFAULT_BASE_URL
    """Any OpenAI-compatible chat-completions endpoint."""

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        """A typo is a usage error at once, not minutes of retried connection failures."""
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL such as https://api.moonshot.ai/v1")
        return value.strip()

    api_key: SecretStr | None = None
    """Prefer the KIMICODE_API_KEY environment variable over writing it here."""
    provider: Literal["auto", "moonshot", "openai", "vllm"] = "auto"
    """How thinking is switched: Moonshot's `thinking`, vLLM/SGLang `chat_template_kwargs`."""
    thinking: bool = True
    context_window: int = 262_144
    """Tokens the model takes; compaction keeps every request under it."""
    max_output_tokens: int = 32_768
    vision: bool = True
    """False: images are refused by kimicode before they reach the API."""
    video: bool | None = None
    """True: videos go as `video_url`; None: ask the endpoint's GET /models."""
    temperature: float | None = None
    request_timeout: float = 600.0
    max_concurrency: int | None = Field(None, ge=1)
    """Requests the account allows in flight; None starts at --max-agents and adapts on 429."""


MAX_AGENTS = 300
"""Sub-agents at once, and tasks in one spawn_agents call (--max-agents' ceiling)."""
MAX_TOOL_CALLS = 10_000
"""--max-tool-calls' ceiling: a task's tool calls, all agents together."""


class AgentSettings(Section):
    max_steps: int = 200
    """Model turns per agent before it stops with status "limit"."""
    max_tool_calls: int = Field(1500, ge=1, le=MAX_TOOL_CALLS)
    """Tool calls for the whole task, all agents together."""
    repeat_reminder: int = 3
    """Identical consecutive tool calls that earn the model a reminder."""
    repeat_stop: int = 5
    """Identical consecutive tool calls that stop the run."""


class RetrySettings(Section):
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    rate_limit_wait: float = Field(900.0, gt=0)
    """Seconds of 429s with no request getting through before the run stops (exit 75)."""


class ShellSettings(Section):
    timeout: float = 120.0
    max_output: int = 30_000
    """Characters of output kept (head and tail)."""


class PermissionSettings(Section):
    mode: Literal["default", "accept-edits", "plan", "yolo"] = "default"
    allow: list[str] = Field(default_factory=list)
    """Patterns such as `run_shell(pytest*)` that run without asking."""
    ask: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)


class RaySettings(Section):
    address: str = "auto"
    """The cluster: "auto" (a running local cluster), "host:6379" or "ray://head:10001"."""
    num_cpus: float = 1.0
    """CPUs each sub-agent reserves on its node (a build or test suite may want more)."""
    memory: int | None = None
    """Bytes of memory each sub-agent reserves, or None for Ray's default (none)."""
    retries: int = 0
    """Times a sub-agent whose node died is started again on another node."""
    max_bundle_bytes: int = 512 * 1024 * 1024
    """The largest base bundle put in the object store; a bigger repository is refused."""


class SwarmSettings(Section):
    enabled: bool = False
    """The orchestrator may call spawn_agents (--swarm)."""
    max_agents: int = Field(16, ge=1, le=MAX_AGENTS)
    model: str | None = None
    """Another model for sub-agents."""
    link: list[str] = Field(default_factory=lambda: ["node_modules", ".venv"])
    copy_paths: list[str] = Field(default_factory=lambda: [".env"], alias="copy")
    setup: str | None = None
    commit: bool = False
    """Commit each merged agent's work (one commit per agent, its task as message)."""
    agent_timeout: float = 1800.0
    agent_max_steps: int = 60
    agent_max_tool_calls: int = 200
    backend: Literal["local", "ray"] = "local"
    """Where sub-agents run: asyncio tasks here, or Ray tasks on a cluster ([swarm.ray])."""
    ray: RaySettings = Field(default_factory=RaySettings)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class VisionSettings(Section):
    max_side: int = 1568
    max_bytes: int = 4_000_000
    video_fps: float = 1.0
    video_min_frames: int = 4
    """A clip shorter than this many seconds at video_fps still shows this many frames."""
    video_max_frames: int = 16
    self_check: bool | None = None
    """None: on when frontend files were written and an image or video was given."""
    self_check_rounds: int = 3


class SandboxSettings(Section):
    mode: Literal["auto", "off", "required"] = "auto"
    network: bool = False


class ChecksSettings(Section):
    test: str | None = None
    lint: str | None = None
    rounds: int = 3


class WatchSettings(Section):
    pages: list[str] = Field(default_factory=list)
    debounce_ms: int = 300


class HooksSettings(Section):
    PreToolUse: list[str] = Field(default_factory=list)
    PostToolUse: list[str] = Field(default_factory=list)
    Stop: list[str] = Field(default_factory=list)
    SubagentStart: list[str] = Field(default_factory=list)
    SubagentStop: list[str] = Field(default_factory=list)


class WebSettings(Section):
    allow: list[str] = Field(default_factory=list)
    """Domains fetch_url may reach (`docs.python.org`, `*.github.com`, `localhost:8888`); empty: any
    public domain. A loopback or private host named here explicitly is reachable."""
    deny: list[str] = Field(default_factory=list)
    """Domains never reached, whatever `allow` says."""
    allow_private: bool = False
    """Reach private, loopback and link-local addresses (refused by default, after DNS)."""
    search: Literal["auto", "moonshot", "searxng", "brave", "off"] = "auto"
    """web_search provider; auto: Kimi's built-in search on Moonshot, SearXNG when
    `searxng_url` is set, Brave when BRAVE_API_KEY is set, otherwise no web_search."""
    searxng_url: str | None = None
    """A SearXNG instance (JSON format enabled), e.g. http://localhost:8888."""
    brave_url: str = "https://api.search.brave.com/res/v1/web/search"
    max_chars: int = 20_000
    """Characters of a fetched page the model gets by default."""
    max_bytes: int = 10_000_000
    """Bytes read from a response before it is cut."""
    timeout: float = 30.0
    """Seconds for one fetch, redirects included."""
    max_redirects: int = 5


class Settings(Section):
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    shell: ShellSettings = Field(default_factory=ShellSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    swarm: SwarmSettings = Field(default_factory=SwarmSettings)
    vision: VisionSettings = Field(default_factory=VisionSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    hooks: HooksSettings = Field(default_factory=HooksSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    project_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)
    """Dotted key -> where its value came from ("default", a file path, "env VAR", "flag")."""

    def api_key(self) -> str:
        """The key, or MissingApiKey naming every place it may come from."""
        key = self.model.api_key.get_secret_value() if self.model.api_key else ""
        if not key:
            raise MissingApiKey(self.model.base_url)
        return key

    def redacted(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True)
        data["model"]["api_key"] = redact(self.model.api_key)
        return data

    def effective(self) -> list[tuple[str, Any, str]]:
        """(dotted key, value, source) for every setting, secrets redacted."""
        rows = []
        for section, values in self.redacted().items():
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                dotted = f"{section}.{key}"
                rows.append((dotted, value, self.sources.get(dotted, "default")))
        return rows


def redact(secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value()
    if len(value) <= 8:
        return "****"
    return f"{value[:3]}…{value[-4:]}"


ENV_VARS: dict[str, tuple[str, ...]] = {
    "model.api_key": ("KIMICODE_API_KEY", "MOONSHOT_API_KEY", "OPENAI_API_KEY"),
    "model.base_url": ("KIMICODE_BASE_URL", "OPENAI_BASE_URL"),
    "model.name": ("KIMICODE_MODEL",),
}


def user_config_path() -> Path:
    return config_dir() / "config.toml"


def project_config_path(project_dir: Path) -> Path:
    return project_dir / ".kimicode" / "config.toml"


def load_settings(
    project_dir: Path,
    flags: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
    user_file: Path | None = None,
) -> Settings:
    """Resolve settings for `project_dir`. `flags` maps dotted keys to values (None = unset)."""
    env = dict(os.environ) if env is None else env
    layers: list[tuple[str, dict[str, Any]]] = []
    for path in (user_file or user_config_path(), project_config_path(project_dir)):
        if path.is_file():
            layers.append((str(path), _read_toml(path)))
    env_layer: dict[str, Any] = {}
    env_sources: dict[str, str] = {}
    for dotted, names in ENV_VARS.items():
        for name in names:
            if env.get(name):
                _set(env_layer, dotted, env[name])
                env_sources[dotted] = f"env {name}"
                break
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for origin, layer in layers:
        _merge(merged, layer)
        for dotted in _keys(layer):
            sources[dotted] = origin
    _merge(merged, env_layer)
    sources.update(env_sources)
    for dotted, value in (flags or {}).items():
        if value is not None:
            _set(merged, dotted, value)
            sources[dotted] = "flag"
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        origin = sources.get(where, "configuration")
        raise UsageError(f"invalid setting {where} (from {origin}): {first['msg']}") from None
    settings.project_dir = project_dir
    settings.sources = sources
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _keys(tree: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_keys(value, dotted + "."))
        else:
            out.append(dotted)
    return out
