"""`spawn_agents`: the orchestrator's one call that starts many sub-agents."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from kimicode.errors import ToolError
from kimicode.swarm.agent_types import AgentTypes, load_agent_types
from kimicode.swarm.orchestrator import Swarm, SwarmDeps, SwarmReport
from kimicode.swarm.tasks import SpawnParams, TaskSpec
from kimicode.tools.base import Tool, ToolContext, ToolResult

SUMMARY_CAP = 1_500


class SpawnAgentsTool(Tool[SpawnParams]):
    name: ClassVar[str] = "spawn_agents"
    Params = SpawnParams
    read_only: ClassVar[bool] = False

    def __init__(self, deps: SwarmDeps) -> None:
        self.deps = deps
        self._types: AgentTypes | None = None

    @property
    def types(self) -> AgentTypes:
        if self._types is None:
            self._types = load_agent_types(self.deps.agents.settings.project_dir)
        return self._types

    @property
    def description(self) -> str:
        """The tool's text plus the agent types the orchestrator may pass as `type`."""
        return f"{super().description}\n\nAgent types (`type`):\n{self.types.menu()}"

    def summary(self, params: SpawnParams) -> str:
        names = [t.name for t in params.tasks] + [i.name for i in params.items]
        names += [f"{r.name} (resume)" for r in params.resume]
        return f"spawn_agents {', '.join(names)}"

    async def run(self, params: SpawnParams, ctx: ToolContext) -> ToolResult:
        tasks = params.all_tasks()
        _check_types(tasks, self.types)
        agents = replace(self.deps.agents, agent_types=self.types.types)
        report = await Swarm(replace(self.deps, agents=agents)).run(tasks, params.resume)
        return ToolResult(
            render_report(report),
            changed=report.merged_files,
            critical_steps=report.critical_steps,  # this stage's path: the slowest sub-agent
        )


def _check_types(tasks: list[TaskSpec], types: AgentTypes) -> None:
    """An unknown type, or files for a read-only type: a tool error, nothing started."""
    problems = []
    for t in tasks:
        kind = types.types.get(t.type) if t.type else None
        if t.type and kind is None:
            known = ", ".join(types.types)
            problems.append(f"{t.name}: unknown type {t.type!r} (known: {known})")
        elif kind is not None and t.files and kind.read_only:
            problems.append(f"{t.name}: type {t.type} is read-only; give it files: []")
    if problems:
        raise ToolError("; ".join(problems))


def render_report(report: SwarmReport) -> str:
    """What the orchestrator reads: summaries and diff stats, never transcripts."""
    lines = [
        f"{len(report.outcomes)} sub-agents ran (run {report.run_id}); "
        f"{sum(o.merged for o in report.outcomes)} merged into the project. "
        f"Wall time {report.wall_s:.1f}s for {report.agent_time_s:.1f}s of agent time "
        f"(speedup {report.speedup:.1f}x).",
    ]
    if report.merged_earlier:
        lines.append(
            "Also merged now (they had finished before the run was stopped): "
            + ", ".join(report.merged_earlier)
        )
    for o in report.outcomes:
        lines.append("")
        head = f"## {o.name}: {o.status}"
        if not o.files:
            head += " (read-only)"
        if o.resumable:
            head += " (resumable: spawn_agents with resume)"
        if o.merged:
            head += ", merged"
        elif o.conflict:
            head += f", NOT merged (conflict with the user's changes in {', '.join(o.conflict)})"
        elif o.commit and o.commit.commit:
            head += f", NOT merged (work kept on branch {o.commit.branch})"
        lines.append(head + f" — {o.steps} steps, {o.tool_calls} tool calls")
        if o.checks:
            lines.append(
                "checks: "
                + ", ".join(f"{k} {'passed' if v else 'FAILED'}" for k, v in o.checks.items())
            )
        if o.error:
            lines.append(f"error: {o.error}")
        summary = o.summary.strip()
        if len(summary) > SUMMARY_CAP:
            summary = summary[:SUMMARY_CAP] + " […]"
        if summary:
            lines.append(summary)
        if o.commit and o.commit.diffstat:
            lines.append(o.commit.diffstat.rstrip())
        if o.commit and o.commit.outside:
            lines.append(
                "changed files it does not own (not merged): " + ", ".join(o.commit.outside)
            )
    return "\n".join(lines)
