"""The ACP methods: initialize, session/new|load|prompt|cancel|set_mode, answered for kimicode.

Every protocol name lives here and in its siblings; the core sees a Session,
an approver and an event sink, as it does for the TUI. Errors the client can
act on (an unknown session, a prompt while one runs, a missing key) come back
as JSON-RPC errors with a message saying what to do; the agent keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import acp
from acp import RequestError, schema

from kimicode import __version__
from kimicode.acp.history import replay_updates
from kimicode.acp.prompt import to_prompt
from kimicode.acp.session import MODES, AcpSession
from kimicode.errors import KimicodeError, UsageError

log = logging.getLogger(__name__)

STOP_REASONS: dict[str, schema.StopReason] = {
    "success": "end_turn",
    "error": "end_turn",
    "limit": "max_turn_requests",
    "cancelled": "cancelled",
}


class KimicodeAgent:
    """The `acp.Agent` for kimicode; `flags` are the command line's settings overrides."""

    def __init__(self, flags: dict[str, Any] | None = None) -> None:
        self.flags = {k: v for k, v in (flags or {}).items() if v is not None}
        self.client: Any = None
        self.capabilities: schema.ClientCapabilities | None = None
        self.sessions: dict[str, AcpSession] = {}

    def on_connect(self, conn: Any) -> None:
        self.client = conn

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: schema.ClientCapabilities | None = None,
        client_info: schema.Implementation | None = None,
        **_: Any,
    ) -> schema.InitializeResponse:
        self.capabilities = client_capabilities
        return schema.InitializeResponse(
            protocol_version=min(protocol_version, acp.PROTOCOL_VERSION),
            agent_capabilities=schema.AgentCapabilities(
                load_session=True,
                prompt_capabilities=schema.PromptCapabilities(
                    image=True, embedded_context=True, audio=False
                ),
            ),
            agent_info=schema.Implementation(
                name="kimicode", title="kimicode", version=__version__
            ),
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **_: Any) -> schema.AuthenticateResponse:
        raise RequestError.invalid_params(
            {"details": "kimicode reads its API key from KIMICODE_API_KEY; nothing to do here"}
        )

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> schema.NewSessionResponse:
        opened = await self._open(cwd, None)
        # after the answer: until it arrives, the client does not know the session's id
        opened.later(self._advertise_commands(opened), delay=0.2)
        return schema.NewSessionResponse(session_id=opened.id, modes=opened.mode_state())

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> schema.LoadSessionResponse:
        """Reopen a saved session and replay its conversation as updates, then answer."""
        old = self.sessions.pop(session_id, None)
        if old is not None:
            await old.aclose()
        opened = await self._open(cwd, session_id)
        for update in replay_updates(opened.session.history):
            await opened.send(update)
        await self._advertise_commands(opened)
        return schema.LoadSessionResponse(modes=opened.mode_state())

    async def set_session_mode(
        self, mode_id: str, session_id: str, **_: Any
    ) -> schema.SetSessionModeResponse:
        opened = self._get(session_id)
        if mode_id not in MODES:
            raise RequestError(-32602, f"unknown mode {mode_id!r}", {"modes": list(MODES)})
        opened.session.set_mode(mode_id)
        await opened.send(acp.helpers.update_current_mode(mode_id))
        return schema.SetSessionModeResponse()

    async def prompt(self, prompt: list[Any], session_id: str, **_: Any) -> schema.PromptResponse:
        opened = self._get(session_id)
        if opened.turn is not None and not opened.turn.done():
            raise RequestError(
                -32602,
                "a prompt is already running in this session",
                {"details": "wait for its answer, or send session/cancel first"},
            )
        root = opened.session.root
        try:
            text, images = await asyncio.to_thread(
                to_prompt, prompt, root, opened.session.log.dir / "attachments"
            )
            if text.startswith("/"):
                from kimicode.custom_commands import prompt_for

                text = await asyncio.to_thread(prompt_for, root, text)
        except UsageError as exc:
            raise RequestError(-32602, str(exc), {"details": str(exc)}) from None
        if not text and not images:
            raise RequestError(-32602, "the prompt is empty", {"details": "send some text"})
        try:
            outcome = await opened.run(text, images)
        except asyncio.CancelledError:
            if opened.cancelled_by_client:
                return schema.PromptResponse(stop_reason="cancelled")
            raise
        except KimicodeError as exc:
            await opened.send(acp.update_agent_message_text(f"Error: {exc}"))
            return schema.PromptResponse(stop_reason="end_turn")
        if outcome.status == "error" and outcome.error:
            await opened.send(acp.update_agent_message_text(f"\n\nError: {outcome.error}"))
        return schema.PromptResponse(stop_reason=STOP_REASONS.get(outcome.status, "end_turn"))

    async def cancel(self, session_id: str, **_: Any) -> None:
        opened = self.sessions.get(session_id)
        if opened is not None:
            opened.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        log.debug("ignored notification %s", method)

    async def shutdown(self) -> None:
        """The client went away: stop every turn (sub-agents keep their work on branches)."""
        sessions = list(self.sessions.values())
        self.sessions.clear()
        await asyncio.gather(*(s.aclose() for s in sessions), return_exceptions=True)
        from kimicode.vision.shutdown import close_all

        await close_all()

    # --- helpers -------------------------------------------------------------------

    async def _open(self, cwd: str, resume_id: str | None) -> AcpSession:
        try:
            settings = await asyncio.to_thread(_settings_for, cwd, self.flags, resume_id)
        except KimicodeError as exc:
            raise RequestError(-32602, str(exc), {"details": str(exc)}) from None
        from kimicode.trust.sandbox import probe

        found = await probe(settings.sandbox)  # the shell sandbox, as print mode probes it
        if found.warning:
            log.warning("%s", found.warning)
        opened = AcpSession(
            self.client, settings, self.capabilities, resume_id=resume_id, sandbox=found.sandbox
        )
        self.sessions[opened.id] = opened
        return opened

    def _get(self, session_id: str) -> AcpSession:
        opened = self.sessions.get(session_id)
        if opened is None:
            raise RequestError(
                -32602,
                f"unknown session {session_id!r}",
                {"details": "call session/new, or session/load for a saved session, first"},
            )
        return opened

    async def _advertise_commands(self, opened: AcpSession) -> None:
        """Custom commands from `.kimicode/commands/` as the editor's slash commands."""
        from kimicode import custom_commands

        found = await asyncio.to_thread(custom_commands.discover, opened.session.root)
        commands = []
        for command in found:
            described = await asyncio.to_thread(custom_commands.describe, command)
            hint = described.argument_hint
            commands.append(
                schema.AvailableCommand(
                    name=command.name,
                    description=described.description or f"{command.path.name}",
                    input=schema.AvailableCommandInput(
                        root=schema.UnstructuredCommandInput(hint=hint)
                    )
                    if hint
                    else None,
                )
            )
        if commands:
            await opened.send(acp.helpers.update_available_commands(commands))


def _settings_for(cwd: str, flags: dict[str, Any], resume_id: str | None) -> Any:
    """Settings for a session in `cwd`; UsageError for a bad directory, key or session id."""
    from kimicode.config import load_settings
    from kimicode.sessions.store import SessionStore

    root = Path(cwd)
    if not root.is_absolute() or not root.is_dir():
        raise UsageError(f"cwd {cwd!r} is not an absolute path to a directory")
    settings = load_settings(root.resolve(), dict(flags))
    settings.api_key()  # MissingApiKey names the variables to set
    if resume_id is not None:
        SessionStore().load(resume_id)  # a clear error for an unknown id
    return settings
