"""The agent loop: run -> step -> query -> execute tools, until an answer or a limit.

Everything else (compaction, approvals, the swarm, visual checks) is a
collaborator the loop calls. The loop owns the history of one agent and keeps
it valid for the API at every await: an assistant message with tool calls is
always followed by one result per call, even when a call fails, is denied,
the budget runs out, or the user presses Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from kimicode import events as ev
from kimicode.agent.compaction import Compactor
from kimicode.agent.guard import RepeatGuard
from kimicode.agent.guardrails import Checkpointer, ToolHooks
from kimicode.agent.outcome import AgentResult, Budget
from kimicode.agent.tokens import estimate_message, estimate_tools
from kimicode.config import Settings
from kimicode.errors import KimicodeError, LimitReached, ModelError, UsageError
from kimicode.llm.types import ChatModel, Completion, Delta, Message, ToolCall, Usage
from kimicode.tools.base import ApprovalRequest, Approver, ToolContext, ToolResult, approve_all
from kimicode.tools.registry import ToolSet
from kimicode.tools.workspace import Workspace

FinishCheck = Callable[["Agent"], Awaitable[str | list[dict[str, Any]] | None]]
"""Called when the model says it is done; a returned message sends it back to work."""

PREVIEW = 2_000


class Agent:
    def __init__(
        self,
        *,
        model: ChatModel,
        tools: ToolSet,
        messages: list[Message],
        settings: Settings,
        workspace: Workspace,
        emit: ev.EventSink,
        budget: Budget,
        name: str = "main",
        approve: Approver = approve_all,
        max_steps: int | None = None,
        thinking: bool | None = None,
        record: Callable[[Message], None] | None = None,
        on_compact: Callable[[list[Message]], None] | None = None,
        finish_checks: list[FinishCheck] | None = None,
        extras: dict[str, Any] | None = None,
        hooks: ToolHooks | None = None,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.messages = messages
        self.settings = settings
        self.workspace = workspace
        self.emit = emit
        self.budget = budget
        self.name = name
        self.approve = approve
        self.max_steps = max_steps or settings.agent.max_steps
        self.thinking = settings.model.thinking if thinking is None else thinking
        self.record = record or (lambda _m: None)
        self.on_compact = on_compact or (lambda _m: None)
        self.finish_checks = finish_checks or []
        self.hooks = hooks
        self.checkpointer = checkpointer
        self.ready: Callable[[], Awaitable[None]] | None = None
        """Awaited once before the first tool call or finish check (a workspace being built)."""
        self.extras = {"agent_stats": self, **(extras or {})}
        self.guard = RepeatGuard(settings.agent.repeat_reminder, settings.agent.repeat_stop)
        window = settings.model.context_window
        reserve = min(settings.model.max_output_tokens, window // 4)
        self.compactor = Compactor(window, reserve=reserve, summarise=self._summarise)
        self._fixed_tokens = estimate_tools(tools.schemas())
        self._counted = 0
        self._tokens = 0
        self.steps = 0
        self.tool_calls = 0
        self.extra_critical = 0
        """Critical steps added by sub-agent stages (max sub-agent steps per spawn)."""
        self.usage = Usage()
        self.written: list[str] = []
        self.final = ""

    # --- run ---------------------------------------------------------------------

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
        schemas = self.tools.schemas()  # a dead MCP server's tools drop out mid-run
        fitted, report = await self.compactor.fit(
            self.messages, self._fixed_tokens, total=self._history_tokens()
        )
        if report is not None:
            self.messages[:] = fitted
            self._counted = 0
            self.on_compact(fitted)
            self.emit(
                ev.Compacted(
                    agent=self.name,
                    tokens_before=report.tokens_before,
                    tokens_after=report.tokens_after,
                    method=report.method,
                )
            )
        name = self.name

        def on_delta(delta: Delta) -> None:
            if delta.reasoning:
                self.emit(ev.ReasoningDelta(agent=name, text=delta.reasoning))
            if delta.text:
                self.emit(ev.TextDelta(agent=name, text=delta.text))

        def on_retry(attempt: int, wait_s: float, reason: str) -> None:
            self.emit(ev.Retrying(agent=name, attempt=attempt, wait_s=wait_s, reason=reason))

        completion = await self.model.complete(
            self.messages, schemas, on_delta=on_delta, on_retry=on_retry
        )
        self.usage.add(completion.usage)
        self.emit(
            ev.UsageReport(
                agent=name,
                prompt_tokens=completion.usage.prompt_tokens,
                completion_tokens=completion.usage.completion_tokens,
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
        results: list[ToolResult | None] = [None] * len(calls)
        granted = self.budget.take(len(calls))
        stop: KimicodeError | None = None
        runnable: list[int] = []
        reminders: dict[int, str] = {}
        for i, call in enumerate(calls):
            if i >= granted:
                stop = stop or LimitReached(
                    f"stopped: the tool-call budget is spent ({self.budget.used} of "
                    f"{self.budget.limit} used; --max-tool-calls)"
                )
                results[i] = ToolResult(f"not run: {stop}", is_error=True)
                continue
            try:
                reminder = self.guard.observe(call.name, call.arguments)
            except LimitReached as exc:
                stop = exc
                results[i] = ToolResult(f"not run: {exc}", is_error=True)
                continue
            runnable.append(i)
            reminders[i] = reminder
        self.tool_calls += len(runnable)
        if self.checkpointer is not None and runnable:
            await self.checkpointer.before_turn(
                [calls[i] for i in runnable],
                [_loads(calls[i].arguments) for i in runnable],
                self.steps,
            )
        try:
            done = await asyncio.gather(*(self.call_tool(calls[i], reminders[i]) for i in runnable))
            for i, result in zip(runnable, done, strict=True):
                results[i] = result
        except asyncio.CancelledError:
            for i, result in enumerate(results):
                if result is None:
                    results[i] = ToolResult("interrupted by the user", is_error=True)
            self._append_results(calls, results)
            raise
        self._append_results(calls, results)
        if stop is not None:
            raise stop

    async def call_tool(self, call: ToolCall, reminder: str = "") -> ToolResult:
        started = time.perf_counter()
        args = _loads(call.arguments)
        self.emit(
            ev.ToolCallStarted(
                agent=self.name,
                call_id=call.id,
                name=call.name,
                arguments=args if isinstance(args, dict) else {"_raw": call.arguments},
            )
        )
        result = await self._call_tool(call, args)
        if reminder:
            result.text += reminder
        self.written.extend(p for p in result.changed if p not in self.written)
        self.emit(
            ev.ToolCallFinished(
                agent=self.name,
                call_id=call.id,
                name=call.name,
                ok=not result.is_error,
                output=result.text[:PREVIEW],
                duration_s=time.perf_counter() - started,
                diff=result.diff,
            )
        )
        return result

    async def _call_tool(self, call: ToolCall, args: Any) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.tools.names))
            return ToolResult(
                f"Error: there is no tool named {call.name!r}. Tools: {names}", is_error=True
            )
        if not isinstance(args, dict):
            return ToolResult(
                f"Error: the arguments of {call.name} are not a valid JSON object: "
                f"{call.arguments[:300]!r}. Send them again as a JSON object.",
                is_error=True,
            )
        try:
            params = tool.Params.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return ToolResult(
                f"Error: invalid arguments for {call.name}: {problems}", is_error=True
            )
        if not tool.read_only or tool.network:
            decision = await self.approve(
                ApprovalRequest(
                    tool=tool.name,
                    call_id=call.id,
                    summary=tool.summary(params),
                    arguments=args,
                    agent=self.name,
                )
            )
            self.emit(
                ev.ApprovalDecided(
                    agent=self.name,
                    call_id=call.id,
                    name=call.name,
                    summary=tool.summary(params),
                    approved=decision.approved,
                    reason=decision.reason,
                )
            )
            if not decision.approved:
                return ToolResult(
                    f"Denied: {decision.reason or 'the user denied this'}", is_error=True
                )
        ctx = ToolContext(
            workspace=self.workspace,
            settings=self.settings,
            emit=self.emit,
            approve=self.approve,
            agent=self.name,
            call_id=call.id,
            extras=self.extras,
        )
        if self.hooks is not None:
            blocked = await self.hooks.before(self.name, call, args)
            if blocked:
                return _fail(f"Blocked by a hook: {blocked}")
        try:
            result = await tool.run(params, ctx)
        except (asyncio.CancelledError, KeyboardInterrupt, LimitReached):
            raise
        except KimicodeError as exc:  # a deliberate message: the model reads it as it is
            return _fail(f"Error: {exc}")
        except Exception as exc:  # a broken tool must not end the run
            return _fail(f"Error: {call.name} failed: {type(exc).__name__}: {exc}")
        if self.hooks is not None:
            await self.hooks.after(self.name, call, args, result)
        return result

    # --- helpers -----------------------------------------------------------------

    async def _ensure_ready(self) -> None:
        if self.ready is not None:
            ready, self.ready = self.ready, None
            await ready()

    def _history_tokens(self) -> int:
        """The history's token estimate, counting only messages added since last time."""
        if self._counted > len(self.messages):  # rewritten from outside (e.g. /clear)
            self._counted = 0
        if self._counted == 0:
            self._tokens = 0
        for msg in self.messages[self._counted :]:
            self._tokens += estimate_message(msg)
        self._counted = len(self.messages)
        return self._tokens

    def _append(self, message: Message) -> None:
        self.messages.append(message)
        self.record(message)

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

    async def _run_finish_checks(self) -> str | list[dict[str, Any]] | None:
        for check in self.finish_checks:
            follow_up = await check(self)
            if follow_up:
                return follow_up
        return None

    async def _summarise(self, messages: list[Message]) -> str:
        from kimicode.agent.compaction import SUMMARY_REQUEST, render_transcript

        cap = self.compactor.budget * 2  # about half the window, in characters
        request = [
            {"role": "system", "content": "You write precise summaries of coding sessions."},
            {
                "role": "user",
                "content": SUMMARY_REQUEST + "\n\n" + render_transcript(messages, cap),
            },
        ]
        completion = await self.model.complete(request, [])
        self.usage.add(completion.usage)
        return completion.content

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


def _loads(arguments: str) -> Any:
    try:
        return json.loads(arguments or "{}")
    except ValueError:
        return None


def _fail(text: str) -> ToolResult:
    return ToolResult(text, is_error=True)
