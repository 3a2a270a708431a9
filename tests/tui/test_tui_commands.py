"""Slash commands, their completion, @file completion, and the prompt history."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, OptionList

from kimicode.config import load_settings
from kimicode.ui.tui.app import KimicodeApp
from kimicode.ui.tui.commands import COMMANDS, KEYS
from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.screens.model_picker import ModelPicker
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.help_panel import HelpPanel
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from kimicode.ui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import (
    type_text,
    wait_for_screen,
    wait_for_text,
    wait_until,
)

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


async def test_help_lists_every_command_and_the_keys_on_one_45_row_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await type_text(pilot, "/help")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(HelpPanel)))
        shown = await wait_for_text(pilot, "/exit", "? / f1")
        chat = app.query_one("#chat")
        assert chat.max_scroll_y == 0  # all of it fits above the prompt: nothing scrolled away
    for c in COMMANDS:
        assert f"/{c.name}{' ' + c.args if c.args else ''}" in shown
    assert "/swarm [on|off]   let the agent spawn sub-agents" in shown  # one cell, not split
    for key, _ in KEYS:
        assert key in shown


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
        assert "| kimi-k2.5 | 1,200 | 300 |" in text
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


async def test_diff_shows_new_untracked_files(make_app, repo: Path) -> None:
    (repo / "README.md").write_text("# project\n\nchanged\n")
    (repo / "new_module.py").write_text("print('new [x=1')\n")
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await type_text(pilot, "/diff")
        await pilot.press("enter")
        shown = await wait_for_text(pilot, "+++ b/new_module.py")
    assert "+changed" in shown
    assert "+++ b/new_module.py" in shown and "+print('new [x=1')" in shown


async def test_diff_outside_a_repository_says_so_in_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    settings = load_settings(plain, {"model.api_key": "sk-test-0123456789abcdef"})
    app = KimicodeApp(settings, history=PromptHistory(tmp_path / "h.jsonl"))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "/diff")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(NoticeLine)))
        [notice] = [n.message for n in app.query(NoticeLine)]
    assert "not in a git repository" in notice and "usage" not in notice


MILLION = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
TWO_MODELS = {
    "models": {"kimi-k2.5": {}, "gpt-4o": {}},
    "conversations": [
        {
            "match": "price",
            "turns": [{"content": "one", "usage": MILLION}, {"content": "two", "usage": MILLION}],
        }
    ],
}


async def test_each_turn_is_priced_at_its_own_model_and_model_checks_the_endpoint(
    replay, make_app
) -> None:
    server = replay(TWO_MODELS)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_text(pilot, "price this")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        await type_text(pilot, "/model no-such-model")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "does not serve" in chat_text(app))
        assert app.session.settings.model.name == "kimi-k2.5"
        await type_text(pilot, "/model")
        await pilot.press("enter")
        picker = await wait_for_screen(pilot, ModelPicker, OptionList)
        assert [str(o.prompt) for o in picker.query_one(OptionList).options] == [
            "kimi-k2.5  (current)",
            "gpt-4o",
        ]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.session.settings.model.name == "gpt-4o")
        await type_text(pilot, "price it again")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(AssistantReply)) == 2 and not app.busy)
        await wait_for_text(pilot, "~$3.10")  # 0.60 + 2.50, not 2 × 2.50
        await type_text(pilot, "/cost")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "| total |" in chat_text(app))
        text = chat_text(app)
    assert "| kimi-k2.5 | 1,000,000 | 0 | $0.60 / $3.00 | ~$0.60 |" in text
    assert "| gpt-4o | 1,000,000 | 0 | $2.50 / $10.00 | ~$2.50 |" in text
    assert server.requests[-1]["body"]["model"] == "gpt-4o"
