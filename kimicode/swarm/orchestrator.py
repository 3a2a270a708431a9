"""One `spawn_agents` call: validate, run sub-agents in parallel, merge, account.

Up to `max_agents` run at once; more tasks queue. A failing agent is reported
and the others go on. Ctrl-C cancels every agent, keeps each one's work on its
branch, and leaves the user's tree untouched (the merge only starts once all
agents ended, and is all-or-nothing itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kimicode import events as ev
from kimicode.agent.prompts import project_instructions
from kimicode.errors import ToolError
from kimicode.git.run import git
from kimicode.swarm import manifest
from kimicode.swarm.commit import AgentCommit
from kimicode.swarm.control import SwarmControl
from kimicode.swarm.gitops import repo_toplevel, tree_entries
from kimicode.swarm.merge import MergePlan, apply_merge, plan_merge
from kimicode.swarm.resume import Resumed, ResumePlan, awaiting_merge, plan_resume
from kimicode.swarm.snapshot import Base, prepare_base
from kimicode.swarm.subagent import SubAgentEnv, SubAgentOutcome, run_subagent
from kimicode.swarm.tasks import ResumeSpec, TaskSpec, validate_tasks
from kimicode.swarm.worktrees import remove_worktree


@dataclass(frozen=True, slots=True)
class SwarmDeps:
    """What a swarm needs from whoever offers `spawn_agents`, and nothing more.

    `agents` is what every sub-agent runs from (its `repo_summary` is filled in
    per spawn); the rest is how the swarm talks back: outcomes go to
    `on_outcome`, running agents are registered in `control` (so a UI can
    cancel them), and the merge makes an undo point through `checkpoint`.
    """

    agents: SubAgentEnv
    repo_summary: Callable[[str], Awaitable[str]]
    """A map of the repository ranked for a task, or "" (sub-agents start with it)."""
    control: SwarmControl = field(default_factory=SwarmControl)
    on_outcome: Callable[[SubAgentOutcome], None] = lambda _o: None
    checkpoint: Callable[[list[str], str], Awaitable[Any]] | None = None
    """Snapshot files before the merge writes them (`/undo`), or None."""


@dataclass(slots=True)
class SwarmReport:
    run_id: str
    base: Base
    outcomes: list[SubAgentOutcome]
    wall_s: float
    merged_files: list[str] = field(default_factory=list)
    merged_earlier: list[str] = field(default_factory=list)
    """Agents of a stopped run that had finished before it stopped, merged with this one."""

    @property
    def agent_time_s(self) -> float:
        return sum(o.duration_s for o in self.outcomes)

    @property
    def speedup(self) -> float:
        return self.agent_time_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def critical_steps(self) -> int:
        return max((o.steps for o in self.outcomes), default=0)

    @property
    def total_steps(self) -> int:
        return sum(o.steps for o in self.outcomes)


class Swarm:
    def __init__(self, deps: SwarmDeps) -> None:
        self.deps = deps
        self.settings = deps.agents.settings
        self.emit = deps.agents.emit

    async def run(
        self, tasks: list[TaskSpec], resume: list[ResumeSpec] | None = None
    ) -> SwarmReport:
        started = time.perf_counter()
        root = await repo_toplevel(self.settings.project_dir)
        deps = self.deps
        resumed: dict[str, Resumed] = {}
        stopped: ResumePlan | None = None
        if resume:
            if tasks:
                raise ToolError(
                    "resume continues agents of an earlier run and cannot be mixed with new "
                    "tasks: call spawn_agents once with resume, then again with the new tasks"
                )
            stopped = await asyncio.to_thread(plan_resume, root, resume)
            run_id, base = stopped.run.run_id, stopped.base
            resumed = {r.task.name: r for r in stopped.agents}
            tasks = [r.task for r in stopped.agents]
            if len(tasks) > deps.agents.budget.remaining:
                raise ToolError("not enough of the tool-call budget is left to resume them")
        else:
            run_id = time.strftime("%m%d%H%M%S") + secrets.token_hex(2)
            base = await prepare_base(root, run_id)
            base_files = list(await tree_entries(root, base.commit))
            validate_tasks(tasks, base_files, deps.agents.budget.remaining)
        swarm = self.settings.swarm
        self.emit(
            ev.SwarmStarted(
                run_id=run_id,
                tasks=[t.model_dump() for t in tasks],
                max_agents=swarm.max_agents,
                base_commit=base.commit,
            )
        )
        summary = await deps.repo_summary(" ".join(t.prompt for t in tasks))
        instructions = await asyncio.to_thread(project_instructions, self.settings.project_dir)
        env = replace(deps.agents, repo_summary=summary, instructions=instructions)
        gate = asyncio.Semaphore(swarm.max_agents)
        control = deps.control
        handles: dict[str, asyncio.Task[SubAgentOutcome]] = {}

        cluster = None
        if swarm.backend == "ray":
            from kimicode.swarm.ray_backend import start_run

            cluster = await start_run(root, run_id, base, env)

        async def one(task: TaskSpec) -> SubAgentOutcome:
            async with gate:
                earlier = resumed.get(task.name)
                if cluster is not None and earlier is None:
                    return await cluster.run_agent(task)
                return await run_subagent(task, base, run_id, env, earlier)

        for task in tasks:
            handles[task.name] = asyncio.create_task(one(task), name=f"agent:{task.name}")
        control.tasks.update(handles)
        try:
            await asyncio.wait(handles.values())
        except asyncio.CancelledError:
            for handle in handles.values():
                handle.cancel()
            await asyncio.gather(*handles.values(), return_exceptions=True)
            await manifest.finish_run(root, run_id, interrupted=True)
            raise
        finally:
            for name in handles:
                control.tasks.pop(name, None)
            if cluster is not None:
                await cluster.close()
        outcomes = [_outcome(task, handles[task.name]) for task in tasks]
        report = SwarmReport(run_id, base, outcomes, 0.0)
        earlier = awaiting_merge(root, stopped.run, set(resumed)) if stopped else []
        merging = asyncio.ensure_future(self._merge(root, report, earlier))
        try:
            await asyncio.shield(merging)
        except asyncio.CancelledError:
            # Ctrl-C during the merge: finish it (a half-applied merge would leave the
            # user's tree half-written), then stop. Left to run on its own, the merge was
            # cancelled mid-way by the event loop's shutdown and could hang it.
            await merging
            raise
        await manifest.finish_run(root, run_id)
        report.wall_s = time.perf_counter() - started
        for outcome in outcomes:
            deps.on_outcome(outcome)
        self.emit(
            ev.SwarmFinished(
                run_id=run_id,
                agents=len(outcomes),
                merged=sum(o.merged for o in outcomes),
                failed=sum(o.status not in ("success", "cancelled") for o in outcomes),
                cancelled=sum(o.status == "cancelled" for o in outcomes),
                conflicts=sum(bool(o.conflict) for o in outcomes),
                wall_s=round(report.wall_s, 3),
                agent_time_s=round(report.agent_time_s, 3),
                speedup=round(report.speedup, 2),
                critical_steps=report.critical_steps,
                total_steps=report.total_steps,
            )
        )
        return report

    async def _merge(
        self, root: Path, report: SwarmReport, earlier: list[AgentCommit] | None = None
    ) -> None:
        """Merge the agents that succeeded (and `earlier`: finished agents of a stopped run);
        tidy the worktrees of the rest, keeping work."""
        earlier = earlier or []
        ready = [o for o in report.outcomes if o.status == "success" and _has_commit(o)]
        if ready or earlier:
            commits = [o.commit for o in ready if o.commit] + earlier
            plan = await plan_merge(root, report.base, commits)
            await self._checkpoint(plan, report.run_id)
            merge = await apply_merge(
                root,
                plan,
                commit=self.settings.swarm.commit,
                messages={c.agent: c.message for c in commits},
            )
            conflicts = {c.agent: c for c in merge.conflicts}
            for conflict in merge.conflicts:
                self.emit(
                    ev.MergeConflict(
                        agent=conflict.agent,
                        name=conflict.agent,
                        files=conflict.files,
                        branch=conflict.branch,
                        inspect=conflict.inspect,
                    )
                )
            outcomes = {o.name: o for o in ready}
            for name, files in merge.merged.items():
                report.merged_files.extend(files)
                self.emit(ev.AgentMerged(agent=name, name=name, files=files))
                if name in outcomes:
                    outcomes[name].merged = True
                else:
                    report.merged_earlier.append(name)
            for name, conflict in conflicts.items():
                if name in outcomes:
                    outcomes[name].conflict = conflict.files
        leftovers = [o for o in report.outcomes if o not in ready and o.worktree is not None]
        await asyncio.gather(*(self._tidy(root, o) for o in leftovers))

    async def _tidy(self, root: Path, outcome: SubAgentOutcome) -> None:
        """No merge for this agent: drop its worktree; keep its branch only if it holds work."""
        assert outcome.worktree is not None
        await remove_worktree(outcome.worktree)
        if not _has_commit(outcome) and not outcome.resumable:
            await git(root, "branch", "-D", outcome.worktree.branch, check=False)
            await manifest.update_agent(root, outcome.worktree.run_id, outcome.name, merged=True)

    async def _checkpoint(self, plan: MergePlan, run_id: str) -> None:
        """An undo point for the files the merge is about to write."""
        paths = sorted({c.path for a in plan.clean for c in a.changes})
        checkpoint = self.deps.checkpoint
        if paths and checkpoint is not None:
            with contextlib.suppress(Exception):
                await checkpoint(paths, f"swarm {run_id}: merge")


def _has_commit(outcome: SubAgentOutcome) -> bool:
    return bool(outcome.commit and outcome.commit.commit)


def _outcome(task: TaskSpec, handle: asyncio.Task[SubAgentOutcome]) -> SubAgentOutcome:
    if handle.cancelled():
        return SubAgentOutcome(
            task.name, "cancelled", "", task.files, error="cancelled by the user"
        )
    exc = handle.exception()
    if exc is not None:
        return SubAgentOutcome(
            task.name, "error", "", task.files, error=f"{type(exc).__name__}: {exc}"
        )
    return handle.result()
