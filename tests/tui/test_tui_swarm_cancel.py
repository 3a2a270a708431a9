"""Ctrl+C during a real swarm in the TUI: every agent ends up "cancelled" (not failed, never
"planned" forever), the spawn_agents block stops spinning, and the user is told where the
agents' work is and how to resume or clean it."""

from __future__ import annotations

from pathlib import Path

from helpers import call, git, orchestrator, script, sub_agent, task, turn

from kimicode import events as ev
from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from tests.tui.conftest import screen_text, type_text, wait_for_screen, wait_until

NAMES = ["s1", "s2", "s3", "s4"]
SLOW_AGENTS = script(
    orchestrator([task(n, f"{n}.txt") for n in NAMES]),
    *(
        sub_agent(
            n,
            [
                turn(tool_calls=[call("write_file", path=f"{n}.txt", content=f"{n} so far\n")]),
                turn(tool_calls=[call("run_shell", command="sleep 30")]),
                turn("never"),
            ],
        )
        for n in NAMES
    ),
)


def statuses(table: AgentTable, names: list[str] = NAMES) -> dict[str, str]:
    return {n: str(table.get_cell(n, "status")) for n in names if table.shows(n)}


async def start_swarm(pilot) -> tuple[DashboardScreen, AgentTable]:
    """Ask for the swarm and wait for its dashboard."""
    await type_text(pilot, "Split the work")
    await pilot.press("enter")
    screen = await wait_for_screen(pilot, DashboardScreen, AgentTable)
    return screen, screen.query_one(AgentTable)


def agent_branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/kimicode").split()


async def test_ctrl_c_mid_swarm_cancels_every_agent_and_says_where_the_work_is(
    replay, make_app, repo: Path
) -> None:
    server = replay(SLOW_AGENTS)
    app = make_app(
        server, flags={"swarm.enabled": True, "swarm.max_agents": 2, "permissions.mode": "yolo"}
    )
    async with app.run_test(size=(140, 45)) as pilot:
        screen, table = await start_swarm(pilot)
        # two agents run their `sleep 30`; the other two wait for a free slot
        await wait_until(
            pilot,
            lambda: (
                sorted(statuses(table).values()) == ["planned", "planned", "running", "running"]
                and sum(a.tool == "run_shell" for a in app.swarm.agents.values()) == 2
            ),
        )
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.busy)
        await wait_until(pilot, lambda: set(statuses(table).values()) == {"cancelled"})
        summary = str(screen.query_one(SwarmSummary).render())
        assert "cancelled 4" in summary and "failed 0" in summary
        assert "kimicode --continue" in summary
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, DashboardScreen))
        [block] = [b for b in app.query(ToolCallBlock) if b.tool_name == "spawn_agents"]
        assert block.title.plain.startswith("⊘ spawn_agents")
        assert not block.has_class("-running")
        notices = [n.message for n in app.query(NoticeLine)]
        [stopped] = [n for n in notices if n.startswith("swarm stopped")]
        assert "4 agents cancelled (2 had not started)" in stopped
        assert "kimicode/" in stopped and "s1" in stopped and "s2" in stopped
        assert "kimicode --continue" in stopped and "kimicode swarm clean" in stopped
        assert "swarm stopped" in screen_text(app)
    branches = agent_branches(repo)
    kept = sorted(b.rsplit("/", 1)[1] for b in branches)
    assert kept == ["s1", "s2"]  # the two that started: their work is on their branches
    for name in kept:
        branch = next(b for b in branches if b.endswith(f"/{name}"))
        assert git(repo, "show", f"{branch}:{name}.txt") == f"{name} so far\n"


ONE_SLOW = script(
    orchestrator([task("fast", "fast.txt"), task("slow", "slow.txt")], "One was cancelled."),
    sub_agent(
        "fast",
        [turn(tool_calls=[call("write_file", path="fast.txt", content="fast\n")]), turn("done")],
    ),
    sub_agent(
        "slow",
        [
            turn(tool_calls=[call("write_file", path="slow.txt", content="slow so far\n")]),
            turn(tool_calls=[call("run_shell", command="sleep 30")]),
            turn("never"),
        ],
    ),
)


async def test_an_agent_cancelled_from_the_dashboard_is_not_counted_as_failed(
    replay, make_app, repo: Path
) -> None:
    """The swarm's own figures (what print mode, stream-json and ACP report) say so too."""
    server = replay(ONE_SLOW)
    app = make_app(server, flags={"swarm.enabled": True, "permissions.mode": "yolo"})
    finished: list[ev.SwarmFinished] = []
    app.session.bus.subscribe(
        lambda e: finished.append(e) if isinstance(e, ev.SwarmFinished) else None
    )
    async with app.run_test(size=(140, 45)) as pilot:
        _, table = await start_swarm(pilot)
        await wait_until(
            pilot,
            lambda: (
                statuses(table, ["fast", "slow"]) == {"fast": "success", "slow": "running"}
                and app.swarm.agents["slow"].tool == "run_shell"
            ),
        )
        table.move_cursor(row=table.get_row_index("slow"))
        await pilot.press("c")
        await wait_until(pilot, lambda: bool(finished) and not app.busy)
    [done] = finished
    assert (done.agents, done.merged, done.failed, done.cancelled) == (2, 1, 0, 1)
    assert (repo / "fast.txt").read_text() == "fast\n"
    branches = agent_branches(repo)
    [slow] = [b for b in branches if b.endswith("/slow")]
    assert git(repo, "show", f"{slow}:slow.txt") == "slow so far\n"
