"""kimicode.paths decides where config, data and cache live; every user asks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimicode import paths
from kimicode.config import user_config_path
from kimicode.mcp.config import user_mcp_path
from kimicode.repo.cache import cache_path
from kimicode.sessions.store import SessionStore
from kimicode.swarm import manifest
from kimicode.trust.checkpoints import CheckpointStore


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No overrides: the platform's defaults under a fake home."""
    for var in ("KIMICODE_DATA_DIR", "KIMICODE_CACHE_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_linux_defaults_are_the_documented_places(home: Path) -> None:
    assert paths.config_dir() == home / ".config" / "kimicode"
    assert paths.data_dir() == home / ".local" / "share" / "kimicode"
    assert paths.cache_dir() == home / ".cache" / "kimicode"


def test_environment_overrides_move_each_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMICODE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "x"))
    assert paths.data_dir() == tmp_path / "d"
    assert paths.cache_dir() == tmp_path / "c"
    assert paths.config_dir() == tmp_path / "x" / "kimicode"


def test_every_user_lands_in_the_folder_paths_gives(home: Path, repo: Path) -> None:
    config, data, cache = paths.config_dir(), paths.data_dir(), paths.cache_dir()
    assert user_config_path() == config / "config.toml"
    assert user_mcp_path() == config / "mcp.json"
    assert SessionStore().root == data / "sessions"
    assert CheckpointStore(repo).store.parent == data / "checkpoints"
    assert cache_path(repo).parent == cache / "repomap"
    assert cache in manifest.worktree_path(repo, "run1", "a").parents
    assert cache in manifest.runs_dir(repo).parents
