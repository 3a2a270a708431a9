"""The dashboard during a rate-limited swarm: who waits, and the endpoint's limit."""

from __future__ import annotations

from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary
from tests.tui import swarm_events as swarm
from tests.tui.conftest import wait_for_screen, wait_until
from tests.tui.test_tui_dashboard import cell


async def test_dashboard_shows_agents_waiting_for_the_rate_limit_and_the_limit(make_app) -> None:
    app = make_app()
    emit = app.session.bus
    async with app.run_test(size=(140, 40)) as pilot:
        emit(swarm.planned(3))
        for i in range(3):
            for event in swarm.working(i, steps=1):
                emit(event)
        emit(swarm.ev.RateLimited(agent="agent-1", limit=2, reason="rate limited (429)"))
        screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        table = screen.query_one(AgentTable)
        summary = screen.query_one(SwarmSummary)
        await wait_until(pilot, lambda: "rate limited" in cell(table, "agent-1", "tool"))
        assert "rate limited" not in cell(table, "agent-2", "tool")
        text = str(summary.render())
        assert "waiting (rate limited) 1, limit 2 in flight" in text
        emit(swarm.ev.RateLimitRecovered(agent="agent-1", limit=3, waited_s=1.0))
        await wait_until(pilot, lambda: "rate limited" not in cell(table, "agent-1", "tool"))
        await wait_until(
            pilot, lambda: "waiting (rate limited) 0, limit 3" in str(summary.render())
        )
