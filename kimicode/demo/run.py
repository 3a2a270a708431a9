"""Copy the sample project somewhere scratch and run a real swarm on it.

Everything is real except the model: git worktrees, sub-agents, tools, the
merge, the HTTP client talking SSE to the replay server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from kimicode.git.run import git_sync

SAMPLE = Path(__file__).parent / "sample"


def prepare_project(dest: Path) -> Path:
    if dest.exists() and any(dest.iterdir()):
        from kimicode.errors import UsageError

        raise UsageError(f"{dest} exists and is not empty; pass an empty or new --keep directory")
    shutil.copytree(SAMPLE, dest, dirs_exist_ok=True)
    env = {
        "GIT_AUTHOR_NAME": "kimicode demo",
        "GIT_AUTHOR_EMAIL": "demo@kimicode.invalid",
        "GIT_COMMITTER_NAME": "kimicode demo",
        "GIT_COMMITTER_EMAIL": "demo@kimicode.invalid",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "Site brief"]):
        git_sync(dest, *args, env=env)
    return dest


def run_demo(keep: Path | None, max_agents: int) -> int:
    from kimicode.replay.server import replay_in_thread

    from .script import build_script

    console = Console(stderr=True, highlight=False)
    dest = (keep or Path(tempfile.mkdtemp(prefix="kimicode-demo-")) / "lumen-bakery").resolve()
    prepare_project(dest)
    console.print(f"[bold]kimicode demo[/]: a swarm builds a 6-file site in {escape(str(dest))}")
    console.print("[dim]model: the bundled replay script (no key, no network)[/]\n")
    with replay_in_thread(build_script()) as server:
        code, result = asyncio.run(_run(dest, server.url, max_agents))
    console.print(f"\n[bold]Result[/]: {escape(str(dest))}")
    console.print(f"  open {dest / 'index.html'}", markup=False)
    console.print(f"  cd {dest} && git status", markup=False)
    if result:
        print(result)
    return code


async def _run(dest: Path, url: str, max_agents: int) -> tuple[int, str]:
    from kimicode.cli.services import headless_session
    from kimicode.config import load_settings
    from kimicode.ui.print import TextRenderer

    from .script import PROMPT

    settings = load_settings(
        dest,
        {
            "model.base_url": url,
            "model.api_key": "demo-key-not-secret",
            "model.name": "kimi-k2.5",
            "model.provider": "moonshot",
            "swarm.enabled": True,
            "swarm.max_agents": max_agents,
            "permissions.mode": "yolo",
        },
        env={},
        user_file=dest / ".kimicode" / "no-user-config.toml",
    )
    out = io.StringIO()
    async with headless_session(settings, TextRenderer(out=out)) as session:
        outcome = await session.run(PROMPT)
        session.bus(session.result_event(outcome))
    return (0 if outcome.status == "success" else 1), out.getvalue().rstrip()
