"""Resuming unfinished sub-agents: their conversation, their worktree, their run's merge.

A sub-agent's conversation is appended to `<session>/agents/<run>/<agent>.jsonl`
as it goes, and the run's manifest records how each agent ended and its task.
An agent that ended unfinished (cancelled, timed out, an error, a limit) can be
resumed: its worktree is recreated at its branch when it was removed, its
history is reloaded and repaired like a session's, and it owns the same files.
Agents of that run that had finished but were never merged (the user pressed
Ctrl-C) are merged together with the resumed ones when the continued swarm ends.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimicode.errors import ToolError
from kimicode.git.run import git
from kimicode.llm.types import Message
from kimicode.sessions.coalesce import FlushLater
from kimicode.swarm import manifest
from kimicode.swarm.commit import AgentCommit
from kimicode.swarm.gitops import resolve_commit, tree_entries
from kimicode.swarm.snapshot import Base
from kimicode.swarm.tasks import ResumeSpec, TaskSpec
from kimicode.swarm.worktrees import (
    AgentWorktree,
    _sparse_read_tree,
    admin_dir_of,
    create_worktree,
    expand_owned,
    sparse_patterns,
)

CONTINUE = (
    "You were stopped before you finished. Continue your task from where you stopped: "
    "your earlier edits are in your worktree."
)


def transcript_path(session_dir: Path, run_id: str, agent: str) -> Path:
    return session_dir / "agents" / run_id / f"{agent}.jsonl"


class Transcript:
    """One sub-agent's conversation, appended line by line so Ctrl-C loses nothing (the
    lines of one loop turn in one write, `kimicode.sessions.coalesce`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pending: list[str] = []
        self._truncate = False
        """The next flush starts the file over (a `restart` is pending)."""
        self._later = FlushLater(self.flush)

    def __call__(self, message: Message) -> None:
        self._pending.append(json.dumps(message, ensure_ascii=False) + "\n")
        self._later.request()

    def restart(self, messages: list[Message]) -> None:
        """Start the file over with `messages` (an agent that starts over); written with
        what follows in the same loop turn (an agent's first message), in one open."""
        self._pending = [json.dumps(m, ensure_ascii=False) + "\n" for m in messages]
        self._truncate = True
        self._later.request()

    def flush(self) -> None:
        """Write what is pending now."""
        if self._pending or self._truncate:
            lines, self._pending = "".join(self._pending), []
            how, self._truncate = (os.O_TRUNC if self._truncate else os.O_APPEND), False
            self._write(lines, how)

    def _write(self, lines: str, how: int) -> None:
        # os-level open: a text-mode open per message cost several times as much
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | how, 0o666)
        with os.fdopen(fd, "wb") as out:
            out.write(lines.encode("utf-8"))


def load_history(path: Path) -> list[Message]:
    """The saved conversation, a torn last line dropped and dangling tool calls answered."""
    from kimicode.sessions.store import repair_dangling

    messages: list[Message] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and "role" in message:
            messages.append(message)
    return repair_dangling(messages)


@dataclass(slots=True)
class Resumed:
    """What a resumed agent continues from."""

    task: TaskSpec
    prompt: str
    history: list[Message]
    branch: str
    transcript: Path


@dataclass(slots=True)
class ResumePlan:
    run: manifest.RunManifest
    base: Base
    agents: list[Resumed]


def plan_resume(root: Path, specs: list[ResumeSpec]) -> ResumePlan:
    """Find the named agents in this repository's runs; a ToolError the model can act on."""
    runs = sorted(manifest.list_manifests(root), key=lambda m: m.started, reverse=True)
    found: list[tuple[ResumeSpec, manifest.RunManifest, manifest.AgentRecord]] = []
    problems = []
    for spec in specs:
        hit = next(((r, r.agents[spec.name]) for r in runs if spec.name in r.agents), None)
        if hit is None:
            problems.append(f"no earlier sub-agent is named {spec.name!r}")
            continue
        run, record = hit
        if record.merged:
            problems.append(f"{spec.name} finished and its work is merged: nothing to resume")
        elif record.outcome == "success":
            problems.append(
                f"{spec.name} finished (its work is on branch {record.branch}, merged when the "
                "resumed agents of its run finish); it cannot be resumed"
            )
        elif not record.resumable or not Path(record.transcript or "").is_file():
            problems.append(f"{spec.name} left no conversation to resume; spawn it as a new task")
        else:
            found.append((spec, run, record))
    if problems:
        raise ToolError("cannot resume: " + "; ".join(problems) + _listing(runs))
    run_ids = {run.run_id for _, run, _ in found}
    if len(run_ids) > 1:
        raise ToolError(
            f"the agents to resume belong to different swarm runs ({', '.join(sorted(run_ids))}); "
            "resume the agents of one run per spawn_agents call"
        )
    run = found[0][1]
    agents = []
    for spec, _, record in found:
        assert record.task is not None and record.transcript is not None
        transcript = Path(record.transcript)
        agents.append(
            Resumed(
                task=TaskSpec.model_validate(record.task),
                prompt=spec.prompt or CONTINUE,
                history=load_history(transcript),
                branch=record.branch,
                transcript=transcript,
            )
        )
    return ResumePlan(run, Base(run.base, dirty=run.base_ref is not None, ref=run.base_ref), agents)


def _listing(runs: list[manifest.RunManifest]) -> str:
    names = [n for r in runs for n, a in r.agents.items() if a.resumable]
    return f". Resumable agents: {', '.join(names)}" if names else ". No agent can be resumed"


