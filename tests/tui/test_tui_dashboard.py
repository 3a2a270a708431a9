"""The swarm dashboard during a scripted 8-agent swarm: rows, following, cancelling."""

from __future__ import annotations

import asyncio

from textual.widgets import Log
from textual.widgets.data_table import CellDoesNotExist

from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary
from tests.tui import swarm_events as swarm
from tests.tui.conftest import screen_text, wait_for_screen, wait_for_text, wait_until


def cell(table: AgentTable, agent: str, column: str) -> str:
    try:
        return str(table.get_cell(agent, column))
    except CellDoesNotExist:
        return ""


async def test_dashboard_opens_on_a_swarm_and_follows_one_agent_live(make_app) -> None:
    app = make_app()
    emit = app.session.bus
    async with app.run_test(size=(120, 40)) as pilot:
        # the scripted agents, as the session's swarm control sees running ones
        running = {f"agent-{i}": asyncio.create_task(asyncio.sleep(3600)) for i in range(8)}
        app.session.swarm_control.tasks.update(running)
        emit(swarm.planned(8))
        for i in range(8):
            for event in swarm.working(i):
                emit(event)
        screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        table = screen.query_one(AgentTable)
        await wait_until(pilot, lambda: cell(table, "agent-7", "steps") == "2")
        assert table.row_count == 8
        assert cell(table, "agent-3", "status") == "running"
        assert cell(table, "agent-3", "files") == "docs/p3.md"
        assert cell(table, "agent-3", "tokens") == "2.4k"
        assert "Translate page 3" in cell(table, "agent-3", "task")
        # the status bar (on the chat screen) keeps counting while the dashboard is on top
        await wait_until(pilot, lambda: app.usage.prompt_tokens >= 8 * 2000)

        table.move_cursor(row=3)
        await pilot.press("enter")
        transcript = screen.query_one(Log)
        await wait_until(
            pilot, lambda: "agent-3 step 2: reading the page." in "\n".join(transcript.lines)
        )
        assert "agent-4" not in "\n".join(transcript.lines)
        emit(swarm.ev.TextDelta(agent="agent-3", text="now writing p3.fr.md", ts=swarm.T0))
        await wait_until(pilot, lambda: "now writing p3.fr.md" in "\n".join(transcript.lines))

        await pilot.press("c")
        await wait_until(pilot, lambda: running["agent-3"].cancelled())
        assert not any(t.done() for name, t in running.items() if name != "agent-3")
        await pilot.press("C")
        await wait_until(pilot, lambda: all(t.cancelled() for t in running.values()))
        app.session.swarm_control.tasks.clear()

        for i in range(8):
            for event in swarm.finished(i, "success" if i != 5 else "error"):
                emit(event)
        emit(swarm.swarm_finished(8))
        await wait_until(pilot, lambda: cell(table, "agent-5", "merge") == "conflict")
        assert cell(table, "agent-0", "status") == "success"
        assert cell(table, "agent-0", "elapsed") == "12s"
        summary = str(screen.query_one(SwarmSummary).render())
        assert "critical steps 5 of 19 total" in summary
        assert "speedup 5.0×" in summary
        assert "git diff main...kimicode/run42/agent-5" in summary

        await pilot.press("escape")
        assert not isinstance(app.screen, DashboardScreen)
        await wait_for_text(pilot, "swarm finished: 7/8 merged, 1 failed, 1 conflict;")


async def test_the_dashboard_fits_sixty_columns(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(60, 30)) as pilot:
        swarm.play(app.session.bus, 8, {5: "error"})
        screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        table = screen.query_one(AgentTable)
        await wait_until(pilot, lambda: table.row_count == 8)
        shown = await wait_for_text(pilot, "Translate page 5", "Translate page 7")
        assert table.max_scroll_x == 0  # whole rows, nothing cut off to the right
        row = next(line for line in shown.splitlines() if "Translate page 5" in line)
        assert row.split()[:2] == ["agent-5", "error"]


async def test_agents_cancelled_from_the_dashboard_count_as_cancelled_not_failed(
    make_app,
) -> None:
    app = make_app()
    emit = app.session.bus
    async with app.run_test(size=(120, 40)) as pilot:
        emit(swarm.planned(4))
        for event in [*swarm.working(0), *swarm.finished(0, "success")]:
            emit(event)
        for event in swarm.working(1)[:1]:
            emit(event)
        # "C": agent-1 is cancelled while running; agent-2 and agent-3 never got a slot
        cancelled = {"summary": "", "steps": 1, "tool_calls": 0, "error": "cancelled"}
        emit(swarm.ev.AgentFinished(name="agent-1", status="cancelled", **cancelled))
        figures = {"wall_s": 9.0, "agent_time_s": 14.0, "speedup": 1.6}
        steps = {"critical_steps": 3, "total_steps": 4}
        emit(
            swarm.ev.SwarmFinished(
                run_id="run42", agents=4, merged=1, failed=3, conflicts=0, **figures, **steps
            )
        )
        screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        table = screen.query_one(AgentTable)
        await wait_until(pilot, lambda: cell(table, "agent-3", "status") == "cancelled")
        assert [cell(table, f"agent-{i}", "status") for i in range(4)] == [
            "success",
            "cancelled",
            "cancelled",
            "cancelled",
        ]
        summary = str(screen.query_one(SwarmSummary).render())
        assert "failed 0" in summary and "cancelled 3" in summary
        await pilot.press("escape")
        await wait_until(pilot, lambda: "swarm finished" in screen_text(app))
        assert "1/4 merged, 0 failed, 3 cancelled, 0 conflicts" in screen_text(app)
