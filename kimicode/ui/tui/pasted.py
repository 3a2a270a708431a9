"""Large pastes stand in the prompt as a chip (`[pasted 300 lines]`) until sent or expanded.

The prompt stays a few lines tall and editable around the paste; the text behind each
chip is kept here and put back in its place when the prompt is sent (or on Ctrl+O).
"""

from __future__ import annotations

PASTE_LINES = 10
PASTE_CHARS = 1_000
"""A paste with at least this many lines, or characters, is collapsed."""


def is_large(text: str) -> bool:
    return text.count("\n") + 1 >= PASTE_LINES or len(text) >= PASTE_CHARS


class PastedTexts:
    def __init__(self) -> None:
        self._chips: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self._chips)

    def add(self, text: str) -> str:
        """The chip that stands for `text` in the prompt."""
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        size = f"{lines} lines" if lines >= PASTE_LINES else f"{len(text):,} characters"
        number = f" #{len(self._chips) + 1}" if self._chips else ""
        chip = f"[pasted {size}{number}]"
        self._chips[chip] = text
        return chip

    def expand(self, prompt: str) -> str:
        """`prompt` with every chip still in it replaced by its text."""
        for chip, text in self._chips.items():
            prompt = prompt.replace(chip, text)
        return prompt

    def clear(self) -> None:
        self._chips.clear()
