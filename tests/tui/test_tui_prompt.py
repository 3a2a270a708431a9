"""The prompt as people coming from the peers use it: queueing, Esc, focus, modes, keys."""

from __future__ import annotations

import stat
from pathlib import Path

from textual import events
from textual.command import CommandPalette

from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.help_panel import HelpPanel
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from kimicode.ui.tui.widgets.queued_prompts import QueuedPrompts
from kimicode.ui.tui.widgets.status_bar import StatusBar
from kimicode.ui.tui.widgets.user_prompt import UserPrompt
from tests.tui.conftest import screen_text, type_text, wait_for_text, wait_until

SLOW_THEN_QUICK = {
    "conversations": [
        {
            "match": "first task",
            "turns": [
                {"content": "first answer", "latency_ms": 1_500},
                {"content": "second answer"},
            ],
        }
    ]
}
SLOW = {
    "conversations": [{"match": "slow task", "turns": [{"content": "late", "latency_ms": 8_000}]}]
}


def replies(app) -> list[str]:
    return [r.text for r in app.query(AssistantReply)]


def user_messages(request) -> list[str]:
    return [m["content"] for m in request["body"]["messages"] if m["role"] == "user"]


async def test_a_prompt_typed_during_a_turn_is_queued_and_sent_when_it_ends(
    replay, make_app
) -> None:
    server = replay(SLOW_THEN_QUICK)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "first task")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await type_text(pilot, "then this")
        await pilot.press("enter")
        queued = app.query_one(QueuedPrompts)
        assert queued.items == ["then this"] and queued.display
        assert "queued  then this" in screen_text(app)
        await wait_until(pilot, lambda: replies(app) == ["first answer", "second answer"])
        assert queued.items == [] and not queued.display
    assert user_messages(server.requests[1])[-1] == "then this"


async def test_a_queued_prompt_can_be_taken_back_and_edited(replay, make_app) -> None:
    app = make_app(replay(SLOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "slow task")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await type_text(pilot, "fix the tset")
        await pilot.press("enter")
        prompt = app.query_one(PromptInput)
        assert prompt.text == ""
        await pilot.press("up")  # on an empty prompt: the queued prompt comes back
        assert prompt.text == "fix the tset" and app.query_one(QueuedPrompts).items == []


async def test_esc_cancels_the_turn_and_queued_prompts_return_unsent(replay, make_app) -> None:
    server = replay(SLOW)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "slow task")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await type_text(pilot, "next one")
        await pilot.press("enter")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy)
        assert app.is_running
        notices = [n.message for n in app.query(NoticeLine)]
        assert "turn cancelled" in notices
        assert app.query_one(PromptInput).text == "next one"  # typed text is never lost
    assert len(server.requests) == 1


async def test_the_prompt_keeps_focus_and_shift_tab_cycles_the_mode(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        bar = app.query_one(StatusBar)
        assert bar.render().plain.lstrip().startswith("default ")
        await pilot.press("tab")  # nothing to complete
        assert app.focused is prompt
        seen = []
        for _ in range(4):
            await pilot.press("shift+tab")
            assert app.focused is prompt
            seen.append((app.session.settings.permissions.mode, bar.render().plain.split()[0]))
        assert seen == [
            ("accept-edits", "accept-edits"),
            ("plan", "plan"),
            ("yolo", "yolo"),
            ("default", "default"),
        ]
        await pilot.press("shift+tab", "shift+tab")  # plan: only read-only tools are offered
        assert {t.name for t in app.session.tools} == {
            t.name for t in app.session.tools if t.read_only
        }
        await pilot.press("ctrl+p")  # the command palette, closed again
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await type_text(pilot, "still typing")
        assert prompt.text == "still typing" and app.focused is prompt


async def test_yolo_from_the_command_line_shows_in_the_status_bar(make_app) -> None:
    app = make_app(flags={"permissions.mode": "yolo"})
    async with app.run_test(size=(120, 30)):
        assert app.query_one(StatusBar).render().plain.split()[0] == "yolo"


async def test_keys_welcome_ctrl_d_and_the_context_left(replay, make_app) -> None:
    usage = {"prompt_tokens": 65_536, "completion_tokens": 0}
    hello = {"conversations": [{"match": "hi", "turns": [{"content": "hey", "usage": usage}]}]}
    app = make_app(replay(hello))
    async with app.run_test(size=(140, 45)) as pilot:
        shown = screen_text(app)
        assert "kimicode with kimi-k2.5 in project · /help for commands, ? for keys" in shown
        assert "100% context left" in shown
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: bool(app.query(HelpPanel)))
        assert "shift+tab" in screen_text(app) and app.query_one(PromptInput).text == ""
        await pilot.press("f1")  # the same keys, from anywhere in the prompt
        await wait_until(pilot, lambda: len(app.query(HelpPanel)) == 2)
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await wait_until(pilot, lambda: replies(app) == ["hey"] and not app.busy)
        await wait_for_text(pilot, "75% context left")  # 65,536 of 262,144 used
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: not app.is_running)


