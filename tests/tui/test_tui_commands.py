"""Slash commands, their completion, @file completion, and the prompt history."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown

from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from kimicode.ui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import type_text, wait_until

HELLO = {
    "conversations": [
        {
            "match": "say hello",
            "turns": [
                {"content": "hello", "usage": {"prompt_tokens": 1200, "completion_tokens": 300}},
                {"content": "hello after clear"},
            ],
        }
    ]
}


def chat_text(app) -> str:
    parts = [m.source for m in app.query("#chat Markdown").results(Markdown)]
    parts += [n.message for n in app.query(NoticeLine)]
    return "\n".join(parts)


async def test_help_lists_every_command_and_the_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await type_text(pilot, "/help")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query("Markdown.help")))
        text = chat_text(app)
    for name in (
        "help",
        "model",
        "thinking",
        "swarm",
        "clear",
        "compact",
        "resume",
        "diff",
        "undo",
        "cost",
        "exit",
    ):
        assert f"`/{name}" in text
    assert "ctrl+j" in text and "ctrl+c" in text


async def test_cost_after_a_turn_and_clear_keeps_only_the_system_prompt(replay, make_app) -> None:
    server = replay(HELLO)
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await type_text(pilot, "say hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        assert "1.5k tokens" in app.query_one(StatusBar).render().plain
        await type_text(pilot, "/cost")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query("Markdown.help")))
        text = chat_text(app)
        assert "| prompt | 1,200 |" in text and "| completion | 300 |" in text
        assert "~$0.0016" in text  # 1200 * 0.60 + 300 * 3.00 per million
        await type_text(pilot, "/clear")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.query(AssistantReply))
        assert [m["role"] for m in app.session.history] == ["system"]
        assert [n.message for n in app.query(NoticeLine)] == ["conversation cleared"]
        await type_text(pilot, "say hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
    first, after_clear = (r["body"]["messages"] for r in server.requests)
    assert [m["role"] for m in after_clear] == ["system", "user"]
    assert after_clear[0] == first[0]  # the same system prompt, repo map included
    assert "Repository map" in after_clear[0]["content"] and "cli.py" in after_clear[0]["content"]


async def test_unknown_command_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "/frobnicate")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(NoticeLine)))
        assert "unknown command /frobnicate" in app.query_one(NoticeLine).message


async def test_tab_completes_commands_and_files(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        menu = app.query_one(CompletionMenu)
        await type_text(pilot, "/th")
        assert menu.display and menu.values == ["/thinking"]
        await pilot.press("tab")
        assert prompt.text == "/thinking "
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(NoticeLine)))
        assert app.session.settings.model.thinking is False
        assert "thinking off" in app.query_one(StatusBar).render().plain
        await wait_until(pilot, lambda: bool(prompt.files))
        await type_text(pilot, "look at @cl")
        assert menu.values == ["@cli.py"]
        await pilot.press("tab")
        assert prompt.text == "look at @cli.py "


async def test_history_is_recalled_with_up_and_kept_on_disk(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "/cost")
        await pilot.press("enter")
        prompt = app.query_one(PromptInput)
        assert prompt.text == ""
        await pilot.press("up")
        assert prompt.text == "/cost"
    assert PromptHistory(tmp_path / "prompt_history.jsonl").entries == ["/cost"]
