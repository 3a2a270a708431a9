"""Typing a prompt and watching the streamed answer arrive from the replay server."""

from __future__ import annotations

from textual.widgets import Markdown

from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.user_prompt import UserPrompt
from tests.tui.conftest import type_text, wait_for_text, wait_until

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


CUT_STREAM = {
    "conversations": [
        {
            "match": "tell me",
            "turns": [
                {
                    "content": "This reply takes a while to arrive in full.",
                    "chunks": 8,
                    "chunk_delay_ms": 150,
                    "fault": {"cut_after_chunks": 4, "times": 1},
                }
            ],
        }
    ]
}


async def test_a_retried_stream_starts_the_reply_over(replay, make_app) -> None:
    app = make_app(replay(CUT_STREAM), flags={"retry.base_delay": 0.05})
    seen: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "tell me")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        while app.busy:
            seen += [r.text for r in app.query(AssistantReply)]
            await pilot.pause(0.02)
        notices = [n.message for n in app.query(NoticeLine)]
        assert [r.text for r in app.query(AssistantReply)] == [
            "This reply takes a while to arrive in full."
        ]
    assert any(t.startswith("This") for t in seen)
    assert not [t for t in seen if t.count("This") > 1]  # never both attempts glued together
    assert any("retry 1" in n and "the reply starts over" in n for n in notices)


async def test_an_at_mention_attaches_the_file_and_a_missing_one_warns(replay, make_app) -> None:
    server = replay({"conversations": [{"match": "explain", "turns": [{"content": "ok"}]}]})
    app = make_app(server)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "explain @cli.py and @missing.py")
        await pilot.press("escape")  # close the completion menu
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        prompt = app.query_one(UserPrompt).render().plain
        warnings = [n.message for n in app.query(NoticeLine) if n.level == "warning"]
    assert prompt.startswith("› explain @cli.py and @missing.py")
    assert "📎 cli.py · 6 lines" in prompt and "argparse" not in prompt
    assert warnings == ["@missing.py not attached: missing.py does not exist"]
    [user] = [m for m in server.requests[0]["body"]["messages"] if m["role"] == "user"]
    content = user["content"] if isinstance(user["content"], str) else user["content"][0]["text"]
    assert content.startswith("explain @cli.py and @missing.py\n\nAttached files:")
    assert '<file path="cli.py">\nimport argparse' in content


async def test_a_large_mentioned_file_is_cut_at_the_cap_and_says_so(replay, make_app, repo) -> None:
    from kimicode.ui.tui.mentions import MAX_CHARS

    (repo / "big.txt").write_text(("y" * 99 + "\n") * 500)  # 50,000 characters
    server = replay({"conversations": [{"match": "summarise", "turns": [{"content": "ok"}]}]})
    app = make_app(server)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "summarise @big.txt")
        await pilot.press("escape")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        prompt = app.query_one(UserPrompt).render().plain
    assert "📎 big.txt · 500 lines · cut" in prompt
    [user] = [m for m in server.requests[0]["body"]["messages"] if m["role"] == "user"]
    content = user["content"] if isinstance(user["content"], str) else user["content"][0]["text"]
    assert f'<file path="big.txt" (first {MAX_CHARS:,} of 50,000 characters)>' in content
    assert len(content) < MAX_CHARS + 500


LIST = "".join(f"- item {n}: update `module_{n}.py`\n" for n in range(80))


async def test_a_long_streamed_list_is_drawn_in_pieces_and_joined_at_the_end(
    replay, make_app
) -> None:
    # 4 s of streaming: long enough to be seen busy on a loaded machine
    turn = {"content": LIST, "chunks": 40, "chunk_delay_ms": 100}
    app = make_app(replay({"conversations": [{"match": "plan it", "turns": [turn]}]}))
    pieces_seen = 0
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "plan it")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        while app.busy:  # only the last piece is re-parsed as chunks arrive
            pieces_seen = max(pieces_seen, len(app.query("AssistantReply Markdown")))
            await pilot.pause(0.02)
        reply = app.query_one(AssistantReply)
        await wait_until(pilot, lambda: len(reply.query(Markdown)) == 1)
        assert reply.text == LIST and reply.query_one(Markdown).source == LIST
        shown = await wait_for_text(pilot, "item 79: update module_79.py")
    assert pieces_seen >= 3  # 80 lines in pieces of about 24
    assert "item 78: update module_78.py" in shown
