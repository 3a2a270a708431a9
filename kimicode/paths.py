"""Where kimicode keeps its own files outside the project, decided in one place.

- config: `$XDG_CONFIG_HOME/kimicode`, else `~/.config/kimicode` on every
  platform (the documented place for `config.toml` and `mcp.json`);
- data: `KIMICODE_DATA_DIR`, else the platform's user data dir
  (`~/.local/share/kimicode` on Linux): sessions, checkpoints, prompt history;
- cache: `KIMICODE_CACHE_DIR`, else the platform's user cache dir
  (`~/.cache/kimicode` on Linux): the repo-map cache, swarm worktrees and run
  manifests. Everything there can be rebuilt or cleaned away.

Each is read from the environment when asked, not at import, so a test (or a
benchmark) that points a variable elsewhere moves everything that follows.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "kimicode"
DATA_ENV = "KIMICODE_DATA_DIR"
CACHE_ENV = "KIMICODE_CACHE_DIR"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP


def data_dir() -> Path:
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))
