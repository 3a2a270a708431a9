"""Keep every request under the model's context window, in bounded memory.

Two passes, cheapest first: (1) old tool outputs and images are elided (the
model can re-run a tool), (2) the older turns are replaced by a summary the
model writes (a mechanical one if that call fails). The history itself is
rewritten, not only the request, so a 1,500-tool-call task stays bounded.
Tool calls and their results are never split apart by a cut.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimicode.agent.tokens import estimate_message, estimate_messages

if TYPE_CHECKING:
    from kimicode.config import ModelSettings
    from kimicode.llm.types import Usage
    from kimicode.protocols import ChatModel

Message = dict[str, Any]
Summariser = Callable[[list[Message]], Awaitable[str]]

SUMMARY_PREFIX = "[Summary of the earlier part of this session]\n"
ELIDED = "[output elided to save context: {n} characters; run the tool again if you need it]"
SUMMARY_REQUEST = (
    "Summarise this coding session so far for the agent that will continue it. "
    "Keep: the task, decisions made, files read and changed (with paths), commands run and "
    "their outcomes, errors still open, and what remains to do. Be concise and factual."
)


@dataclass(slots=True)
class CompactionReport:
    tokens_before: int
    tokens_after: int
    method: str
    cannot: str = ""
    """Set when the history could not be brought under the trigger: why, and what to do."""

    @property
    def shrank(self) -> bool:
        return self.tokens_after < self.tokens_before


class Compactor:
    def __init__(
        self,
        window: int,
        *,
        reserve: int,
        summarise: Summariser | None = None,
        keep_recent: int = 6,
        trigger: float = 0.8,
        target: float = 0.5,
    ) -> None:
        self.budget = max(window - reserve, 1_000)
        self.summarise = summarise
        self.keep_recent = keep_recent
        self.trigger = trigger
        self.target = target
        self._stuck = False
        """The last compaction could not get well under the trigger: the next one waits
        until the history nears the window (no summary call every step)."""
        self._warned = False

    def needed(self, messages: list[Message], fixed: int = 0) -> bool:
        return estimate_messages(messages) + fixed > self.budget * self.trigger

    async def fit(
        self, messages: list[Message], fixed: int = 0, *, total: int | None = None
    ) -> tuple[list[Message], CompactionReport | None]:
        """Return a history that fits (`fixed`: tokens of tool schemas etc.).

        `total` is the history's estimate when the caller keeps it up to date,
        so a long run does not re-count every message at every step.
        """
        before = (estimate_messages(messages) if total is None else total) + fixed
        trigger = int(self.budget * (0.95 if self._stuck else self.trigger))
        if before <= trigger:
            return messages, None
        goal = int(self.budget * self.target) - fixed
        out = elide_old_outputs(messages, keep_recent=self.keep_recent)
        method = "elide_tool_outputs"
        if estimate_messages(out) > goal:
            out = await self._summarise(out, goal)
            method = "summarise"
        if estimate_messages(out) > goal:  # big recent outputs: cut them, not the task
            head = _head(out)
            out = head + truncate_large(out[len(head) :], max(goal, 0) // 2)
        if estimate_messages(out) > self.budget - fixed:  # never over the window
            out = truncate_large(out, (self.budget - fixed) // 2)
        after = estimate_messages(out) + fixed
        report = CompactionReport(before, after, method)
        well_under = int(self.budget * (self.target + self.trigger) / 2)
        self._stuck = after > well_under
        if self._stuck and not self._warned:
            self._warned = True
            fixed_part = estimate_messages(_head(out)) + fixed
            report.cannot = (
                f"the context window is too small to compact well: the history still takes "
                f"{after} tokens after compaction (of {self.budget} available; compaction "
                f"starts at {int(self.budget * self.trigger)}), and the system prompt, project "
                f"instructions, task and tool schemas alone take {fixed_part}. Compaction "
                "will run only when the window is nearly full; raise [model] context_window"
            )
        if not report.shrank:
            return messages, report
        return out, report

    async def _summarise(self, messages: list[Message], goal: int) -> list[Message]:
        head = _head(messages)
        room = goal - estimate_messages(head)
        tail_start = _tail_start(messages, len(head), room)
        middle = messages[len(head) : tail_start]
        if not middle:
            return messages
        text = _cap_text(await self._summary_of(middle), max(room // 2, 100) * 4)
        summary = {"role": "user", "content": SUMMARY_PREFIX + text}
        return [*head, summary, *messages[tail_start:]]

    async def compact_now(
        self, messages: list[Message]
    ) -> tuple[list[Message], CompactionReport | None]:
        """Compact whatever the size (the user's `/compact`); None when there is nothing to.

        What lies between the task and the last prompt becomes a summary; the last prompt
        and everything after it stay word for word. The report's figures are the
        history's own estimate, before and after.
        """
        before = estimate_messages(messages)
        head = _head(messages)
        prompts = [i for i in range(len(head), len(messages)) if _is_prompt(messages[i])]
        last = prompts[-1] if prompts else len(head)
        middle = messages[len(head) : last]
        if middle:
            summary = {"role": "user", "content": SUMMARY_PREFIX + await self._summary_of(middle)}
            out, method = [*head, summary, *messages[last:]], "summarise"
        else:  # one prompt so far: only its old tool outputs can go
            out, method = (
                elide_old_outputs(messages, keep_recent=self.keep_recent),
                "elide_tool_outputs",
            )
        after = estimate_messages(out)
        if after >= before:
            return messages, None
        return out, CompactionReport(before, after, method)

    async def _summary_of(self, middle: list[Message]) -> str:
        """The model's summary of `middle`; a mechanical one when that call fails."""
        text = ""
        if self.summarise is not None:
            try:
                text = await self.summarise(middle)
            except Exception:  # a failed summary must not fail the task
                text = ""
        return text.strip() or mechanical_summary(middle)


def _is_prompt(msg: Message) -> bool:
    """A message the person wrote (not a tool's images, not an earlier summary)."""
    content = msg.get("content")
    text = content if isinstance(content, str) else ""
    return (
        msg["role"] == "user"
        and msg.get("name") != "tool_images"
        and not text.startswith(SUMMARY_PREFIX)
    )


def _cap_text(text: str, chars: int) -> str:
    """`text` cut to `chars` (keeping its end, the latest state), saying how much was cut."""
    if len(text) <= chars:
        return text
    cut = len(text) - chars
    return f"[… {cut} characters of the summary cut …]\n" + text[-chars:]


def _head(messages: list[Message]) -> list[Message]:
    """System prompt(s) and the first user message (the task) are always kept."""
    head: list[Message] = []
    for msg in messages:
        head.append(msg)
        if msg["role"] == "user":
            break
    return head


def _tail_start(messages: list[Message], floor: int, goal: int) -> int:
    """The earliest index whose suffix fits in half the goal, at a safe boundary."""
    budget = goal // 2
    used = 0
    start: int | None = None
    for i in range(len(messages) - 1, floor - 1, -1):
        used += estimate_message(messages[i])
        if _safe_boundary(messages, i):
            if start is not None and used > budget:
                break
            start = i
    return len(messages) if start is None else start


def _safe_boundary(messages: list[Message], i: int) -> bool:
    """A cut before messages[i] keeps every tool call next to its result."""
    return messages[i]["role"] in ("user", "assistant")


def elide_old_outputs(messages: list[Message], *, keep_recent: int) -> list[Message]:
    tool_idx = [i for i, m in enumerate(messages) if m["role"] == "tool" or _is_image_msg(m)]
    old = set(tool_idx[:-keep_recent] if keep_recent else tool_idx)
    out = []
    for i, msg in enumerate(messages):
        if i in old:
            msg = _elide(msg)
        out.append(msg)
    return out


def _is_image_msg(msg: Message) -> bool:
    content = msg.get("content")
    return (
        msg["role"] == "user"
        and isinstance(content, list)
        and any(p.get("type") != "text" for p in content)
        and msg.get("name") == "tool_images"
    )


def _elide(msg: Message) -> Message:
    content = msg.get("content")
    if isinstance(content, list):
        texts = [p["text"] for p in content if p.get("type") == "text"]
        return {**msg, "content": " ".join(texts) + " [images elided to save context]"}
    if isinstance(content, str) and len(content) > 300:
        return {**msg, "content": content[:120] + "\n" + ELIDED.format(n=len(content))}
    return msg


def truncate_large(messages: list[Message], cap_tokens: int) -> list[Message]:
    """Cut every text over `cap_tokens` to its head and tail, saying how much was cut."""
    cap = max(cap_tokens * 4, 400)
    out = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str) and len(content) > cap:
            head, tail = content[: cap // 2], content[-cap // 4 :]
            cut = len(content) - len(head) - len(tail)
            marker = f"\n[… {cut} of {len(content)} characters cut to save context …]\n"
            msg = {**msg, "content": head + marker + tail}
        out.append(msg)
    return out


def mechanical_summary(messages: list[Message]) -> str:
    """What happened, from the structure alone: used when the model cannot summarise."""
    lines = []
    for msg in messages:
        if msg["role"] == "assistant":
            if msg.get("content"):
                lines.append(f"- assistant: {str(msg['content'])[:200]}")
            for call in msg.get("tool_calls") or ():
                fn = call["function"]
                lines.append(f"- called {fn['name']}({fn['arguments'][:160]})")
        elif msg["role"] == "user" and isinstance(msg.get("content"), str):
            lines.append(f"- user: {msg['content'][:200]}")
    return "\n".join(lines[-200:])


def render_transcript(messages: list[Message], cap_chars: int) -> str:
    """A plain-text transcript of `messages` for the summariser, capped."""
    parts = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "[image]") for p in content)
        body = str(content or "")
        if len(body) > 2_000:
            body = body[:1_500] + " […] " + body[-300:]
        calls = msg.get("tool_calls")
        if calls:
            body += "\n" + json.dumps([c["function"] for c in calls])[:1_000]
        parts.append(f"## {msg['role']}\n{body}")
    text = "\n\n".join(parts)
    return text[-cap_chars:]


