"""The main agent's events as chat widgets: prompts, streamed replies, tool blocks, notices.

It keeps the reply being streamed and the tool blocks still running, so a retried
stream starts its reply over (no two attempts glued together) and a cancelled turn's
blocks say "cancelled" instead of running forever.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.widget import Widget

from kimicode import events as ev
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from kimicode.ui.tui.widgets.user_prompt import UserPrompt


class ChatView:
    def __init__(
        self,
        mount: Callable[[Widget], Awaitable[None]],
        notice: Callable[[str, str], None],
        swarm_line: Callable[[ev.SwarmFinished], str],
        waited_s: dict[str, float],
    ) -> None:
        self._waited_s = waited_s
        """Seconds each call waited for approval, taken off its shown duration."""
        self._mount = mount
        self._notice = notice
        self._swarm_line = swarm_line
        self.reply: AssistantReply | None = None
        self.tool_blocks: dict[str, ToolCallBlock] = {}

    async def show(self, event: ev.Event) -> None:
        match event:
            case ev.UserMessage(text=text, attachments=attachments):
                await self._mount(UserPrompt(text, attachments))
            case ev.StepStarted():
                self.reply = None
            case ev.ReasoningDelta(text=text):
                (await self._current_reply()).add_reasoning(text)
            case ev.TextDelta(text=text):
                await (await self._current_reply()).add_text(text)
            case ev.AssistantMessage(content=content, reasoning=reasoning):
                if self.reply is not None or content:
                    await (await self._current_reply()).complete(content, reasoning)
                self.reply = None
            case ev.ToolCallStarted(call_id=call_id, name=name, arguments=arguments):
                block = ToolCallBlock(call_id, name, arguments)
                self.tool_blocks[call_id] = block
                await self._mount(block)
            case ev.ToolCallFinished(call_id=call_id, ok=ok, output=output, diff=diff):
                finished = self.tool_blocks.pop(call_id, None)
                own_s = max(0.0, event.duration_s - self._waited_s.pop(call_id, 0.0))
                if finished is not None:
                    finished.finish(ok, output, own_s, diff)
            case ev.Notice(level=level, message=message):
                self._notice(level, message)
            case ev.Retrying(attempt=attempt, wait_s=wait_s, reason=reason):
                restarted = await self._drop_partial_reply()
                again = "; the reply starts over" if restarted else ""
                self._notice("warning", f"retry {attempt} in {wait_s:.1f}s: {reason}{again}")
            case ev.Compacted(tokens_before=before, tokens_after=after, method=method):
                self._notice("info", f"context compacted ({method}): {before} → {after} tokens")
            case ev.SwarmFinished() as done:
                self._notice("info", self._swarm_line(done))
            case ev.MergeConflict(name=name, files=files, inspect=inspect):
                self._notice("error", f"merge conflict in {name}: {', '.join(files)} ({inspect})")

    def cancel_running(self) -> None:
        """The turn was cancelled: running tool blocks stop spinning."""
        for block in self.tool_blocks.values():
            block.cancel()
        self.tool_blocks.clear()
        self.reply = None

    async def _current_reply(self) -> AssistantReply:
        reply = self.reply
        if reply is None:
            reply = self.reply = AssistantReply()
            await self._mount(reply)
        return reply

    async def _drop_partial_reply(self) -> bool:
        """A stream cut mid-reply is retried from the start: its partial text goes."""
        reply, self.reply = self.reply, None
        if reply is None or not (reply.text or reply.reasoning):
            return False
        await reply.remove()
        return True
