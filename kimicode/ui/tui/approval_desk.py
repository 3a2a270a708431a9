"""Where the session's approval requests meet the person: one modal at a time.

It remembers the answers given for the session (a prefix, or one exact command),
closes a question whose turn was cancelled, and keeps how long each call waited
for its answer, so a tool's shown duration is its own time, not the person's.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from kimicode.tools.base import ApprovalDecision, ApprovalRequest
from kimicode.trust.approvals import SessionApprovals
from kimicode.ui.tui.approval_offer import offer_for
from kimicode.ui.tui.screens.approval import ApprovalAnswer, ApprovalScreen

if TYPE_CHECKING:
    from textual.app import App


class ApprovalDesk:
    def __init__(self, app: App[int]) -> None:
        self.app = app
        self.remembered = SessionApprovals()
        self.exact: set[tuple[str, str]] = set()
        """(tool, command) pairs approved for the session as they are, word for word."""
        self.waited_s: dict[str, float] = {}
        """Per call id: seconds spent waiting for the person's answer."""
        self._lock = asyncio.Lock()

    async def ask(self, request: ApprovalRequest) -> ApprovalDecision:
        """Show the approval modal and turn the answer into a decision."""
        started = time.monotonic()
        try:
            return await self._ask(request)
        finally:
            waited = time.monotonic() - started
            self.waited_s[request.call_id] = self.waited_s.get(request.call_id, 0.0) + waited

    async def _ask(self, request: ApprovalRequest) -> ApprovalDecision:
        command = " ".join(str(request.arguments.get("command", "")).split())
        async with self._lock:
            if self.remembered.is_remembered(request) or (request.tool, command) in self.exact:
                return ApprovalDecision(True)  # answered while this one waited
            offer = offer_for(command) if request.tool == "run_shell" else None
            answered: asyncio.Future[ApprovalAnswer] = asyncio.get_running_loop().create_future()

            def settle(answer: ApprovalAnswer | None) -> None:
                if answer is not None and not answered.done():
                    answered.set_result(answer)

            modal = ApprovalScreen(request, offer)
            self.app.push_screen(modal, callback=settle)
            try:
                answer = await answered
            except asyncio.CancelledError:
                self._close(modal)  # the turn was cancelled: its question goes with it
                raise
        if answer.remember and offer is not None and offer.exact:
            self.exact.add((request.tool, command))
        elif answer.remember and offer is not None:
            self.remembered.remember_prefix(request.tool, offer.text)
        reason = answer.reason or ("" if answer.approved else "the user denied this")
        return ApprovalDecision(answer.approved, reason)

    def _close(self, modal: ApprovalScreen) -> None:
        if modal in self.app.screen_stack:
            modal.pop_until_active()
            modal.dismiss(None)
