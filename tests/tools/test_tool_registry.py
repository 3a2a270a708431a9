from __future__ import annotations

from typing import Any

import pytest

from kimicode.tools.read_file import ReadFile
from kimicode.tools.registry import ToolSet, core_tools

CORE = [
    "read_file",
    "write_file",
    "edit_file",
    "glob",
    "grep",
    "run_shell",
    "shell_output",
    "shell_kill",
]


def test_core_tools_are_the_public_names() -> None:
    tools = ToolSet(core_tools())
    assert tools.names == CORE
    assert tools.read_only().names == ["read_file", "glob", "grep", "shell_output"]
    assert isinstance(tools.get("read_file"), ReadFile)
    assert tools.get("spawn_agents") is None
    assert "grep" in tools and len(tools) == 8
    assert "run_shell" not in tools.without("run_shell").names


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="read_file"):
        ToolSet([ReadFile(), ReadFile()])


def _walk(node: Any, where: str):
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{where}.{name}", prop
            yield from _walk(prop, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            yield from _walk(node["items"], f"{where}[]")


@pytest.mark.parametrize("tool", core_tools(), ids=lambda t: t.name)
def test_every_schema_property_has_a_type_and_a_description(tool: Any) -> None:
    schema = tool.schema()
    fn = schema["function"]
    assert schema["type"] == "function" and fn["name"] == tool.name
    assert len(fn["description"]) > 80, "the model-facing .md is missing or empty"
    params = fn["parameters"]
    assert params["type"] == "object" and params["properties"]
    for where, prop in _walk(params, tool.name):
        assert "type" in prop, f"{where} has no type"
        assert prop.get("description"), f"{where} has no description"
    assert "$ref" not in str(params) and "$defs" not in params