async def test_page_keys_scroll_the_chat_from_the_prompt(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        for _ in range(4):
            await type_text(pilot, "/help")
            await pilot.press("enter")
        chat = app.query_one("#chat")
        await wait_until(
            pilot, lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y
        )
        bottom = chat.scroll_y
        await pilot.press("pageup")
        await wait_until(pilot, lambda: chat.scroll_y < bottom)
        assert app.focused is app.query_one(PromptInput)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: chat.scroll_y == bottom)


async def test_ctrl_g_edits_the_prompt_in_the_editor(make_app, tmp_path: Path, monkeypatch) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "line one\\nline two\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(editor))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "draft")
        await pilot.press("ctrl+g")
        prompt = app.query_one(PromptInput)
        await wait_until(pilot, lambda: prompt.text == "line one\nline two")
        assert app.focused is prompt


async def test_lines_of_a_multi_line_prompt_line_up(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.add_to_chat(UserPrompt("first line\nsecond line"))
        shown = (await wait_for_text(pilot, "› first line", "second line")).splitlines()
        first = next(i for i, line in enumerate(shown) if "› first line" in line)
        assert shown[first + 1].index("second line") == shown[first].index("first line")


async def test_a_large_paste_is_a_chip_that_expands_and_is_sent_whole(replay, make_app) -> None:
    server = replay({"conversations": [{"match": "^why does", "turns": [{"content": "ok"}]}]})
    app = make_app(server)
    log = "".join(f"line {i}: Traceback [x=1 entry\n" for i in range(300))
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        await type_text(pilot, "why does ")
        app.post_message(events.Paste(log))  # what the terminal sends for a paste
        await wait_until(pilot, lambda: "[pasted" in prompt.text)
        assert prompt.text == "why does [pasted 300 lines]"
        assert "[pasted 300 lines]" in screen_text(app)
        await type_text(pilot, " fail?")
        app.post_message(events.Paste("small"))  # a short paste stays as it is
        await wait_until(pilot, lambda: prompt.text.endswith("small"))
        await pilot.press("ctrl+o")  # expanded on demand
        assert prompt.text == f"why does {log} fail?small"
        prompt.load_text("why does ")
        prompt.move_cursor(prompt.document.end)
        app.post_message(events.Paste(log))
        await wait_until(pilot, lambda: "[pasted" in prompt.text)
        await type_text(pilot, " fail?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: replies(app) == ["ok"] and not app.busy)
        # the transcript shows its head and how much more there is; a click shows it all
        shown = await wait_for_text(pilot, "… 293 more lines (click to show them)")
        assert "line 7: Traceback" in shown and "line 8: Traceback" not in shown
        await pilot.click(UserPrompt)
        await wait_for_text(pilot, "line 299: Traceback [x=1 entry", "click to hide them")
    assert user_messages(server.requests[0])[-1] == f"why does {log} fail?"
