"""Catch a model stuck repeating the same tool call (it burns quota fast).

The third identical call in a row earns a reminder appended to its result; past
`stop` the run ends with status "limit".
"""

from __future__ import annotations

import json

from kimicode.errors import LimitReached

REMINDER = (
    "\n\n[kimicode] You have made this exact tool call {n} times in a row with the same "
    "arguments and got the same kind of result. Repeating it will not change the outcome: "
    "try a different approach, or finish with what you have."
)


class RepeatGuard:
    def __init__(self, remind_at: int = 3, stop_after: int = 5) -> None:
        self.remind_at = remind_at
        self.stop_after = stop_after
        self._last: str | None = None
        self.count = 0

    def observe(self, name: str, arguments: str) -> str:
        """Record one call; return a reminder to append ("" when none). May raise LimitReached."""
        try:
            canonical = json.dumps(json.loads(arguments), sort_keys=True)
        except (ValueError, TypeError):
            canonical = arguments
        key = f"{name}\0{canonical}"
        self.count = self.count + 1 if key == self._last else 1
        self._last = key
        if self.count > self.stop_after:
            raise LimitReached(
                f"stopped: the model called {name} with the same arguments {self.count} times "
                "in a row (a tool-call loop)"
            )
        return REMINDER.format(n=self.count) if self.count >= self.remind_at else ""
