"""Small subcommands: sessions, config, swarm clean. Each prints and returns."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kimicode.cli.runner import project_dir


def sessions_list(directory: Path | None, all_: bool) -> None:
    from kimicode.sessions.store import SessionStore

    root = project_dir(directory)
    infos = SessionStore().list(None if all_ else root)
    console = Console()
    if not infos:
        console.print(f"no sessions{'' if all_ else f' in {root}'}", markup=False)
        return
    table = Table(box=None)
    width = max(len(info.id) for info in infos)
    table.add_column("id", no_wrap=True, min_width=width)  # ids are copied: never cut
    table.add_column("when", no_wrap=True, min_width=16)
    for name in ("model", "messages", "title"):
        table.add_column(name)
    for info in infos:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
        table.add_row(info.id, when, Text(info.model), str(info.messages), Text(info.title))
    console.print(table)


def sessions_show(session_id: str) -> None:
    from kimicode.sessions.store import SessionStore

    loaded = SessionStore().load(session_id)
    console = Console(highlight=False)
    console.print(
        Text.assemble((loaded.info.id, "bold"), f" in {loaded.info.cwd} ({loaded.info.model})")
    )
    for msg in loaded.messages:
        role = msg["role"]
        if role == "system":
            continue
        content = msg.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "[image]") for p in content)
        text = str(content or "")
        for call in msg.get("tool_calls") or ():
            text += f"\n→ {call['function']['name']} {call['function']['arguments'][:200]}"
        if role == "tool" and len(text) > 600:
            text = text[:600] + " …"
        console.print(Text.assemble((f"{role}: ", "cyan"), text))


def config_show(directory: Path | None) -> None:
    from kimicode.config import load_settings, project_config_path, user_config_path

    root = project_dir(directory)
    settings = load_settings(root)
    console = Console(highlight=False)
    console.print(f"user file:    {user_config_path()}", markup=False)
    console.print(f"project file: {project_config_path(root)}", markup=False)
    rows = [(key, json.dumps(value), source) for key, value, source in settings.effective()]
    width = max(len(v) for _, v, _ in rows)
    for key, value, source in rows:  # plain lines: never truncated, easy to grep
        print(f"{key:<30} {value:<{min(width, 40)}}  {source}")
    from kimicode.web.search import choose

    choice = choose(settings)
    offered = "offered" if choice.provider else "not offered"
    print(f"web_search: {offered}: {choice.reason}")
    from kimicode.swarm.agent_types import load_agent_types

    types = load_agent_types(root)
    print("agent types: " + ", ".join(f"{t.name} ({t.source})" for t in types.types.values()))
    for problem in types.problems:  # a bad file is skipped and said so, never a crash
        print(f"agent type skipped: {problem}")


CONFIG_TEMPLATE = """\
# kimicode configuration. Precedence: flags > environment > project > user.
# Put the API key in the KIMICODE_API_KEY environment variable, not here.

[model]
# name = "kimi-k2.5"
# base_url = "https://api.moonshot.ai/v1"
# thinking = true
# context_window = 262144

[permissions]
# allow = ["run_shell(pytest*)", "run_shell(npm test*)"]
# deny = ["run_shell(git push*)"]

[swarm]
# max_agents = 16
# link = ["node_modules", ".venv"]
# copy = [".env"]
# setup = "npm ci"

[web]
# allow = ["docs.python.org", "github.com"]   # empty: any public domain
# deny = []
# allow_private = false                       # private/loopback addresses refused
# search = "auto"    # Kimi's built-in on Moonshot; "searxng" with searxng_url; "brave"
# searxng_url = "http://localhost:8888"
"""


def config_init(directory: Path | None, user: bool) -> None:
    from kimicode.config import project_config_path, user_config_path
    from kimicode.errors import UsageError

    path = user_config_path() if user else project_config_path(project_dir(directory))
    if path.exists():
        raise UsageError(f"{path} exists already; edit it, or remove it first")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    Console().print(f"wrote {path}", markup=False)


def swarm_clean(directory: Path | None, force: bool) -> None:
    from kimicode.swarm.cleanup import clean

    root = project_dir(directory)
    report = asyncio.run(clean(root, force=force))
    Console(highlight=False).print(str(report), markup=False)


def swarm_list(directory: Path | None) -> None:
    from kimicode.swarm.gitops import repo_toplevel
    from kimicode.swarm.resume import run_rows

    root = asyncio.run(repo_toplevel(project_dir(directory)))
    rows = run_rows(root)
    if not rows:
        print("no swarm run with unfinished or unmerged agents")
    for row in rows:
        state = "running" if row["active"] else ("stopped" if row["interrupted"] else "ended")
        print(f"{row['run_id']}  {state}")
        for agent in row["agents"]:
            print(f"  {agent['name']:<24} {agent['state']:<28} {agent['branch']}")


def swarm_merge(directory: Path | None, run_id: str) -> None:
    from kimicode.config import load_settings
    from kimicode.swarm.gitops import repo_toplevel
    from kimicode.swarm.resume import merge_stopped

    root = project_dir(directory)
    commit = load_settings(root).swarm.commit
    top = asyncio.run(repo_toplevel(root))
    for line in asyncio.run(merge_stopped(top, run_id, commit=commit)):
        print(line)


def undo(directory: Path | None, count: int) -> int:
    """Exit code 1 when some path could not be put back (each one is named)."""
    from kimicode.trust.checkpoints import CheckpointStore

    root = project_dir(directory)
    report = asyncio.run(CheckpointStore(root).undo(count))
    console = Console(highlight=False)
    if not report.checkpoints:
        console.print("nothing to undo")
        return 0
    undone = f"undid {len(report.checkpoints)} change set(s): {', '.join(report.checkpoints)}"
    console.print(undone, markup=False)
    for path in report.restored:
        console.print(f"  restored {path}", markup=False)
    for path in report.removed:
        console.print(f"  removed  {path}", markup=False)
    for path in report.skipped:
        console.print(Text.assemble("  ", ("skipped", "yellow"), f"  {path}"))
    return 1 if report.skipped else 0


def checkpoints_list(directory: Path | None) -> None:
    from kimicode.trust.checkpoints import CheckpointStore

    root = project_dir(directory)
    found = asyncio.run(CheckpointStore(root).list())
    console = Console(highlight=False)
    if not found:
        console.print(f"no checkpoints for {root}", markup=False)
        return
    table = Table("id", "when", "files", "label", box=None)
    for cp in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(cp.time))
        table.add_row(cp.id, when, str(len(cp.paths)), Text(cp.label))
    console.print(table)


def mcp_list(directory: Path | None) -> int:
    from kimicode.mcp.report import mcp_list_report

    text, code = asyncio.run(mcp_list_report(project_dir(directory)))
    Console(highlight=False).print(text)
    return code


def skills_list(directory: Path | None) -> int:
    """A table of skills; malformed ones on stderr with the reason (exit 1 when any)."""

    from kimicode.skills.catalog import discover, skill_dirs

    root = project_dir(directory)
    catalog = discover(root)
    console = Console(highlight=False)
    if catalog.skills:
        table = Table("name", "description", "from", box=None)
        for skill in catalog.skills:
            table.add_row(Text(skill.name), Text(skill.description), Text(skill.source))
        console.print(table)
    else:
        where = ", ".join(shown for _, shown in skill_dirs(root))
        console.print(Text(f"no skills (looked in {where})"))
    err = Console(stderr=True, highlight=False)
    for bad in catalog.skipped:
        err.print(Text(f"skipped {bad.path}: {bad.reason}"))
    return 1 if catalog.skipped else 0
