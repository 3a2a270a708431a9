"""One sub-agent run: plain data in, plain data out, events on the way.

(base commit, task, owned paths, `SubAgentEnv`) -> `SubAgentOutcome`. It needs
no Session: it shares nothing with the orchestrator beyond what `SubAgentEnv`
holds (settings, the model client, the tools, the event sink, the task's
tool-call budget, the approver and the sandbox), so the same function can run
in another process or on another machine (tests/swarm/test_subagent_plain.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode import events as ev
from kimicode.agent.guardrails import CheckRecord, ToolHooks, checks_finish_check
from kimicode.agent.loop import Agent
from kimicode.agent.outcome import Budget
from kimicode.agent.parts import AgentParts
from kimicode.agent.prompts import load
from kimicode.config import Settings
from kimicode.errors import TemporaryModelError
from kimicode.llm.types import Message
from kimicode.protocols import ChatModel, Tool
from kimicode.swarm import manifest
from kimicode.swarm.agent_types import AgentType
from kimicode.swarm.commit import AgentCommit, commit_agent_work
from kimicode.swarm.gitops import resolve_commit
from kimicode.swarm.readonly import SnapshotWorkspace, SourceLog, read_only_tools
from kimicode.swarm.resume import Resumed, Transcript, reopen_worktree, transcript_path
from kimicode.swarm.snapshot import Base
from kimicode.swarm.tasks import TaskSpec
from kimicode.swarm.typed import apply_type
from kimicode.swarm.uninterruptible import uninterruptible
from kimicode.swarm.workspace import SparseWorkspace
from kimicode.swarm.worktrees import AgentWorktree, create_worktree
from kimicode.tools.background import BackgroundProcesses
from kimicode.tools.base import Approver, ToolServices, approve_all
from kimicode.tools.registry import ToolSet
from kimicode.tools.skill import skills_prompt
from kimicode.tools.workspace import Workspace
from kimicode.trust.sandbox import Sandbox


@dataclass(slots=True)
class SubAgentOutcome:
    name: str
    status: str  # "success" | "error" | "limit" | "cancelled"
    summary: str
    files: list[str]
    steps: int = 0
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_s: float = 0.0
    wait_s: float = 0.0
    """Seconds its model calls waited for the endpoint's rate limit."""
    error: str | None = None
    worktree: AgentWorktree | None = None
    commit: AgentCommit | None = None
    merged: bool = False
    conflict: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    """`[checks]` run in the agent's worktree before it reported done: name -> passed."""
    transcript: str | None = None
    """Its conversation in the session's folder (None: not kept, cannot be resumed)."""
    temporary: bool = False
    """It failed for a reason worth retrying later (the rate-limit wait ran out)."""
    note: str = ""
    """Said about the run to the orchestrator (a resumed agent that had to start over)."""

    @property
    def resumable(self) -> bool:
        return self.status != "success" and not self.merged and self.transcript is not None


@dataclass(frozen=True, slots=True)
class SubAgentEnv:
    """Everything a sub-agent runs from, as values; the swarm's dependencies extend it."""

    settings: Settings
    model: ChatModel
    tools: tuple[Tool, ...]
    """The tools sub-agents get (never spawn_agents: sub-agents cannot spawn)."""
    emit: ev.EventSink
    budget: Budget
    """The task's tool-call budget; each sub-agent's own budget is a child of it."""
    approve: Approver = approve_all
    sandbox: Sandbox | None = None
    repo_summary: str = ""
    instructions: str = ""
    """The project's AGENTS.md / KIMI.md, read once where the user runs kimicode."""
    agent_types: Mapping[str, AgentType] = field(default_factory=dict)
    """The types tasks may name (`type`): extra prompt and a tool allow-list."""
    transcripts: Path | None = None
    """The session's folder: each agent's conversation is kept there, for resuming."""


async def _end(background: BackgroundProcesses, finish: Coroutine[Any, Any, None]) -> None:
    """Background processes killed, then the agent finished: one uninterruptible step, so
    another cancel (a second Ctrl-C, a Ray relay's repeated stop) cannot skip the commit."""
    try:
        await background.close()
    finally:
        await finish


