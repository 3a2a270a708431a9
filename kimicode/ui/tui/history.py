"""Prompt history that survives restarts: one JSON string a line in the data dir."""

from __future__ import annotations

import json
from pathlib import Path

MAX_ENTRIES = 1000


def history_path() -> Path:
    from kimicode.paths import data_dir

    return data_dir() / "prompt_history.jsonl"


class PromptHistory:
    """Up/down recall of earlier prompts; newest last, duplicates of the last one skipped."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()
        self.entries: list[str] = self._load()
        self._cursor = len(self.entries)
        self._draft = ""

    def _load(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines[-MAX_ENTRIES:]:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, str) and value:
                entries.append(value)
        return entries

    def add(self, text: str) -> None:
        self._cursor = len(self.entries)
        if not text.strip() or (self.entries and self.entries[-1] == text):
            self._cursor = len(self.entries)
            return
        self.entries.append(text)
        self._cursor = len(self.entries)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(text) + "\n")
        except OSError:
            pass  # history is a convenience; a read-only data dir must not break the chat

    def previous(self, draft: str) -> str | None:
        if self._cursor == len(self.entries):
            self._draft = draft
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str | None:
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        if self._cursor == len(self.entries):
            return self._draft
        return self.entries[self._cursor]
