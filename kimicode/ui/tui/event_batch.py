"""Collecting events from the session's bus and handing them to the UI in batches.

The sink is called for every event (thousands a second with a hundred agents);
it only appends. The app drains the buffer on a timer, and consecutive text
deltas of one agent are joined so a batch costs one widget update per agent.
"""

from __future__ import annotations

import dataclasses

from kimicode import events as ev


class EventBuffer:
    def __init__(self) -> None:
        self._pending: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self._pending.append(event)

    def __len__(self) -> int:
        return len(self._pending)

    def drain(self) -> list[ev.Event]:
        events, self._pending = self._pending, []
        return coalesce(events)


def coalesce(events: list[ev.Event]) -> list[ev.Event]:
    """Join runs of TextDelta (or ReasoningDelta) from the same agent into one event."""
    out: list[ev.Event] = []
    for event in events:
        last = out[-1] if out else None
        if (
            isinstance(event, ev.TextDelta | ev.ReasoningDelta)
            and type(last) is type(event)
            and last is not None
            and last.agent == event.agent
        ):
            out[-1] = dataclasses.replace(last, text=last.text + event.text)
        else:
            out.append(event)
    return out
