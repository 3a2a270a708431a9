"""What a render is asked to do: the viewport, the actions before the shot, the target URL.

Kept apart from the browser code so the tool can validate its arguments (and
refuse a non-local URL) before any browser starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, model_validator

from kimicode.errors import ToolError

if TYPE_CHECKING:
    from kimicode.tools.workspace import Workspace

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
ActionName = Literal["click", "fill", "hover", "scroll", "wait_for", "wait", "press"]
_ACTION_NAMES = ("click", "fill", "hover", "scroll", "wait_for", "wait", "press")


@dataclass(frozen=True, slots=True)
class Viewport:
    width: int
    height: int
    mobile: bool = False

    def context_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "viewport": {"width": self.width, "height": self.height},
            "device_scale_factor": 1,
        }
        if self.mobile:
            options.update(is_mobile=True, has_touch=True, user_agent=MOBILE_UA)
        return options


PRESETS = {
    "desktop": Viewport(1280, 800),
    "mobile": Viewport(390, 844, mobile=True),
}


def parse_viewport(spec: str | None) -> Viewport:
    """ "1280x800", "mobile" or "desktop" (the default)."""
    text = (spec or "desktop").strip().lower()
    if text in PRESETS:
        return PRESETS[text]
    match = re.fullmatch(r"(\d{2,5})\s*[x×,]\s*(\d{2,5})", text)
    if not match:
        raise ToolError(
            f"viewport {spec!r} is not WIDTHxHEIGHT (e.g. 1280x800) or a preset: "
            + ", ".join(PRESETS)
        )
    width, height = int(match[1]), int(match[2])
    if not (100 <= width <= 4096 and 100 <= height <= 4096):
        raise ToolError(f"viewport {width}x{height} is outside 100..4096 pixels per side")
    return Viewport(width, height)


class PageAction(BaseModel):
    """One step before the screenshot. Shorthand {"click": "#buy"} is accepted too."""

    action: ActionName = Field(description="What to do.")
    selector: str | None = Field(
        None, description="CSS selector (click, fill, hover, wait_for; scroll into view)."
    )
    value: str | None = Field(None, description="Text for fill; the key for press (e.g. Enter).")
    ms: int | None = Field(None, description="Milliseconds for wait (at most 10000).")
    dy: int | None = Field(
        None, description="Pixels to scroll down (negative: up) when no selector is given."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "action" in data:
            return data
        for name in _ACTION_NAMES:
            if name in data:
                rest = {k: v for k, v in data.items() if k != name}
                arg = data[name]
                if name == "wait" and isinstance(arg, int | float):
                    return {"action": name, "ms": int(arg), **rest}
                if name == "press" and "value" not in rest:
                    return {"action": name, "value": arg, **rest}
                if name == "scroll" and isinstance(arg, int | float):
                    return {"action": name, "dy": int(arg), **rest}
                return {"action": name, "selector": arg, **rest}
        return data

    def describe(self) -> str:
        detail = self.selector or self.value or (self.ms and f"{self.ms} ms") or self.dy or ""
        return f"{self.action} {detail}".strip()


def check_local_url(url: str) -> str:
    """`url` when it is an http(s) URL on this machine; other hosts are refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"{url!r}: only http://localhost URLs or workspace files can be rendered")
    host = (parts.hostname or "").lower()
    if host not in LOCAL_HOSTS:
        raise ToolError(
            f"render_page only opens pages on this machine (localhost, 127.0.0.1); "
            f"{host or url!r} is refused. Render a workspace file, or serve it locally."
        )
    return url


def is_url(target: str) -> bool:
    return "://" in target


async def resolve_target(workspace: Workspace, target: str) -> str:
    """The URL to open: a local URL as given, or a workspace file through the static server."""
    from kimicode.vision.static_server import server_for

    target = target.strip()
    if is_url(target):
        return check_local_url(target)
    path = workspace.resolve(target)
    if path.is_dir():
        path = path / "index.html"
    if not workspace.materialized:
        await workspace.prepare_shell()
    if not path.is_file():
        raise ToolError(f"{workspace.rel(path)} does not exist; write the page first")
    server = await server_for(workspace.root)
    return server.url_for(workspace.rel(path))
