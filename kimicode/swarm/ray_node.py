"""The cluster side of a Ray swarm: one sub-agent run on whichever node Ray picked.

This is the local sub-agent (`run_subagent`) fed from plain data: the task,
the base commit, the settings as JSON, and the base as a git bundle. Nothing
here reads the driver's project directory, which may not exist on this node:
the base is unpacked from the bundle into the node's cache once, the agent's
worktree is made there, and its work goes back as a bundle of its branch.

The API key is asked of the driver's relay actor when the agent starts and
kept in this process's memory only: never in the payload, the bundle, the
object store, or this process's environment (which Ray would log and the
agent's commands would inherit). Events
are sent to the driver's relay actor in small batches as they happen; the
relay's answer says when the user cancelled, and the agent is then cancelled
the same way a local one is, so its work is committed before it returns.
Its conversation goes back with its result, so the driver keeps it in the
session's folder and an unfinished agent can be resumed there.
Every model request takes its slot from the run's limiter actor
(`ray_limiter`), so the endpoint's cap holds across nodes. Approvals cannot
reach a person from here: "ask" is a refusal, as in print
mode. Hooks are the user's commands on the user's machine, so they do not run
on the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
from pathlib import Path
from typing import Any

import kimicode
from kimicode import events as ev

PUSH_EVERY_S = 0.1


def probe_node() -> dict[str, Any]:
    """What the driver checks on every node before a run: version, git, where it is."""
    from kimicode.git.run import git_executable

    return {
        "version": kimicode.__version__,
        "git": git_executable(),
        "host": socket.gethostname(),
        "node": _node_id(),
    }


def run_agent(payload: dict[str, Any], bundle: bytes, relay: Any, limiter: Any) -> dict[str, Any]:
    """The Ray task body (synchronous for Ray): run the agent to its end, return plain data."""
    return asyncio.run(_run(payload, bundle, relay, limiter))


async def _run(payload: dict[str, Any], bundle: bytes, relay: Any, limiter: Any) -> dict[str, Any]:
    from pydantic import SecretStr

    from kimicode.agent.outcome import Budget
    from kimicode.config import HooksSettings, Settings
    from kimicode.git.run import git
    from kimicode.paths import cache_dir
    from kimicode.swarm import manifest
    from kimicode.swarm.bundles import bundle_branch, unpack_base
    from kimicode.swarm.gitops import resolve_commit
    from kimicode.swarm.snapshot import Base
    from kimicode.swarm.subagent import SubAgentEnv, run_subagent
    from kimicode.swarm.tasks import TaskSpec
    from kimicode.swarm.worktrees import branch_name

    if payload["version"] != kimicode.__version__:
        raise RuntimeError(
            f"this node runs kimicode {kimicode.__version__}, the driver {payload['version']}"
        )
    node = _node_id()
    repo = await unpack_base(bundle, payload["base"], cache_dir() / "ray")
    settings = Settings.model_validate(payload["settings"])
    settings.project_dir = repo
    settings.hooks = HooksSettings()
    key = str(await relay.key.remote())
    if key:
        settings.model.api_key = SecretStr(key)
    task = TaskSpec.model_validate(payload["task"])
    await limiter.forget.remote(task.name)  # started again after its node died: its old slots
    relay_sink = _Relay(relay, task.name, node)
    emit = relay_sink.emit
    env = SubAgentEnv(
        settings=settings,
        model=_model(settings, key, limiter, task.name),
        tools=tuple(_tools(settings, payload["tools"])),
        emit=emit,
        budget=Budget(payload["budget"]),
        approve=_approver(settings),
        sandbox=await _sandbox(settings, emit),
        repo_summary=payload.get("repo_summary", ""),
        instructions=payload.get("instructions", ""),
        transcripts=Path(tempfile.mkdtemp(prefix="kimicode-transcript-")),
    )
    base = Base(commit=payload["base"], dirty=False)
    agent = asyncio.create_task(run_subagent(task, base, payload["run_id"], env))
    pusher = asyncio.create_task(relay_sink.pump(agent))
    try:
        try:
            outcome = await agent
        except asyncio.CancelledError:
            outcome = None
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
        await relay_sink.flush()
        await limiter.forget.remote(task.name)
    branch = branch_name(payload["run_id"], task.name)
    data = await bundle_branch(repo, branch, base.commit)
    said = _take_transcript(env.transcripts, payload["run_id"], task.name)
    worktree = manifest.worktree_path(repo, payload["run_id"], task.name)
    if worktree.exists():
        await git(repo, "worktree", "remove", "--force", "--force", str(worktree), check=False)
    if outcome is None:  # cancelled: its work was committed on the way out, and goes back
        tip = await resolve_commit(repo, f"refs/heads/{branch}")
        commit: dict[str, Any] = {
            "commit": tip,
            "message": "",
            "changed": [],
            "outside": [],
            "diffstat": "",
        }
        return {"name": task.name, "status": "cancelled", "error": "cancelled by the user",
                "commit": commit if data else None, "bundle": data, "node": node,
                "transcript": said}  # fmt: skip
    done = outcome.commit
    return {
        "name": outcome.name,
        "status": outcome.status,
        "summary": outcome.summary,
        "steps": outcome.steps,
        "tool_calls": outcome.tool_calls,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "duration_s": outcome.duration_s,
        "wait_s": outcome.wait_s,
        "error": outcome.error,
        "temporary": outcome.temporary,
        "checks": dict(outcome.checks),
        "commit": None
        if done is None or not done.commit or not data
        else {
            "commit": done.commit,
            "message": done.message,
            "changed": list(done.changed),
            "outside": list(done.outside),
            "diffstat": done.diffstat,
        },
        "bundle": data,
        "node": node,
        "transcript": said,
    }


def _take_transcript(folder: Path | None, run_id: str, agent: str) -> str:
    """The agent's conversation (JSONL), for the driver to keep for resuming; then gone here."""
    import shutil

    from kimicode.swarm.resume import transcript_path

    if folder is None:
        return ""
    path = transcript_path(folder, run_id, agent)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    shutil.rmtree(folder, ignore_errors=True)
    return text


