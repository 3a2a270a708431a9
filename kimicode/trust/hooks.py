"""`[hooks]`: the user's own shell commands at fixed points of a run.

Each command gets the event as JSON on stdin, in the shape Claude Code hooks
read (`hook_event_name`, `tool_name`, `tool_input`, `tool_response`, ...), so
existing hook scripts work unchanged. Exit 0 passes; exit 2 blocks, and the
command's stderr is the reason the model reads; any other exit, a timeout or a
command that cannot start is a warning and the run goes on.

Hooks are the user's configuration, so they run unsandboxed, in the project
directory, without the API key variables in their environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.config import HooksSettings

HOOK_EVENTS = ("PreToolUse", "PostToolUse", "Stop", "SubagentStart", "SubagentStop")
BLOCK_EXIT_CODE = 2
DEFAULT_TIMEOUT = 60.0
_MAX_TEXT = 4000
"""Characters kept of a hook's stdout and of its stderr (head and tail)."""


@dataclass(slots=True)
class HookOutcome:
    blocked: bool = False
    reason: str = ""
    """The blocking hook's stderr (or a line naming the hook when it printed none)."""
    warnings: list[str] = field(default_factory=list)
    """One line per hook that failed without blocking."""
    outputs: list[str] = field(default_factory=list)
    """Stdout of hooks that passed, for UIs and logs."""


def tool_payload(
    tool: str,
    arguments: dict[str, Any],
    *,
    agent: str = "main",
    call_id: str = "",
    result: Any = None,
    session_id: str = "",
) -> dict[str, Any]:
    """The payload for PreToolUse (no result) and PostToolUse (with the result)."""
    payload: dict[str, Any] = {
        "session_id": session_id,
        "agent": agent,
        "tool_name": tool,
        "tool_input": arguments,
        "tool_use_id": call_id,
    }
    if result is not None:
        payload["tool_response"] = result
    return payload


async def run_hooks(
    event_name: str,
    payload: dict[str, Any],
    settings: HooksSettings,
    cwd: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT,
) -> HookOutcome:
    """Run the event's commands in order; the first one that exits 2 blocks the rest."""
    if event_name not in HOOK_EVENTS:
        raise ValueError(f"unknown hook event {event_name!r}; one of {', '.join(HOOK_EVENTS)}")
    commands: list[str] = getattr(settings, event_name)
    outcome = HookOutcome()
    if not commands:
        return outcome
    body = {"hook_event_name": event_name, "cwd": str(cwd), **payload}
    data = json.dumps(body, default=_jsonable).encode("utf-8")
    for command in commands:
        code, out, err = await _run_one(command, data, cwd, timeout_s)
        if code == BLOCK_EXIT_CODE:
            outcome.blocked = True
            outcome.reason = err.strip() or f"blocked by {event_name} hook `{command}`"
            return outcome
        if code != 0:
            detail = err.strip().splitlines()[-1] if err.strip() else ""
            what = "timed out" if code is None else f"exited {code}"
            outcome.warnings.append(
                f"{event_name} hook `{command}` {what}" + (f": {detail}" if detail else "")
            )
        elif out.strip():
            outcome.outputs.append(out.strip())
    return outcome


async def _run_one(
    command: str, data: bytes, cwd: Path, timeout_s: float
) -> tuple[int | None, str, str]:
    """(exit code or None on timeout, stdout, stderr) of one hook command."""
    from kimicode.errors import ToolError
    from kimicode.trust.launcher import ProcessSpec, run_process

    spec = ProcessSpec(
        command=command,
        root=cwd,
        sandbox=None,  # the user's own command, documented as unsandboxed
        timeout=timeout_s,
        stdin=data,
        separate_stderr=True,
        max_output=_MAX_TEXT,
    )
    try:
        done = await run_process(spec)
    except ToolError as exc:
        return 127, "", f"cannot start: {exc}"
    if done.exit_code is None:
        return None, "", ""
    return done.exit_code, done.output, done.stderr


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)
