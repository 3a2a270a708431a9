"""How quickly the TUI answers a key press while 100 agents stream events into it,
and what streaming one long Markdown reply costs.

Drives the real app headless (`App.run_test`): a scripted swarm of AGENTS
agents, each emitting RATE events a second (steps, text deltas, tool calls,
usage) into the session's event bus, with the dashboard open. Meanwhile it
presses keys and times each from the moment the key event is sent until the
widget shows its effect (the table's cursor moved, the prompt holds the typed
character). It also reports the process CPU share and the cost of one batch.

With `--stream`, the main agent instead streams a reply at CHUNKS a second for
SECONDS, once as a growing Markdown list and once as a plain paragraph, and the
process CPU share is printed for each (the last third of the run on its own too,
where the list is longest).

    python benchmarks/tui.py [--agents 100] [--rate 50] [--presses 150]
    python benchmarks/tui.py --stream [--chunks 12] [--seconds 24] [--whole]

`--whole` streams into one Markdown widget, as the TUI did before replies were cut
into pieces: the "before" figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual import events

from kimicode import events as ev
from kimicode.config import load_settings
from kimicode.session import Session
from kimicode.ui.tui.app import KimicodeApp
from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.prompt_input import PromptInput

TICK_S = 0.02


def agent_events(name: str, n: int) -> ev.Event:
    """The n-th event of an agent: a repeating step of text, a tool call and usage."""
    phase = n % 10
    step = n // 10 + 1
    if phase == 0:
        return ev.StepStarted(agent=name, step=step)
    if phase in (1, 2, 3, 4, 5):
        return ev.TextDelta(agent=name, text=f"thinking about part {phase} of step {step}. ")
    if phase == 6:
        return ev.ToolCallStarted(
            agent=name, call_id=f"{name}-{step}", name="read_file", arguments={"path": "a.py"}
        )
    if phase == 7:
        return ev.ToolCallFinished(
            agent=name, call_id=f"{name}-{step}", name="read_file", ok=True, output="x = 1"
        )
    if phase == 8:
        return ev.UsageReport(agent=name, prompt_tokens=900, completion_tokens=120)
    return ev.TextDelta(agent=name, text="done.\n")


async def emit_forever(session: Session, agents: int, rate: float, counter: list[int]) -> None:
    names = [f"agent-{i:03d}" for i in range(agents)]
    session.bus(
        ev.SwarmStarted(
            run_id="bench",
            tasks=[{"name": n, "prompt": f"task {n}", "files": [f"src/{n}.py"]} for n in names],
            max_agents=agents,
            base_commit="0" * 40,
        )
    )
    for name in names:
        session.bus(ev.AgentSpawned(name=name, files=[f"src/{name}.py"], branch="b", worktree="w"))
    per_tick = agents * rate * TICK_S
    owed = 0.0
    n = 0
    loop = asyncio.get_running_loop()
    next_tick = loop.time()
    while True:
        owed += per_tick
        while owed >= 1:
            name = names[n % agents]
            session.bus(agent_events(name, n // agents))
            n += 1
            owed -= 1
        counter[0] = n
        next_tick += TICK_S
        await asyncio.sleep(max(0.0, next_tick - loop.time()))


async def until(condition: Callable[[], bool], limit_s: float = 10.0, poll_s: float = 0.01) -> None:
    for _ in range(int(limit_s / poll_s)):
        if condition():
            return
        await asyncio.sleep(poll_s)
    raise RuntimeError(f"the app did not react within {limit_s}s")


async def timed_press(app: KimicodeApp, key: str, changed: Callable[[], bool]) -> float:
    """Seconds from sending `key` (as a terminal would) until `changed()` is true."""
    start = time.perf_counter()
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)
    await until(changed, limit_s=5.0, poll_s=0.0005)
    return time.perf_counter() - start


async def measure(agents: int, rate: float, presses: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="kimicode-bench-"))
    os.environ["KIMICODE_DATA_DIR"] = str(root / "data")
    settings = load_settings(root, {"model.api_key": "sk-bench-0000000000"})
    app = KimicodeApp(settings, history=PromptHistory(root / "history.jsonl"))
    flush_times: list[float] = []
    original_flush = app.flush_events

    async def timed_flush() -> None:
        start = time.perf_counter()
        await original_flush()
        flush_times.append(time.perf_counter() - start)

    app.flush_events = timed_flush  # type: ignore[method-assign]
    counter = [0]
    dashboard_ms: list[float] = []
    chat_ms: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        emitter = asyncio.create_task(emit_forever(app.session, agents, rate, counter))
        await until(lambda: isinstance(app.screen, DashboardScreen))
        table = app.screen.query_one(AgentTable)
        await until(lambda: table.row_count >= agents)
        await asyncio.sleep(1.0)  # let the stream reach its steady state
        cpu0, wall0, events0 = time.process_time(), time.perf_counter(), counter[0]
        for i in range(presses):
            row = table.cursor_row
            key = "down" if (i // 40) % 2 == 0 else "up"
            target = row + (1 if key == "down" else -1)
            dashboard_ms.append(
                1000 * await timed_press(app, key, lambda t=target: table.cursor_row == t)
            )
            await asyncio.sleep(0.03)
        await pilot.press("escape")
        prompt = app.query_one(PromptInput)
        prompt.focus()
        for i in range(presses):
            before = len(prompt.text)
            chat_ms.append(
                1000 * await timed_press(app, "x", lambda b=before: len(prompt.text) == b + 1)
            )
            if i % 30 == 29:
                prompt.clear()
            await asyncio.sleep(0.03)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        sent = counter[0] - events0
        emitter.cancel()
    flush_times.sort()
    return {
        "agents": agents,
        "events/s sent": round(sent / wall),
        "dashboard key: median ms": round(statistics.median(dashboard_ms), 1),
        "dashboard key: p95 ms": round(_p95(dashboard_ms), 1),
        "chat key: median ms": round(statistics.median(chat_ms), 1),
        "chat key: p95 ms": round(_p95(chat_ms), 1),
        "batch flush: median ms": round(1000 * statistics.median(flush_times), 2),
        "batch flush: p95 ms": round(1000 * _p95(flush_times), 2),
        "CPU share of one core": f"{100 * cpu / wall:.0f}%",
    }


def reply_chunk(kind: str, n: int) -> str:
    """The n-th streamed chunk: one list item, or one sentence of a paragraph."""
    if kind == "list":
        return f"- item {n}: update `module_{n}.py` so **parse** handles case {n}\n"
    return f"Sentence {n} of a long paragraph about parsing case {n} in module {n}. "


async def measure_stream(kind: str, chunks_per_s: float, seconds: float) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="kimicode-bench-"))
    os.environ["KIMICODE_DATA_DIR"] = str(root / "data")
    settings = load_settings(root, {"model.api_key": "sk-bench-0000000000"})
    app = KimicodeApp(settings, history=PromptHistory(root / "history.jsonl"))
    total = int(chunks_per_s * seconds)
    marks: list[tuple[float, float]] = []
    async with app.run_test(size=(140, 45)):
        await asyncio.sleep(0.5)
        app.session.bus(ev.StepStarted(agent="main", step=1))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(total):
            if n % max(1, total // 3) == 0:
                marks.append((time.process_time(), time.perf_counter()))
            app.session.bus(ev.TextDelta(agent="main", text=reply_chunk(kind, n)))
            await asyncio.sleep(max(0.0, start + (n + 1) / chunks_per_s - loop.time()))
        marks.append((time.process_time(), time.perf_counter()))
        await app.flush_events()
    (cpu0, wall0), (cpu_last, wall_last), (cpu1, wall1) = marks[0], marks[-2], marks[-1]
    return {
        "reply": f"{kind}, {total} chunks at {chunks_per_s:g}/s",
        "CPU share, whole run": f"{100 * (cpu1 - cpu0) / (wall1 - wall0):.0f}%",
        "CPU share, last third": f"{100 * (cpu1 - cpu_last) / (wall1 - wall_last):.0f}%",
        "CPU ms per chunk, last third": round(
            1000 * (cpu1 - cpu_last) / (total - total // 3 * 2), 1
        ),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50, help="events a second per agent")
    parser.add_argument("--presses", type=int, default=150)
    parser.add_argument("--stream", action="store_true", help="measure one streamed reply")
    parser.add_argument("--chunks", type=float, default=12, help="chunks a second (--stream)")
    parser.add_argument("--seconds", type=float, default=24, help="stream length (--stream)")
    parser.add_argument("--whole", action="store_true", help="one Markdown widget per reply")
    args = parser.parse_args()
    if args.whole:
        from kimicode.ui.tui.widgets import assistant_reply

        assistant_reply.PIECE_LINES = 10**9
    if args.stream:
        results = [
            asyncio.run(measure_stream(kind, args.chunks, args.seconds))
            for kind in ("list", "paragraph")
        ]
    else:
        results = [asyncio.run(measure(args.agents, args.rate, args.presses))]
    for result in results:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
        print()


if __name__ == "__main__":
    main()
