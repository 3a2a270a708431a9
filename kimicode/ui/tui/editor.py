"""Ctrl+G: the prompt in the user's $VISUAL / $EDITOR, as git does for commit messages."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SuspendNotSupported

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import TextArea


def edit_text(text: str) -> tuple[str, str]:
    """(the edited text, "") or (the original text, why the editor failed)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="kimicode-prompt-") as folder:
        path = Path(folder) / "PROMPT.md"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except (OSError, ValueError) as exc:
            return text, f"cannot start the editor {editor!r}: {exc} (set $EDITOR)"
        if done.returncode != 0:
            return text, f"the editor {editor!r} exited with {done.returncode}; prompt unchanged"
        return path.read_text(encoding="utf-8", errors="replace").rstrip("\n"), ""


def edit_prompt(app: App[Any], prompt: TextArea) -> None:
    """Ctrl+G: the terminal is the editor's until it exits; then its text is the prompt.

    Blocking on purpose: while suspended the app draws nothing and reads no keys.
    """
    try:
        with app.suspend():
            text, error = edit_text(prompt.text)
    except SuspendNotSupported:  # headless (tests): no terminal to hand over
        text, error = edit_text(prompt.text)
    if error:
        app.notify(error, severity="error", markup=False)
        return
    prompt.load_text(text)
    prompt.move_cursor(prompt.document.end)
