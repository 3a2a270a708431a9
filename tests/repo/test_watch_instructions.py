"""Which AI!/AI? comments the watch acts on, the prompts it writes, and the tidy-up after."""

from __future__ import annotations

from pathlib import Path

from kimicode.repo.watch_instructions import (
    InstructionTracker,
    change_prompt,
    question_prompt,
    remove_acted_comments,
)
from kimicode.repo.watcher import scan_for_instructions


def pending(tracker: InstructionTracker, root: Path, *names: str):
    paths = {root / n for n in names}
    return tracker.pending(root, paths, scan_for_instructions(paths, root))


def test_a_question_is_asked_once_until_it_is_removed_and_written_again(tmp_path: Path) -> None:
    tracker = InstructionTracker()
    (tmp_path / "a.js").write_text("// why is this slow AI?\nf();\n")
    _, questions = pending(tracker, tmp_path, "a.js")
    assert [q.comment.text for q in questions] == ["why is this slow"]
    tracker.mark_answered(questions)
    (tmp_path / "a.js").write_text("// why is this slow AI?\nf();\ng();\n")
    assert pending(tracker, tmp_path, "a.js") == ([], [])
    (tmp_path / "a.js").write_text("f();\n")
    assert pending(tracker, tmp_path, "a.js") == ([], [])
    (tmp_path / "a.js").write_text("// why is this slow AI?\nf();\n")
    assert len(pending(tracker, tmp_path, "a.js")[1]) == 1


def test_a_held_change_waits_for_the_file_to_change(tmp_path: Path) -> None:
    tracker = InstructionTracker()
    (tmp_path / "a.py").write_text("# add logging AI!\nx = 1\n")
    changes, _ = pending(tracker, tmp_path, "a.py")
    assert [c.where() for c in changes] == ["a.py:1"]
    tracker.hold(changes)
    assert pending(tracker, tmp_path, "a.py") == ([], [])
    (tmp_path / "a.py").write_text("# add logging AI!\nx = 2\n")
    assert len(pending(tracker, tmp_path, "a.py")[0]) == 1


def test_prompts_quote_the_comment_with_numbered_lines_around_it(tmp_path: Path) -> None:
    body = "".join(f"line{i} = {i}\n" for i in range(1, 31))
    (tmp_path / "m.py").write_text(body.replace("line15 = 15\n", "line15 = 15  # use a dict AI!\n"))
    changes, _ = pending(InstructionTracker(), tmp_path, "m.py")
    prompt = change_prompt(changes)
    assert "`m.py`" in prompt and "line 15" in prompt and "> use a dict" in prompt
    assert "Lines 7-23 of `m.py`" in prompt and "15\tline15 = 15  # use a dict AI!" in prompt
    assert "line6 = 6" not in prompt and "line24 = 24" not in prompt
    assert "do not change any file" in question_prompt(changes)


def test_only_the_acted_on_comments_are_removed_and_line_endings_kept(tmp_path: Path) -> None:
    path = tmp_path / "w.py"
    path.write_bytes(b"# add retries AI!\r\ndef f():\r\n    pass\r\n")
    changes, _ = pending(InstructionTracker(), tmp_path, "w.py")
    # the user wrote another instruction while the agent worked
    path.write_bytes(b"# add retries AI!\r\ndef f():\r\n    pass  # and a docstring AI!\r\n")
    assert remove_acted_comments(changes) == ["w.py"]
    assert path.read_bytes() == b"def f():\r\n    pass  # and a docstring AI!\r\n"
    assert remove_acted_comments(changes) == []
