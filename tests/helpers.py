"""Small builders for replay scripts used across the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from kimicode.replay.server import ReplayServer


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output (fails the test on a git error)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def turn(content: str = "", **kw: Any) -> dict[str, Any]:
    return {"content": content, **kw} if content else dict(kw)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def script(*conversations: tuple[str, list[dict[str, Any]]], **top: Any) -> dict[str, Any]:
    return {
        "conversations": [{"match": m, "turns": turns} for m, turns in conversations],
        **top,
    }


def requests_of(server: ReplayServer) -> list[dict[str, Any]]:
    return [r["body"] for r in server.requests if r.get("status") == 200]


# --- swarm scripts: an orchestrator matched by "Split…", sub-agents by "Task <name>:" ---


def task(name: str, *files: str) -> dict[str, Any]:
    """One spawn_agents task; its prompt starts with "Task <name>:"."""
    return {"name": name, "prompt": f"Task {name}: do your part.", "files": list(files)}


def sub_agent(name: str, turns: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The conversation of the sub-agent spawned by `task(name, ...)`."""
    return (f"^Task {name}:", turns)


def orchestrator(
    tasks: list[dict[str, Any]], final: str = "All done."
) -> tuple[str, list[dict[str, Any]]]:
    """An orchestrator (prompt starting with "Split") that spawns `tasks` once."""
    return ("^Split", [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), turn(final)])


def browser_missing() -> str | None:
    """Why no Chromium can be launched here, or None (browser tests skip with it)."""
    import glob
    import os

    from kimicode.errors import ToolError
    from kimicode.vision.browser import discover_chromium

    bundled = glob.glob(
        os.path.expanduser("~/.cache/ms-playwright/chromium-*/chrome-linux*/chrome")
    )
    try:
        discover_chromium(bundled[0] if bundled else None)
    except ToolError as exc:
        return f"no Chromium: {exc}"
    return None


def alive_with(marker: str) -> list[int]:
    """Running processes whose command line or environment holds `marker` (zombies do not
    count). Put it in the environment (`export MARK=...; cmd`): bash execs a command's last
    program, so a `# marker` comment is not on that program's command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in seen and state != "Z":
            found.append(int(entry.name))
    return found
