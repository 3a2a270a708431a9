"""One turn's tool calls, from the model's JSON to results the model reads.

`admit` decides which calls of a turn may run (the tool-call budget, the
repeat guard); `ToolPipeline.call` takes one call through every stage: look
up the tool, parse and validate its arguments, ask for approval, run the
PreToolUse hook, run the tool, translate its errors, run the PostToolUse hook.
Every stage's failure becomes a `ToolResult(is_error=True)` the model can act
on; only cancellation and a spent budget (`LimitReached`) end the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from kimicode import events as ev
from kimicode.agent.guard import RepeatGuard
from kimicode.agent.guardrails import ToolHooks
from kimicode.agent.outcome import Budget
from kimicode.errors import KimicodeError, LimitReached
from kimicode.llm.types import ToolCall
from kimicode.tools.base import (
    ApprovalDecision,
    ApprovalRequest,
    ToolContext,
    ToolResult,
    ToolServices,
)
from kimicode.tools.registry import ToolSet

PREVIEW = 2_000
"""Characters of a tool's output that go into its ToolCallFinished event."""


@dataclass(slots=True)
class Admission:
    """Which calls of a turn run; the others already have their result."""

    results: list[ToolResult | None]
    runnable: list[int] = field(default_factory=list)
    reminders: dict[int, str] = field(default_factory=dict)
    stop: KimicodeError | None = None
    """Why the run ends after this turn (budget spent, a call repeated too often)."""


def admit(calls: list[ToolCall], budget: Budget, guard: RepeatGuard) -> Admission:
    """Take the turn's calls from the budget and past the repeat guard, in order."""
    out = Admission(results=[None] * len(calls))
    granted = budget.take(len(calls))
    for i, call in enumerate(calls):
        if i >= granted:
            out.stop = out.stop or LimitReached(
                f"stopped: the tool-call budget is spent ({budget.used} of "
                f"{budget.limit} used; --max-tool-calls)"
            )
            out.results[i] = ToolResult(f"not run: {out.stop}", is_error=True)
            continue
        try:
            out.reminders[i] = guard.observe(call.name, call.arguments)
        except LimitReached as exc:
            out.stop = exc
            out.results[i] = ToolResult(f"not run: {exc}", is_error=True)
            continue
        out.runnable.append(i)
    return out


class ToolPipeline:
    """Runs one agent's tool calls; events carry the agent's name."""

    def __init__(self, tools: ToolSet, agent: str, hooks: ToolHooks | None = None) -> None:
        self.tools = tools
        self.agent = agent
        self.hooks = hooks

    async def call(self, call: ToolCall, services: ToolServices, reminder: str = "") -> ToolResult:
        """One call with its started/finished events; `reminder` is appended for the model."""
        started = time.perf_counter()
        args = loads(call.arguments)
        emit = services.emit
        emit(
            ev.ToolCallStarted(
                agent=self.agent,
                call_id=call.id,
                name=call.name,
                arguments=args if isinstance(args, dict) else {"_raw": call.arguments},
            )
        )
        result = await self._run(call, args, services)
        if reminder:
            result.text += reminder
        emit(
            ev.ToolCallFinished(
                agent=self.agent,
                call_id=call.id,
                name=call.name,
                ok=not result.is_error,
                output=result.text[:PREVIEW],
                duration_s=time.perf_counter() - started,
                diff=result.diff,
            )
        )
        return result

    async def _run(self, call: ToolCall, args: Any, services: ToolServices) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.tools.names))
            return fail(f"Error: there is no tool named {call.name!r}. Tools: {names}")
        if not isinstance(args, dict):
            return fail(
                f"Error: the arguments of {call.name} are not a valid JSON object: "
                f"{call.arguments[:300]!r}. Send them again as a JSON object."
            )
        try:
            params = tool.Params.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return fail(f"Error: invalid arguments for {call.name}: {problems}")
        # Read-only tools are asked about too: deny (and ask) rules apply to reads.
        quiet = tool.read_only and not tool.network
        denied = await self._approve(tool.name, call, args, tool.summary(params), services, quiet)
        if denied is not None:
            return denied
        if self.hooks is not None:
            blocked = await self.hooks.before(self.agent, call, args)
            if blocked:
                return fail(f"Blocked by a hook: {blocked}")
        try:
            result = await tool.run(params, ToolContext(services, self.agent, call.id))
        except (asyncio.CancelledError, KeyboardInterrupt, LimitReached):
            raise
        except KimicodeError as exc:  # a deliberate message: the model reads it as it is
            return fail(f"Error: {exc}")
        except Exception as exc:  # a broken tool must not end the run
            return fail(f"Error: {call.name} failed: {type(exc).__name__}: {exc}")
        if self.hooks is not None:
            await self.hooks.after(self.agent, call, args, result)
        return result

    async def _approve(
        self,
        tool: str,
        call: ToolCall,
        args: dict[str, Any],
        summary: str,
        services: ToolServices,
        quiet: bool = False,
    ) -> ToolResult | None:
        """None when approved; otherwise the denial the model reads (`quiet`: no event
        when approved, for the read-only calls that are approved by default)."""
        request = ApprovalRequest(
            tool=tool,
            call_id=call.id,
            summary=summary,
            arguments=args,
            agent=self.agent,
            read_only=quiet,
        )
        try:
            decision = await services.approve(request)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # arguments the rules cannot even read: refused, run goes on
            decision = ApprovalDecision(False, f"the call could not be checked: {exc}")
        if quiet and decision.approved:
            return None
        services.emit(
            ev.ApprovalDecided(
                agent=self.agent,
                call_id=call.id,
                name=call.name,
                summary=summary,
                approved=decision.approved,
                reason=decision.reason,
            )
        )
        if decision.approved:
            return None
        return fail(f"Denied: {decision.reason or 'the user denied this'}")


def loads(arguments: str) -> Any:
    """The call's arguments as JSON, or None when they are not JSON."""
    try:
        return json.loads(arguments or "{}")
    except ValueError:
        return None


def fail(text: str) -> ToolResult:
    return ToolResult(text, is_error=True)
