"""render_page as the model calls it: screenshot part, problems, diff score, heat map."""

from __future__ import annotations

import io

import pytest
import pytest_asyncio
from helpers import browser_missing
from PIL import Image

from kimicode.config import Settings
from kimicode.errors import ToolError
from kimicode.tools.base import ToolContext, ToolServices
from kimicode.tools.render_page import RenderPage, RenderPageParams
from kimicode.tools.workspace import Workspace
from kimicode.vision.browser import close_browser
from kimicode.vision.images import part_bytes
from kimicode.vision.static_server import stop_servers

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
needs_browser = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


@pytest_asyncio.fixture(scope="module", loop_scope="module", autouse=True)
async def _browser_closed_at_end():
    yield
    await close_browser()
    await stop_servers()


PAGE = """<!doctype html><title>Shop</title><style>body{margin:0;background:#fff}
#hero{height:200px;background:#123456}</style><div id="hero"></div><p>Buy things</p>"""


def context(tmp_path, **model) -> ToolContext:
    (tmp_path / "index.html").write_text(PAGE)
    settings = Settings()
    for key, value in model.items():
        setattr(settings.model, key, value)
    services = ToolServices(
        workspace=Workspace(tmp_path),
        settings=settings,
        emit=lambda _e: None,
        session_dir=tmp_path / "session",
    )
    return ToolContext(services, call_id="call1")


def png_of(part: dict) -> Image.Image:
    mime, data = part_bytes(part)
    assert mime == "image/png"
    return Image.open(io.BytesIO(data))


@needs_browser
async def test_screenshot_comes_back_as_an_image_of_the_viewport(tmp_path):
    ctx = context(tmp_path)
    result = await RenderPage().run(RenderPageParams(target="index.html", viewport="800x600"), ctx)
    assert not result.is_error
    assert "title: Shop" in result.text
    assert "no console messages, page errors or failed requests" in result.text
    shot = png_of(result.images[0])
    assert shot.size == (800, 600)
    assert shot.convert("RGB").getpixel((5, 5)) == (0x12, 0x34, 0x56)


@needs_browser
async def test_reference_image_gives_a_score_and_a_heat_map(tmp_path):
    ctx = context(tmp_path)
    first = await RenderPage().run(RenderPageParams(target="index.html"), ctx)
    png_of(first.images[0]).save(tmp_path / "same.png")
    Image.new("RGB", (1280, 800), (255, 0, 255)).save(tmp_path / "other.png")

    same = await RenderPage().run(
        RenderPageParams(target="index.html", reference_image="same.png"), ctx
    )
    assert "score 0.000" in same.text
    other = await RenderPage().run(
        RenderPageParams(target="index.html", reference_image="other.png"), ctx
    )
    score = float(other.text.split("score ")[1].split()[0])
    assert score > 0.6
    heat_path = tmp_path / "session" / "render-diff-call1.png"
    assert str(heat_path) in other.text
    assert Image.open(heat_path).size == (1280, 800)
    assert len(other.images) == 2


@needs_browser
async def test_recording_returns_frames_with_times(tmp_path):
    ctx = context(tmp_path)
    ctx.settings.vision.video_fps = 2.0
    params = RenderPageParams(target="index.html", record_video=True, video_seconds=1.0)
    result = await RenderPage().run(params, ctx)
    assert "recording: 2 frames" in result.text
    assert "at 0 s, 0.5 s" in result.text
    assert len(result.images) == 3


@needs_browser
async def test_model_without_vision_gets_the_text_only(tmp_path):
    ctx = context(tmp_path, vision=False)
    result = await RenderPage().run(RenderPageParams(target="index.html"), ctx)
    assert result.images == []
    assert "configured without vision" in result.text


async def test_other_hosts_are_refused_before_any_browser_starts(tmp_path):
    ctx = context(tmp_path)
    with pytest.raises(ToolError, match="only opens pages on this machine"):
        await RenderPage().run(RenderPageParams(target="http://example.com/"), ctx)


async def test_schema_lists_the_arguments():
    props = RenderPage().schema()["function"]["parameters"]["properties"]
    assert {"target", "viewport", "actions", "reference_image", "full_page"} <= set(props)
    assert props["actions"]["items"]["properties"]["action"]["type"] == "string"
    assert RenderPage.read_only
