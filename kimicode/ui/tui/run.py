"""Starting the app from the command line: probe the sandbox, run, say how to continue."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kimicode.config import Settings


def run_tui(
    settings: Settings,
    *,
    resume_id: str | None = None,
    prompt: str = "",
    images: list[Path] | None = None,
) -> int:
    """Run the interactive app until the user quits; the process exit code."""
    from kimicode.trust.sandbox import probe
    from kimicode.ui.tui.app import KimicodeApp

    found = asyncio.run(probe(settings.sandbox))
    app = KimicodeApp(
        settings,
        resume_id=resume_id,
        sandbox=found.sandbox,
        warnings=[found.warning] if found.warning else [],
        prompt=prompt,
        images=images,
    )
    code = app.run()
    print(f"session {app.session.id} · continue it with: kimicode --resume {app.session.id}")
    return code if isinstance(code, int) else 0
