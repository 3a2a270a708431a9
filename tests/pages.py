"""Page pairs made in the tests: a landing page and the ways a render of it goes wrong."""

from __future__ import annotations

from pathlib import Path

SIZE = (800, 600)
"""The design's size, and so the viewport the self-check renders at."""
HERO, WRONG_HERO = "#1E3A8A", "#BE185D"

_FEATURES = (
    "<section class='features' style='height:110px;padding:16px 40px;background:#F3F4F6'>"
    "<h2 style='margin:0 0 8px'>Features</h2><p style='margin:0'>Fast builds, typed APIs "
    "and previews for every branch.</p></section>"
)
_PRICING = (
    "<section class='pricing' style='height:110px;padding:16px 40px;background:#FEF3C7'>"
    "<h2 style='margin:0 0 8px'>Pricing</h2><p style='margin:0'>Free for small teams, "
    "$12 a seat after that.</p></section>"
)
_BUTTON = (
    "<button id='signup' style='font:inherit;font-size:18px;padding:12px 28px;border:0;"
    "border-radius:6px;background:#DC2626;color:#fff'>Sign up</button>"
)


def landing_page(
    *,
    hero: str = HERO,
    shift: int = 0,
    button: bool = True,
    reorder: bool = False,
) -> str:
    """The page; the keyword arguments are the ways a render can differ from the design."""
    sections = _PRICING + _FEATURES if reorder else _FEATURES + _PRICING
    return (
        "<!doctype html><html><head><title>Landing</title></head>"
        "<body style='margin:0;font-family:DejaVu Sans,sans-serif;font-size:16px;"
        f"padding-top:{shift}px'>"
        f"<header class='hero' style='height:140px;padding:30px 40px;background:{hero};"
        "color:#fff'><h1 style='margin:0 0 12px;font-size:40px'>Ship faster</h1>"
        "<p style='margin:0'>The build platform for teams who deploy every day.</p></header>"
        f"<main>{sections}<section class='cta' style='height:60px;padding:20px 40px'>"
        f"{_BUTTON if button else ''}</section></main></body></html>"
    )


PAIRS = {
    "identical": landing_page(),
    "shifted by a pixel": landing_page(shift=1),
    "missing button": landing_page(button=False),
    "wrong hero colour": landing_page(hero=WRONG_HERO),
    "reordered section": landing_page(reorder=True),
}
"""Each render of the design (`landing_page()`), in the order a person ranks them."""


def render_design(folder: Path, html: str, name: str = "design") -> Path:
    """`html` rendered in the real Chromium at SIZE and saved as `folder/<name>.png`: the
    design a test compares renders with (blocking; the browser is closed after)."""
    import asyncio

    from kimicode.vision.page_options import Viewport
    from kimicode.vision.render import render
    from kimicode.vision.shutdown import close_all
    from kimicode.vision.static_server import server_for

    page = folder / f"{name}.html"
    page.write_text(html)

    async def shoot() -> bytes:
        try:
            server = await server_for(folder)
            return (await render(server.url_for(page.name), Viewport(*SIZE))).png
        finally:
            await close_all()

    png = folder / f"{name}.png"
    png.write_bytes(asyncio.run(shoot()))
    return png
