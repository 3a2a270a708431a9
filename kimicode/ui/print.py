"""Print-mode renderers: text, json and stream-json, all fed by the same events.

Text mode keeps stdout for the answer alone (so `kimicode -p ... > out.txt`
captures only it) and shows progress on stderr.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from kimicode import events as ev


def _short(value: Any, limit: int = 90) -> str:
    """One line of `value`, cut to `limit`, with rich markup escaped."""
    from rich.markup import escape

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


class TextRenderer:
    def __init__(self, out: IO[str] | None = None, err: IO[str] | None = None) -> None:
        from rich.console import Console

        self.out = out or sys.stdout
        self.console = Console(file=err or sys.stderr, highlight=False, soft_wrap=True)

    def _who(self, event: ev.Event) -> str:
        from rich.markup import escape

        return "" if event.agent == "main" else f"[magenta]{escape(event.agent)}[/] "

    def __call__(self, event: ev.Event) -> None:
        c = self.console
        match event:
            case ev.ToolCallStarted(name=name, arguments=args):
                first = next(iter(args.values()), "") if args else ""
                c.print(f"{self._who(event)}[cyan]●[/] {_short(name)} [dim]{_short(first)}[/]")
            case ev.ToolCallFinished(ok=False, output=out):
                c.print(f"{self._who(event)}  [red]✗ {_short(out, 160)}[/]")
            case ev.AssistantMessage(content=text, tool_calls=calls) if calls and text:
                c.print(f"{self._who(event)}[dim]{_short(text, 200)}[/]")
            case ev.Retrying(attempt=n, wait_s=wait, reason=why):
                c.print(
                    f"{self._who(event)}[yellow]retry {n} in {wait:.1f}s: {_short(why, 200)}[/]"
                )
            case ev.RateLimited(limit=limit, reason=why):
                c.print(
                    f"{self._who(event)}[yellow]rate limited, waiting to retry "
                    f"({limit} in flight allowed): {_short(why, 200)}[/]"
                )
            case ev.Notice(level=level, message=msg):
                color = {"error": "red", "warning": "yellow"}.get(level, "blue")
                c.print(f"{self._who(event)}[{color}]{_short(msg, 2000)}[/]")
            case ev.Compacted(tokens_before=a, tokens_after=b, method=m):
                c.print(f"{self._who(event)}[dim]context compacted ({m}): {a} → {b} tokens[/]")
            case ev.ApprovalDecided(approved=False, summary=s, reason=r):
                c.print(f"{self._who(event)}[yellow]denied[/] {_short(s)}: {_short(r, 300)}")
            case ev.SwarmStarted(tasks=tasks, max_agents=n):
                c.print(f"[bold]swarm[/]: {len(tasks)} agents, up to {n} at once")
            case ev.AgentFinished(name=name, status=status, steps=s, tool_calls=t, error=e):
                color = "green" if status == "success" else "red"
                tail = f": {_short(e, 300)}" if e else ""
                c.print(f"  [{color}]{status}[/] {_short(name)} ({s} steps, {t} tool calls){tail}")
            case ev.AgentMerged(name=name, files=files):
                c.print(f"  [green]merged[/] {_short(name)}: {len(files)} files")
            case ev.MergeConflict(name=name, files=files, inspect=cmd):
                c.print(
                    f"  [red]conflict[/] {_short(name)}: {_short(', '.join(files), 200)} — "
                    f"inspect: {_short(cmd, 300)}"
                )
            case ev.SwarmFinished() as s:
                c.print(
                    f"[bold]swarm done[/]: {s.merged}/{s.agents} merged, {s.failed} failed, "
                    + (f"{s.cancelled} cancelled, " if s.cancelled else "")
                    + f"{s.conflicts} conflicts; critical steps {s.critical_steps} of "
                    f"{s.total_steps}; wall {s.wall_s:.1f}s vs {s.agent_time_s:.1f}s of agent "
                    f"time: speedup {s.speedup:.1f}x"
                )
            case ev.RunResult() as r:
                if r.result:
                    self.out.write(r.result.rstrip("\n") + "\n")
                    self.out.flush()
                for shot in r.screenshots:
                    c.print(f"[dim]visual check screenshot: {_short(shot, 1000)}[/]")
                if r.status != "success":
                    c.print(
                        f"[red]{r.status}[/]: {_short(r.error or 'the task did not finish', 2000)}"
                    )
            case _:
                pass


class JsonRenderer:
    """Prints only the final result object."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunResult):
            data = event.to_dict()
            data.pop("type")
            self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
            self.out.flush()


class StreamJsonRenderer:
    """Every event, one JSON object per line, the result object last."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: ev.Event) -> None:
        self.out.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
        self.out.flush()


def renderer_for(output_format: str) -> Any:
    return {"text": TextRenderer, "json": JsonRenderer, "stream-json": StreamJsonRenderer}[
        output_format
    ]()