async def run_subagent(
    task: TaskSpec, base: Base, run_id: str, env: SubAgentEnv, resumed: Resumed | None = None
) -> SubAgentOutcome:
    """Run one sub-agent to its end; never raises except on cancellation.

    Its worktree is created while the model thinks about its first turn: the
    workspace is only needed once the first tool runs, so setup stays off the
    critical path.
    """
    started = time.perf_counter()
    out = SubAgentOutcome(name=task.name, status="error", summary="", files=task.files)
    emit = ev.tagged(env.emit, task.name)
    swarm = env.settings.swarm
    root = env.settings.project_dir
    over = resumed is not None and not await resolve_commit(root, f"refs/heads/{resumed.branch}")
    sources = SourceLog(emit) if task.read_only else None
    setup: asyncio.Task[Workspace]
    if sources is not None:
        emit = sources
        setup = asyncio.create_task(_set_up_read_only(task, base, env, emit))
        expected, tools = root, read_only_tools(env.tools)
        system = load("subagent_read").format(root=root)
    else:
        setup = asyncio.create_task(_set_up(task, base, run_id, env, emit, out, resumed))
        expected, tools = manifest.worktree_path(root, run_id, task.name), env.tools
        system = load("subagent").format(root=expected, owned=", ".join(task.files))
    if env.instructions:  # the project's conventions bind sub-agents too
        system += "\n\n" + env.instructions
    kind = env.agent_types.get(task.type) if task.type else None
    typed = apply_type(
        kind, model=env.model, tools=tools, approve=env.approve, settings=env.settings
    )
    tools = typed.tools
    if typed.prompt:
        system += f"\n\n{typed.prompt}"
    if skills := skills_prompt(tools):
        system += f"\n\n{skills}"
    messages: list[Message] = [{"role": "system", "content": system}]
    first: str = _first_message(task, env.repo_summary)
    transcript: Transcript | None = None
    if resumed is not None:
        transcript = Transcript(resumed.transcript)
        if over:
            out.note = f"its branch {resumed.branch} was deleted, so it started over"
            first = f"{first}\n\n(Your earlier work was lost: {out.note}.)"
            transcript.restart(messages)
        else:
            messages, first = list(resumed.history), resumed.prompt
    elif env.transcripts is not None:
        transcript = Transcript(transcript_path(env.transcripts, run_id, task.name))
        transcript.restart(messages)
    out.transcript = None if transcript is None else str(transcript.path)
    record = CheckRecord()
    background = BackgroundProcesses()  # its own port and processes, ended with it
    hooks = ToolHooks(env.settings, expected) if ToolHooks.wanted(env.settings) else None
    services = ToolServices(
        workspace=Workspace(expected, owned=task.files)
        if sources is None
        else SnapshotWorkspace(root, base.commit),
        settings=env.settings,
        emit=emit,
        approve=typed.approve,
        sandbox=env.sandbox,
        background=background,
    )

    async def ready() -> Workspace:
        # shielded: a Ctrl-C while it is built must not leave the agent without its record
        return await asyncio.shield(setup)

    agent = Agent(
        typed.model,
        ToolSet(tools),
        messages,
        services,
        Budget(swarm.agent_max_tool_calls, parent=env.budget),
        name=task.name,
        parts=AgentParts(
            hooks=hooks,
            finish_checks=(checks_finish_check(env.settings, record, env.sandbox),),
            workspace_ready=ready,
            max_steps=swarm.agent_max_steps,
            record=transcript if transcript is not None else _keep_nothing,
            on_compact=transcript.restart if transcript is not None else _keep_nothing,
        ),
    )
    try:
        result = await asyncio.wait_for(agent.run(first), swarm.agent_timeout)
        out.status, out.summary, out.error = result.status, result.result, result.error
        out.temporary = isinstance(result.exception, TemporaryModelError)
        if sources is not None:
            out.summary = sources.cite(out.summary)
    except TimeoutError:
        out.status = "error"
        out.error = f"timed out after {swarm.agent_timeout:.0f} s ([swarm] agent_timeout)"
        out.summary = agent.final
    except asyncio.CancelledError:
        out.status, out.error = "cancelled", "cancelled"
        raise
    except Exception as exc:  # a crashing sub-agent is reported, the others go on
        out.status = "error"
        out.error = f"{type(exc).__name__}: {exc}"
    finally:
        if transcript is not None:
            transcript.flush()  # on disk before the manifest says how the agent ended
        out.steps, out.tool_calls = agent.steps, agent.tool_calls
        out.checks = dict(record.passed)
        out.prompt_tokens = agent.usage.prompt_tokens
        out.completion_tokens = agent.usage.completion_tokens
        out.wait_s = agent.wait_s
        await uninterruptible(_end(background, _finish(task, env, out, setup, emit, started)))
    return out


def _keep_nothing(_: object) -> None:
    """No transcript is kept (no session folder): nothing to record."""