async def reopen_worktree(
    root: Path, base: Base, run_id: str, resumed: Resumed
) -> tuple[AgentWorktree, bool]:
    """The agent's worktree at its branch (recreated if removed); True when it starts over.

    A branch the user deleted leaves nothing to continue from: a fresh worktree of the
    run's base is made on a new branch of the same name and the agent starts over.
    """
    task = resumed.task
    path = manifest.worktree_path(root, run_id, task.name)
    if not await resolve_commit(root, f"refs/heads/{resumed.branch}"):
        if path.exists():
            await git(root, "worktree", "remove", "--force", "--force", str(path), check=False)
        await git(root, "worktree", "prune", check=False)
        return await create_worktree(root, base, run_id, task.name, task.files), True
    recreate = not (path / ".git").is_file()
    if recreate:
        path.parent.mkdir(parents=True, exist_ok=True)
        await git(root, "worktree", "prune", check=False)
        await git(root, "worktree", "add", "--no-checkout", "-q", str(path), resumed.branch)
    wt = AgentWorktree(
        repo_root=root,
        run_id=run_id,
        agent=task.name,
        path=path,
        branch=resumed.branch,
        base=base.commit,
        owned=list(task.files),
        checked_out=[],
        admin_dir=admin_dir_of(path),
    )
    if recreate:  # the owned files at the branch's tip, as a fresh worktree has them
        files = expand_owned(task.files, await _tree(root, resumed.branch))
        await _sparse_read_tree(wt, sparse_patterns(files) if files else "")
    await manifest.update_agent(root, run_id, task.name, removed=False, worktree=str(path))
    return wt, False


async def _tree(root: Path, rev: str) -> list[str]:
    commit = await resolve_commit(root, rev)
    return list(await tree_entries(root, commit or rev))


def awaiting_merge(root: Path, run: manifest.RunManifest, skip: set[str]) -> list[AgentCommit]:
    """Agents of a stopped run that finished but were never merged, as commits to merge."""
    out = []
    for name, record in run.agents.items():
        if name in skip or not record.awaiting_merge or not record.commit:
            continue
        task = record.task or {}
        wt = AgentWorktree(
            repo_root=root,
            run_id=run.run_id,
            agent=name,
            path=Path(record.worktree),
            branch=record.branch,
            base=run.base,
            owned=list(task.get("files", [])),
        )
        prompt = str(task.get("prompt", "")).strip()
        message = f"{name}: {prompt.splitlines()[0][:72] if prompt else ''}\n\n{prompt}"
        out.append(AgentCommit(wt, record.commit, message))
    return out


def resume_note(root: Path) -> str:
    """For `--continue`: which agents of stopped runs can be resumed or wait for a merge."""
    lines = []
    for run in manifest.list_manifests(root):
        if not run.interrupted:
            continue
        resumable = [n for n, a in run.agents.items() if a.resumable]
        waiting = [n for n, a in run.agents.items() if a.awaiting_merge]
        if not resumable and not waiting:
            continue
        line = f"- swarm run {run.run_id} was stopped before it finished."
        if resumable:
            line += f" Resumable agents: {', '.join(sorted(resumable))}."
        if waiting:
            line += (
                f" Finished, not merged yet: {', '.join(sorted(waiting))} (merged when the "
                "resumed agents finish)."
            )
        lines.append(line)
    if not lines:
        return ""
    return (
        "[Sub-agents left unfinished]\n" + "\n".join(lines) + "\nTo continue them, call "
        'spawn_agents with resume: [{"name": ...}] (optionally a new "prompt" for one); '
        "do not spawn them again as new tasks."
    )


def run_rows(root: Path) -> list[dict[str, Any]]:
    """`kimicode swarm list`: runs with unfinished or unmerged agents, newest first."""
    rows = []
    for run in sorted(manifest.list_manifests(root), key=lambda m: m.started, reverse=True):
        agents = []
        for name, record in sorted(run.agents.items()):
            if record.merged:
                state = "merged"
            elif record.awaiting_merge:
                state = "finished, not merged"
            elif record.resumable:
                state = f"resumable ({record.outcome or 'stopped'})"
            else:
                state = record.outcome or record.status
            agents.append({"name": name, "state": state, "branch": record.branch})
        if all(a["state"] == "merged" for a in agents):
            continue
        rows.append({"run_id": run.run_id, "interrupted": run.interrupted,
                     "active": run.active(), "started": run.started, "agents": agents})  # fmt: skip
    return rows


async def merge_stopped(root: Path, run_id: str, *, commit: bool = False) -> list[str]:
    """`kimicode swarm merge RUN`: merge a stopped run's finished agents; lines to print."""
    from kimicode.errors import UsageError
    from kimicode.swarm.merge import apply_merge, plan_merge

    run = manifest.read_manifest(manifest.manifest_path(root, run_id))
    if run is None:
        known = ", ".join(r["run_id"] for r in run_rows(root)) or "none"
        raise UsageError(f"no swarm run {run_id!r} in {root} (runs with unmerged work: {known})")
    if run.active():
        raise UsageError(f"swarm run {run_id} is still running (pid {run.pid})")
    commits = awaiting_merge(root, run, set())
    if not commits:
        return [f"swarm run {run_id}: no finished agent is waiting to be merged"]
    base = Base(run.base, dirty=run.base_ref is not None, ref=run.base_ref)
    report = await apply_merge(root, await plan_merge(root, base, commits), commit=commit)
    lines = [f"merged {name}: {', '.join(files)}" for name, files in report.merged.items()]
    lines += [f"not merged {c.agent}: conflict on {', '.join(c.files)}; {c.inspect}"
              for c in report.conflicts]  # fmt: skip
    left = [n for n, a in run.agents.items() if a.resumable]
    if left:
        lines.append(f"still resumable (kimicode --continue): {', '.join(sorted(left))}")
    return lines
