"""A real stdio MCP server's tools, offered and called as ours."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp_helpers import call, stdio_entry, write_mcp_json
from PIL import Image
from pydantic import ValidationError

from kimicode.config import PermissionSettings, Settings
from kimicode.mcp.config import project_mcp_path
from kimicode.mcp.manager import McpManager
from kimicode.tools.registry import ToolSet, core_tools
from kimicode.trust.rules import PermissionRules

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def echo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[McpManager, Path]]:
    """One echo server for the whole module (starting one costs about a second)."""
    project = tmp_path_factory.mktemp("project")
    write_mcp_json(project_mcp_path(project), {"echo": stdio_entry()})
    warnings: list[str] = []
    manager = McpManager(start_timeout=20, call_timeout=20, on_warning=warnings.append)
    await manager.start(Settings(project_dir=project))
    assert warnings == []
    yield manager, project
    await manager.aclose()


def by_name(manager: McpManager) -> dict[str, Any]:
    return {tool.name: tool for tool in manager.tools}


async def test_tools_appear_as_mcp_server_tool_with_the_servers_schema(echo) -> None:
    manager, _ = echo
    tools = by_name(manager)

    assert {
        "mcp__echo__echo",
        "mcp__echo__add",
        "mcp__echo__pixel",
        "mcp__echo__make-issue",
    } <= set(tools)
    function = tools["mcp__echo__echo"].schema()["function"]
    assert function["name"] == "mcp__echo__echo"
    assert function["description"].startswith("Repeat the text.")
    params = function["parameters"]
    assert params["type"] == "object"
    assert params["required"] == ["text"]
    assert params["properties"]["text"]["type"] == "string"
    assert params["properties"]["times"] == {"default": 1, "type": "integer"}
    assert all(not tool.read_only for tool in tools.values())
    # The tools sit in a ToolSet next to the built-in ones.
    assert "mcp__echo__add" in ToolSet([*core_tools(), *manager.tools])


async def test_a_property_named_title_and_an_optional_list_survive(echo) -> None:
    manager, _ = echo
    params = by_name(manager)["mcp__echo__make-issue"].schema()["function"]["parameters"]

    assert set(params["properties"]) == {"title", "labels"}
    assert params["properties"]["title"]["type"] == "string"
    assert params["properties"]["labels"] == {"items": {"type": "string"}, "type": "array"}
    assert params["required"] == ["title"]


async def test_a_call_returns_the_servers_text(echo) -> None:
    manager, project = echo
    tools = by_name(manager)

    result = await call(tools["mcp__echo__echo"], project, text="hi", times=3)
    assert (result.text, result.is_error) == ("hi hi hi", False)
    assert (await call(tools["mcp__echo__add"], project, a=2, b=40)).text == "42"


async def test_missing_required_arguments_are_refused_before_the_call(echo) -> None:
    manager, _ = echo
    with pytest.raises(ValidationError, match="missing required argument"):
        by_name(manager)["mcp__echo__add"].Params.model_validate({"a": 1})


async def test_an_image_result_arrives_as_an_image_part(echo) -> None:
    manager, project = echo
    result = await call(by_name(manager)["mcp__echo__pixel"], project)

    assert not result.is_error
    [part] = result.images
    assert part["type"] == "image_url"
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image.size == (1, 1)
    assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


async def test_a_tool_error_is_an_error_result_and_the_server_stays(echo) -> None:
    manager, project = echo
    tools = by_name(manager)

    failed = await call(tools["mcp__echo__fail"], project, reason="the disk is full")
    assert failed.is_error
    assert "the disk is full" in failed.text
    wrong = await call(tools["mcp__echo__add"], project, a="not a number", b=1)
    assert wrong.is_error
    assert (await call(tools["mcp__echo__echo"], project, text="still here")).text == "still here"
    assert "mcp__echo__fail" in by_name(manager)


async def test_permission_rules_match_mcp_tool_names(echo, tmp_path: Path) -> None:
    manager, _ = echo
    rules = PermissionRules(
        PermissionSettings(deny=["mcp__echo__fail"], allow=["mcp__echo__*"]), tmp_path
    )
    names = by_name(manager)

    assert (
        rules.evaluate("mcp__echo__fail", {"reason": "x"}, tmp_path, mode="yolo").verdict == "deny"
    )
    assert (
        rules.evaluate("mcp__echo__echo", {"text": "x"}, tmp_path, mode="default").verdict
        == "allow"
    )
    default = PermissionRules(PermissionSettings(), tmp_path)
    tool = names["mcp__echo__echo"]
    verdict = default.evaluate(
        tool.name, {"text": "x"}, tmp_path, mode="default", read_only=tool.read_only
    )
    assert verdict.verdict == "ask"


async def test_a_stdio_server_gets_its_env_and_not_our_keys(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KIMICODE_API_KEY", "sk-never-leaves")
    monkeypatch.setenv("DOCS_TOKEN", "t0ken")
    write_mcp_json(
        project_mcp_path(tmp_path),
        {"echo": {**stdio_entry(), "env": {"SERVICE_TOKEN": "${DOCS_TOKEN}"}}},
    )
    async with McpManager(start_timeout=20, call_timeout=20) as manager:
        await manager.start(Settings(project_dir=tmp_path))
        getenv = by_name(manager)["mcp__echo__getenv"]

        assert (await call(getenv, tmp_path, name="SERVICE_TOKEN")).text == "t0ken"
        assert (await call(getenv, tmp_path, name="KIMICODE_API_KEY")).text == "<unset>"
        assert (await call(getenv, tmp_path, name="PATH")).text != "<unset>"
