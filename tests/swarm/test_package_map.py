"""The swarm package's docstring is its map: every module listed, one line each."""

from __future__ import annotations

import re
from pathlib import Path

import kimicode.swarm as swarm


def test_every_swarm_module_is_listed_once() -> None:
    folder = Path(swarm.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    listed = re.findall(r"^- `(\w+)`: .+$", swarm.__doc__ or "", re.M)
    assert sorted(listed) == modules
