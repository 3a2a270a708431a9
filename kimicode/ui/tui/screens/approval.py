"""The approval modal: approve once, always (a prefix, or the exact command), or deny.

A denial's reason is typed here and goes to the model with the refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kimicode.tools.base import ApprovalRequest
from kimicode.ui.tui.approval_offer import Offer
from kimicode.ui.tui.widgets.diff_view import DiffView


@dataclass(slots=True)
class ApprovalAnswer:
    approved: bool
    reason: str = ""
    remember: bool = False
    """The person chose "always" (what is remembered is the modal's `Offer`)."""


class ApprovalScreen(ModalScreen[ApprovalAnswer]):
    BINDINGS = [
        Binding("y", "approve", "approve once"),
        Binding("a", "approve_prefix", "approve prefix"),
        Binding("n", "focus_reason", "deny"),
        Binding("escape", "deny", "deny", show=False),
    ]

    def __init__(self, request: ApprovalRequest, offer: Offer | None) -> None:
        super().__init__()
        self.request = request
        self.offer = offer

    def compose(self) -> ComposeResult:
        req = self.request
        who = "" if req.agent == "main" else f" (agent {req.agent})"
        with Vertical(id="approval"):
            yield Label(Content(f"Allow {req.tool}{who}?"), id="approval-title")
            yield Static(Text(self._subject()), id="approval-subject")
            if req.tool == "edit_file" and "old_string" in req.arguments:
                yield DiffView(_edit_preview(req.arguments))
            with Horizontal(id="approval-buttons"):
                yield Button("Approve once (y)", id="approve", variant="success")
                if self.offer is not None:
                    yield Button(Content(_always_label(self.offer)), id="approve-prefix")
                yield Button("Deny (n)", id="deny", variant="error")
            yield Input(placeholder="why not? (optional; the model reads it)", id="reason")

    def on_mount(self) -> None:
        self.query_one("#approve", Button).focus()

    def _subject(self) -> str:
        args = self.request.arguments
        if self.request.tool == "run_shell":
            return f"$ {args.get('command', '')}"
        if self.request.tool == "write_file":
            content = str(args.get("content", ""))
            lines = content.count("\n") + 1
            return f"write {args.get('path', '')} ({lines} lines)"
        text = self.request.summary or json.dumps(args, ensure_ascii=False)
        return text[:400]

    def action_approve(self) -> None:
        self.dismiss(ApprovalAnswer(True))

    def action_approve_prefix(self) -> None:
        if self.offer is not None:
            self.dismiss(ApprovalAnswer(True, remember=True))

    def action_focus_reason(self) -> None:
        self.query_one("#reason", Input).focus()

    def action_deny(self) -> None:
        self.dismiss(ApprovalAnswer(False, self.query_one("#reason", Input).value.strip()))

    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        self.action_approve()

    @on(Button.Pressed, "#approve-prefix")
    def _approve_prefix(self) -> None:
        self.action_approve_prefix()

    @on(Button.Pressed, "#deny")
    def _deny(self) -> None:
        self.action_deny()

    @on(Input.Submitted, "#reason")
    def _reason(self) -> None:
        self.action_deny()


def _edit_preview(args: dict[str, object]) -> str:
    old = str(args.get("old_string", "")).splitlines()
    new = str(args.get("new_string", "")).splitlines()
    return "\n".join(
        [f"--- {args.get('path', '')}", *(f"-{s}" for s in old), *(f"+{s}" for s in new)]
    )


def _always_label(offer: Offer) -> str:
    if offer.exact:
        return "Always this exact command (a)"
    return f"Always `{offer.text}` (a)"