class _Relay:
    """Events to the driver as they happen, batched; and the driver's cancel back."""

    def __init__(self, relay: Any, name: str, node: str) -> None:
        self.relay = relay
        self.name = name
        self.node = node
        self.pending: list[ev.Event] = []

    def emit(self, event: ev.Event) -> None:
        if isinstance(event, (ev.AgentSpawned, ev.AgentFinished)):
            import dataclasses

            event = dataclasses.replace(event, node=self.node)
        self.pending.append(event)

    async def pump(self, agent: asyncio.Task[Any]) -> None:
        while True:
            await asyncio.sleep(PUSH_EVERY_S)
            if await self.flush():
                agent.cancel()

    async def flush(self) -> bool:
        """Send what is pending; True when the driver asked this agent to stop."""
        batch, self.pending = self.pending, []
        return bool(await self.relay.push.remote(self.name, batch))


def _node_id() -> str:
    try:
        import ray

        context = ray.get_runtime_context()
        address = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        return f"{context.get_node_id()[:12]}@{address}"
    except Exception:
        return socket.gethostname()


def _model(settings: Any, key: str, limiter: Any, agent: str) -> Any:
    """The agent's model client, whose every request takes a slot from the run's limiter."""
    from kimicode.llm.client import OpenAIChatModel
    from kimicode.swarm.ray_limiter import SharedScheduler

    name = settings.swarm.model or settings.model.name
    model = settings.model.model_copy(update={"name": name})
    shared = SharedScheduler(limiter, agent, settings.retry.rate_limit_wait)
    return OpenAIChatModel(model, settings.retry, key, scheduler=shared)


def _tools(settings: Any, names: list[str]) -> list[Any]:
    """The built-in tools the driver's sub-agents have, by name (MCP servers stay local)."""
    from kimicode.tools.registry import core_tools, web_tools
    from kimicode.tools.render_page import RenderPage
    from kimicode.tools.view_image import ViewImage

    known = [*core_tools(), ViewImage(), RenderPage(), *web_tools(settings)]
    return [t for t in known if t.name in names]


def _approver(settings: Any) -> Any:
    from kimicode.trust.approvals import print_mode_approver
    from kimicode.trust.rules import PermissionRules

    root = settings.project_dir
    rules = PermissionRules(settings.permissions, root)
    return print_mode_approver(rules, settings.permissions.mode, root)


async def _sandbox(settings: Any, emit: Any) -> Any:
    from kimicode.trust.sandbox import probe

    found = await probe(settings.sandbox)
    if found.warning:
        emit(ev.Notice(level="warning", message=f"on this node: {found.warning}"))
    return found.sandbox
