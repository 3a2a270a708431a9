"""What each slash command does in the app; the names and help live in `commands`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.widgets import Markdown

from kimicode import events as ev
from kimicode.session import Session
from kimicode.ui.tui import commands
from kimicode.ui.tui.pricing import estimate_cost, format_cost, price_for
from kimicode.ui.tui.resume_view import show_history
from kimicode.ui.tui.widgets.diff_view import DiffView
from kimicode.ui.tui.widgets.help_panel import HelpPanel

if TYPE_CHECKING:
    from kimicode.ui.tui.app import KimicodeApp

SWARM_EVENTS = (
    ev.SwarmStarted,
    ev.SwarmFinished,
    ev.AgentSpawned,
    ev.AgentFinished,
    ev.AgentMerged,
    ev.MergeConflict,
    ev.StepStarted,
)
NEEDS_IDLE = {"clear", "compact", "resume", "undo"}
IN_WORKER = {"diff", "undo", "resume", "model"}

parse = commands.parse


async def run(app: KimicodeApp, name: str, arg: str) -> None:
    if not commands.known(name):
        await _custom(app, name, arg)
        return
    if name in NEEDS_IDLE and app.busy:
        app.show_notice("warning", f"/{name} waits for the running turn: ctrl+c cancels it")
        return
    handler = HANDLERS[name]
    result = handler(app, arg)
    if asyncio.iscoroutine(result):
        if name in IN_WORKER:  # git and file I/O: the app keeps drawing meanwhile
            app.run_worker(result, group=f"slash-{name}", exclusive=True)
        else:
            await result


async def _custom(app: KimicodeApp, name: str, arg: str) -> None:
    """A command from `.kimicode/commands/<name>.md`: its expanded prompt starts a turn."""
    from kimicode import custom_commands
    from kimicode.errors import UsageError

    command = await asyncio.to_thread(custom_commands.find, app.session.root, name)
    if command is None:
        app.show_notice("error", f"unknown command /{name}: /help lists the commands")
        return
    if app.busy:
        app.show_notice("warning", "a turn is running: wait for it, or ctrl+c to cancel it")
        return
    try:
        prompt = await asyncio.to_thread(custom_commands.expand, command, arg)
    except UsageError as exc:
        app.show_notice("error", str(exc))
        return
    app.start_turn(prompt, [])


async def _help(app: KimicodeApp, _: str) -> None:
    custom = await asyncio.to_thread(commands.load_custom, app.session.root)
    await app.add_to_chat(HelpPanel(custom=custom))


async def keys_help(app: KimicodeApp) -> None:
    """`?` on an empty prompt, or F1: the keys only."""
    await app.add_to_chat(HelpPanel(show_commands=False))


async def _model(app: KimicodeApp, arg: str) -> None:
    """`/model NAME` switches after checking the endpoint serves it; bare `/model` picks."""
    from kimicode.llm.capabilities import fetch_model_entries
    from kimicode.ui.tui.screens.model_picker import ModelPicker

    settings = app.session.settings
    try:
        key = settings.api_key()
    except Exception:
        key = ""
    entries = await fetch_model_entries(settings.model, key, wait_s=5.0)
    served = [str(e["id"]) for e in entries] if entries else []
    name = arg.strip()
    if not name:
        if not served:
            app.show_notice(
                "info",
                f"model: {settings.model.name} at {settings.model.base_url} (it lists no models;"
                " /model NAME switches)",
            )
            return

        def picked(choice: str | None) -> None:
            if choice:
                _switch_model(app, choice)

        app.push_screen(ModelPicker(served, settings.model.name), callback=picked)
        return
    if served and name not in served:
        app.show_notice(
            "error",
            f"{settings.model.base_url} does not serve {name}; /model lists the ones it does",
        )
        return
    _switch_model(app, name, checked=bool(served))


def _switch_model(app: KimicodeApp, name: str, *, checked: bool = True) -> None:
    app.session.set_model(name)
    app.status_bar.model = name
    unchecked = "" if checked else " (the endpoint lists no models, so it was not checked)"
    app.show_notice("info", f"model switched to {name}{unchecked}")


def _thinking(app: KimicodeApp, _: str) -> None:
    settings = app.session.settings
    settings.model.thinking = not settings.model.thinking
    app.status_bar.thinking = settings.model.thinking
    app.show_notice("info", f"thinking {'on' if settings.model.thinking else 'off'}")


def _swarm(app: KimicodeApp, arg: str) -> None:
    """`/swarm on|off` offers spawn_agents or withdraws it; bare `/swarm` opens the dashboard."""
    choice = arg.strip().lower()
    if choice in ("on", "off"):
        app.session.set_swarm(choice == "on")
        app.show_notice(
            "info",
            f"swarm {choice}: spawn_agents is {'offered' if choice == 'on' else 'withdrawn'}",
        )
        return
    app.action_dashboard()


async def _clear(app: KimicodeApp, _: str) -> None:
    app.session.clear()
    await app.query_one("#chat").remove_children()
    app.show_notice("info", "conversation cleared")


def _compact(app: KimicodeApp, _: str) -> None:
    async def compact() -> None:
        app.status_bar.busy = "compacting"
        try:
            before = list(app.session.history)
            await app.session.compact()
            await app.flush_events()
            if app.session.history == before:
                app.show_notice("info", "nothing to compact yet")
        except Exception as exc:
            app.show_notice("error", f"/compact failed: {exc}")
        finally:
            app.status_bar.busy = ""

    app.run_worker(compact(), group="turn", exclusive=True)


async def _resume(app: KimicodeApp, arg: str) -> None:
    store = app.session.store
    if not arg:
        found = store.list(app.session.root)[:10]
        if not found:
            app.show_notice("info", "no saved sessions in this directory")
            return
        rows = "\n".join(
            f"| `{s.id}` | {s.model} | {s.messages} | {s.title or ''} |" for s in found
        )
        text = f"| id | model | messages | title |\n| --- | --- | --- | --- |\n{rows}"
        await app.add_to_chat(Markdown(text + "\n\n`/resume ID` opens one.", classes="help"))
        return
    try:
        session = app.open_session(app.session.settings, store=store, resume_id=arg)
    except Exception as exc:
        app.show_notice("error", f"cannot resume {arg}: {exc}")
        return
    await app.session.aclose()
    app.attach(session)
    await app.query_one("#chat").remove_children()
    await show_history(app)
    app.show_notice("info", f"resumed session {session.id}")


async def _diff(app: KimicodeApp, _: str) -> None:
    from kimicode.ui.tui.working_diff import NotARepository, working_diff

    try:
        diff = await working_diff(app.session.root)
    except NotARepository as exc:
        app.show_notice("error", str(exc))
        return
    except Exception as exc:
        app.show_notice("error", f"git diff failed: {exc}")
        return
    if not diff.strip():
        app.show_notice("info", "no uncommitted changes")
    else:
        await app.add_to_chat(DiffView(diff))


async def _undo(app: KimicodeApp, _: str) -> None:
    """Show what the newest change set's undo restores and deletes; undo it only on yes."""
    from kimicode.trust.checkpoints import CheckpointError, CheckpointStore
    from kimicode.ui.tui.screens.undo_confirm import SHELL_NOTE, UndoConfirm

    store = CheckpointStore(app.session.root)
    try:
        preview = await store.preview()
        if preview is None:
            app.show_notice(
                "info", f"nothing to undo: no change sets in this project. {SHELL_NOTE}"
            )
            return
        if not await app.push_screen_wait(UndoConfirm(preview, app.turn_started)):
            app.show_notice("info", "nothing undone")
            return
        now = await store.preview()
        if now is None or now.checkpoint.id != preview.checkpoint.id:
            app.show_notice("warning", "the change sets changed meanwhile: nothing undone")
            return
        report = await store.restore(preview.checkpoint.id)
    except CheckpointError as exc:
        app.show_notice("warning", f"nothing undone: {exc}")
        return
    parts = []
    if report.restored:
        parts.append(f"restored {', '.join(report.restored)}")
    if report.removed:
        parts.append(f"removed {', '.join(report.removed)}")
    app.show_notice("info", "undone: " + ("; ".join(parts) or "no files changed"))
    for skipped in report.skipped:
        app.show_notice("warning", f"not restored: {skipped}")
    app.show_notice("info", SHELL_NOTE)


