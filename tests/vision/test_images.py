"""Images reach the model upright, small enough, and broken files give a clear error."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from kimicode.config import ModelSettings, VisionSettings
from kimicode.errors import ToolError
from kimicode.vision.images import (
    ensure_vision,
    image_part_from_bytes,
    image_part_from_path,
    part_bytes,
)


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def decoded(part: dict) -> Image.Image:
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/")
    _, data = part_bytes(part)
    return Image.open(io.BytesIO(data))


def test_small_png_is_sent_as_png_unchanged():
    data = encode(Image.new("RGB", (40, 30), (0, 128, 255)), "PNG")
    part = image_part_from_bytes(data, "a.png", VisionSettings())
    assert part_bytes(part) == ("image/png", data)


def test_exif_orientation_is_applied():
    # A 60x20 landscape whose EXIF says "rotate 90 CW to display": it shows as 20x60.
    img = Image.new("RGB", (60, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 10, 20))  # blue on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(img, "JPEG", exif=exif, quality=95)
    shown = decoded(image_part_from_bytes(data, "photo.jpg", VisionSettings()))
    assert shown.size == (20, 60)
    r, _, b = shown.convert("RGB").getpixel((10, 3))  # the left edge is now the top
    assert b > 200 and r < 60


def test_longest_side_is_downscaled_to_max_side():
    data = encode(Image.new("RGB", (3000, 1500), (10, 200, 10)), "PNG")
    shown = decoded(image_part_from_bytes(data, "wide.png", VisionSettings(max_side=1000)))
    assert shown.size == (1000, 500)


def test_bytes_are_capped_by_reencoding_as_jpeg():
    noise = Image.effect_noise((800, 800), 100).convert("RGB")
    data = encode(noise, "PNG")
    assert len(data) > 300_000
    part = image_part_from_bytes(data, "noise.png", VisionSettings(max_bytes=60_000))
    mime, out = part_bytes(part)
    assert mime == "image/jpeg"
    assert len(out) <= 60_000
    assert Image.open(io.BytesIO(out)).format == "JPEG"


def test_webp_is_converted():
    data = encode(Image.new("RGBA", (50, 50), (0, 255, 0, 255)), "WEBP", lossless=True)
    part = image_part_from_bytes(data, "x.webp", VisionSettings())
    mime, _ = part_bytes(part)
    assert mime == "image/png"
    assert decoded(part).convert("RGB").getpixel((25, 25)) == (0, 255, 0)


def test_gif_sends_its_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200)
    shown = decoded(image_part_from_bytes(data, "anim.gif", VisionSettings()))
    r, _, b = shown.convert("RGB").getpixel((16, 16))
    assert r > 200 and b < 50


def test_corrupt_file_is_a_clear_tool_error(tmp_path):
    path = tmp_path / "broken.png"
    good = encode(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")
    path.write_bytes(good[:60])
    with pytest.raises(ToolError, match=r"broken\.png is corrupt or truncated"):
        image_part_from_path(path, VisionSettings())
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ToolError, match="not an image kimicode can read"):
        image_part_from_path(tmp_path / "notes.png", VisionSettings())


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused():
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")
    with pytest.raises(ToolError, match="10000x10000 pixels"):
        image_part_from_bytes(data, "bomb.png", VisionSettings())


def test_model_without_vision_gets_a_clear_error():
    ensure_vision(ModelSettings())
    with pytest.raises(ToolError, match=r"model text-only is configured without vision"):
        ensure_vision(ModelSettings(name="text-only", vision=False))
