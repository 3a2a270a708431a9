"""The dashboard during a rate-limited swarm: who waits, and the endpoint's limit."""

from __future__ import annotations

from helpers import call, orchestrator, script, sub_agent, task, turn

from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary
from tests.tui import swarm_events as swarm
from tests.tui.conftest import type_text, wait_for_screen, wait_until
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


async def test_a_real_swarm_on_a_capped_endpoint_shows_the_cut_limit_and_merges(
    replay, make_app, repo
) -> None:
    names = ["c1", "c2", "c3", "c4"]
    slow = {"latency_ms": 200}
    server = replay(
        script(
            orchestrator([task(n, f"{n}.txt") for n in names]),
            *(
                sub_agent(
                    n,
                    [
                        turn(tool_calls=[call("write_file", path=f"{n}.txt", content=n)], **slow),
                        turn(f"{n} done.", **slow),
                    ],
                )
                for n in names
            ),
        ),
        max_in_flight=1,
    )
    flags = {"swarm.enabled": True, "swarm.max_agents": 4, "permissions.mode": "yolo"}
    app = make_app(server, flags=flags)
    async with app.run_test(size=(140, 40)) as pilot:
        await type_text(pilot, "Split the work")
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
        summary = screen.query_one(SwarmSummary)
        await wait_until(pilot, lambda: "limit 1 in flight" in str(summary.render()))
        await wait_until(pilot, lambda: app.swarm.finished is not None and not app.busy)
    assert server.cap.throttled > 0 and server.cap.peak_in_flight == 1
    assert sorted(app.swarm.merged) == names
    for n in names:
        assert (repo / f"{n}.txt").read_text() == n
