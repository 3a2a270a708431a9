"""An MCP tool's JSON input schema, made acceptable to every chat endpoint.

The model must see the server's own schema (its property names, required
list, descriptions and enums), but under the same rules as our built-in
tools (`kimicode.tools.schema`): no `$ref`, every property has a `type`,
optionals collapsed to their one non-null type. The walk here knows which
keys are schema keywords and which are property names, so an argument that is
itself called `title` or `default` survives.
"""

from __future__ import annotations

import copy
from typing import Any

_MAX_DEPTH = 12
"""Recursive schemas (a tree node holding nodes) are cut here to a plain object."""
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "contains")
_DROP = frozenset({"title", "$schema", "$id", "$comment"})


def model_schema(input_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The function `parameters` the model sees for an MCP tool."""
    raw = copy.deepcopy(input_schema) if isinstance(input_schema, dict) else {}
    defs = {**raw.pop("definitions", {}), **raw.pop("$defs", {})}
    out: dict[str, Any] = _clean(raw, defs, 0)
    out["type"] = "object"
    out.setdefault("properties", {})
    for prop in out["properties"].values():
        _ensure_type(prop)
    return out


def required_arguments(input_schema: dict[str, Any] | None) -> tuple[str, ...]:
    required = (input_schema or {}).get("required") or []
    return tuple(name for name in required if isinstance(name, str))


def _clean(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if not isinstance(node, dict):
        return node
    if depth > _MAX_DEPTH:
        return {"type": "object"}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1], {"type": "object"})
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key == "$ref":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _clean(sub, defs, depth + 1) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_clean(sub, defs, depth + 1) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = _clean(value, defs, depth + 1)
        else:
            out[key] = value
    _collapse_optional(out)
    if out.get("default", 0) is None:
        out.pop("default")
    for prop in (out.get("properties") or {}).values():
        if isinstance(prop, dict):
            _ensure_type(prop)
    if "properties" in out:
        out["type"] = "object"
    if isinstance(out.get("items"), dict):
        _ensure_type(out["items"])
    return out


def _collapse_optional(node: dict[str, Any]) -> None:
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not isinstance(options, list):
            continue
        non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
        if len(non_null) == 1 and isinstance(non_null[0], dict):
            node.pop(key)
            for k, v in non_null[0].items():
                node.setdefault(k, v)
        elif "type" not in node:
            types = {o.get("type") for o in non_null if isinstance(o, dict) and "type" in o}
            if len(types) == 1 and isinstance(next(iter(types)), str):
                node["type"] = types.pop()
    if isinstance(node.get("type"), list):  # ["string", "null"] -> "string"
        kinds = [t for t in node["type"] if t != "null"]
        node["type"] = kinds[0] if len(kinds) == 1 else (kinds or ["string"])[0]


def _ensure_type(prop: dict[str, Any]) -> None:
    if "type" in prop:
        return
    if "enum" in prop:
        values = prop["enum"]
        prop["type"] = "string" if all(isinstance(v, str) for v in values) else "number"
    elif "const" in prop:
        prop["type"] = "string" if isinstance(prop["const"], str) else "number"
    elif "properties" in prop:
        prop["type"] = "object"
    elif "items" in prop:
        prop["type"] = "array"
    else:
        prop["type"] = "string"
