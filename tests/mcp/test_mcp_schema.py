"""What the model sees of an MCP tool: its own schema under our endpoint rules, a safe name."""

from __future__ import annotations

import re

from kimicode.mcp.schema import model_schema
from kimicode.mcp.tool import tool_name


def test_refs_are_inlined_and_every_property_gets_a_type() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "title": "CreateArgs",
        "properties": {
            "title": {"title": "Title", "description": "the issue title"},
            "default": {"enum": ["a", "b"]},
            "owner": {"$ref": "#/$defs/User"},
            "due": {
                "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                "default": None,
            },
            "count": {"type": ["integer", "null"]},
        },
        "required": ["title"],
        "$defs": {"User": {"type": "object", "properties": {"login": {"description": "name"}}}},
    }

    out = model_schema(schema)

    assert "$defs" not in out and "$schema" not in out and "title" not in out
    props = out["properties"]
    assert list(props) == ["title", "default", "owner", "due", "count"]
    assert props["title"] == {"description": "the issue title", "type": "string"}
    assert props["default"] == {"enum": ["a", "b"], "type": "string"}
    assert props["owner"] == {
        "type": "object",
        "properties": {"login": {"description": "name", "type": "string"}},
    }
    assert props["due"] == {"type": "string", "format": "date"}
    assert props["count"] == {"type": "integer"}
    assert out["required"] == ["title"]


def test_a_recursive_schema_ends_and_a_missing_schema_is_an_empty_object() -> None:
    tree = {
        "type": "object",
        "properties": {"node": {"$ref": "#/definitions/Node"}},
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}
                },
            }
        },
    }
    out = model_schema(tree)
    assert out["properties"]["node"]["properties"]["children"]["type"] == "array"
    assert model_schema(None) == {"type": "object", "properties": {}}


def test_tool_names_are_sanitised_short_and_unique() -> None:
    assert tool_name("github", "create_issue") == "mcp__github__create_issue"
    assert tool_name("my server", "do.thing/now") == "mcp__my_server__do_thing_now"
    long = tool_name("a-very-long-server-name-indeed", "and_an_even_longer_tool_name_that_goes_on")
    assert len(long) <= 64 and long.startswith("mcp__a-very-long-server-name-indeed__")
    first = tool_name("s", "x.y")
    second = tool_name("s", "x_y", taken={first})
    assert first != second
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", n) for n in (long, first, second))
