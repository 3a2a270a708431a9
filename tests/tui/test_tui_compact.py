"""`/compact` on a small conversation: the figures are the conversation's own estimate, the
last prompt (and its answer) stay word for word, and the next request carries them."""

from __future__ import annotations

from kimicode.agent.compaction import SUMMARY_PREFIX
from kimicode.agent.tokens import estimate_messages
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import type_text, wait_until

LONG = "This part of the answer explains one more detail of the parser. " * 90  # ~1.4k tokens
THIRD = "third: now rename parse() to read_args() everywhere"
SCRIPT = {
    "conversations": [
        {
            "match": "^first: explain the parser",
            "turns": [
                {"content": f"one {LONG}"},
                {"content": f"two {LONG}"},
                {"content": f"three {LONG}"},
                {"content": "renamed"},
            ],
        },
        {
            "match": "^Summarise this coding session",
            "turns": [
                {
                    "content": "The user asked about the parser twice; explained.",
                    "usage": {"prompt_tokens": 4_000, "completion_tokens": 100},
                }
            ],
        },
    ]
}


def notices(app) -> list[str]:
    return [n.message for n in app.query(NoticeLine)]


async def ask(pilot, app, text: str, replies: int) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(app.query(AssistantReply)) == replies and not app.busy)


async def test_compact_reports_real_figures_and_keeps_the_last_prompt(replay, make_app) -> None:
    server = replay(SCRIPT)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, app, "first: explain the parser", 1)
        await ask(pilot, app, "second: and the error paths?", 2)
        await ask(pilot, app, THIRD, 3)
        history = list(app.session.history)
        estimate = estimate_messages(history)
        prompt_tokens = app.usage.prompt_tokens
        assert 3_000 < estimate < 8_000  # a ~5k-token conversation
        await type_text(pilot, "/compact")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: any(n.startswith("context compacted") for n in notices(app))
        )
        [line] = [n for n in notices(app) if n.startswith("context compacted")]
        before, after = (int(x) for x in line.split(": ", 1)[1].split(" tokens")[0].split(" → "))
        assert before == estimate and after < before - 2_000
        assert after == estimate_messages(app.session.history)
        kept = app.session.history
        assert [m["role"] for m in kept] == ["system", "user", "user", "user", "assistant"]
        assert kept[2]["content"].startswith(SUMMARY_PREFIX)
        assert kept[3]["content"] == THIRD and kept[4]["content"].startswith("three ")
        assert app.usage.prompt_tokens == prompt_tokens + 4_000  # the summary call is counted
        left = int(app.query_one(StatusBar).render().plain.split("% context left")[0].split()[-1])
        assert left >= 97  # the bar follows the compacted history, not the old request
        await ask(pilot, app, "fourth: did it work?", 4)
    summary_request = next(
        r["body"]["messages"]
        for r in server.requests
        if r["body"]["messages"][1]["content"].startswith("Summarise this coding session")
    )
    assert "second: and the error paths?" in summary_request[1]["content"]
    assert THIRD not in summary_request[1]["content"]  # the kept prompt is not summarised
    last = server.requests[-1]["body"]["messages"]
    users = [m["content"] for m in last if m["role"] == "user"]
    assert users[0] == "first: explain the parser"
    assert users[1].startswith(SUMMARY_PREFIX)
    assert users[2:] == [THIRD, "fourth: did it work?"]