class HistoryCompactor:
    """One agent's compaction: decides when, summarises with the model, keeps the count.

    The token estimate of the history is kept up to date incrementally (only
    messages added since the last step are counted), so a long run does not
    re-count its whole history at every step.
    """

    def __init__(self, compactor: Compactor, fixed_tokens: int) -> None:
        self.compactor = compactor
        self.fixed = fixed_tokens
        """Tokens every request carries besides the history (the tool schemas)."""
        self._counted = 0
        self._tokens = 0

    async def compact(self, messages: list[Message]) -> CompactionReport | None:
        """Rewrite `messages` in place when they no longer fit; the report when it did."""
        total = self._history_tokens(messages)
        fitted, report = await self.compactor.fit(messages, self.fixed, total=total)
        if report is not None and report.shrank:
            messages[:] = fitted
            self._counted = 0
        return report

    def _history_tokens(self, messages: list[Message]) -> int:
        if self._counted > len(messages):  # rewritten from outside (e.g. /clear)
            self._counted = 0
        if self._counted == 0:
            self._tokens = 0
        for msg in messages[self._counted :]:
            self._tokens += estimate_message(msg)
        self._counted = len(messages)
        return self._tokens


def model_summariser(model: ChatModel, usage: Usage, cap_chars: int) -> Summariser:
    """A summariser that asks `model` (its tokens are added to `usage`)."""

    async def summarise(messages: list[Message]) -> str:
        request = [
            {"role": "system", "content": "You write precise summaries of coding sessions."},
            {
                "role": "user",
                "content": SUMMARY_REQUEST + "\n\n" + render_transcript(messages, cap_chars),
            },
        ]
        completion = await model.complete(request, [])
        usage.add(completion.usage)
        return completion.content

    return summarise


def compactor_for(settings: ModelSettings, usage: Usage, model: ChatModel) -> Compactor:
    """The compactor of an agent on `model`: the window less room for the answer."""
    window = settings.context_window
    reserve = min(settings.max_output_tokens, window // 4)
    compactor = Compactor(window, reserve=reserve)
    cap = compactor.budget * 2  # about half the window, in characters
    compactor.summarise = model_summariser(model, usage, cap)
    return compactor
