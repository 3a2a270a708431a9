"""A session: one conversation with the agent in one project, saved as it goes.

It wires the parts together (model client, tools, workspace, approvals, the
session log, the event bus) and runs turns. Print mode runs one turn; the TUI
runs many. Nothing here knows how events are shown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode import events as ev
from kimicode.agent.guardrails import Checkpointer, CheckRecord, ToolHooks, checks_finish_check
from kimicode.agent.loop import Agent
from kimicode.agent.outcome import AgentResult, Budget
from kimicode.agent.prompts import load, project_instructions
from kimicode.config import Settings
from kimicode.errors import KimicodeError
from kimicode.llm.types import ChatModel, Message
from kimicode.sessions.store import SessionLog, SessionStore
from kimicode.skills.catalog import discover
from kimicode.swarm.tally import SwarmTally
from kimicode.tools.base import Approver, Tool, approve_all
from kimicode.tools.registry import ToolSet, core_tools, web_tools
from kimicode.tools.skill import SkillTool
from kimicode.tools.workspace import Workspace


@dataclass(slots=True)
class RunOutcome:
    agent: AgentResult
    duration_s: float
    swarm: SwarmTally = field(default_factory=SwarmTally)
    screenshots: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.agent.status == "success" and self.swarm.problems:
            return "error"
        return "error" if self.agent.status == "cancelled" else self.agent.status

    @property
    def error(self) -> str | None:
        problems = ([self.agent.error] if self.agent.error else []) + self.swarm.problems
        return "; ".join(problems) or None


class Session:
    def __init__(
        self,
        settings: Settings,
        *,
        model: ChatModel | None = None,
        approve: Approver = approve_all,
        store: SessionStore | None = None,
        resume_id: str | None = None,
        extra_tools: list[Tool] | None = None,
    ) -> None:
        self.settings = settings
        self.root = settings.project_dir
        self.bus = ev.EventBus()
        self.approve = approve
        self.store = store or SessionStore()
        self._model = model
        self.workspace = Workspace(self.root)
        self.budget = Budget(settings.agent.max_tool_calls)
        self.extras: dict[str, Any] = {}
        self.history: list[Message]
        if resume_id:
            loaded = self.store.load(resume_id)
            self.history = loaded.messages
            self.log: SessionLog = self.store.reopen(resume_id)
            self.resumed = True
        else:
            self.history = []
            self.log = self.store.create(self.root, settings.model.name)
            self.resumed = False
        self.id = self.log.id
        self.skills = discover(self.root)
        self.extras["session_dir"] = self.log.dir
        self.bus.subscribe(self.log.event)
        self.tools = ToolSet(self._build_tools(extra_tools or []))
        self.hooks = ToolHooks(settings, self.root, self.id) if ToolHooks.wanted(settings) else None
        self.checkpointer = Checkpointer(self.root)
        self.swarm = SwarmTally()
        self.screenshots: list[str] = []
        self.started = False
        self.mcp: Any = None

    # --- parts -------------------------------------------------------------------

    @property
    def model(self) -> ChatModel:
        if self._model is None:
            from kimicode.llm.client import OpenAIChatModel

            self._model = OpenAIChatModel(
                self.settings.model, self.settings.retry, self.settings.api_key()
            )
        return self._model

    def _prepare_model(self) -> None:
        prepare = getattr(self.model, "prepare", None)
        if prepare is not None:
            prepare()

    def sub_model(self) -> ChatModel:
        """The model sub-agents use: `[swarm] model` on the same connection pool, else ours."""
        name = self.settings.swarm.model
        for_model = getattr(self.model, "for_model", None)
        if not name or name == self.settings.model.name or for_model is None:
            return self.model
        return for_model(name)

    def subagent_tools(self) -> list[Tool]:
        """The same tools minus spawn_agents (sub-agents cannot spawn)."""
        return [t for t in self.tools if t.name != "spawn_agents"]

    async def repo_summary(self, task: str, budget: int = 1_000) -> str:
        """A map of the repository's important files and symbols, ranked for `task`."""
        from kimicode.repo.repomap import RepoMap

        repo_map = RepoMap(self.root)
        try:
            return await repo_map.render(task, token_budget=budget)
        except Exception as exc:  # a map is a help, never a reason to fail
            self.bus(ev.Notice(level="warning", message=f"repo map unavailable: {exc}"))
            return ""
        finally:
            repo_map.close()

    def _build_tools(self, extra: list[Tool]) -> list[Tool]:
        tools: list[Tool] = [*core_tools(), *_vision_tools(), *web_tools(self.settings), *extra]
        if self.skills.skills:
            tools.append(SkillTool(self.skills))
        if self.settings.swarm.enabled:
            from kimicode.swarm.spawn_tool import SpawnAgentsTool

            tools.append(SpawnAgentsTool(self))
        mode = self.settings.permissions.mode
        if mode == "plan":
            tools = [t for t in tools if t.read_only]
        return tools

    def system_prompt(self) -> str:
        parts = [load("system").format(root=self.root)]
        if self.settings.swarm.enabled:
            parts.append(load("orchestrator"))
        instructions = project_instructions(self.root)
        if instructions:
            parts.append(instructions)
        if self.skills.skills:
            parts.append(self.skills.prompt())
        return "\n\n".join(parts)

    # --- running -----------------------------------------------------------------

    async def start(self, task: str = "") -> None:
        """Announce the session; a new one gets its system prompt and the repo map."""
        self.bus(
            ev.SessionStarted(
                session_id=self.id,
                model=self.settings.model.name,
                cwd=str(self.root),
                resumed=self.resumed,
            )
        )
        for bad in self.skills.skipped:
            self.bus(ev.Notice(level="warning", message=f"skill skipped: {bad.path}: {bad.reason}"))
        # The model client (the openai import, ~0.4 s) loads in a thread while the map is built.
        client = asyncio.create_task(asyncio.to_thread(self._prepare_model))
        await self._start_mcp()
        if not self.history:
            prompt = self.system_prompt()
            repo_map = await self.repo_summary(task, budget=2_000)
            if repo_map.strip():
                prompt += f"\n\n# Repository map (most relevant files and symbols)\n\n{repo_map}"
            system = {"role": "system", "content": prompt}
            self.history.append(system)
            self.log.message(system)
        try:
            await client
        except KimicodeError:
            pass  # raised again, where it matters, by the first model call
        self.started = True

    async def run(
        self,
        prompt: str,
        *,
        images: list[Path] | None = None,
        videos: list[Path] | None = None,
    ) -> RunOutcome:
        from kimicode.agent.attachments import build_user_content, mentioned_media

        started = time.perf_counter()
        if not self.started:
            await self.start(prompt)
        more_images, more_videos = mentioned_media(prompt, self.root)
        images = [*(images or []), *more_images]
        videos = [*(videos or []), *more_videos]
        key = self.settings.api_key() if videos else ""
        content = await build_user_content(prompt, images, videos, self.settings, key)
        self.bus(ev.UserMessage(text=prompt, attachments=[str(p) for p in images + videos]))
        self.swarm = SwarmTally()
        self.screenshots = []
        agent = self._agent(
            approve=self.approve,
            record=self.log.message,
            on_compact=self.log.compaction,
            finish_checks=self._finish_checks(bool(images or videos), images),
            extras=self.extras,
            hooks=self.hooks,
            checkpointer=self.checkpointer,
        )
        result = await agent.run(content)
        return RunOutcome(
            agent=result,
            duration_s=time.perf_counter() - started,
            swarm=self.swarm,
            screenshots=list(self.screenshots),
        )

    def _finish_checks(self, had_media: bool, images: list[Path]) -> list[Any]:
        from kimicode.vision.finish import visual_finish_check

        checks = [
            visual_finish_check(self, had_media, images),
            checks_finish_check(self.settings, CheckRecord()),
        ]
        if self.hooks is not None:
            checks.append(self.hooks.stop_check())
        return checks

    def set_model(self, name: str) -> None:
        """Switch the model for the next turns (the TUI's /model)."""
        self.settings.model.name = name
        if self._model is not None and hasattr(self._model, "for_model"):
            self._model = self._model.for_model(name)

    def set_swarm(self, enabled: bool) -> None:
        """Offer spawn_agents (or stop offering it) from the next turn on (the TUI's /swarm)."""
        self.settings.swarm.enabled = enabled
        keep = [t for t in self.tools if t.name.startswith("mcp__")]
        self.tools = ToolSet(self._build_tools(keep))

    async def compact(self) -> None:
        """Summarise the history now (the TUI's /compact)."""
        agent = self._agent()
        fitted, report = await agent.compactor.fit(self.history, fixed=agent.compactor.budget)
        if report is not None:
            self.history[:] = fitted
            self.log.compaction(fitted)
            self.bus(
                ev.Compacted(
                    tokens_before=report.tokens_before,
                    tokens_after=report.tokens_after,
                    method=report.method,
                )
            )

    def clear(self) -> None:
        """Start a fresh conversation in the same session (the TUI's /clear).

        The system prompt (with the repo map) stays: it is the session's, not the conversation's.
        """
        self.history[:] = [m for m in self.history[:1] if m.get("role") == "system"]
        self.log.compaction(list(self.history))

    def cancel_agents(self, name: str | None = None) -> bool:
        """Cancel one running sub-agent (or all with None); False when no swarm runs."""
        control = self.extras.get("swarm_control")
        if control is None:
            return False
        control.cancel(name)
        return True

    def _agent(self, **options: Any) -> Agent:
        """The main agent over this session's history (options: approvals, checks, hooks)."""
        return Agent(
            model=self.model,
            tools=self.tools,
            messages=self.history,
            settings=self.settings,
            workspace=self.workspace,
            emit=self.bus,
            budget=self.budget,
            **options,
        )

    def result_event(self, outcome: RunOutcome) -> ev.RunResult:
        res, swarm = outcome.agent, outcome.swarm
        return ev.RunResult(
            status=outcome.status,
            result=res.result,
            session_id=self.id,
            usage={
                "prompt_tokens": res.usage.prompt_tokens + swarm.prompt_tokens,
                "completion_tokens": res.usage.completion_tokens + swarm.completion_tokens,
            },
            steps=res.steps + swarm.steps,
            tool_calls=res.tool_calls + swarm.tool_calls,
            critical_steps=res.critical_steps,
            agents=swarm.agents,
            duration_s=round(outcome.duration_s, 3),
            error=outcome.error,
            screenshots=outcome.screenshots,
        )

    async def _start_mcp(self) -> None:
        """Connect the configured MCP servers; their tools join this session's."""
        from kimicode.mcp.config import project_mcp_path, user_mcp_path

        if not (project_mcp_path(self.root).is_file() or user_mcp_path().is_file()):
            return
        from kimicode.mcp.manager import McpManager

        def warn(message: str) -> None:
            self.bus(ev.Notice(level="warning", message=message))

        self.mcp = McpManager(on_warning=warn)
        tools = await self.mcp.start(self.settings)
        if self.settings.permissions.mode == "plan":
            tools = [t for t in tools if t.read_only]
        self.tools = self.tools.with_tools(*tools)

    async def aclose(self) -> None:
        """Close the log and everything the session started."""
        if self.mcp is not None:
            await self.mcp.aclose()
            self.mcp = None
        self.log.close()


def _vision_tools() -> list[Tool]:
    from kimicode.tools.render_page import RenderPage
    from kimicode.tools.view_image import ViewImage

    return [ViewImage(), RenderPage()]
