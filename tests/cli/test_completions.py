"""The committed shell completions match the CLI, and really complete in bash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kimicode.cli.completions import FILES, SHELLS, generate

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_completions_are_current(shell: str) -> None:
    committed = (ROOT / "completions" / FILES[shell]).read_text(encoding="utf-8")
    assert committed == generate(shell), (
        f"completions/{FILES[shell]} is stale: run `python -m kimicode.cli.completions`"
    )


def _complete(words: str) -> list[str]:
    script = (
        f"source {ROOT / 'completions' / FILES['bash']}\n"
        f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
        "_kimicode; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_bash_completes_subcommands_and_options() -> None:
    assert _complete("kimicode ses") == ["sessions"]
    assert _complete("kimicode sessions ''") == ["list", "show", "--help", "-h"]
    assert "--force" in _complete("kimicode swarm clean --f")
    assert "--output-format" in _complete("kimicode --output")
