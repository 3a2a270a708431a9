"""Pages render in the real Chromium with the right pixels, and their problems are reported."""

from __future__ import annotations

import asyncio
import io

import pytest
import pytest_asyncio
from helpers import browser_missing
from PIL import Image

from kimicode.errors import ToolError
from kimicode.tools.workspace import Workspace
from kimicode.vision.browser import close_browser, shared_browser
from kimicode.vision.page_options import PageAction, parse_viewport, resolve_target
from kimicode.vision.render import render
from kimicode.vision.static_server import stop_servers

pytestmark = [
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module", autouse=True)
async def _browser_closed_at_end():
    yield
    await close_browser()
    await stop_servers()


LAYOUT = """<!doctype html><html><head><title>Layout</title>
<style>body{margin:0;background:#fff}
#box{position:absolute;left:10px;top:20px;width:100px;height:50px;background:#f00}</style>
</head><body><div id="box"></div></body></html>"""


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


async def page_url(tmp_path, name: str, html: str, files: dict[str, str] | None = None) -> str:
    (tmp_path / name).write_text(html)
    for rel, content in (files or {}).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return await resolve_target(Workspace(tmp_path), name)


async def test_known_layout_has_the_right_pixels_at_the_right_places(tmp_path):
    url = await page_url(tmp_path, "index.html", LAYOUT)
    report = await render(url, parse_viewport(None))
    img = pixels(report.png)
    assert img.size == (1280, 800)
    red, white = (255, 0, 0), (255, 255, 255)
    for xy in [(10, 20), (109, 20), (10, 69), (109, 69), (60, 45)]:
        assert img.getpixel(xy) == red, xy
    for xy in [(9, 20), (110, 20), (10, 19), (10, 70), (600, 400)]:
        assert img.getpixel(xy) == white, xy
    assert report.title == "Layout"
    assert report.problems == []


async def test_console_error_page_error_and_404_are_reported(tmp_path):
    html = """<!doctype html><title>Broken</title>
    <img src="missing.png">
    <script>console.warn("careful"); console.error("boom from console");</script>
    <script>throw new Error("kaboom uncaught");</script>"""
    url = await page_url(tmp_path, "broken.html", html)
    report = await render(url, parse_viewport("640x480"))
    text = report.text()
    assert any("boom from console" in t for kind, t in report.console if kind == "error")
    assert report.console[0][0] == "error"  # errors come first
    assert any("kaboom uncaught" in e for e in report.page_errors)
    assert any("missing.png" in r and "404" in r for r in report.failed_requests)
    assert "kaboom uncaught" in text and "missing.png" in text and "[warning] careful" in text


async def test_relative_css_loads_through_the_local_server(tmp_path):
    html = '<!doctype html><link rel="stylesheet" href="css/site.css"><p>hi</p>'
    url = await page_url(tmp_path, "styled.html", html, {"css/site.css": "body{background:#00f}"})
    report = await render(url, parse_viewport("400x300"))
    assert pixels(report.png).getpixel((390, 290)) == (0, 0, 255)
    assert report.failed_requests == []


async def test_actions_run_before_the_screenshot(tmp_path):
    html = """<!doctype html><title>before</title>
    <input id="name"><button id="go" onclick="document.title = 'hello ' +
      document.getElementById('name').value;
      document.body.style.background='#00ff00'">go</button>"""
    url = await page_url(tmp_path, "form.html", html)
    actions = [
        PageAction(action="fill", selector="#name", value="Ada"),
        PageAction.model_validate({"click": "#go"}),
        PageAction.model_validate({"wait": 50}),
    ]
    report = await render(url, parse_viewport("400x300"), actions=actions)
    assert report.title == "hello Ada"
    assert pixels(report.png).getpixel((390, 290)) == (0, 255, 0)
    assert report.action_errors == []


async def test_a_failing_action_is_reported_not_fatal(tmp_path):
    url = await page_url(tmp_path, "index.html", LAYOUT)
    report = await render(url, parse_viewport("400x300"), actions=[PageAction(action="hover")])
    assert report.png
    assert report.action_errors == ["hover: hover needs a selector"]


async def test_twenty_concurrent_renders_share_one_browser(tmp_path):
    url = await page_url(tmp_path, "index.html", LAYOUT)
    await render(url, parse_viewport(None))
    launches = shared_browser().launches
    reports = await asyncio.gather(*(render(url, parse_viewport(None)) for _ in range(20)))
    assert shared_browser().launches == launches
    for report in reports:
        assert pixels(report.png).getpixel((10, 20)) == (255, 0, 0)


async def test_mobile_preset_renders_a_phone_sized_page(tmp_path):
    html = "<!doctype html><meta name=viewport content='width=device-width'><title>m</title>"
    url = await page_url(tmp_path, "m.html", html)
    report = await render(url, parse_viewport("mobile"))
    assert pixels(report.png).size == (390, 844)


async def test_non_local_urls_and_missing_files_are_refused(tmp_path):
    ws = Workspace(tmp_path)
    with pytest.raises(ToolError, match="refused"):
        await resolve_target(ws, "https://example.com/")
    with pytest.raises(ToolError, match="only http://localhost"):
        await resolve_target(ws, "file:///etc/passwd")
    with pytest.raises(ToolError, match="does not exist"):
        await resolve_target(ws, "nope.html")
    with pytest.raises(ToolError, match="outside the project root"):
        await resolve_target(ws, "../elsewhere.html")
