"""The agent loop: run -> step -> query -> execute tools, until an answer or a limit.

Everything else is a collaborator the loop calls: the `HistoryCompactor`
(when and how to shrink the history), the `ToolPipeline` (one call from JSON
to result), `admit` (budget and repeat guard), the checkpointer, the finish
checks. The loop owns the history of one agent and keeps it valid for the API
at every await: an assistant message with tool calls is always followed by one
result per call, even when a call fails, is denied, the budget runs out, or
the user presses Ctrl-C.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from kimicode import events as ev
from kimicode.agent.compaction import HistoryCompactor, compactor_for
from kimicode.agent.guard import RepeatGuard
from kimicode.agent.outcome import AgentResult, Budget, Finished, FollowUp
from kimicode.agent.parts import AgentParts
from kimicode.agent.pipeline import ToolPipeline, admit, loads
from kimicode.agent.tokens import estimate_tools
from kimicode.errors import LimitReached, ModelError, UsageError
from kimicode.llm.types import Completion, Delta, Message, ToolCall, Usage
from kimicode.protocols import ChatModel, LimitedModel
from kimicode.tools.base import ToolResult, ToolServices
from kimicode.tools.registry import ToolSet
from kimicode.tools.workspace import Workspace


class Agent:
    def __init__(
        self,
        model: ChatModel,
        tools: ToolSet,
        messages: list[Message],
        services: ToolServices,
        budget: Budget,
        *,
        name: str = "main",
        parts: AgentParts | None = None,
    ) -> None:
        self.model, self.tools, self.messages = model, tools, messages
        self.services, self.budget, self.name = services, budget, name
        self.parts = parts = parts or AgentParts()
        settings = self.settings = services.settings
        self.emit = services.emit
        self.max_steps = parts.max_steps or settings.agent.max_steps
        self.thinking = settings.model.thinking if parts.thinking is None else parts.thinking
        self.ready = parts.workspace_ready
        self.usage = Usage()
        self.guard = RepeatGuard(settings.agent.repeat_reminder, settings.agent.repeat_stop)
        self.compactor = compactor_for(settings.model, self.usage, model)
        self.history = HistoryCompactor(self.compactor, estimate_tools(tools.schemas()))
        self.pipeline = ToolPipeline(tools, name, parts.hooks)
        self.steps = self.tool_calls = 0
        self.extra_critical = 0
        """Critical steps added by sub-stages (the slowest sub-agent of each spawn)."""
        self.wait_s = 0.0
        """Seconds this agent's model calls waited for the endpoint's rate limit."""
        self._throttled_at: float | None = None
        self.written: list[str] = []
        self.final = ""

    @property
    def workspace(self) -> Workspace:
        return self.services.workspace

    async def run(self, user_content: str | list[dict[str, Any]]) -> AgentResult:
        self._append({"role": "user", "content": user_content})
        try:
            while True:
                if self.steps >= self.max_steps:
                    raise LimitReached(f"stopped after {self.steps} steps (--max-steps)")
                if await self.step():
                    await self._ensure_ready()
                    follow_up = await self._run_finish_checks()
                    if follow_up is None:
                        return self._result("success")
                    self._append({"role": "user", "content": follow_up})
        except LimitReached as exc:
            return self._result("limit", exc)
        except (ModelError, UsageError) as exc:  # the endpoint refused, or rejected the key
            return self._result("error", exc)
        except asyncio.CancelledError:
            self.emit(ev.Notice(agent=self.name, level="warning", message="interrupted"))
            raise

    async def step(self) -> bool:
        """One model turn and its tool calls; True when the model gave its answer."""
        self.steps += 1
        self.emit(ev.StepStarted(agent=self.name, step=self.steps))
        completion = await self.query()
        self._append(completion.to_message(with_reasoning=self.thinking))
        self.emit(
            ev.AssistantMessage(
                agent=self.name,
                content=completion.content,
                reasoning=completion.reasoning,
                tool_calls=[tc.to_message()["function"] for tc in completion.tool_calls],
            )
        )
        if not completion.tool_calls:
            self.final = completion.content
            return True
        await self.execute(completion.tool_calls)
        return False

    async def query(self) -> Completion:
        """Compact the history if it no longer fits, then stream one completion."""
        report = await self.history.compact(self.messages)
        if report is not None and report.shrank:
            self.parts.on_compact(self.messages)
            self.emit(
                ev.Compacted(
                    agent=self.name,
                    tokens_before=report.tokens_before,
                    tokens_after=report.tokens_after,
                    method=report.method,
                )
            )
        if report is not None and report.cannot:
            self.emit(ev.Notice(agent=self.name, level="warning", message=report.cannot))
        name, emit = self.name, self.emit

        def on_delta(delta: Delta) -> None:
            if delta.reasoning:
                emit(ev.ReasoningDelta(agent=name, text=delta.reasoning))
            if delta.text:
                emit(ev.TextDelta(agent=name, text=delta.text))

        def on_retry(attempt: int, wait_s: float, reason: str) -> None:
            emit(ev.Retrying(agent=name, attempt=attempt, wait_s=wait_s, reason=reason))

        schemas = self.tools.schemas()  # a dead MCP server's tools drop out mid-run
        completion = await self.model.complete(
            self.messages,
            schemas,
            on_delta=on_delta,
            on_retry=on_retry,
            on_throttle=self._on_throttle,
        )
        used = completion.usage
        self.wait_s += completion.wait_s
        self.usage.add(used)
        emit(
            ev.UsageReport(
                agent=name,
                prompt_tokens=used.prompt_tokens,
                completion_tokens=used.completion_tokens,
            )
        )
        return completion

    async def execute(self, calls: list[ToolCall]) -> None:
        """Run one turn's tool calls concurrently; append one result per call, in order."""
        try:
            await self._ensure_ready()
        except asyncio.CancelledError:
            self._append_results(calls, [ToolResult("interrupted", is_error=True)] * len(calls))
            raise
        except Exception as exc:
            note = ToolResult(f"not run: the workspace could not be set up: {exc}", is_error=True)
            self._append_results(calls, [note] * len(calls))
            raise
        turn = admit(calls, self.budget, self.guard)
        results, runnable = turn.results, turn.runnable
        self.tool_calls += len(runnable)
        if self.parts.checkpointer is not None and runnable:
            chosen = [calls[i] for i in runnable]
            parsed = [loads(c.arguments) for c in chosen]
            await self.parts.checkpointer.before_turn(chosen, parsed, self.steps)
        try:
            done = await asyncio.gather(
                *(self.pipeline.call(calls[i], self.services, turn.reminders[i]) for i in runnable)
            )
            for i, result in zip(runnable, done, strict=True):
                results[i] = result
                self.written.extend(p for p in result.changed if p not in self.written)
                self.extra_critical += result.critical_steps
        except asyncio.CancelledError:
            interrupted = ToolResult("interrupted by the user", is_error=True)
            self._append_results(calls, [r or interrupted for r in results])
            raise
        self._append_results(calls, results)
        if turn.stop is not None:
            raise turn.stop

    # --- helpers -----------------------------------------------------------------

    def _on_throttle(self, notice: Any) -> None:
        """Tell the UIs this agent waits for the rate limit (notice), or got through (None)."""
        limit = self.model.scheduler.limit if isinstance(self.model, LimitedModel) else 0
        if notice is not None:
            if self._throttled_at is None:
                self._throttled_at = time.perf_counter()
            self.emit(
                ev.RateLimited(
                    agent=self.name,
                    limit=notice.limit,
                    retry_after=notice.retry_after,
                    reason=notice.reason,
                )
            )
        elif self._throttled_at is not None:
            waited = time.perf_counter() - self._throttled_at
            self._throttled_at = None
            self.emit(
                ev.RateLimitRecovered(agent=self.name, limit=limit, waited_s=round(waited, 3))
            )

    async def _ensure_ready(self) -> None:
        if self.ready is not None:
            ready, self.ready = self.ready, None
            self.services = replace(self.services, workspace=await ready())

    def _append(self, message: Message) -> None:
        self.messages.append(message)
        self.parts.record(message)

    def _append_results(self, calls: list[ToolCall], results: list[ToolResult | None]) -> None:
        images: list[dict[str, Any]] = []
        for call, result in zip(calls, results, strict=True):
            assert result is not None
            text = result.text if result.text else "(no output)"
            self._append({"role": "tool", "tool_call_id": call.id, "content": text})
            if result.images:
                images.append({"type": "text", "text": f"Images from {call.name} ({call.id}):"})
                images.extend(result.images)
        if images:
            self._append({"role": "user", "name": "tool_images", "content": images})

    async def _run_finish_checks(self) -> FollowUp | None:
        done = Finished(self.name, self.final, tuple(self.written), self.workspace, self.emit)
        for check in self.parts.finish_checks:
            follow_up = await check(done)
            if follow_up:
                return follow_up
        return None

    def result_so_far(self, status: str, exc: BaseException) -> AgentResult:
        """The counts and usage up to now, for a run that was cut short."""
        return self._result(status, exc)

    def _result(self, status: str, exc: BaseException | None = None) -> AgentResult:
        text = self.final if status == "success" else (self.final or str(exc or ""))
        return AgentResult(
            status=status,
            result=text,
            steps=self.steps,
            tool_calls=self.tool_calls,
            usage=self.usage,
            critical_steps=self.steps + self.extra_critical,
            error=None if exc is None else str(exc),
            exception=exc,
            written=list(self.written),
        )
