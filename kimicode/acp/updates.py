"""kimicode events as ACP session updates: messages, thoughts, tool calls, the swarm's plan.

The translator holds only what the protocol needs remembered between events
(the plan's entries, which files each agent merged). Sub-agents' tool calls
are tagged with the agent's name in the title and in `_meta`, so an editor can
show each agent's work under its plan entry. Diffs for edits come from the
unified diff the tool reported (one diff block per hunk, no file I/O); the
merge result is one final tool call with the full before/after of every
merged file, which the editor opens in its diff view.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import acp
from acp import schema

from kimicode import events as ev

KINDS: dict[str, schema.ToolKind] = {
    "read_file": "read",
    "view_image": "read",
    "skill": "read",
    "write_file": "edit",
    "edit_file": "edit",
    "glob": "search",
    "grep": "search",
    "run_shell": "execute",
    "render_page": "fetch",
    "spawn_agents": "think",
}
EDIT_TOOLS = ("write_file", "edit_file")
MAX_OUTPUT = 8_000
"""Characters of a tool's output shown in the editor (the model got all of it)."""


@dataclass(slots=True)
class PlanItem:
    name: str
    prompt: str
    status: schema.PlanEntryStatus = "pending"
    outcome: str = ""

    def entry(self) -> schema.PlanEntry:
        first = self.prompt.strip().splitlines()[0] if self.prompt.strip() else ""
        text = f"{self.name}: {first[:160]}" + (f" ({self.outcome})" if self.outcome else "")
        return acp.plan_entry(text, status=self.status)


@dataclass(slots=True)
class Translator:
    """Per ACP session: turns each kimicode event into zero or more updates."""

    root: Path
    plan: dict[str, PlanItem] = field(default_factory=dict)
    base_commit: str = ""
    merged: list[str] = field(default_factory=list)
    conflicts: list[ev.MergeConflict] = field(default_factory=list)

    async def updates(self, event: ev.Event) -> list[Any]:
        sub = event.agent != "main"
        if isinstance(event, ev.TextDelta) and not sub:
            return [acp.update_agent_message_text(event.text)]
        if isinstance(event, ev.ReasoningDelta) and not sub:
            return [acp.update_agent_thought_text(event.text)]
        if isinstance(event, ev.ToolCallStarted):
            return [self._started(event)]
        if isinstance(event, ev.ApprovalDecided) and not event.approved:
            return [
                acp.update_tool_call(
                    self.call_id(event.agent, event.call_id),
                    status="failed",
                    content=[_text(f"Denied: {event.reason or 'the user denied this'}")],
                )
            ]
        if isinstance(event, ev.ToolCallFinished):
            return [self._finished(event)]
        if isinstance(event, ev.Notice) and event.level == "error" and not sub:
            return [acp.update_agent_message_text(f"\n\nError: {event.message}\n")]
        return await self._swarm(event)

    # --- tool calls ----------------------------------------------------------------

    @staticmethod
    def call_id(agent: str, call_id: str) -> str:
        return call_id if agent == "main" else f"{agent}:{call_id}"

    def _started(self, event: ev.ToolCallStarted) -> schema.ToolCallStart:
        args = event.arguments
        locations = None
        path = args.get("path")
        if isinstance(path, str) and path:
            locations = [schema.ToolCallLocation(path=str(self.root / path))]
        return acp.start_tool_call(
            self.call_id(event.agent, event.call_id),
            _title(event.agent, event.name, args),
            kind=KINDS.get(event.name, "other"),
            status="in_progress",
            locations=locations,
            raw_input=args,
        ).model_copy(update={"field_meta": _agent_meta(event.agent)})

    def _finished(self, event: ev.ToolCallFinished) -> schema.ToolCallProgress:
        content: list[Any] = []
        if event.name in EDIT_TOOLS and event.diff:
            content += diff_blocks(self.root, event.diff)
        output = event.output if len(event.output) <= MAX_OUTPUT else event.output[:MAX_OUTPUT]
        if event.name == "run_shell":
            content.append(_text(f"```\n{output}\n```"))
        elif output and not (event.name in EDIT_TOOLS and event.ok):
            content.append(_text(output))
        update = acp.update_tool_call(
            self.call_id(event.agent, event.call_id),
            status="completed" if event.ok else "failed",
            content=content or None,
            raw_output={"ok": event.ok, "output": output},
        )
        return update.model_copy(update={"field_meta": _agent_meta(event.agent)})

    # --- the swarm -----------------------------------------------------------------

    async def _swarm(self, event: ev.Event) -> list[Any]:
        if isinstance(event, ev.SwarmStarted):
            self.plan = {
                t["name"]: PlanItem(t["name"], str(t.get("prompt", ""))) for t in event.tasks
            }
            self.base_commit, self.merged, self.conflicts = event.base_commit, [], []
            return [self._plan()]
        if isinstance(event, ev.AgentSpawned) and event.name in self.plan:
            self.plan[event.name].status = "in_progress"
            return [self._plan()]
        if isinstance(event, ev.AgentFinished) and event.name in self.plan:
            item = self.plan[event.name]
            item.status = "completed"
            item.outcome = event.status if not event.error else f"{event.status}: {event.error}"
            return [self._plan()]
        if isinstance(event, ev.AgentMerged):
            if event.name in self.plan:
                self.plan[event.name].outcome += ", merged"
            self.merged += [f for f in event.files if f not in self.merged]
            return [self._plan()] if event.name in self.plan else []
        if isinstance(event, ev.MergeConflict):
            self.conflicts.append(event)
            if event.name in self.plan:
                self.plan[event.name].outcome += f", kept on {event.branch}"
            return [self._plan()] if event.name in self.plan else []
        if isinstance(event, ev.SwarmFinished):
            return [await self._merge_result(event)]
        return []

    def _plan(self) -> schema.AgentPlanUpdate:
        return acp.update_plan(item.entry() for item in self.plan.values())

    async def _merge_result(self, done: ev.SwarmFinished) -> schema.ToolCallStart:
        """One tool call with each merged file's full before and after: the diff view."""
        content: list[Any] = []
        for rel in self.merged:
            old, new = await _before_after(self.root, self.base_commit, rel)
            content.append(acp.tool_diff_content(str(self.root / rel), new, old))
        for conflict in self.conflicts:
            content.append(
                _text(
                    f"{conflict.name}: not merged, your changes to {', '.join(conflict.files)} "
                    f"were kept; its work is on {conflict.branch} (`{conflict.inspect}`)"
                )
            )
        title = (
            f"Swarm merged {done.merged} of {done.agents} agents "
            f"({len(self.merged)} files, {done.failed} failed, "
            + (f"{done.cancelled} cancelled, " if done.cancelled else "")
            + f"{done.conflicts} conflicts)"
        )
        return acp.start_tool_call(
            f"swarm:{done.run_id}:merge",
            title,
            kind="edit",
            status="completed"
            if not (done.failed or done.cancelled or done.conflicts)
            else "failed",
            content=content or None,
            locations=[schema.ToolCallLocation(path=str(self.root / f)) for f in self.merged]
            or None,
            raw_output={
                "merged": done.merged,
                "agents": done.agents,
                "failed": done.failed,
                "cancelled": done.cancelled,
                "conflicts": done.conflicts,
                "speedup": done.speedup,
            },
        )