async def _set_up(
    task: TaskSpec,
    base: Base,
    run_id: str,
    env: SubAgentEnv,
    emit: ev.EventSink,
    out: SubAgentOutcome,
    resumed: Resumed | None = None,
) -> SparseWorkspace:
    swarm = env.settings.swarm
    root = env.settings.project_dir
    if resumed is not None:
        out.worktree, _ = await reopen_worktree(root, base, run_id, resumed)
    else:
        out.worktree = await create_worktree(root, base, run_id, task.name, task.files, swarm)
    # recorded now, not only at the end: a run killed before its agents finished can resume them
    await manifest.update_agent(
        root,
        run_id,
        task.name,
        outcome="running",
        task=task.model_dump(),
        transcript=out.transcript,
    )
    emit(
        ev.AgentSpawned(
            name=task.name,
            files=task.files,
            branch=out.worktree.branch,
            worktree=str(out.worktree.path),
        )
    )
    blocked = await _subagent_hook("SubagentStart", env, task, out.worktree.path, None)
    if blocked:
        raise RuntimeError(f"a SubagentStart hook refused this agent: {blocked}")
    return SparseWorkspace(out.worktree, settings=swarm, sandbox=env.sandbox)


async def _set_up_read_only(
    task: TaskSpec, base: Base, env: SubAgentEnv, emit: ev.EventSink
) -> SnapshotWorkspace:
    """No worktree and no branch: the base commit read straight from the object store."""
    emit(ev.AgentSpawned(name=task.name, files=[], branch="", worktree=""))
    root = env.settings.project_dir
    blocked = await _subagent_hook("SubagentStart", env, task, root, None)
    if blocked:
        raise RuntimeError(f"a SubagentStart hook refused this agent: {blocked}")
    return SnapshotWorkspace(root, base.commit)


async def _finish(
    task: TaskSpec,
    env: SubAgentEnv,
    out: SubAgentOutcome,
    setup: asyncio.Task[Workspace],
    emit: ev.EventSink,
    started: float,
) -> None:
    """Keep the agent's work on its branch, run SubagentStop, report: even when cancelled."""
    workspace: Workspace | None = None
    try:
        workspace = await setup
    except asyncio.CancelledError:
        out.status, out.error = "cancelled", out.error or "cancelled"
    except Exception as exc:
        if out.status == "success" or not out.error:
            out.status, out.error = "error", f"{type(exc).__name__}: {exc}"
    try:
        if isinstance(workspace, SnapshotWorkspace):
            await workspace.close()
        elif isinstance(workspace, SparseWorkspace):
            await _keep_work(out, task, workspace)
    except Exception as exc:
        out.status, out.error = "error", out.error or f"{type(exc).__name__}: {exc}"
    out.duration_s = time.perf_counter() - started
    if out.note:
        out.summary = f"({out.note}) {out.summary}"
    if out.worktree is not None:
        wt = out.worktree
        await manifest.update_agent(
            wt.repo_root, wt.run_id, task.name,
            outcome=out.status, task=task.model_dump(), transcript=out.transcript,
        )  # fmt: skip
    if out.worktree is not None or task.read_only:
        cwd = out.worktree.path if out.worktree is not None else env.settings.project_dir
        await _subagent_hook("SubagentStop", env, task, cwd, out.status)
    emit(
        ev.AgentFinished(
            name=task.name,
            status=out.status,
            summary=out.summary[:4000],
            steps=out.steps,
            tool_calls=out.tool_calls,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.completion_tokens,
            duration_s=round(out.duration_s, 3),
            wait_s=round(out.wait_s, 3),
            error=out.error,
            diffstat=out.commit.diffstat if out.commit else "",
        )
    )


async def _keep_work(out: SubAgentOutcome, task: TaskSpec, workspace: SparseWorkspace) -> None:
    """Commit what the agent did (even when it failed) so its work is never lost."""
    try:
        if out.worktree is not None:
            first_line = task.prompt.strip().splitlines()[0][:72] if task.prompt.strip() else ""
            message = f"{task.name}: {first_line}\n\n{task.prompt.strip()}"
            out.commit = await commit_agent_work(out.worktree, task.files, message)
    finally:
        await workspace.close()


async def _subagent_hook(
    event: str, env: SubAgentEnv, task: TaskSpec, cwd: Path, status: str | None
) -> str | None:
    """Run SubagentStart / SubagentStop hooks; the reason when one blocked."""
    commands = getattr(env.settings.hooks, event)
    if not commands:
        return None
    from kimicode.trust.hooks import run_hooks

    payload = {"agent": task.name, "task": task.prompt, "files": task.files, "cwd": str(cwd)}
    if status is not None:
        payload["status"] = status
    outcome = await run_hooks(event, payload, env.settings.hooks, cwd)
    return outcome.reason or "blocked" if outcome.blocked else None


def _first_message(task: TaskSpec, repo_summary: str) -> str:
    files = "\n".join(f"- {f}" for f in task.files)
    summary = f"\n\nThe repository:\n{repo_summary}" if repo_summary else ""
    if task.read_only:
        return f"{task.prompt.strip()}\n\nYou are read-only: read, search and report.{summary}"
    return f"{task.prompt.strip()}\n\nFiles you own (only these may be written):\n{files}{summary}"
