"""Collaborators the loop calls around tool calls and at the end of a turn.

- `ToolHooks`: the user's `[hooks]` PreToolUse / PostToolUse / Stop commands;
  exit 2 from a PreToolUse hook blocks the call and its stderr is what the
  model reads; from a Stop hook it sends the agent back to work.
- `Checkpointer`: before a turn's edits, the files about to change are
  snapshotted in the shadow store, so `/undo` and `kimicode undo` restore them.
- `checks_finish_check`: the test-fix loop: `[checks] test` / `lint` run after
  the agent's edits, in the sandbox like run_shell; failures go back to it
  until they pass or rounds run out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimicode import events as ev
from kimicode.config import Settings
from kimicode.llm.types import ToolCall

if TYPE_CHECKING:
    from kimicode.agent.outcome import FinishCheck, Finished
    from kimicode.tools.base import ToolResult
    from kimicode.tools.workspace import Workspace
    from kimicode.trust.sandbox import Sandbox

EDIT_TOOLS = {"write_file": "path", "edit_file": "path"}
CHECK_OUTPUT = 6_000


class ToolHooks:
    def __init__(self, settings: Settings, cwd: Path, session_id: str = "") -> None:
        self.settings = settings.hooks
        self.cwd = cwd
        self.session_id = session_id

    @staticmethod
    def wanted(settings: Settings) -> bool:
        h = settings.hooks
        return bool(h.PreToolUse or h.PostToolUse or h.Stop)

    async def before(self, agent: str, call: ToolCall, args: dict[str, Any]) -> str | None:
        """The reason a PreToolUse hook blocked the call, or None."""
        if not self.settings.PreToolUse:
            return None
        from kimicode.trust.hooks import run_hooks, tool_payload

        payload = tool_payload(
            call.name, args, agent=agent, call_id=call.id, session_id=self.session_id
        )
        outcome = await run_hooks("PreToolUse", payload, self.settings, self.cwd)
        return outcome.reason or "blocked by a PreToolUse hook" if outcome.blocked else None

    async def after(
        self, agent: str, call: ToolCall, args: dict[str, Any], result: ToolResult
    ) -> None:
        if not self.settings.PostToolUse:
            return
        from kimicode.trust.hooks import run_hooks, tool_payload

        payload = tool_payload(
            call.name,
            args,
            agent=agent,
            call_id=call.id,
            result={"output": result.text[:4000], "is_error": result.is_error},
            session_id=self.session_id,
        )
        await run_hooks("PostToolUse", payload, self.settings, self.cwd)

    def stop_check(self) -> FinishCheck:
        async def check(agent: Finished) -> str | None:
            if not self.settings.Stop:
                return None
            from kimicode.trust.hooks import run_hooks

            payload = {
                "session_id": self.session_id,
                "agent": agent.agent,
                "last_message": agent.final,
            }
            outcome = await run_hooks("Stop", payload, self.settings, self.cwd)
            return (
                f"A Stop hook asks you to continue: {outcome.reason}" if outcome.blocked else None
            )

        return check


class Checkpointer:
    """Snapshots the files a turn's file edits will touch, once per turn."""

    def __init__(self, root: Path) -> None:
        from kimicode.trust.checkpoints import CheckpointStore

        self.store = CheckpointStore(root)

    async def before_turn(self, calls: list[ToolCall], parsed: list[Any], step: int) -> None:
        paths = sorted(
            {
                str(args[EDIT_TOOLS[c.name]])
                for c, args in zip(calls, parsed, strict=True)
                if c.name in EDIT_TOOLS and isinstance(args, dict) and args.get(EDIT_TOOLS[c.name])
            }
        )
        if paths:
            try:
                await self.store.snapshot(paths, f"step {step}: {', '.join(paths)[:200]}")
            except Exception:  # an undo point that cannot be made must not stop the edit
                return


@dataclass(slots=True)
class CheckRecord:
    passed: dict[str, bool] = field(default_factory=dict)
    rounds: int = 0


def checks_finish_check(
    settings: Settings, record: CheckRecord, sandbox: Sandbox | None
) -> FinishCheck:
    """The test-fix loop as a finish check; `record` says which checks passed. The checks
    run in `sandbox` (the run's; None only when it has none)."""
    commands = {
        k: v for k, v in (("test", settings.checks.test), ("lint", settings.checks.lint)) if v
    }

    async def check(agent: Finished) -> str | None:
        if not commands or not agent.written:
            return None
        await agent.workspace.prepare_shell()
        failures = []
        for name, command in commands.items():
            code, output = await run_check(
                command, agent.workspace, settings.shell.timeout, sandbox
            )
            record.passed[name] = code == 0
            if code != 0:
                failures.append(f"## {name}: `{command}` exited {code}\n{output}")
        agent.emit(
            ev.Notice(
                agent=agent.agent,
                level="info" if not failures else "warning",
                message="checks: "
                + ", ".join(f"{k} {'passed' if v else 'failed'}" for k, v in record.passed.items()),
            )
        )
        if not failures or record.rounds >= settings.checks.rounds:
            return None
        record.rounds += 1
        return (
            "The project's checks fail after your changes. Fix the cause (not the checks), "
            "then reply when they pass.\n\n" + "\n\n".join(failures)
        )

    return check


async def run_check(
    command: str, workspace: Workspace, timeout_s: float, sandbox: Sandbox | None
) -> tuple[int, str]:
    """Run a configured check the way run_shell runs commands: it runs the project's
    tests, which the model may have just written, so in the same sandbox, with the
    same environment; (exit code, output tail)."""
    from kimicode.trust.launcher import ProcessSpec, run_process

    done = await run_process(
        ProcessSpec(
            command=command,
            root=workspace.root,
            sandbox=sandbox,
            timeout=timeout_s,
            read_only=workspace.sandbox_read_only(),
            max_output=CHECK_OUTPUT,
        )
    )
    if done.exit_code is None:
        return 124, f"timed out after {timeout_s:.0f} s"
    return done.exit_code, done.output
