"""The Textual app: a chat with the agent, approvals, and the swarm dashboard.

The app is one more consumer of the session's event stream. The bus sink only
buffers events; a timer drains the buffer every `FLUSH_INTERVAL` seconds and
updates the transcript, the status bar and the dashboard in one batch, so a
hundred busy agents cost a few widget updates per tick, not one per event.
A turn runs in an exclusive worker; Ctrl+C cancels that worker, not the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from kimicode import events as ev
from kimicode.config import Settings
from kimicode.session import Session
from kimicode.sessions.store import SessionStore
from kimicode.tools.base import ApprovalDecision, ApprovalRequest
from kimicode.trust.approvals import interactive_approver
from kimicode.trust.rules import PermissionRules
from kimicode.ui.tui import commands, slash, swarm_notices
from kimicode.ui.tui.approval_desk import ApprovalDesk
from kimicode.ui.tui.chat_view import ChatView
from kimicode.ui.tui.editor import edit_prompt
from kimicode.ui.tui.event_batch import EventBuffer
from kimicode.ui.tui.gitinfo import current_branch
from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.mentions import attach_mentions
from kimicode.ui.tui.pricing import UsageLedger
from kimicode.ui.tui.resume_view import show_history
from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.swarm_state import SwarmState
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from kimicode.ui.tui.widgets.queued_prompts import QueuedPrompts
from kimicode.ui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from kimicode.trust.sandbox import Sandbox

FLUSH_INTERVAL = 0.05
QUIT_WINDOW_S = 1.5
QUIT_WAIT_S = 30.0
"""How long quitting waits for a cancelled turn to end."""
MODES = ("default", "accept-edits", "plan", "yolo")
"""Shift+Tab cycles through these, in this order."""


class KimicodeApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "kimicode"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "cancel / quit", priority=True, show=False),
        Binding("ctrl+s", "dashboard", "swarm dashboard", show=False),
        Binding("ctrl+t", "toggle_thinking_view", "thinking", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        resume_id: str | None = None,
        sandbox: Sandbox | None = None,
        warnings: list[str] | None = None,
        prompt: str = "",
        images: list[Path] | None = None,
        history: PromptHistory | None = None,
        clock: Callable[[], float] = time.time,
        auto_dashboard: bool = True,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.auto_dashboard = auto_dashboard
        self.history = history or PromptHistory()
        self.swarm = SwarmState()
        self.desk = ApprovalDesk(self)
        self.usage = UsageLedger()
        self._initial = (prompt, list(images or []))
        self._buffer = EventBuffer()
        self.chat_view = ChatView(
            self.add_to_chat,
            self.show_notice,
            lambda done: swarm_notices.finished_line(done, self.swarm),
            self.desk.waited_s,
        )
        self._turn: Worker[None] | None = None
        self.turn_started: float | None = None
        """Wall time the last prompt was sent (what `/undo` calls "the current turn")."""
        self.last_interrupt = 0.0
        self._approval_lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self.sandbox = sandbox
        """The shell sandbox (probed once, before the app) every session of the app gets."""
        self._warnings = list(warnings or [])
        self.session = self.open_session(settings, resume_id=resume_id)
        self.attach(self.session)

    # --- session wiring ----------------------------------------------------------

    def open_session(
        self, settings: Settings, *, resume_id: str | None = None, store: SessionStore | None = None
    ) -> Session:
        """A session whose approval requests this app answers with the modal."""
        root = settings.project_dir
        rules = PermissionRules(settings.permissions, root)

        async def approve(request: ApprovalRequest) -> ApprovalDecision:
            mode = settings.permissions.mode  # read per call: Shift+Tab changes it
            ask = interactive_approver(rules, mode, root, self.desk.ask, self.desk.remembered)
            return await ask(request)

        return Session(
            settings, approve=approve, sandbox=self.sandbox, store=store, resume_id=resume_id
        )

    def attach(self, session: Session) -> None:
        """Show `session`'s events from now on."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.session = session
        self._unsubscribe = session.bus.subscribe(self._buffer)

    # --- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        menu = CompletionMenu()
        self.queued = QueuedPrompts()
        chat = VerticalScroll(id="chat")
        chat.can_focus = False  # the prompt keeps the keyboard; PageUp/PageDown scroll this
        yield chat
        yield menu
        yield self.queued
        yield PromptInput(menu, self.history, self.queued)
        self.status_bar = StatusBar(id="status")
        yield self.status_bar

    async def on_mount(self) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        chat.anchor()
        status = self.status_bar
        settings = self.session.settings
        status.model = settings.model.name
        status.thinking = settings.model.thinking
        status.mode = settings.permissions.mode
        status.context_window = settings.model.context_window
        root = self.session.root
        status.directory = root.name or str(root)
        status.branch = current_branch(root) or ""
        self.query_one(PromptInput).focus()
        if not self.session.resumed:
            welcome = Static(Text(commands.welcome_line(settings.model.name, root)), id="welcome")
            await self.add_to_chat(welcome)
        self.set_interval(FLUSH_INTERVAL, self.flush_events)
        self.set_interval(1.0, self._tick)
        self.load_files()
        for warning in self._warnings:
            self.show_notice("warning", warning)
        if self.session.resumed:
            await show_history(self)
        prompt, images = self._initial
        if prompt or images:
            self.start_turn(prompt, images)

    @work(exclusive=True, group="files")
    async def load_files(self) -> None:
        """The project's files (for @ completion) and custom commands (for / completion)."""
        custom = await asyncio.to_thread(commands.load_custom, self.session.root)
        try:
            files = await self.session.workspace.list_files()
        except OSError:
            files = None
        for prompt in self.query(PromptInput):  # none while the app shuts down
            prompt.custom = custom
            if files is not None:
                prompt.files = files

    # --- turns -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._turn is not None and self._turn.is_running

    @on(PromptInput.Submitted)
    async def _submitted(self, message: PromptInput.Submitted) -> None:
        text = message.text.strip()
        parsed = slash.parse(text)
        if parsed is not None:
            await slash.run(self, *parsed)
        elif self.busy:
            self.queued.add(text)
        else:
            self.start_turn(text, [])

    def start_turn(self, prompt: str, images: list[Path]) -> None:
        self.chat_view.reply = None
        self.turn_started = time.time()
        self._turn = self._run_turn(prompt, images)

    @work(exclusive=True, group="turn")
    async def _run_turn(self, prompt: str, images: list[Path]) -> None:
        status = self.status_bar
        status.busy = "working"
        try:
            attached = await attach_mentions(prompt, self.session.workspace)
            for warning in attached.warnings:
                self.show_notice("warning", warning)
            outcome = await self.session.run(
                prompt, images=images, files_text=attached.text, files=attached.chips
            )
        except asyncio.CancelledError:
            slash.repair_history(self.session)
            # the app may be closing (quit mid-turn): then there is no chat left to tell
            with contextlib.suppress(NoMatches):
                await self.flush_events()
                self.chat_view.cancel_running()
                self.show_notice("warning", "turn cancelled")
                self.note_swarm_stopped()
            raise
        except Exception as exc:  # a failed turn is shown, never a crash screen
            await self.flush_events()
            self.show_notice("error", f"{type(exc).__name__}: {exc}")
            return
        finally:
            status.busy = ""
        await self.flush_events()
        if outcome.status != "success":
            self.show_notice("error", f"turn ended with {outcome.status}: {outcome.error or ''}")
        self.load_files()

    @on(Worker.StateChanged)
    def _turn_ended(self, event: Worker.StateChanged) -> None:
        """Send the next queued prompt; after a cancel, give them all back to the prompt."""
        if event.worker is not self._turn:
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            text = self.queued.pop_first()
            if text is not None:
                self.start_turn(text, [])
        elif event.state == WorkerState.CANCELLED:
            waiting = self.queued.take_all()
            if waiting:
                prompt = self.query_one(PromptInput)
                prompt.load_text("\n".join([*waiting, prompt.text]).strip())
                prompt.move_cursor(prompt.document.end)
                self.show_notice("info", "queued prompts are back in the prompt, unsent")

    # --- events ------------------------------------------------------------------

    async def flush_events(self) -> None:
        """Apply every buffered event to the UI; called by a timer and at turn ends."""
        if not len(self._buffer):
            return
        async with self._flush_lock:  # the timer and a finishing turn may both call this
            await self._flush_batch()

    async def _flush_batch(self) -> None:
        changed: set[str] = set()
        swarm_started = False
        for event in self._buffer.drain():
            if isinstance(event, ev.UsageReport):
                settings = self.session.settings
                model = settings.model.name
                if event.agent != "main" and settings.swarm.model:
                    model = settings.swarm.model
                self.usage.add(model, event.prompt_tokens, event.completion_tokens)
                if event.agent == "main":
                    self.status_bar.context_used = event.prompt_tokens + event.completion_tokens
            elif isinstance(event, ev.Compacted) and event.agent == "main":
                self.status_bar.context_used = event.tokens_after  # until the next request says
            if event.agent != "main" or isinstance(event, slash.SWARM_EVENTS):
                name = self.swarm.apply(event)
                if name:
                    changed.add(name)
                swarm_started |= isinstance(event, ev.SwarmStarted)
            if event.agent == "main":
                await self.chat_view.show(event)
        status = self.status_bar
        status.tokens = self.usage.prompt_tokens + self.usage.completion_tokens
        status.cost = self.usage.cost()
        dashboard = self.screen if isinstance(self.screen, DashboardScreen) else None
        if dashboard is not None:
            dashboard.refresh_from(changed | ({*self.swarm.agents} if swarm_started else set()))
        elif swarm_started and self.auto_dashboard:
            self.action_dashboard()

    def note_swarm_stopped(self) -> None:
        """A cancelled turn took its swarm with it: the agents left say so, and where work is."""
        if not self.swarm.active:
            return
        changed = self.swarm.stop(self.clock())
        self.show_notice("warning", swarm_notices.stopped_line(self.swarm))
        if isinstance(self.screen, DashboardScreen):
            self.screen.refresh_from(changed)

    async def add_to_chat(self, widget: Widget) -> None:
        await self.query_one("#chat", VerticalScroll).mount(widget)

    def show_notice(self, level: str, message: str) -> None:
        self.query_one("#chat", VerticalScroll).mount(NoticeLine(level, message))

    def _tick(self) -> None:
        if isinstance(self.screen, DashboardScreen) and self.swarm.active:
            self.screen.tick()

    # --- actions -----------------------------------------------------------------

    def action_dashboard(self) -> None:
        if not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen(self.swarm, self.session.cancel_agents, self.clock))

    def action_toggle_thinking_view(self) -> None:
        replies = list(self.query(AssistantReply))
        show = any(r.has_reasoning_hidden() for r in replies)
        for reply in replies:
            reply.show_thinking(show)

    @on(PromptInput.Action)
    async def _prompt_action(self, message: PromptInput.Action) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        match message.name:
            case "interrupt":
                self.cancel_turn()
            case "cycle_mode":
                self.action_cycle_mode()
            case "scroll_up":
                chat.scroll_page_up()
            case "scroll_down":
                chat.scroll_page_down()
            case "quit":
                await self.action_quit_cleanly()
            case "keys_help":
                await slash.keys_help(self)
            case "edit_in_editor":
                edit_prompt(self, self.query_one(PromptInput))

    def action_cycle_mode(self) -> None:
        """Shift+Tab: default → accept-edits → plan → yolo, from the next tool call on."""
        current = self.session.settings.permissions.mode
        mode = MODES[(MODES.index(current) + 1) % len(MODES)] if current in MODES else MODES[0]
        self.session.set_mode(mode)
        self.status_bar.mode = mode

    def cancel_turn(self) -> bool:
        """Cancel the running turn (Esc, or the first Ctrl+C); False when none runs."""
        if not self.busy:
            return False
        assert self._turn is not None
        # One cancel: the swarm cancels its agents itself and waits while each one commits
        # its work; a second cancel on top would cut that short and lose it.
        self._turn.cancel()
        return True

    async def action_interrupt(self) -> None:
        now = time.monotonic()
        recent = now - self.last_interrupt < QUIT_WINDOW_S
        self.last_interrupt = now
        if not recent and self.cancel_turn():
            self.notify("turn cancelled; ctrl+c again to quit")
        elif recent:
            await self.action_quit_cleanly()
        else:
            self.notify("press ctrl+c again to quit")

    async def action_quit_cleanly(self) -> None:
        """Quit; a running turn is cancelled first and given time to end (a swarm's agents
        commit their work to their branches as they stop)."""
        turn = self._turn
        if turn is not None and turn.is_running:
            turn.cancel()
        if turn is not None and turn.state in (WorkerState.PENDING, WorkerState.RUNNING):
            self.status_bar.busy = "stopping"
            with contextlib.suppress(Exception):
                await asyncio.wait_for(turn.wait(), QUIT_WAIT_S)
        self.exit(0)

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.session.aclose()
        from kimicode.vision.shutdown import close_all

        await close_all()
