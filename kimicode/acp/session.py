"""One ACP session: a kimicode Session, the pump that streams its events, and its approvals.

Events are queued as the core emits them and sent in order by one pump task,
so a slow editor never blocks the agent and no update overtakes another. A
permission request waits for the pump to drain, so the editor has seen the
tool call it is asked about.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from acp import schema

from kimicode import events as ev
from kimicode.acp.files import EditorWorkspace
from kimicode.acp.updates import EDIT_TOOLS, Translator
from kimicode.config import Settings
from kimicode.session import RunOutcome, Session
from kimicode.tools.base import ApprovalDecision, ApprovalRequest
from kimicode.trust.approvals import SessionApprovals, interactive_approver, suggest_prefix
from kimicode.trust.rules import PermissionRules

log = logging.getLogger(__name__)

MODES = {
    "default": ("Ask", "Ask before edits and commands the rules do not allow"),
    "accept-edits": ("Accept edits", "Edit files without asking; ask before commands"),
    "plan": ("Plan", "Read only: look around and plan, change nothing"),
    "yolo": ("Yolo", "Approve every tool call"),
}
ALLOW_ONCE, ALLOW_ALWAYS, REJECT = "allow_once", "allow_always", "reject_once"


class AcpSession:
    def __init__(
        self,
        client: Any,
        settings: Settings,
        capabilities: schema.ClientCapabilities | None,
        resume_id: str | None = None,
        sandbox: Any = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.approvals = SessionApprovals()
        self._rules = PermissionRules(settings.permissions, settings.project_dir)
        self._ask_lock = asyncio.Lock()
        fs = capabilities.fs if capabilities is not None else None
        self.editor_reads = bool(fs and fs.read_text_file)
        self.editor_writes = bool(fs and fs.write_text_file)
        workspace = (
            EditorWorkspace(settings.project_dir, self._editor_read) if self.editor_reads else None
        )
        self.session = Session(
            settings,
            approve=self._approve,
            sandbox=sandbox,
            resume_id=resume_id,
            workspace=workspace,
        )
        self.id = self.session.id
        self.translator = Translator(self.session.root)
        self._queue: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._unsubscribe = self.session.bus.subscribe(self._queue.put_nowait)
        self._pump = asyncio.create_task(self._run_pump(), name=f"acp-pump-{self.id}")
        self.turn: asyncio.Task[RunOutcome] | None = None
        self.cancelled_by_client = False
        self._background: set[asyncio.Task[None]] = set()

    @property
    def mode(self) -> str:
        return self.settings.permissions.mode

    def mode_state(self) -> schema.SessionModeState:
        return schema.SessionModeState(
            current_mode_id=self.mode,
            available_modes=[
                schema.SessionMode(id=mode, name=name, description=description)
                for mode, (name, description) in MODES.items()
            ],
        )

    # --- turns -------------------------------------------------------------------

    async def run(self, prompt: str, images: list[Path]) -> RunOutcome:
        """One turn; raises CancelledError when `session/cancel` (or a disconnect) stops it."""
        self.cancelled_by_client = False
        self.turn = asyncio.create_task(self.session.run(prompt, images=images))
        try:
            return await asyncio.shield(self.turn)
        except asyncio.CancelledError:
            if not self.turn.done():
                self.turn.cancel()
            await asyncio.gather(self.turn, return_exceptions=True)
            self._repair()
            raise
        finally:
            await self.drain()

    def later(self, work: Coroutine[Any, Any, None], *, delay: float) -> None:
        """Run `work` after `delay` seconds (kept until the session closes)."""

        async def run() -> None:
            await asyncio.sleep(delay)
            try:
                await work
            except Exception as exc:  # an update the editor missed is not worth a crash
                log.debug("deferred update not sent: %s", exc)

        self._background.add(asyncio.create_task(run()))

    def cancel(self) -> bool:
        if self.turn is None or self.turn.done():
            return False
        self.cancelled_by_client = True
        self.turn.cancel()
        return True

    def _repair(self) -> None:
        from kimicode.sessions.store import repair_dangling

        self.session.history[:] = repair_dangling(self.session.history)

    async def drain(self) -> None:
        """Wait until every event emitted so far reached the editor."""
        if not self._pump.done():
            await self._queue.join()

    async def send(self, update: Any) -> None:
        await self.client.session_update(self.id, update)

    async def aclose(self) -> None:
        if self.turn is not None and not self.turn.done():
            self.turn.cancel()
            await asyncio.gather(self.turn, return_exceptions=True)
        self._unsubscribe()
        for task in (*self._background, self._pump):
            task.cancel()
        await asyncio.gather(self._pump, *self._background, return_exceptions=True)
        await self.session.aclose()

    async def _run_pump(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                for update in await self.translator.updates(event):
                    await self.send(update)
                if self.editor_writes and _wrote(event):
                    await self._editor_write(event)
            except Exception as exc:  # a closed pipe or a bad update must not stop the turn
                log.debug("update for %s not sent: %s", event.type, exc)
            finally:
                self._queue.task_done()

    # --- the editor's file system ------------------------------------------------

    async def _editor_read(self, path: str) -> str:
        response = await self.client.read_text_file(session_id=self.id, path=path)
        return str(response.content)

    async def _editor_write(self, event: ev.Event) -> None:
        """The file the agent just wrote, into the editor's buffer (saved by the editor)."""
        for rel in _changed_paths(getattr(event, "diff", "")):
            path = self.session.root / rel
            try:
                text = await asyncio.to_thread(path.read_text, encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            await self.client.write_text_file(session_id=self.id, path=str(path), content=text)

    # --- approvals ---------------------------------------------------------------

    async def _approve(self, request: ApprovalRequest) -> ApprovalDecision:
        root = self.settings.project_dir
        approve = interactive_approver(self._rules, self.mode, root, self._ask, self.approvals)
        return await approve(request)

    async def _ask(self, request: ApprovalRequest) -> ApprovalDecision:
        """The editor's own permission prompt: once, always for this prefix, or deny."""
        await self.drain()
        async with self._ask_lock:
            if self.approvals.is_remembered(request):
                return ApprovalDecision(True)  # answered while this one waited
            prefix = _prefix(request)
            options = [
                schema.PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
                schema.PermissionOption(
                    option_id=ALLOW_ALWAYS,
                    name=f"Always allow {prefix!r} in this session"
                    if prefix
                    else f"Always allow {request.tool} in this session",
                    kind="allow_always",
                ),
                schema.PermissionOption(option_id=REJECT, name="Deny", kind="reject_once"),
            ]
            call = schema.ToolCallUpdate(
                tool_call_id=self.translator.call_id(request.agent, request.call_id),
                title=request.summary
                if request.agent == "main"
                else f"[{request.agent}] {request.summary}",
                status="pending",
                raw_input=request.arguments,
                field_meta={"kimicode": {"agent": request.agent}},
            )
            response = await self.client.request_permission(
                session_id=self.id, tool_call=call, options=options
            )
        outcome = response.outcome
        if isinstance(outcome, schema.DeniedOutcome):
            return ApprovalDecision(False, "the turn was cancelled in the editor")
        if outcome.option_id == ALLOW_ALWAYS:
            self.approvals.remember_prefix(request.tool, prefix)
            return ApprovalDecision(True)
        if outcome.option_id == ALLOW_ONCE:
            return ApprovalDecision(True)
        return ApprovalDecision(False, "the user denied this in the editor")


def _prefix(request: ApprovalRequest) -> str:
    if request.tool == "run_shell":
        return suggest_prefix(str(request.arguments.get("command", "")))
    path = request.arguments.get("path")
    return path if isinstance(path, str) else ""


def _wrote(event: ev.Event) -> bool:
    return (
        isinstance(event, ev.ToolCallFinished)
        and event.agent == "main"
        and event.ok
        and event.name in EDIT_TOOLS
        and bool(event.diff)
    )


def _changed_paths(diff: str) -> list[str]:
    return [
        line[4:].strip().removeprefix("b/") for line in diff.splitlines() if line.startswith("+++ ")
    ]
