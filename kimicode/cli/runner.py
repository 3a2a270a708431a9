"""Running a task from the command line: print mode and the interactive TUI.

Turns options into settings, a session and a renderer; maps the outcome to the
exit codes DESIGN.md gives; makes Ctrl-C and SIGTERM cancel the run cleanly
(sub-agents cancelled, their work kept) and exit 130.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.cli.interrupts import cancel_on_signals
from kimicode.errors import KimicodeError, UsageError


@dataclass(slots=True)
class RunOptions:
    prompt: str = ""
    directory: Path | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    images: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    continue_last: bool = False
    resume: str | None = None
    output_format: str = "text"


def project_dir(directory: Path | None) -> Path:
    path = (directory or Path.cwd()).expanduser()
    if not path.exists():
        raise UsageError(f"-C {path}: no such directory")
    if not path.is_dir():
        raise UsageError(f"-C {path}: not a directory")
    return path.resolve()


def _read_prompt(opts: RunOptions) -> str:
    prompt = opts.prompt
    if not sys.stdin.isatty():
        piped = sys.stdin.read()
        prompt = f"{prompt}\n\n{piped}".strip() if prompt else piped.strip()
    if not prompt:
        raise UsageError('no prompt: pass it as an argument (`kimicode -p "..."`) or on stdin')
    return prompt


def _paths_exist(paths: list[Path], flag: str) -> list[Path]:
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{flag} {path}: no such file")
    return [p.resolve() for p in paths]


def prepare(opts: RunOptions) -> tuple[Any, str | None]:
    """Settings and the session id to resume (validated), before anything starts."""
    from kimicode.config import load_settings
    from kimicode.sessions.store import SessionStore

    root = project_dir(opts.directory)
    settings = load_settings(root, opts.flags)
    settings.api_key()  # MissingApiKey (exit 2) before any work starts
    resume_id = opts.resume
    if opts.continue_last and not resume_id:
        resume_id = SessionStore().latest(root)
        if resume_id is None:
            raise UsageError(f"--continue: no earlier session in {root}")
    return settings, resume_id


def run_print(opts: RunOptions) -> int:
    settings, resume_id = prepare(opts)
    images = _paths_exist(opts.images, "--image")
    videos = _paths_exist(opts.videos, "--video")
    from kimicode.custom_commands import prompt_for

    prompt = prompt_for(settings.project_dir, _read_prompt(opts))
    from kimicode.ui.print import renderer_for

    renderer = renderer_for(opts.output_format)
    return asyncio.run(_print_main(settings, resume_id, prompt, images, videos, renderer))


async def _print_main(
    settings: Any,
    resume_id: str | None,
    prompt: str,
    images: list[Path],
    videos: list[Path],
    renderer: Any,
) -> int:
    from kimicode import events as ev
    from kimicode.cli.services import headless_session

    async with headless_session(settings, renderer, resume_id=resume_id) as session:
        started = time.perf_counter()
        with cancel_on_signals() as signals:
            try:
                outcome = await session.run(prompt, images=images, videos=videos)
            except asyncio.CancelledError:
                if not signals.interrupted:
                    raise
                session.bus(ev.Notice(level="error", message="interrupted"))
                # the result object still comes out (status "error"), then exit 130
                outcome = session.interrupted_outcome(time.perf_counter() - started)
            except KimicodeError as exc:
                session.bus(ev.Notice(level="error", message=str(exc)))
                raise
            session.bus(session.result_event(outcome))
    if outcome.status == "success":
        return 0
    failure = outcome.agent.exception
    if failure is None and outcome.swarm.temporary:
        return 75  # sub-agents ran out of the rate-limit wait: worth retrying
    return failure.exit_code if isinstance(failure, KimicodeError) else 1


def run_interactive(opts: RunOptions) -> int:
    settings, resume_id = prepare(opts)
    from kimicode.ui.tui.run import run_tui

    return run_tui(
        settings,
        resume_id=resume_id,
        prompt=opts.prompt,
        images=_paths_exist(opts.images, "--image"),
    )
