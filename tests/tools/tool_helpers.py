"""Building a real ToolContext over a temporary directory and calling tools by arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from kimicode.config import Settings
from kimicode.events import Event
from kimicode.tools.base import Tool, ToolContext, ToolResult, ToolServices
from kimicode.tools.workspace import Workspace
from kimicode.trust.sandbox import Sandbox


def make_ctx(
    root: Path,
    *,
    owned: list[str] | None = None,
    sandbox: Sandbox | None = None,
    settings: Settings | None = None,
) -> ToolContext:
    events: list[Event] = []
    services = ToolServices(
        workspace=Workspace(root, owned=owned),
        settings=settings or Settings(project_dir=root),
        emit=events.append,
        sandbox=sandbox,
    )
    return ToolContext(services)


async def call(tool: Tool[Any], ctx: ToolContext, **arguments: Any) -> ToolResult:
    """Validate arguments the way the agent loop does, then run the tool."""
    return await tool.run(tool.Params.model_validate(arguments), ctx)


def git_init(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def process_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def running_with_cmdline(needle: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmdline and process_running(int(entry.name)):
            found.append(int(entry.name))
    return found
