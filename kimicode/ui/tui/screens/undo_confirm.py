"""`/undo` asks first: which change set, when it was made, and every file it will touch.

A change set older than the user's last prompt (an earlier turn's, an earlier session's,
a swarm merge's) is named as such, so undo never reaches back further than the person
meant without saying so. Shell commands' changes are never in a checkpoint; the modal
says that too.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from kimicode.trust.checkpoints import UndoPreview
from kimicode.ui.tui.wording import plural

SHELL_NOTE = "Changes made by shell commands are not in checkpoints: undo does not revert them."
MAX_LISTED = 200


def scope_warning(preview: UndoPreview, turn_started: float | None) -> str:
    """ "" when the change set belongs to the last prompt; otherwise what it is older than."""
    made = preview.checkpoint.time
    if turn_started is not None and made >= turn_started:
        return ""
    since = "your last prompt" if turn_started is not None else "this session started"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(made))
    return f"This change set is older than {since}: made {when} ({preview.checkpoint.label})."


def file_list(preview: UndoPreview) -> Text:
    out = Text()
    rows = [("restore", p) for p in preview.restore] + [("delete ", p) for p in preview.remove]
    for action, path in rows[:MAX_LISTED]:
        out.append(f"{action}  ", style="bold red" if action.startswith("delete") else "bold")
        out.append(f"{path}\n")
    if len(rows) > MAX_LISTED:
        out.append(f"… and {len(rows) - MAX_LISTED} more files\n", style="dim")
    if not rows:
        out.append("no file changes (they are already as the checkpoint has them)\n", "dim")
    out.rstrip()
    return out


class UndoConfirm(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "undo", "undo"),
        Binding("n", "keep", "keep"),
        Binding("escape", "keep", "keep", show=False),
    ]

    def __init__(self, preview: UndoPreview, turn_started: float | None) -> None:
        super().__init__()
        self.preview = preview
        self.warning = scope_warning(preview, turn_started)

    def compose(self) -> ComposeResult:
        count = len(self.preview.restore) + len(self.preview.remove)
        with Vertical(id="undo"):
            title = f"Undo the last change set ({plural(count, 'file')})?"
            yield Label(Content(title), id="undo-title")
            if self.warning:
                yield Static(Text(self.warning), id="undo-warning")
            with VerticalScroll(id="undo-files"):
                yield Static(file_list(self.preview))
            yield Static(Text(SHELL_NOTE), id="undo-note")
            with Horizontal(id="undo-buttons"):
                yield Button("Undo (y)", id="undo-yes", variant="warning")
                yield Button("Keep everything (n)", id="undo-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#undo-no", Button).focus()

    def action_undo(self) -> None:
        self.dismiss(True)

    def action_keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#undo-yes")
    def _yes(self) -> None:
        self.action_undo()

    @on(Button.Pressed, "#undo-no")
    def _no(self) -> None:
        self.action_keep()
