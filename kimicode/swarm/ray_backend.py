"""The driver side of a Ray swarm: sub-agents as Ray tasks, their work fetched back and merged here.

`[swarm] backend = "ray"` swaps how `Swarm` runs one agent and nothing else:
validation, ownership, the merge and its safety stay on the user's machine,
and the user's working tree is only ever written by that merge. Per run:

1. connect (`[swarm.ray] address`), then check every alive node before any
   agent starts: same kimicode version as here, git installed (`ray_checks`);
2. bundle the base once and put it in the object store (refused, saying the
   limit, when it is over `[swarm.ray] max_bundle_bytes`);
3. start one relay actor, on the head node: workers push their events to it, the driver drains
   it and re-emits them, so the dashboard, stream-json and the session log
   see remote agents as they see local ones; its answers carry cancellation;
4. each agent is a Ray task (`num_cpus`, `memory`, `retries` from
   `[swarm.ray]`) running `ray_node.run_agent`; it asks the relay for the API
   key, which lives only in the relay's memory and the agent's (not in a
   `runtime_env`, whose variables Ray writes to its agent log, nor in the
   task's arguments or the object store); its branch comes back as a bundle
   and is fetched into the user's repository under the same name;
5. one limiter actor, on the head node too, holds the run's request
   scheduler: every agent's model client asks it for each request's slot, so
   the endpoint's cap (`[model] max_concurrency`, or what 429s teach it) holds
   across the whole cluster (`ray_limiter`);
6. Ctrl-C asks every agent to stop through the relay (each commits its work
   and returns it), and force-cancels what does not answer in time.

Ray is imported only here, and only when this backend is chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kimicode
from kimicode import events as ev
from kimicode.errors import KimicodeError
from kimicode.llm.scheduler import RequestScheduler
from kimicode.swarm import manifest
from kimicode.swarm.bundles import bundle_base, fetch_branch
from kimicode.swarm.commit import AgentCommit
from kimicode.swarm.ray_checks import HEAD, check_nodes, connect, import_ray
from kimicode.swarm.ray_limiter import start_limiter
from kimicode.swarm.resume import transcript_path
from kimicode.swarm.snapshot import Base
from kimicode.swarm.subagent import SubAgentEnv, SubAgentOutcome
from kimicode.swarm.tasks import TaskSpec
from kimicode.swarm.uninterruptible import uninterruptible
from kimicode.swarm.worktrees import AgentWorktree, branch_name

DRAIN_EVERY_S = 0.1
STOP_GRACE_S = 30.0


class _Relay:
    """The actor between workers and the driver: events in, cancellations out."""

    def __init__(self) -> None:
        self.events: list[bytes] = []
        self.stop: set[str] = set()
        self.stop_all = False
        self._key = ""

    def set_key(self, key: str) -> None:
        self._key = key

    def key(self) -> str:
        """The API key, asked for by each agent at its start (kept in this actor's memory)."""
        return self._key

    def push(self, agent: str, batch: list[Any]) -> bool:
        if batch:
            self.events.append(pickle.dumps(batch))
        return self.stop_all or agent in self.stop

    def drain(self) -> list[bytes]:
        out, self.events = self.events, []
        return out

    def cancel(self, agent: str | None) -> None:
        if agent is None:
            self.stop_all = True
        else:
            self.stop.add(agent)


@dataclass(slots=True)
class RayRun:
    """One swarm run on the cluster: the base in the object store, the relay, the poller."""

    root: Path
    run_id: str
    base: Base
    env: SubAgentEnv
    ray: Any
    bundle: Any
    relay: Any
    limiter: Any
    """The run's one request limit, shared by every agent on every node (`ray_limiter`)."""
    poller: asyncio.Task[None] | None = None
    refs: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    """The node each agent was last seen starting on (its `agent_spawned` event)."""
    fetching: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One fetch into the user's repository at a time."""

    async def run_agent(self, task: TaskSpec) -> SubAgentOutcome:
        """One agent on the cluster, as a local outcome whose branch is in the user's repo."""
        settings = self.env.settings
        options: dict[str, Any] = {
            "num_cpus": settings.swarm.ray.num_cpus,
            "max_retries": settings.swarm.ray.retries,
            "retry_exceptions": False,
        }
        if settings.swarm.ray.memory:
            options["memory"] = settings.swarm.ray.memory
        remote = self.ray.remote(_run_agent_entry).options(**options)
        ref = remote.remote(self._payload(task), self.bundle, self.relay, self.limiter)
        self.refs[task.name] = ref
        try:
            data = await self._result(task, ref)
        finally:
            self.refs.pop(task.name, None)
        return await self._outcome(task, data)

    async def _result(self, task: TaskSpec, ref: Any) -> dict[str, Any] | BaseException:
        try:
            return dict(await ref)
        except asyncio.CancelledError:
            # Through any further cancel (the swarm cancelling every agent): its work comes
            # back before the run closes its relay.
            await uninterruptible(self._stop(task, ref))
            raise
        except Exception as exc:  # the node died, the worker crashed, the task raised
            return exc

    async def _stop(self, task: TaskSpec, ref: Any) -> None:
        """Ask the agent to stop; its work comes back to its branch here, or it is killed."""
        await self.relay.cancel.remote(task.name)
        try:
            async with asyncio.timeout(STOP_GRACE_S):
                await self._outcome(task, dict(await ref))
        except Exception as exc:
            self.ray.cancel(ref, force=True)
            self.env.emit(
                ev.Notice(
                    agent=task.name,
                    level="warning",
                    message=f"its work on the cluster could not be brought back: {_describe(exc)}",
                )
            )

    async def _outcome(
        self, task: TaskSpec, data: dict[str, Any] | BaseException
    ) -> SubAgentOutcome:
        if isinstance(data, BaseException):
            return await self._lost(task, data)
        out = SubAgentOutcome(
            name=task.name,
            status=data["status"],
            summary=data.get("summary", ""),
            files=task.files,
            steps=data.get("steps", 0),
            tool_calls=data.get("tool_calls", 0),
            prompt_tokens=data.get("prompt_tokens", 0),
            completion_tokens=data.get("completion_tokens", 0),
            duration_s=data.get("duration_s", 0.0),
            wait_s=data.get("wait_s", 0.0),
            error=data.get("error"),
            temporary=data.get("temporary", False),
            checks=data.get("checks", {}),
        )
        self.env.budget.take(out.tool_calls)
        commit = data.get("commit")
        branch = branch_name(self.run_id, task.name)
        worktree = AgentWorktree(
            repo_root=self.root,
            run_id=self.run_id,
            agent=task.name,
            path=manifest.worktree_path(self.root, self.run_id, task.name),
            branch=branch,
            base=self.base.commit,
            owned=list(task.files),
        )
        out.worktree = worktree
        out.transcript = await self._keep_transcript(task, data.get("transcript") or "")
        if commit is not None and data.get("bundle"):
            async with self.fetching:
                tip = await fetch_branch(self.root, data["bundle"], branch)
            out.commit = AgentCommit(
                worktree, tip, commit["message"], commit["changed"], commit["outside"],
                commit["diffstat"],
            )  # fmt: skip
            await self._record(task, out, status="committed", commit=tip)
        else:
            out.commit = AgentCommit(worktree, None, "")
            await self._record(task, out)
        return out

    async def _keep_transcript(self, task: TaskSpec, text: str) -> str | None:
        """The agent's conversation in the session's folder, as a local agent's is kept."""
        if self.env.transcripts is None:
            return None
        path = transcript_path(self.env.transcripts, self.run_id, task.name)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        await asyncio.to_thread(write)
        return str(path)

    async def _record(self, task: TaskSpec, out: SubAgentOutcome, **more: Any) -> None:
        """The run's manifest here knows the agent: `swarm list`, merge and resume use it.

        Its worktree was on a node: here it is `removed` from the start."""
        await manifest.update_agent(
            self.root, self.run_id, task.name,
            branch=branch_name(self.run_id, task.name),
            worktree=str(manifest.worktree_path(self.root, self.run_id, task.name)),
            removed=True, outcome=out.status, task=task.model_dump(), transcript=out.transcript,
            **more,
        )  # fmt: skip

    async def _lost(self, task: TaskSpec, exc: BaseException) -> SubAgentOutcome:
        """An agent whose task raised or whose node died: failed, said so as a local one is."""
        with contextlib.suppress(Exception):
            await self.drain()  # what it said before it was lost comes first
        with contextlib.suppress(Exception):
            await self.limiter.forget.remote(task.name)  # the slots its lost node held
        error = f"on the cluster: {_describe(exc)}"
        self.env.emit(
            ev.AgentFinished(
                agent=task.name, name=task.name, status="error", summary="", steps=0,
                tool_calls=0, error=error, node=self.nodes.get(task.name),
            )
        )  # fmt: skip
        out = SubAgentOutcome(task.name, "error", "", task.files, error=error)
        # Its conversation and worktree died with the node: resuming it starts it over.
        out.transcript = await self._keep_transcript(task, "")
        await self._record(task, out)
        return out

    def _payload(self, task: TaskSpec) -> dict[str, Any]:
        env = self.env
        settings = env.settings.model_dump(mode="json", by_alias=True)
        settings["model"]["api_key"] = None  # the key travels in the task's environment only
        return {
            "version": kimicode.__version__,
            "task": task.model_dump(),
            "base": self.base.commit,
            "run_id": self.run_id,
            "settings": settings,
            "tools": [t.name for t in env.tools],
            "budget": env.budget.remaining,
            "repo_summary": env.repo_summary,
            "instructions": env.instructions,
        }

    async def poll(self) -> None:
        """Re-emit the workers' events here, in the order they were pushed."""
        while True:
            await asyncio.sleep(DRAIN_EVERY_S)
            await self.drain()

    async def drain(self) -> None:
        for blob in await self.relay.drain.remote():
            for event in pickle.loads(blob):
                if isinstance(event, ev.AgentSpawned) and event.node:
                    self._seen_on(event.name, event.node)
                self.env.emit(event)

    def _seen_on(self, agent: str, node: str) -> None:
        """Ray started this agent again (`[swarm.ray] retries`) when its node was lost."""
        before = self.nodes.get(agent)
        self.nodes[agent] = node
        if before is not None and before != node:
            self.env.emit(
                ev.Notice(
                    agent=agent,
                    level="warning",
                    message=f"its node {before} was lost; started again on {node}",
                )
            )

    async def close(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        with contextlib.suppress(Exception):
            await self.drain()
        scheduler = getattr(self.env.model, "scheduler", None)
        with contextlib.suppress(Exception):
            figures = await self.limiter.figures.remote()
            if isinstance(scheduler, RequestScheduler):
                scheduler.count_in(figures)  # the run's result gives the cluster's figures
        for actor in (self.relay, self.limiter):
            with contextlib.suppress(Exception):
                self.ray.kill(actor)


async def start_run(root: Path, run_id: str, base: Base, env: SubAgentEnv) -> RayRun:
    """Connect, check the nodes, put the base in the object store, start the relay."""
    ray = import_ray()
    settings = env.settings.swarm.ray
    await asyncio.to_thread(connect, ray, settings.address)
    await check_nodes(ray)
    await manifest.start_run(root, run_id, base.commit, base.ref)
    data = await bundle_base(root, base.commit)
    if len(data) > settings.max_bundle_bytes:
        raise KimicodeError(
            f"the base is a {len(data) / 1e6:.0f} MB git bundle, over [swarm.ray] "
            f"max_bundle_bytes ({settings.max_bundle_bytes / 1e6:.0f} MB): raise the limit "
            "if the cluster's object store can hold it, or run the swarm locally"
        )
    bundle = await asyncio.to_thread(ray.put, data)
    # On the head node: a worker node that dies must not take every agent's relay with it.
    relay = ray.remote(num_cpus=0, resources={HEAD: 0.001})(_Relay).remote()
    key = env.settings.model.api_key
    await relay.set_key.remote(key.get_secret_value() if key else "")
    limit = env.settings.model.max_concurrency or env.settings.swarm.max_agents
    limiter = start_limiter(
        ray, limit, env.settings.retry.rate_limit_wait, env.settings.swarm.max_agents, HEAD
    )
    run = RayRun(root, run_id, base, env, ray, bundle, relay, limiter)
    run.poller = asyncio.create_task(run.poll(), name=f"ray-relay:{run_id}")
    env.emit(
        ev.Notice(level="info", message=f"swarm {run_id} on the Ray cluster at {settings.address}")
    )
    return run


def _run_agent_entry(
    payload: dict[str, Any], bundle: bytes, relay: Any, limiter: Any
) -> dict[str, Any]:
    from kimicode.swarm.ray_node import run_agent

    return run_agent(payload, bundle, relay, limiter)


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()
    return f"{name}: {text[-1]}" if text else name
