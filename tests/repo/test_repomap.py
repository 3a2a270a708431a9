"""The rendered map: relevant definitions first, cached by file, deterministic, quiet."""

from __future__ import annotations

import os
from pathlib import Path

from kimicode.repo.repomap import RepoMap, estimate_tokens

PROJECT = {
    "billing/invoice.py": (
        "from billing.tax import compute_tax\n\n\n"
        "class Invoice:\n"
        "    def __init__(self, lines):\n        self.lines = lines\n\n"
        "    def total_with_tax(self):\n        return compute_tax(sum(self.lines))\n"
    ),
    "billing/tax.py": "def compute_tax(amount):\n    return amount * 1.2\n\n\nRATE = 1.2\n",
    "shipping/route.go": (
        "package shipping\n\ntype Route struct{}\n\n"
        "func PlanRoute(stops []string) Route { return Route{} }\n"
    ),
    "web/app.ts": (
        "export class CartView {\n  render(): void { drawCart(); }\n}\n"
        "export function drawCart(): void {}\n"
    ),
    "web/page.html": '<main id="cart" class="panel"></main>\n',
    "web/style.css": ".panel { padding: 1em; }\n",
    "engine/core.rs": "pub struct Engine;\npub fn start_engine() -> Engine { Engine }\n",
    "engine/Legacy.java": "class Legacy { void runLegacy() {} }\n",
    "native/fast.c": "int fast_sum(int *xs, int n) { return 0; }\n",
    "native/grid.cpp": "class Grid { public: int cells(); };\n",
    "scripts/report.py": (
        "from billing.invoice import Invoice\n\n\n"
        "def monthly_report(rows):\n    return [Invoice(r).total_with_tax() for r in rows]\n"
    ),
}


def first_block(text: str) -> tuple[str, list[str]]:
    """The first file of the map and its definition lines."""
    head, *rest = text.splitlines()
    body = []
    for line in rest:
        if not line.startswith("⋮"):
            break
        body.append(line)
    return head, body


async def test_a_named_symbol_comes_first(write, git_repo: Path, cache_dir: Path) -> None:
    write(git_repo, PROJECT)
    text = await RepoMap(git_repo, cache_dir=cache_dir).render("PlanRoute drops the last stop")
    path, lines = first_block(text)
    assert path == "shipping/route.go:"
    assert "⋮ func PlanRoute(stops []string) Route { return Route{} }" in lines

    text = await RepoMap(git_repo, cache_dir=cache_dir).render("round compute_tax to cents")
    path, lines = first_block(text)
    assert path == "billing/tax.py:"
    assert lines[0] == "⋮ def compute_tax(amount):"


async def test_every_language_is_on_the_map(write, git_repo: Path, cache_dir: Path) -> None:
    write(git_repo, PROJECT)
    text = await RepoMap(git_repo, cache_dir=cache_dir).render(token_budget=10_000)
    for expected in [
        "class Invoice:",
        "    def total_with_tax(self):",
        "func PlanRoute",
        "export class CartView {",
        '<main id="cart" class="panel"></main>',
        ".panel { padding: 1em; }",
        "pub fn start_engine() -> Engine { Engine }",
        "class Legacy { void runLegacy() {} }",
        "int fast_sum(int *xs, int n) { return 0; }",
        "class Grid { public: int cells(); };",
    ]:
        assert expected in text


async def test_referenced_definitions_outrank_unused_ones(
    write, git_repo: Path, cache_dir: Path
) -> None:
    write(git_repo, PROJECT)
    text = await RepoMap(git_repo, cache_dir=cache_dir).render("the monthly report is slow")
    lines = text.splitlines()
    # The report calls Invoice, which calls compute_tax; RATE is used by nobody.
    assert lines.index("⋮ class Invoice:") < len(lines)
    assert "⋮ def compute_tax(amount):" in lines
    if "⋮ RATE = 1.2" in lines:
        assert lines.index("⋮ def compute_tax(amount):") < lines.index("⋮ RATE = 1.2")


async def test_the_budget_is_respected(write, git_repo: Path, cache_dir: Path) -> None:
    files = {
        f"pkg/mod_{i:03}.py": f"def function_{i:03}(value):\n    return value\n" for i in range(300)
    }
    write(git_repo, files)
    text = await RepoMap(git_repo, cache_dir=cache_dir).render(token_budget=200)
    assert 0 < estimate_tokens(text) <= 200
    assert text.count("⋮ def function_") < 300


async def test_an_edit_invalidates_that_file(write, git_repo: Path, cache_dir: Path) -> None:
    write(git_repo, PROJECT)
    await RepoMap(git_repo, cache_dir=cache_dir).render()
    tax = git_repo / "billing/tax.py"
    before = tax.stat().st_mtime_ns
    tax.write_text(tax.read_text() + "\n\ndef refund_tax(amount):\n    return -amount\n")
    os.utime(tax, ns=(before + 5_000_000_000, before + 5_000_000_000))
    text = await RepoMap(git_repo, cache_dir=cache_dir).render("refund_tax", token_budget=4000)
    assert "⋮ def refund_tax(amount):" in text


def sqlite_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.sqlite"))


async def test_the_task_is_not_part_of_the_cache(write, git_repo: Path, cache_dir: Path) -> None:
    write(git_repo, PROJECT)
    repo_map = RepoMap(git_repo, cache_dir=cache_dir)
    await repo_map.render("one task")
    databases = sqlite_files(cache_dir)
    assert len(databases) == 1
    size = databases[0].stat().st_size
    await repo_map.render("a completely different task about compute_tax")
    assert sqlite_files(cache_dir) == databases
    assert databases[0].stat().st_size == size


async def test_same_input_same_map(write, git_repo: Path, tmp_path: Path) -> None:
    write(git_repo, PROJECT)
    first = await RepoMap(git_repo, cache_dir=tmp_path / "a").render("invoice totals")
    second = await RepoMap(git_repo, cache_dir=tmp_path / "b").render("invoice totals")
    warm = await RepoMap(git_repo, cache_dir=tmp_path / "a").render("invoice totals")
    assert first == second == warm
    assert first


async def test_broken_binary_and_ignored_files_are_skipped_quietly(
    write, git_repo: Path, cache_dir: Path, capfd
) -> None:
    write(git_repo, PROJECT)
    write(
        git_repo,
        {
            "broken.py": ")))(((:::: ]]] def def def ((((\n" * 50,
            "blob.js": b"\x00\x01\x02function hidden() {}\x00" * 100,
            ".gitignore": "build/\n",
            "build/generated.py": "def generated_function():\n    pass\n",
        },
    )
    text = await RepoMap(git_repo, cache_dir=cache_dir).render(token_budget=10_000)
    assert "class Invoice:" in text
    assert "broken.py" not in text
    assert "hidden" not in text
    assert "generated_function" not in text
    out, err = capfd.readouterr()
    assert out == "" and err == ""


async def test_explicit_file_list_and_named_files(write, git_repo: Path, cache_dir: Path) -> None:
    write(git_repo, PROJECT)
    text = await RepoMap(git_repo, cache_dir=cache_dir).render(
        "see README.md and billing/tax.py", files=["billing/tax.py", "README.md", "web/app.ts"]
    )
    assert "shipping/route.go" not in text
    assert text.splitlines()[0] in ("README.md", "billing/tax.py:")
    assert "billing/tax.py:" in text
