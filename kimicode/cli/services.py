"""Starting a session: the services that depend on the machine and the policy.

Print mode, `watch` and the demo start a session the same way, through
`headless_session`: probe the sandbox once, build the print-mode approver,
open the session with both, subscribe the renderer, show the warnings; on the
way out close the session and everything it rendered with. The TUI differs
only in who answers "ask" (a person, through the approval modal).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from kimicode.config import Settings
from kimicode.events import EventSink

if TYPE_CHECKING:
    from kimicode.session import Session


@asynccontextmanager
async def headless_session(
    settings: Settings,
    sink: EventSink,
    *,
    resume_id: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> AsyncIterator[Session]:
    """A session nobody sits at (print mode, watch, demo), closed with its renderers.

    Warnings go to `warn`, or to the session's events as notices.
    """
    from kimicode import events as ev
    from kimicode.session import Session
    from kimicode.trust.approvals import print_mode_approver
    from kimicode.trust.rules import PermissionRules
    from kimicode.trust.sandbox import probe
    from kimicode.vision.shutdown import close_all

    root = settings.project_dir
    rules = PermissionRules(settings.permissions, root)
    approve = print_mode_approver(rules, settings.permissions.mode, root)
    found = await probe(settings.sandbox)
    session = Session(settings, approve=approve, sandbox=found.sandbox, resume_id=resume_id)
    session.bus.subscribe(sink)
    if found.warning and warn is not None:
        warn(found.warning)
    elif found.warning:
        session.bus(ev.Notice(level="warning", message=found.warning))
    try:
        yield session
    finally:
        await session.aclose()
        await close_all()
