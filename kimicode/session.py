"""A session: one conversation with the agent in one project, saved as it goes.

It wires the parts together (model client, tools, workspace, approvals, the
session log, the event bus) and runs turns. Print mode runs one turn; the TUI
runs many. Nothing here knows how events are shown. What tools may use is one
frozen `ToolServices`, built here once from what the caller passed in (the
approver, the sandbox); the swarm gets plain `SwarmDeps`, never the Session.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimicode import events as ev
from kimicode.agent.guardrails import Checkpointer, CheckRecord, ToolHooks, checks_finish_check
from kimicode.agent.loop import Agent
from kimicode.agent.outcome import AgentResult, Budget, FinishCheck
from kimicode.agent.parts import AgentParts
from kimicode.agent.prompts import load, project_instructions
from kimicode.config import Settings
from kimicode.errors import KimicodeError
from kimicode.llm.types import Message, Usage
from kimicode.protocols import ChatModel, LimitedModel, PreparesModel, SwitchesModel, Tool
from kimicode.sessions.store import SessionLog, SessionStore
from kimicode.skills.catalog import discover
from kimicode.swarm.control import SwarmControl
from kimicode.swarm.tally import SwarmTally
from kimicode.tools.base import Approver, ToolServices, approve_all
from kimicode.tools.registry import ToolSet, core_tools, web_tools
from kimicode.tools.skill import SkillTool
from kimicode.tools.workspace import Workspace

if TYPE_CHECKING:
    from kimicode.trust.sandbox import Sandbox


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
        sandbox: Sandbox | None = None,
        store: SessionStore | None = None,
        resume_id: str | None = None,
        extra_tools: list[Tool] | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        self.settings = settings
        self.root = settings.project_dir
        self.bus = ev.EventBus()
        self.store = store or SessionStore()
        self._model = model
        self.workspace = workspace or Workspace(self.root)
        """Where the main agent's paths resolve (an editor's workspace reads its buffers)."""
        self.budget = Budget(settings.agent.max_tool_calls)
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
        from kimicode.tools.background import BackgroundProcesses

        self.services = ToolServices(
            workspace=self.workspace,
            settings=settings,
            emit=self.bus,
            approve=approve,
            sandbox=sandbox,
            session_dir=self.log.dir,
            background=BackgroundProcesses(),
        )
        self.bus.subscribe(self.log.event)
        self.tools = ToolSet(self._build_tools(extra_tools or []))
        self.hooks = ToolHooks(settings, self.root, self.id) if ToolHooks.wanted(settings) else None
        self.checkpointer = Checkpointer(self.root)
        self.swarm = SwarmTally()
        self.swarm_control = SwarmControl()
        """Every running sub-agent of this session, for a UI's cancel (one for its lifetime)."""
        self.screenshots: list[str] = []
        self.started = False
        self.mcp: Any = None
        self.running: Agent | None = None
        """The agent of the turn under way (or the last one)."""

    # --- parts -------------------------------------------------------------------

    @property
    def model(self) -> ChatModel:
        if self._model is None:
            from kimicode.llm.client import OpenAIChatModel

            self._model = OpenAIChatModel(
                self.settings.model,
                self.settings.retry,
                self.settings.api_key(),
                concurrency=self.settings.swarm.max_agents,
            )
        return self._model

    def _prepare_model(self) -> None:
        model = self.model
        if isinstance(model, PreparesModel):
            model.prepare()

    def sub_model(self) -> ChatModel:
        """The model sub-agents use: `[swarm] model` on the same connection pool, else ours."""
        name = self.settings.swarm.model
        model = self.model
        if not name or name == self.settings.model.name or not isinstance(model, SwitchesModel):
            return model
        return model.for_model(name)

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
        """The tools of every turn; spawn_agents is added per turn (`_turn_tools`)."""
        tools: list[Tool] = [*core_tools(), *_vision_tools(), *web_tools(self.settings), *extra]
        if self.skills.skills:
            tools.append(SkillTool(self.skills))
        mode = self.settings.permissions.mode
        if mode == "plan":
            tools = [t for t in tools if t.read_only]
        return tools

    def _turn_tools(self, services: ToolServices, budget: Budget, tally: SwarmTally) -> ToolSet:
        """This turn's tools: with the swarm on, spawn_agents over this turn's values."""
        if not self.settings.swarm.enabled or self.settings.permissions.mode == "plan":
            return self.tools
        from kimicode.swarm.orchestrator import SwarmDeps
        from kimicode.swarm.spawn_tool import SpawnAgentsTool
        from kimicode.swarm.subagent import SubAgentEnv

        agents = SubAgentEnv(
            settings=self.settings,
            model=self.sub_model(),
            tools=tuple(self.tools),  # sub-agents cannot spawn: spawn_agents is not among these
            emit=self.bus,
            budget=budget,
            approve=services.approve,
            sandbox=services.sandbox,
            transcripts=services.session_dir,
        )
        deps = SwarmDeps(
            agents,
            repo_summary=self.repo_summary,
            control=self.swarm_control,
            on_outcome=tally.add,
            checkpoint=self.checkpointer.store.snapshot,
        )
        return self.tools.with_tools(SpawnAgentsTool(deps))

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
        if self.settings.swarm.enabled and self.settings.swarm.backend == "ray":
            from kimicode.swarm.ray_checks import preflight

            await preflight(self.settings.swarm.ray)  # no cluster: exit 2 before any model call
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
        files_text: str = "",
        files: list[str] | None = None,
        approve: Approver | None = None,
        budget: Budget | None = None,
    ) -> RunOutcome:
        """One turn. `files_text` (attached text files, the TUI's `@file`) goes to the model
        after the prompt but is neither shown nor searched for `@` mentions; `files` names
        them for the transcript. `approve` and `budget` replace the session's for this turn
        only (the watch answers `AI?` questions read-only, with a fresh budget per comment)."""
        from kimicode.agent.attachments import build_user_content, mentioned_media

        started = time.perf_counter()
        if self.resumed and not self.started and self.settings.swarm.enabled:
            prompt = await _with_resume_note(prompt, self.root)
        if not self.started:
            await self.start(prompt)
        more_images, more_videos = mentioned_media(prompt, self.root)
        images = [*(images or []), *more_images]
        videos = [*(videos or []), *more_videos]
        key = self.settings.api_key() if videos else ""
        content = await build_user_content(prompt + files_text, images, videos, self.settings, key)
        shown = [str(p) for p in images + videos] + list(files or [])
        self.bus(ev.UserMessage(text=prompt, attachments=shown))
        tally = self.swarm = SwarmTally()
        self.screenshots = []
        services = self.services if approve is None else replace(self.services, approve=approve)
        budget = budget or self.budget
        parts = AgentParts(
            record=self.log.message,
            on_compact=self.log.compaction,
            finish_checks=self._finish_checks(bool(images or videos), images),
            hooks=self.hooks,
            checkpointer=self.checkpointer,
        )
        tools = self._turn_tools(services, budget, tally)
        agent = Agent(self.model, tools, self.history, services, budget, parts=parts)
        self.running = agent
        result = await agent.run(content)
        return RunOutcome(
            agent=result,
            duration_s=time.perf_counter() - started,
            swarm=self.swarm,
            screenshots=list(self.screenshots),
        )

    def interrupted_outcome(self, duration_s: float) -> RunOutcome:
        """What a turn cut short by Ctrl-C had done so far, for the result object."""
        from kimicode.errors import Interrupted

        exc = Interrupted("interrupted")
        if self.running is not None:
            result = self.running.result_so_far("error", exc)
        else:  # cut short before the turn's agent existed
            result = AgentResult("error", str(exc), 0, 0, Usage(), 0, str(exc), exc)
        return RunOutcome(result, duration_s, self.swarm, list(self.screenshots))

    def _finish_checks(self, had_media: bool, images: list[Path]) -> tuple[FinishCheck, ...]:
        from kimicode.vision.finish import visual_finish_check

        vision, shots = self.settings.vision, self.screenshots
        checks = [
            visual_finish_check(
                vision,
                had_media,
                images,
                self.log.dir,
                shots.append,
                send_images=self.settings.model.vision,
            ),
            checks_finish_check(self.settings, CheckRecord(), self.services.sandbox),
        ]
        if self.hooks is not None:
            checks.append(self.hooks.stop_check())
        return tuple(checks)

    def set_model(self, name: str) -> None:
        """Switch the model for the next turns (the TUI's /model)."""
        self.settings.model.name = name
        if isinstance(self._model, SwitchesModel):
            self._model = self._model.for_model(name)

    def set_mode(self, mode: str) -> None:
        """Switch the permission mode from the next tool call on (plan offers read-only tools)."""
        self.settings.permissions.mode = mode  # type: ignore[assignment]  # checked by callers
        keep = [t for t in self.tools if t.name.startswith("mcp__")]
        self.tools = ToolSet(self._build_tools(keep))

    def set_swarm(self, enabled: bool) -> None:
        """Offer spawn_agents (or stop offering it) from the next turn on (the TUI's /swarm)."""
        self.settings.swarm.enabled = enabled

    async def compact(self) -> None:
        """Summarise the history now, whatever its size (the TUI's /compact); the last prompt
        and what follows it are kept as they are."""
        from kimicode.agent.compaction import compactor_for
        from kimicode.llm.types import Usage

        usage = Usage()
        compactor = compactor_for(self.settings.model, usage, self.model)
        fitted, report = await compactor.compact_now(self.history)
        if usage.prompt_tokens or usage.completion_tokens:  # the summary is paid for too
            self.bus(
                ev.UsageReport(
                    prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
                )
            )
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
        if not self.swarm_control.running:
            return False
        self.swarm_control.cancel(name)
        return True

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
            rate_limit=_rate_limit_figures(self.model),
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
        """Close the log and everything the session started (its background processes too)."""
        if self.services.background is not None:
            await self.services.background.close()
        if self.mcp is not None:
            await self.mcp.aclose()
            self.mcp = None
        close = getattr(self._model, "aclose", None)
        if close is not None:
            await close()  # its connection pool
        self.log.close()


async def _with_resume_note(prompt: str, root: Path) -> str:
    """A continued session learns which sub-agents of a stopped swarm can be resumed."""
    from kimicode.swarm.resume import resume_note

    try:
        from kimicode.swarm.gitops import repo_toplevel

        note = await asyncio.to_thread(resume_note, await repo_toplevel(root))
    except KimicodeError:
        return prompt  # not a git repository: no swarm ran here
    return f"{prompt}\n\n{note}" if note else prompt


def _rate_limit_figures(model: ChatModel) -> dict[str, Any] | None:
    return model.scheduler.figures() if isinstance(model, LimitedModel) else None


def _vision_tools() -> list[Tool]:
    from kimicode.tools.render_page import RenderPage
    from kimicode.tools.view_image import ViewImage

    return [ViewImage(), RenderPage()]
