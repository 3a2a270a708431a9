"""How far a render is from a reference image: one score and a map of where.

Score, 0 (same) .. 1 (opposite), is the mean of two measures on RGB images of
the reference's size (the screenshot is resized to it):

- the mean absolute per-channel difference, divided by 255: overall tone;
- the share of pixels whose largest channel difference exceeds `THRESHOLD`
  (32 of 255): how much of the page differs at all, so a small but wrong
  element is not drowned by a large matching background.

The heat map is the reference dimmed to grey with the differing pixels in
red, brighter where the difference is larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageOps

THRESHOLD = 32


@dataclass(frozen=True, slots=True)
class ImageDiff:
    score: float
    mean_abs: float
    """Mean absolute difference per channel, 0..1."""
    changed_share: float
    """Share of pixels differing by more than THRESHOLD in some channel, 0..1."""
    heatmap: Image.Image


def compare_images(actual: Image.Image, reference: Image.Image) -> ImageDiff:
    ref = _rgb(reference)
    act = _rgb(actual)
    if act.size != ref.size:
        act = act.resize(ref.size, Image.Resampling.LANCZOS)
    diff = ImageChops.difference(act, ref)
    pixels = ref.width * ref.height
    histogram = diff.histogram()
    total = sum(
        value * count
        for channel in range(3)
        for value, count in enumerate(histogram[channel * 256 : channel * 256 + 256])
    )
    mean_abs = total / (pixels * 3 * 255)
    strength = _channel_max(diff)
    changed = strength.point(lambda v: 255 if v > THRESHOLD else 0)
    changed_share = changed.histogram()[255] / pixels
    score = round(min(1.0, (mean_abs + changed_share) / 2), 4)
    return ImageDiff(score, round(mean_abs, 4), round(changed_share, 4), _heatmap(ref, strength))


def _rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    rgba = img.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _channel_max(diff: Image.Image) -> Image.Image:
    r, g, b = diff.split()
    return ImageChops.lighter(ImageChops.lighter(r, g), b)


def _heatmap(reference: Image.Image, strength: Image.Image) -> Image.Image:
    base = ImageOps.grayscale(reference).point(lambda v: 96 + v // 3).convert("RGB")
    boosted = strength.point(lambda v: 0 if v <= THRESHOLD // 2 else min(255, 128 + v))
    red = Image.new("RGB", reference.size, (255, 0, 0))
    return Image.composite(red, base, boosted)
