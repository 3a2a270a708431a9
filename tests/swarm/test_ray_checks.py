"""`[swarm] backend = "ray"` without Ray installed: exit 2 naming the extra, before any work."""

from __future__ import annotations

import os
from pathlib import Path


def test_the_ray_backend_without_ray_names_the_extra_to_install(
    kimicode, repo: Path, tmp_path: Path, replay
) -> None:
    shadow = tmp_path / "no-ray" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[swarm]\nbackend = "ray"\n')
    server = replay({"conversations": [{"match": ".", "turns": [{"content": "never asked"}]}]})
    pythonpath = os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")])
    result = kimicode(
        "-p", "--swarm", "Split the work", cwd=repo, server=server,
        env={"PYTHONPATH": pythonpath},
    )  # fmt: skip
    assert result.code == 2, result
    assert "pip install 'kimicode[ray]'" in result.stderr + result.stdout
    assert server.requests == []  # no model call was made
