"""Which tasks' files overlap: the indexed check finds exactly what comparing every pair
of tasks finds, and names the pairs the same way."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from kimicode.errors import ToolError
from kimicode.globs import is_literal, matches_any
from kimicode.swarm.tasks import TaskSpec, owned_files, validate_tasks

BASE = [
    "README.md",
    "src/app.py",
    "src/util.py",
    "src/ui/page.ts",
    "src/ui/page.css",
    "docs/a.md",
    "docs/b.md",
    "tests/test_app.py",
]
PATTERNS = [
    *BASE,
    "src",
    "src/",
    "./src/ui",
    "src/*.py",
    "src/**",
    "docs/*.md",
    "**/*.ts",
    "new/one.txt",
    "new",
    "new/two.txt",
    "tests/",
    "src/ui/new.ts",
]


def pairwise(tasks: list[TaskSpec]) -> list[str]:
    """The rule as it reads: every pair of tasks, compared."""
    owned = {t.name: owned_files(t.files, BASE) for t in tasks}
    found = []
    for a, b in combinations(tasks, 2):
        shared = owned[a.name] & owned[b.name]
        shared |= {p for p in a.files if p in b.files}
        shared |= {p for p in a.files if is_literal(p) and matches_any(b.files, p)}
        shared |= {p for p in b.files if is_literal(p) and matches_any(a.files, p)}
        if shared:
            listed = ", ".join(sorted(shared)[:5])
            more = f" and {len(shared) - 5} more" if len(shared) > 5 else ""
            found.append(f"{a.name} and {b.name} both own {listed}{more}")
    return found


def reported(tasks: list[TaskSpec]) -> list[str]:
    try:
        validate_tasks(tasks, BASE, budget_left=10_000)
    except ToolError as exc:
        text = str(exc).removeprefix("the files of two tasks may not overlap: ")
        return text.removesuffix(". Give each file to exactly one task.").split("; ")
    return []


@pytest.mark.parametrize("seed", range(40))
def test_the_indexed_check_finds_what_every_pair_finds(seed: int) -> None:
    rng = random.Random(seed)
    tasks = [
        TaskSpec(name=f"t{i}", prompt=f"task {i}", files=rng.sample(PATTERNS, rng.randint(1, 3)))
        for i in range(rng.randint(2, 7))
    ]
    assert reported(tasks) == pairwise(tasks)


def test_three_hundred_disjoint_tasks_pass_and_one_clash_is_named() -> None:
    tasks = [
        TaskSpec(name=f"t{i:03d}", prompt=f"p{i}", files=[f"out/t{i:03d}.txt"]) for i in range(300)
    ]
    assert reported(tasks) == []
    tasks[250] = TaskSpec(name="t250", prompt="p250", files=["out"])
    assert reported(tasks) == [
        f"t{i:03d} and t250 both own out/t{i:03d}.txt" for i in range(250)
    ] + [f"t250 and t{i:03d} both own out/t{i:03d}.txt" for i in range(251, 300)]
