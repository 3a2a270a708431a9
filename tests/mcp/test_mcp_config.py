"""Which servers `mcp.json` files configure: user and project, merged."""

from __future__ import annotations

from pathlib import Path

from mcp_helpers import write_mcp_json

from kimicode.mcp.config import load_mcp_config, project_mcp_path, user_mcp_path


def test_project_entries_override_user_entries_of_the_same_name(tmp_path: Path) -> None:
    user = write_mcp_json(
        user_mcp_path(),
        {
            "shared": {"command": "user-cmd", "args": ["--a"]},
            "only-user": {"url": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "k"}},
        },
    )
    project = write_mcp_json(
        project_mcp_path(tmp_path),
        {
            "shared": {"command": "project-cmd", "env": {"DEBUG": "1"}},
            "docs": {"type": "http", "url": "http://localhost:8/mcp"},
        },
    )

    config = load_mcp_config(tmp_path)

    assert sorted(config.servers) == ["docs", "only-user", "shared"]
    shared = config.servers["shared"]
    assert (shared.command, shared.args, dict(shared.env)) == ("project-cmd", (), {"DEBUG": "1"})
    assert shared.source == project
    assert config.servers["only-user"].transport == "http"
    assert dict(config.servers["only-user"].headers) == {"X-Key": "k"}
    assert config.servers["only-user"].source == user
    assert config.servers["docs"].transport == "http"
    assert config.problems == []


def test_user_file_honours_xdg_config_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    write_mcp_json(tmp_path / "xdg" / "kimicode" / "mcp.json", {"s": {"command": "srv"}})

    assert list(load_mcp_config(tmp_path / "project").servers) == ["s"]


def test_streamable_http_type_and_variable_expansion(tmp_path: Path) -> None:
    write_mcp_json(
        project_mcp_path(tmp_path),
        {
            "api": {
                "type": "streamable-http",
                "url": "${API_URL:-http://127.0.0.1:1/mcp}",
                "headers": {"Authorization": "Bearer ${API_TOKEN}"},
            },
            "local": {"command": "${TOOLS}/srv", "args": ["--port", 3]},
        },
    )

    config = load_mcp_config(tmp_path, env={"API_TOKEN": "s3cret", "TOOLS": "/opt/tools"})

    api = config.servers["api"]
    assert (api.transport, api.url) == ("http", "http://127.0.0.1:1/mcp")
    assert api.headers["Authorization"] == "Bearer s3cret"
    assert config.servers["local"].command == "/opt/tools/srv"
    assert config.servers["local"].args == ("--port", "3")


def test_broken_files_and_entries_are_reported_not_fatal(tmp_path: Path) -> None:
    user_mcp_path().parent.mkdir(parents=True)
    user_mcp_path().write_text("{not json", encoding="utf-8")
    write_mcp_json(
        project_mcp_path(tmp_path),
        {
            "good": {"command": "srv"},
            "nothing": {"args": ["x"]},
            "old": {"type": "sse", "url": "http://127.0.0.1:1/sse"},
            "ftp": {"url": "ftp://example.com"},
        },
    )

    config = load_mcp_config(tmp_path)

    assert list(config.servers) == ["good"]
    text = "\n".join(config.problems)
    assert "not valid JSON" in text
    assert "'nothing'" in text and "`command`" in text
    assert "'old'" in text and "sse" in text
    assert "'ftp'" in text


def test_a_project_can_disable_a_user_server(tmp_path: Path) -> None:
    write_mcp_json(user_mcp_path(), {"github": {"command": "gh-mcp"}, "keep": {"command": "k"}})
    write_mcp_json(project_mcp_path(tmp_path), {"github": {"command": "gh-mcp", "disabled": True}})

    assert list(load_mcp_config(tmp_path).servers) == ["keep"]


def test_no_files_means_no_servers(tmp_path: Path) -> None:
    config = load_mcp_config(tmp_path)
    assert config.servers == {} and config.problems == [] and config.files == []
