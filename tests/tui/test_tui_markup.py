"""Text from the model, the user or a file is shown as it is, never parsed as markup.

Every widget gets each hostile string; then a whole session (a shell command in the
approval modal, the tool block, the reply, a swarm on the dashboard) carries them.
The app must stay up and show the characters literally.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from kimicode import events as ev
from kimicode.tools.base import ApprovalRequest
from kimicode.ui.tui.approval_offer import Offer
from kimicode.ui.tui.screens.approval import ApprovalScreen
from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.swarm_state import AgentState, SwarmState
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.agent_transcript import AgentTranscript
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.diff_view import DiffView
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.status_bar import StatusBar
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from kimicode.ui.tui.widgets.user_prompt import UserPrompt
from tests.tui.conftest import type_text, wait_for_screen, wait_for_text, wait_until

HOSTILE = ["[", "[/]", "[b]", "[x=1", "[x=1 y", "[link=https://e.x]", "[/link]", "[@click=quit]"]


class Gallery(App[None]):
    """Every chat and dashboard widget, each showing `text`."""

    CSS = "VerticalScroll { height: 1fr; }"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        t = self.text
        with VerticalScroll():
            yield UserPrompt(f"user {t}", [f"shot{t}.png"])
            yield NoticeLine("warning", f"notice {t}")
            yield ToolCallBlock("c1", "run_shell", {"command": f"echo {t}"})
            yield ToolCallBlock("c2", "read_file", {"path": f"cancelled{t}"})
            yield DiffView(f"--- a{t}\n+++ b{t}\n-old {t}\n+new {t}")
            yield AssistantReply()
            yield SwarmSummary()
            yield AgentTable()
            yield AgentTranscript()
        yield CompletionMenu()
        yield StatusBar()

    async def on_mount(self) -> None:
        t = self.text
        first, second = self.query(ToolCallBlock).results(ToolCallBlock)
        first.finish(False, f"output {t}", 2.0, "")
        first.collapsed = False
        second.cancel()
        reply = self.query_one(AssistantReply)
        reply.add_reasoning(f"thinking {t}")
        reply.show_thinking(True)
        await reply.add_text(f"reply {t}")
        menu = self.query_one(CompletionMenu)
        menu.show([(f"@file{t}", f"hint {t}")])
        bar = self.query_one(StatusBar)
        bar.model, bar.directory, bar.branch, bar.busy = f"m{t}", f"d{t}", f"b{t}", f"w{t}"
        state = SwarmState(run_id=f"run{t}", max_agents=2)
        agent = AgentState(f"agent{t}", task=f"task {t}", files=[f"f{t}"], tool=f"tool{t}")
        agent.write(f"transcript {t}")
        state.agents[agent.name] = agent
        state.conflicts.append(
            ev.MergeConflict(
                name=agent.name, branch=f"br{t}", files=[f"f{t}"], inspect=f"git diff {t}"
            )
        )
        self.query_one(SwarmSummary).show(state)
        self.query_one(AgentTable).sync([agent], 0.0)
        self.query_one(AgentTranscript).follow(agent)
        self.notify(f"toast {t}", markup=False)


@pytest.mark.parametrize("text", HOSTILE)
async def test_every_widget_shows_hostile_text_literally(text: str) -> None:
    app = Gallery(text)
    async with app.run_test(size=(160, 70)) as pilot:
        shown = await wait_for_text(pilot, f"transcript {text}", f"reply {text}", f"m{text}")
        assert app.is_running
        for expected in (
            f"user {text}",
            f"notice {text}",
            f"run_shell echo {text}",
            f"cancelled{text}",
            f"+new {text}",
            f"thinking {text}",
            f"reply {text}",
            f"run{text}",
            f"agent{text}",
            f"task {text}",
            f"transcript {text}",
            f"@file{text}",
            f"m{text}",
        ):
            assert expected in shown, expected
        request = ApprovalRequest(
            tool=f"tool{text}",
            call_id="c3",
            summary=f"summary {text}",
            arguments={"command": f"echo {text}"},
            agent=f"a{text}",
        )
        app.push_screen(ApprovalScreen(request, Offer(f"echo {text}", exact=False)))
        await wait_for_screen(pilot, ApprovalScreen, "#approve-prefix")
        shown = await wait_for_text(pilot, f"summary {text}")
        assert f"Allow tool{text} (agent a{text})?" in shown
        assert f"Always `echo {text}` (a)" in shown
        assert f"summary {text}" in shown


SHELL_TITLE = 'echo "[x=1 y" "[/]" "[b]" "[link=https://e.x]"'
"""Quoted, so no word is a glob: the modal offers a prefix, `echo [x=1`, as its button."""
HOSTILE_SESSION = {
    "conversations": [
        {
            "match": "hostile",
            "turns": [
                {"tool_calls": [{"name": "run_shell", "arguments": {"command": SHELL_TITLE}}]},
                {"content": "Done: [x=1 y [/] [b]bold? [link=https://e.x]click[/link]"},
            ],
        }
    ]
}


async def test_a_session_full_of_brackets_keeps_running(replay, make_app) -> None:
    app = make_app(replay(HOSTILE_SESSION))
    async with app.run_test(size=(140, 45)) as pilot:
        await type_text(pilot, "hostile [x=1 [/] [b]")
        await pilot.press("enter")
        modal = await wait_for_screen(pilot, ApprovalScreen, "#approve-prefix")
        await wait_for_text(pilot, "Always `echo [x=1` (a)")
        assert modal.query_one("#approve-prefix")
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.busy)
        shown = await wait_for_text(pilot, "Done: [x=1 y [/] [b]bold?")
        assert "hostile [x=1 [/] [b]" in shown
        assert f"✓ run_shell {SHELL_TITLE}" in shown
        assert "Done: [x=1 y [/] [b]bold?" in shown
        # a swarm whose plan the model wrote: names and prompts with brackets
        prompt = "Use agents=20 lat=1.0 [x=1 on [/] this"
        tasks = [{"name": "a[x=1", "prompt": prompt, "files": ["[b].md"]}]
        app.session.bus(
            ev.SwarmStarted(run_id="r[/]", tasks=tasks, max_agents=2, base_commit="abc", ts=0.0)
        )
        app.session.bus(
            ev.AgentSpawned(
                name="a[x=1", files=["[b].md"], branch="b[/]", worktree="/tmp/w", ts=0.0
            )
        )
        dashboard = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        await wait_until(pilot, lambda: dashboard.query_one(AgentTable).row_count == 1)
        await pilot.press("enter")  # follow it: the transcript's border title has its name
        await pilot.press("c")  # "cancelling a[x=1" as a toast
        await wait_for_text(pilot, "following a[x=1", "agents=20 lat=1.0 [x=1 on [/] this")
        assert app.is_running