async def _cost(app: KimicodeApp, _: str) -> None:
    """Tokens and cost per model: each turn at the rate of the model that served it."""
    rows = []
    for model, (prompt, completion) in app.usage.by_model.items():
        prices = price_for(model)
        rate = f"${prices[0]:.2f} / ${prices[1]:.2f}" if prices else "unknown"
        cost = format_cost(estimate_cost(model, prompt, completion))
        rows.append(f"| {model} | {prompt:,} | {completion:,} | {rate} | {cost} |")
    usage = app.usage
    text = (
        "| model | prompt | completion | $ per million in / out | cost |\n"
        "| --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
        f"| total | {usage.prompt_tokens:,} | {usage.completion_tokens:,} | "
        f"| {format_cost(usage.cost())} |\n\nApproximate: prices change, check your bill."
    )
    await app.add_to_chat(Markdown(text, classes="help"))


async def _exit(app: KimicodeApp, _: str) -> None:
    await app.action_quit_cleanly()


HANDLERS = {
    "help": _help,
    "model": _model,
    "thinking": _thinking,
    "swarm": _swarm,
    "clear": _clear,
    "compact": _compact,
    "resume": _resume,
    "diff": _diff,
    "undo": _undo,
    "cost": _cost,
    "exit": _exit,
}


def repair_history(session: Session) -> None:
    """After a cancelled turn, answer tool calls left without results so the next turn works."""
    from kimicode.sessions.store import repair_dangling

    session.history[:] = repair_dangling(session.history)
