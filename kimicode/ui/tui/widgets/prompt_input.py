"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J adds a line.

Up/Down recall history from the first/last line; Tab completes `/commands`
and `@files` from a menu the prompt drives while keeping the focus. A large paste
is a chip (`pasted`) until the prompt is sent or Ctrl+O expands it. The prompt
never gives the focus away by itself: Tab with nothing to complete does nothing,
and the keys the app acts on (Esc, Shift+Tab, PageUp/PageDown, Ctrl+D, Ctrl+G) are
posted to it as `Action` messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from kimicode.ui.tui import commands
from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.pasted import PastedTexts, is_large
from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.queued_prompts import QueuedPrompts

MAX_FILE_MATCHES = 12
_MENTION = re.compile(r"(?:^|\s)@([^\s@]*)$")


APP_KEYS = {
    "escape": "interrupt",
    "shift+tab": "cycle_mode",
    "pageup": "scroll_up",
    "pagedown": "scroll_down",
    "ctrl+g": "edit_in_editor",
    "f1": "keys_help",
}
"""Keys the prompt hands to the app, by the app action they mean."""


class PromptInput(TextArea):
    @dataclass
    class Submitted(Message):
        text: str

    @dataclass
    class Action(Message):
        """A key the app acts on (cancel, mode, scrolling, quit, editor)."""

        name: str

    def __init__(
        self, menu: CompletionMenu, history: PromptHistory, queued: QueuedPrompts | None = None
    ) -> None:
        super().__init__(id="prompt", soft_wrap=True, show_line_numbers=False)
        self.menu = menu
        self.queued = queued
        self.prompt_history = history
        self.files: list[str] = []
        self.custom: tuple[commands.SlashCommand, ...] = ()
        """The project's own commands (`.kimicode/commands`), completed after the built-in ones."""
        self._token: tuple[tuple[int, int], str] | None = None
        """Where the word being completed starts, and its kind ("/" or "@")."""
        self.pasted = PastedTexts()

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        handled = True
        if key in ("shift+enter", "ctrl+j"):
            self.insert("\n")
        elif key == "enter":
            chosen = self.menu.chosen()
            if chosen is not None and chosen != self._typed_token():
                self.accept_completion()
            else:
                self.submit()
        elif key == "tab":
            if self.menu.chosen() is not None:
                self.accept_completion()
        elif key == "escape" and self.menu.display:
            self.menu.hide()
        elif key in APP_KEYS:
            self.post_message(self.Action(APP_KEYS[key]))
        elif key == "ctrl+o" and self.pasted:
            self._recall(self.pasted.expand(self.text))
            self.pasted.clear()
        elif key == "ctrl+d" and not self.text:
            self.post_message(self.Action("quit"))
        elif key == "question_mark" and not self.text:
            self.post_message(self.Action("keys_help"))
        elif key in ("up", "down") and self.menu.display:
            self.menu.move(-1 if key == "up" else 1)
        elif key == "up" and not self.text and self.queued is not None and self.queued.items:
            self._recall(self.queued.take_last())
        elif key == "up" and self.cursor_location[0] == 0:
            self._recall(self.prompt_history.previous(self.text))
        elif key == "down" and self.cursor_location[0] == self.document.line_count - 1:
            self._recall(self.prompt_history.next())
        else:
            handled = False
        if handled:
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        """A large paste goes in as a chip; a small one as text (TextArea's own handler)."""
        if self.read_only or not is_large(event.text):
            return
        event.prevent_default()
        self.insert(self.pasted.add(event.text))

    def submit(self) -> None:
        text = self.pasted.expand(self.text)
        if not text.strip():
            return
        self.pasted.clear()
        self.prompt_history.add(text)
        self.clear()
        self.menu.hide()
        self.post_message(self.Submitted(text))

    def _recall(self, text: str | None) -> None:
        if text is None:
            return
        self.load_text(text)
        self.move_cursor(self.document.end)

    # --- completion --------------------------------------------------------------

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self.update_completions()

    def update_completions(self) -> None:
        row, col = self.cursor_location
        line = self.document.get_line(row)[:col]
        if row == 0 and line.startswith("/") and " " not in line:
            self._token = ((0, 0), "/")
            found = commands.completions(line, self.custom)
            self.menu.show([(f"/{c.name}", c.help) for c in found])
            return
        mention = _MENTION.search(line)
        if mention and self.files:
            start = mention.start(1) - 1
            self._token = ((row, start), "@")
            self.menu.show([(f"@{path}", "") for path in self._match_files(mention.group(1))])
            return
        self._token = None
        self.menu.hide()

    def _match_files(self, typed: str) -> list[str]:
        lowered = typed.lower()
        starts = [f for f in self.files if f.lower().startswith(lowered)]
        inside = [f for f in self.files if lowered in f.lower() and f not in starts]
        return (starts + inside)[:MAX_FILE_MATCHES]

    def _typed_token(self) -> str:
        if self._token is None:
            return ""
        (row, col), _ = self._token
        return self.document.get_line(row)[col : self.cursor_location[1]]

    def accept_completion(self) -> None:
        value = self.menu.chosen()
        if value is None or self._token is None:
            return
        start, _ = self._token
        self.replace(value + " ", start, self.cursor_location)
        self.menu.hide()
        self._token = None
