from __future__ import annotations

import io
from pathlib import Path

import pytest
from tool_helpers import call, make_ctx

from kimicode.errors import ToolError
from kimicode.tools.read_file import ReadFile


async def test_lines_are_numbered(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import os\n\ndef f():\n    return 1\n")
    result = await call(ReadFile(), make_ctx(tmp_path), path="a.py")
    assert result.text == "     1\timport os\n     2\t\n     3\tdef f():\n     4\t    return 1"
    assert not result.is_error


async def test_offset_and_limit_pick_a_window_and_say_what_remains(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    result = await call(ReadFile(), make_ctx(tmp_path), path="n.txt", offset=10, limit=3)
    rows = result.text.splitlines()
    assert rows[:3] == ["    10\tline 10", "    11\tline 11", "    12\tline 12"]
    assert "88 more lines" in rows[3]
    assert "offset=13" in rows[3]


async def test_default_limit_is_2000_lines(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x\n" * 2500)
    result = await call(ReadFile(), make_ctx(tmp_path), path="big.txt")
    rows = result.text.splitlines()
    assert rows[1999] == "  2000\tx"
    assert "500 more lines" in rows[2000]


async def test_very_long_lines_are_cut_with_a_marker(tmp_path: Path) -> None:
    (tmp_path / "min.js").write_text("a" * 5000 + "\nshort\n")
    result = await call(ReadFile(), make_ctx(tmp_path), path="min.js")
    first, second = result.text.splitlines()
    assert first.startswith("     1\t" + "a" * 2000)
    assert "3000 more characters" in first
    assert second == "     2\tshort"


async def test_offset_past_the_end_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    with pytest.raises(ToolError, match="has 2 lines"):
        await call(ReadFile(), make_ctx(tmp_path), path="a.txt", offset=5)


async def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    result = await call(ReadFile(), make_ctx(tmp_path), path="empty.txt")
    assert "empty" in result.text
    with pytest.raises(ToolError, match=r"nope\.txt does not exist"):
        await call(ReadFile(), make_ctx(tmp_path), path="nope.txt")


@pytest.mark.parametrize("data", [b"\x7fELF\x00\x01\x02", b"caf\xe9 au lait\n"])
async def test_binary_files_are_refused_by_name(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "blob.bin").write_bytes(data)
    with pytest.raises(ToolError, match=r"blob\.bin is a binary file"):
        await call(ReadFile(), make_ctx(tmp_path), path="blob.bin")


async def test_crlf_lines_are_shown_without_carriage_returns(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\n")
    result = await call(ReadFile(), make_ctx(tmp_path), path="w.txt")
    assert result.text == "     1\tone\n     2\ttwo"


async def test_images_come_back_as_image_parts(tmp_path: Path) -> None:
    try:
        import kimicode.vision.images  # noqa: F401
    except ImportError:
        pytest.skip("kimicode.vision.images is not available in this tree")
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, format="PNG")
    (tmp_path / "shot.png").write_bytes(buf.getvalue())
    result = await call(ReadFile(), make_ctx(tmp_path), path="shot.png")
    assert len(result.images) == 1
    part = result.images[0]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/")
    assert "shot.png" in result.text


async def test_images_are_refused_when_the_model_takes_none(tmp_path: Path) -> None:
    (tmp_path / "shot.png").write_bytes(b"\x89PNG\r\n")
    ctx = make_ctx(tmp_path)
    ctx.settings.model.vision = False
    with pytest.raises(ToolError, match="does not take images"):
        await call(ReadFile(), ctx, path="shot.png")
