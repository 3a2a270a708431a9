"""From AI!/AI? comments found in saved files to agent prompts, and tidying up after.

`AI!` asks for a change: the agent makes it and removes the comment; a comment
the agent left behind is removed here, so it cannot trigger again. `AI?` asks
a question: the answer goes to the terminal and the comment stays where the
user wrote it (it is their text, and they may want to keep reading it next to
the code). An answered question is remembered by (path, text), so saving the
file again does not ask it again; editing the question's text, or deleting it
and writing it anew, does. When a change fails, its `AI!` comment stays and the
file is held as it is: events for the same content (the agent's partial edits)
do not retry it, a save that changes the file does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kimicode.repo.comments import AIComment, find_ai_comments, remove_ai_comments

CONTEXT_LINES = 8
"""Lines shown above and below each comment in the prompt."""


@dataclass(frozen=True, slots=True)
class Instruction:
    path: Path
    """Absolute path of the file holding the comment."""
    rel: str
    comment: AIComment

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rel, self.comment.kind, self.comment.text)

    def where(self) -> str:
        c = self.comment
        lines = f"{c.line}" if c.line == c.end_line else f"{c.line}-{c.end_line}"
        return f"{self.rel}:{lines}"


class InstructionTracker:
    """Which comments of a batch still need the agent: every AI!, AI? not yet answered."""

    def __init__(self) -> None:
        self._answered: set[tuple[str, str, str]] = set()
        self._held: dict[Path, str] = {}

    def pending(
        self,
        root: Path,
        batch: Iterable[Path],
        found: list[tuple[Path, list[AIComment]]],
    ) -> tuple[list[Instruction], list[Instruction]]:
        """(changes, questions) to act on now, in file order."""
        changes: list[Instruction] = []
        questions: list[Instruction] = []
        present: set[tuple[str, str, str]] = set()
        for path, comments in found:
            rel = _rel(path, root)
            held = self._still_held(path)
            for comment in comments:
                item = Instruction(path, rel, comment)
                present.add(item.key)
                if comment.kind == "!":
                    if not held:
                        changes.append(item)
                elif item.key not in self._answered:
                    questions.append(item)
        scanned = {_rel(p if p.is_absolute() else root / p, root) for p in batch}
        # a question removed from a file it was answered in may be asked again later
        self._answered = {k for k in self._answered if k[0] not in scanned or k in present}
        return changes, questions

    def mark_answered(self, questions: Iterable[Instruction]) -> None:
        self._answered.update(q.key for q in questions)

    def hold(self, items: Iterable[Instruction]) -> None:
        """Do not act on these files' AI! comments again until their content changes."""
        for item in items:
            self._held[item.path] = _digest(item.path)

    def _still_held(self, path: Path) -> bool:
        digest = self._held.get(path)
        if digest is None:
            return False
        if digest == _digest(path):
            return True
        del self._held[path]
        return False


def change_prompt(items: list[Instruction]) -> str:
    """The task for AI! comments: what to change, where, and to remove the comments."""
    files = sorted({i.rel for i in items})
    parts = [
        "The user left instructions for you in `AI!` comments in their code and saved "
        f"{_names(files)}. Make the change each comment asks for, in that file (touch other "
        "files only when the change cannot be made without them), and delete each `AI!` "
        "comment once it is done. Keep the rest of the file as it is. Reply with one or two "
        "sentences saying what you changed.",
    ]
    parts += [_excerpt_block(i) for i in items]
    return "\n\n".join(parts)


def question_prompt(items: list[Instruction]) -> str:
    """The task for AI? comments: answer, reading what is needed, changing nothing."""
    parts = [
        "The user asked you a question in an `AI?` comment in their code. Answer it. "
        "Read any files you need, but do not change any file and leave the comment where "
        "it is: this is a question, not a request for a change. Answer in plain text, "
        "concisely, naming files and line numbers where that helps.",
    ]
    parts += [_excerpt_block(i) for i in items]
    return "\n\n".join(parts)


def _excerpt_block(item: Instruction) -> str:
    c = item.comment
    span = f"line {c.line}" if c.line == c.end_line else f"lines {c.line}-{c.end_line}"
    head = f"In `{item.rel}`, the comment at {span}:\n> {c.text or '(no text)'}"
    try:
        text = item.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return head
    lines = text.splitlines()
    first = max(1, c.line - CONTEXT_LINES)
    last = min(len(lines), c.end_line + CONTEXT_LINES)
    width = len(str(last))
    numbered = "\n".join(f"{n:>{width}}\t{lines[n - 1]}" for n in range(first, last + 1))
    return f"{head}\n\nLines {first}-{last} of `{item.rel}` as saved:\n```\n{numbered}\n```"


def remove_acted_comments(items: list[Instruction]) -> list[str]:
    """Delete the AI! comments the agent acted on but left in place; the files changed."""
    by_path: dict[Path, set[str]] = {}
    for item in items:
        by_path.setdefault(item.path, set()).add(item.comment.text)
    cleaned: list[str] = []
    for path, texts in by_path.items():
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        rel = next(i.rel for i in items if i.path == path)
        left = [c for c in find_ai_comments(text, rel) if c.kind == "!" and c.text in texts]
        if not left:
            continue
        try:
            with path.open("w", encoding="utf-8", newline="") as fh:
                fh.write(remove_ai_comments(text, left))
        except OSError:
            continue
        cleaned.append(rel)
    return cleaned


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _names(files: list[str]) -> str:
    quoted = [f"`{f}`" for f in files]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