def diff_blocks(root: Path, diff: str) -> list[schema.FileEditToolCallContent]:
    """One ACP diff per hunk of a unified diff (context and removed lines → old text)."""
    blocks: list[schema.FileEditToolCallContent] = []
    path = ""
    created = False
    old: list[str] | None = None
    new: list[str] = []

    def flush() -> None:
        if old is not None and path:
            text_old = None if created else "".join(old)
            blocks.append(acp.tool_diff_content(str(root / path), "".join(new), text_old))

    for line in diff.splitlines(keepends=True):
        if line.startswith("--- "):
            flush()
            old = None
            created = line.startswith("--- /dev/null")
        elif line.startswith("+++ "):
            path = line[4:].strip().removeprefix("b/")
        elif line.startswith("@@"):
            flush()
            old, new = [], []
        elif old is not None:
            if line.startswith("\\"):
                continue
            marker, body = line[:1], line[1:]
            if marker in (" ", "-"):
                old.append(body)
            if marker in (" ", "+"):
                new.append(body)
    flush()
    return blocks


async def _before_after(root: Path, base: str, rel: str) -> tuple[str | None, str]:
    """The file at the swarm's base commit (None: it is new) and in the tree now."""
    from kimicode.git.run import git_result

    code, out, _ = await git_result(root, "show", f"{base}:{rel}")
    old = out.decode("utf-8", "replace") if code == 0 else None
    try:
        new = await asyncio.to_thread((root / rel).read_text, encoding="utf-8", errors="replace")
    except OSError:
        new = ""
    return old, new


def _title(agent: str, name: str, args: dict[str, Any]) -> str:
    path = args.get("path")
    if name == "run_shell":
        text = f"Run `{str(args.get('command', ''))[:200]}`"
    elif name == "spawn_agents":
        tasks = args.get("tasks")
        text = f"Spawn {len(tasks) if isinstance(tasks, list) else 0} agents"
    elif name in ("read_file", "write_file", "edit_file", "view_image") and path:
        verb = {"read_file": "Read", "write_file": "Write", "edit_file": "Edit"}.get(name, "View")
        text = f"{verb} {path}"
    elif name in ("glob", "grep"):
        text = f"{name} {args.get('pattern', '')}"
    else:
        first = next((v for v in args.values() if isinstance(v, str)), "")
        text = f"{name} {first[:120]}".strip()
    return text if agent == "main" else f"[{agent}] {text}"


def _agent_meta(agent: str) -> dict[str, Any]:
    return {"kimicode": {"agent": agent}}


def _text(text: str) -> schema.ContentToolCallContent:
    return acp.tool_content(acp.text_block(text))
