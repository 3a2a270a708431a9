"""One model turn in the transcript: its thinking (collapsed) above the Markdown answer.

Text arrives in batches from the app's event pump; each batch is one
`Markdown.append`, which re-parses only the last block. A list is one block, so
a long streamed list used to be re-parsed whole on every batch; instead the
streamed text is cut into pieces of about `PIECE_LINES` lines at a top-level
block boundary (a blank line or a new list item, never inside a code fence),
each its own Markdown widget, and only the last piece is ever re-parsed. When
the turn completes, the pieces are joined into one document again.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static

PIECE_LINES = 24
_BLOCK_START = re.compile(r"^(?:[-*+] |\d+[.)] |#|>|\s*$)")


class AssistantReply(Vertical):
    DEFAULT_CLASSES = "assistant"

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.reasoning = ""
        self._thinking = Static("", classes="thinking-text")
        self._thinking_box = Collapsible(
            self._thinking, title="thinking", collapsed=True, classes="thinking -empty"
        )
        self._markdown = Markdown("", classes="answer")
        self._pieces: list[Markdown] = [self._markdown]
        self._live = ""
        """The text of the last piece, the only one still re-parsed."""

    def compose(self) -> ComposeResult:
        yield self._thinking_box
        yield self._markdown

    async def add_text(self, text: str) -> None:
        if not text:
            return
        self.text += text
        self._live += text
        cut = _cut_point(self._live) if self._live.count("\n") > PIECE_LINES else None
        if cut is None:
            await self._pieces[-1].append(text)
            return
        settled, rest = self._live[:cut], self._live[cut:]
        await self._pieces[-1].update(settled)
        piece = Markdown(rest, classes="answer piece")
        self._pieces.append(piece)
        self._live = rest
        await self.mount(piece)

    def add_reasoning(self, text: str) -> None:
        if not text:
            return
        self.reasoning += text
        self._thinking_box.remove_class("-empty")
        self._thinking.update(Text(self.reasoning, style="italic"))
        self._thinking_box.title = f"thinking ({len(self.reasoning.split())} words)"

    async def complete(self, content: str, reasoning: str) -> None:
        """The whole turn as the model sent it; fills in what streaming did not show."""
        if reasoning and not self.reasoning:
            self.add_reasoning(reasoning)
        if content and (content != self.text or len(self._pieces) > 1):
            self.text = self._live = content
            for piece in self._pieces[1:]:
                await piece.remove()
            self._pieces = [self._markdown]
            await self._markdown.update(content)

    def has_reasoning_hidden(self) -> bool:
        return bool(self.reasoning) and self._thinking_box.collapsed

    def show_thinking(self, show: bool) -> None:
        self._thinking_box.collapsed = not show


def _cut_point(text: str) -> int | None:
    """Where a new top-level block starts, late in `text` and outside a code fence."""
    lines = text.splitlines(keepends=True)
    offsets, fenced, best = 0, False, None
    for i, line in enumerate(lines[:-1]):  # the last line may still be growing
        offsets += len(line)
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        following = lines[i + 1]
        top_level = not following.startswith((" ", "\t"))
        if not fenced and top_level and i >= PIECE_LINES // 2 and _BLOCK_START.match(following):
            best = offsets
    return best
