"""Turn a pydantic model into a tool-parameter JSON schema every endpoint accepts.

Moonshot (and several vLLM templates) reject properties without a `type`, and
many endpoints do not resolve `$ref`; pydantic emits both for nested models and
optionals, so the schema is flattened here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def tool_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})
    out: dict[str, Any] = _clean(raw, defs)
    out.setdefault("properties", {})
    out["type"] = "object"
    return out


def _clean(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_clean(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs)
    node = {
        k: ({n: _clean(p, defs) for n, p in v.items()} if k == "properties" else _clean(v, defs))
        for k, v in node.items()
        if k != "title"
    }
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if options is None:
            continue
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) == 1:  # Optional[X] -> X (absence already means "not given")
            node.pop(key)
            node = {**non_null[0], **node}
        elif "type" not in node:
            types = {o.get("type") for o in non_null if "type" in o}
            node["type"] = sorted(types)[0] if len(types) == 1 else "string"
    if "default" in node and node["default"] is None:
        node.pop("default")
    if "properties" in node:
        node["type"] = "object"
        for prop in node["properties"].values():
            _ensure_type(prop)
    if "items" in node:
        _ensure_type(node["items"])
    return node


def _ensure_type(prop: dict[str, Any]) -> None:
    if "type" in prop:
        return
    if "enum" in prop:
        prop["type"] = "string" if all(isinstance(v, str) for v in prop["enum"]) else "number"
    elif "properties" in prop:
        prop["type"] = "object"
    elif "items" in prop:
        prop["type"] = "array"
    else:
        prop["type"] = "string"
