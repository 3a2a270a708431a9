"""The visual self-check round: kept screenshot, score, errors and the message parts."""

from __future__ import annotations

import io

import pytest
import pytest_asyncio
from helpers import browser_missing
from PIL import Image

from kimicode.config import VisionSettings
from kimicode.tools.workspace import Workspace
from kimicode.vision.browser import close_browser
from kimicode.vision.images import part_bytes
from kimicode.vision.selfcheck import (
    MATCH_MARKER,
    find_page_target,
    is_match,
    should_self_check,
    visual_check,
)
from kimicode.vision.static_server import stop_servers

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", autouse=True)
async def _browser_closed_at_end():
    yield
    await close_browser()
    await stop_servers()


async def test_self_check_is_on_for_frontend_work_from_media():
    assert should_self_check(["src/app.tsx", "README.md"], had_media=True, setting=None)
    assert should_self_check(["styles/site.css"], had_media=True, setting=None)
    assert not should_self_check(["src/app.py"], had_media=True, setting=None)
    assert not should_self_check(["index.html"], had_media=False, setting=None)
    assert should_self_check(["index.html"], had_media=False, setting=True)
    assert not should_self_check(["index.html"], had_media=True, setting=False)


async def test_page_target_prefers_index_html(tmp_path):
    ws = Workspace(tmp_path)
    assert find_page_target(["about.html", "site/index.html", "a.css"], ws) == "site/index.html"
    assert find_page_target(["about.html", "b.html"], ws) == "about.html"
    assert find_page_target(["a.css"], ws) is None
    (tmp_path / "index.html").write_text("<p>x</p>")
    assert find_page_target(["a.css"], ws) == "index.html"


async def test_match_marker_is_recognised():
    assert is_match(f"All good.\n{MATCH_MARKER}")
    assert not is_match("I fixed the header colour.")


@pytest.mark.browser
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
async def test_a_round_keeps_the_screenshot_and_compares_with_the_design(tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>Hi</title><style>body{margin:0;background:#0a0}</style>"
        "<script>console.error('oops')</script>"
    )
    design = tmp_path / "design.png"
    Image.new("RGB", (600, 400), (0, 170, 0)).save(design)
    out = tmp_path / "session"
    result = await visual_check(Workspace(tmp_path), "index.html", design, VisionSettings(), out, 2)
    assert result.screenshot_path == out / "selfcheck-2.png"
    assert Image.open(result.screenshot_path).size == (600, 400)
    assert result.score is not None and result.score < 0.01
    assert any("oops" in e for e in result.errors)
    assert result.heatmap_path is not None and result.heatmap_path.is_file()
    text = result.parts[0]["text"]
    assert "round 2" in text and MATCH_MARKER in text and "oops" in text
    images = [p for p in result.parts if p["type"] == "image_url"]
    assert len(images) == 3  # design, page, heat map
    _, page_png = part_bytes(images[1])
    assert Image.open(io.BytesIO(page_png)).size == (600, 400)
