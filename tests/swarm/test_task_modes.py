"""`mode: "read"` as the other way to say `files: []`, and what contradicts it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kimicode.swarm.tasks import SpawnParams, TaskSpec


def test_mode_read_needs_no_files_and_is_read_only() -> None:
    spec = TaskSpec.model_validate({"name": "r", "prompt": "Read.", "mode": "read"})
    assert spec.read_only and spec.files == []
    assert TaskSpec.model_validate({"name": "r", "prompt": "Read.", "files": []}).read_only
    writer = TaskSpec.model_validate({"name": "w", "prompt": "W.", "files": ["a.py"]})
    assert not writer.read_only


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ({"name": "r", "prompt": "R.", "mode": "read", "files": ["a.py"]}, "owns no files"),
        ({"name": "w", "prompt": "W.", "mode": "write", "files": []}, "needs the `files`"),
        ({"name": "x", "prompt": "X."}, 'mode: "read"'),
        ({"name": "y", "prompt": "Y.", "mode": "delete", "files": []}, "mode"),
    ],
)
def test_contradictions_are_errors_naming_the_task(task: dict, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        SpawnParams.model_validate({"tasks": [task]})
    assert words in str(err.value)


def test_template_items_carry_the_mode() -> None:
    params = SpawnParams.model_validate(
        {
            "template": "Audit {item}.",
            "items": [{"name": "a", "item": "src/a", "mode": "read"}, {"name": "b", "item": "b"}],
        }
    )
    tasks = params.all_tasks()
    assert [t.read_only for t in tasks] == [True, True]
    assert tasks[0].mode == "read" and tasks[1].mode is None
