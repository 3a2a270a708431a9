"""The code stays lint-clean, formatted and type-checked, with no import cycles in the core:
ruff, mypy (configured in pyproject.toml) and the import graph are part of the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "kimicode", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_ruff_check_is_clean() -> None:
    result = _ruff("check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(1200)  # a cold run on a loaded machine takes minutes
def test_mypy_is_clean() -> None:
    """Strict on agent/, llm/, swarm/, tools/ and the protocols; the rest checked too."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_core_has_no_import_cycles() -> None:
    """No module imports itself back through others, counting imports made only for
    type checking and those inside functions (the TUI's own modules are its business)."""
    import grimp

    graph = grimp.build_graph("kimicode", exclude_type_checking_imports=False)
    core = {m for m in graph.modules if not m.startswith("kimicode.ui.tui")}
    edges = {m: graph.find_modules_directly_imported_by(m) & core for m in core}
    assert _cycles(edges) == []
