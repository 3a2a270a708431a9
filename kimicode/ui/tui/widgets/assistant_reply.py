"""One model turn in the transcript: its thinking (collapsed) above the Markdown answer.

Text arrives in batches from the app's event pump; each batch is one
`Markdown.append`, which re-parses only the last block, so a long answer
does not get slower to stream.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static


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

    def compose(self) -> ComposeResult:
        yield self._thinking_box
        yield self._markdown

    async def add_text(self, text: str) -> None:
        if not text:
            return
        self.text += text
        await self._markdown.append(text)

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
        if content and content != self.text:
            self.text = content
            await self._markdown.update(content)

    def has_reasoning_hidden(self) -> bool:
        return bool(self.reasoning) and self._thinking_box.collapsed

    def show_thinking(self, show: bool) -> None:
        self._thinking_box.collapsed = not show
