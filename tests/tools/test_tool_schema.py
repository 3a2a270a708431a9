"""Tool schemas every endpoint accepts: a type on every property, no $ref, no titles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kimicode.tools.schema import tool_schema


class Inner(BaseModel):
    x: int


class Args(BaseModel):
    title: str = Field(description="a property that happens to be called title")
    mode: Literal["a", "b"] = "a"
    inner: Inner | None = None
    items: list[Inner] = Field(default_factory=list)
    maybe: int | None = None


def test_every_property_has_a_type_and_titles_are_kept_as_properties() -> None:
    schema = tool_schema(Args)
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"title", "mode", "inner", "items", "maybe"}
    assert schema["required"] == ["title"]
    for name, prop in schema["properties"].items():
        assert "type" in prop, name
        assert "title" not in prop
    assert schema["properties"]["inner"]["properties"]["x"]["type"] == "integer"
    assert schema["properties"]["items"]["items"]["type"] == "object"
    assert schema["properties"]["maybe"]["type"] == "integer"
    assert "$ref" not in str(schema) and "$defs" not in str(schema)
