"""`kimicode watch`: act on AI!/AI? comments as files are saved; re-check watched pages.

The user works in their editor; this runs in a terminal next to it. One
Session serves the whole watch, so context carries over between comments
("AI! do the same for `delete`" after an earlier change works) and the watch
is one saved session; each comment gets a fresh tool-call budget, and long
watches are kept in bounds by the agent's compaction.

Nobody sits at the keyboard: tool calls are approved as in print mode (file
edits yes, shell commands by the permission rules), or all with `--yolo`.
Answers to `AI?` questions go to stdout; progress (each instruction, the
agent's tool calls, visual reports) goes to stderr. Ctrl-C or SIGTERM cancels
a running agent turn, closes the browser and exits 130, the code DESIGN.md
gives for "interrupted" (it is also the normal way to end a watch).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from kimicode.cli.interrupts import cancel_on_signals
from kimicode.repo.visual_watch import PageCheck, VisualWatch
from kimicode.repo.watch_instructions import (
    Instruction,
    InstructionTracker,
    change_prompt,
    question_prompt,
    remove_acted_comments,
)
from kimicode.tools.base import ApprovalDecision, ApprovalRequest

WATCHER_START_S = 0.3
"""Time given to the file watcher to register its directories before "watching" is shown."""


def run_watch(directory: Path | None, yolo: bool) -> int:
    """Watch the project until Ctrl-C; the process exit code."""
    from kimicode.cli.runner import RunOptions, prepare

    flags = {"permissions.mode": "yolo" if yolo else None}
    settings, _ = prepare(RunOptions(directory=directory, flags=flags))
    return asyncio.run(_main(settings))


async def _main(settings: Any) -> int:
    from kimicode.cli.services import headless_session
    from kimicode.ui.print import TextRenderer

    console = Console(stderr=True, highlight=False, soft_wrap=True)

    def warn(message: str) -> None:
        console.print(f"[yellow]{escape(message)}[/]")

    async with headless_session(settings, TextRenderer(), warn=warn) as session:
        watch = WatchLoop(settings, session, console)
        try:
            with cancel_on_signals() as signals:
                try:
                    await watch.run()
                    return 0
                except asyncio.CancelledError:
                    if not signals.interrupted:
                        raise
                    console.print("[dim]stopped watching[/]")
                    return 130
        finally:
            await watch.close()


class WatchLoop:
    """Reads batches of saved files and hands each to the agent or the visual check."""

    def __init__(self, settings: Any, session: Any, console: Console) -> None:
        self.settings = settings
        self.session = session
        self.console = console
        self.root: Path = Path(settings.project_dir).resolve()
        self.tracker = InstructionTracker()
        self.visual = VisualWatch(self.root, settings.watch.pages)
        self._stop = asyncio.Event()
        self._producer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        queue: asyncio.Queue[set[Path] | None] = asyncio.Queue()
        self._producer = asyncio.create_task(self._produce(queue))
        await asyncio.sleep(WATCHER_START_S)
        if self.visual.pages:
            self._report_pages(await self.visual.check_all())
        self.console.print(
            f"[bold]watching[/] {escape(str(self.root))} — add `AI!` or `AI?` comments "
            "[dim](Ctrl-C to stop)[/]"
        )
        while True:
            batch = await queue.get()
            while batch is not None and not queue.empty():
                more = queue.get_nowait()
                batch = None if more is None else batch | more
            if batch is None:
                await self._producer  # re-raises why the watcher ended
                return
            try:
                await self.handle(batch)
            except Exception as exc:  # one bad batch must not end the watch
                self.console.print(f"[red]error[/]: {type(exc).__name__}: {escape(str(exc))}")

    async def _produce(self, queue: asyncio.Queue[set[Path] | None]) -> None:
        from kimicode.repo.watcher import watch_changes

        try:
            async for batch in watch_changes(
                self.root, debounce_ms=self.settings.watch.debounce_ms, stop=self._stop
            ):
                queue.put_nowait(batch)
        finally:
            queue.put_nowait(None)

    async def close(self) -> None:
        self._stop.set()
        if self._producer is not None and not self._producer.done():
            self._producer.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._producer, timeout=5)

    async def handle(self, batch: set[Path]) -> None:
        """One debounced batch: changes first, then questions, then the pages."""
        from kimicode.repo.watcher import is_frontend_file, scan_for_instructions

        found = await asyncio.to_thread(scan_for_instructions, batch, self.root)
        changes, questions = self.tracker.pending(self.root, batch, found)
        if changes:
            await self._make_changes(changes)
        if questions:
            await self._answer(questions)
        if self.visual.pages and any(is_frontend_file(p) for p in batch):
            self._report_pages(await self.visual.check_all())

    async def _make_changes(self, items: list[Instruction]) -> None:
        for item in items:
            self._announce("AI!", item)
        outcome = await self._run_turn(change_prompt(items), read_only=False)
        if outcome is None or outcome.status != "success":
            await asyncio.to_thread(self.tracker.hold, items)
            files = ", ".join(sorted({i.rel for i in items}))
            self.console.print(
                f"  [yellow]the `AI!` comment stays in {escape(files)}: "
                "edit and save the file to try again[/]"
            )
            return
        cleaned = await asyncio.to_thread(remove_acted_comments, items)
        for rel in cleaned:
            self.console.print(f"  [dim]removed the `AI!` comment left in {escape(rel)}[/]")
        summary = outcome.agent.result.strip() or "done"
        self.console.print(f"[green]done[/] {escape(summary)}")

    async def _answer(self, items: list[Instruction]) -> None:
        for item in items:
            self._announce("AI?", item)
        outcome = await self._run_turn(question_prompt(items), read_only=True)
        if outcome is None or outcome.status != "success":
            return  # not remembered: the next save asks again
        self.tracker.mark_answered(items)
        answer = outcome.agent.result.strip()
        where = ", ".join(i.where() for i in items)
        self.console.print(f"[green]answer[/] [dim]({escape(where)})[/]")
        sys.stdout.write((answer or "(no answer)") + "\n\n")
        sys.stdout.flush()

    async def _run_turn(self, prompt: str, *, read_only: bool) -> Any:
        """One agent turn; None when it could not run (the watch goes on)."""
        from kimicode.agent.outcome import Budget
        from kimicode.errors import KimicodeError

        budget = Budget(self.settings.agent.max_tool_calls)  # a fresh budget per comment
        approve = _deny_changes if read_only else None
        try:
            outcome = await self.session.run(prompt, approve=approve, budget=budget)
        except KimicodeError as exc:
            self.console.print(f"[red]error[/]: {escape(str(exc))}")
            return None
        except Exception as exc:  # a broken turn must not end the watch
            self.console.print(f"[red]error[/]: {type(exc).__name__}: {escape(str(exc))}")
            return None
        if outcome.status != "success":
            why = outcome.error or "the task did not finish"
            self.console.print(f"[red]{outcome.status}[/]: {escape(why)}")
        return outcome

    def _announce(self, marker: str, item: Instruction) -> None:
        self.console.print(
            f"[bold yellow]{marker}[/] [cyan]{escape(item.where())}[/] {escape(item.comment.text)}"
        )

    def _report_pages(self, checks: list[PageCheck]) -> None:
        for check in checks:
            self.console.print(f"page [cyan]{escape(check.page)}[/]: {_describe(check, self.root)}")
            for problem in check.problems[:5]:
                self.console.print(f"  [red]{escape(problem)}[/]")


def _describe(check: PageCheck, root: Path) -> str:
    def rel(path: Path | None) -> str:
        if path is None:
            return ""
        with contextlib.suppress(ValueError):
            return escape(path.relative_to(root).as_posix())
        return escape(str(path))

    if check.status == "error":
        return f"[red]could not render[/]: {escape(check.error or '')}"
    if check.status == "accepted":
        return f"first render accepted as {rel(check.accepted)}"
    if check.status == "unchanged":
        return "[green]no visual change[/]"
    return (
        f"[yellow]visual change[/], difference {check.score:.4f}; heat map {rel(check.heatmap)}, "
        f"new screenshot {rel(check.new)} (accept it: mv {rel(check.new)} {rel(check.accepted)})"
    )


async def _deny_changes(request: ApprovalRequest) -> ApprovalDecision:
    """Approver for AI? turns: a question is answered by reading, never by changing files."""
    return ApprovalDecision(
        False,
        f"{request.tool} is not available while answering an `AI?` question: read with "
        "read_file, glob and grep, and give the answer as text",
    )
