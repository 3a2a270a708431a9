"""Typing a prompt and watching the streamed answer arrive from the replay server."""

from __future__ import annotations

from textual.widgets import Markdown

from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.user_prompt import UserPrompt
from tests.tui.conftest import type_text, wait_until

ANSWER = "# Plan\n\nI will **add** a `--verbose` flag:\n\n- parse it\n- print more\n"


async def test_a_typed_prompt_streams_a_markdown_answer(replay, make_app) -> None:
    server = replay(
        {
            "conversations": [
                {
                    "match": "add a verbose flag",
                    "turns": [
                        {
                            "reasoning_content": "The user wants a flag.",
                            "content": ANSWER,
                            "chunks": 12,
                            "chunk_delay_ms": 5,
                        }
                    ],
                }
            ]
        }
    )
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "add a verbose flag")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        reply = app.query_one(AssistantReply)
        assert reply.text == ANSWER
        assert reply.reasoning == "The user wants a flag."
        assert reply.has_reasoning_hidden()  # thinking is collapsed by default
        markdown = reply.query_one(Markdown)
        assert "Plan" in markdown.source
        assert [p.render().plain for p in app.query(UserPrompt)] == ["› add a verbose flag"]
        assert not app.query(NoticeLine)
    assert len(server.requests) == 1
