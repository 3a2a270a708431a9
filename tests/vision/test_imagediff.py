"""The difference score: 0 for the same image, high for a very different one."""

from __future__ import annotations

from PIL import Image

from kimicode.vision.imagediff import compare_images


def test_same_image_scores_zero():
    img = Image.effect_noise((120, 80), 50).convert("RGB")
    diff = compare_images(img, img.copy())
    assert diff.score == 0.0
    assert diff.changed_share == 0.0


def test_opposite_images_score_high_and_the_heat_map_is_red():
    white = Image.new("RGB", (100, 100), (255, 255, 255))
    black = Image.new("RGB", (100, 100), (0, 0, 0))
    diff = compare_images(black, white)
    assert diff.score > 0.95
    assert diff.heatmap.getpixel((50, 50))[0] == 255


def test_small_wrong_element_counts_and_sizes_are_matched():
    reference = Image.new("RGB", (200, 100), (255, 255, 255))
    render = Image.new("RGB", (400, 200), (255, 255, 255))
    render.paste((0, 0, 255), (0, 0, 200, 40))  # a tenth of the area differs
    diff = compare_images(render, reference)
    assert 0.05 < diff.score < 0.2
    assert diff.heatmap.size == (200, 100)
    assert diff.heatmap.getpixel((10, 10)) == (255, 0, 0)
    assert diff.heatmap.getpixel((150, 80))[1] > 0  # unchanged parts stay grey


def _page(shift: int = 0, block: tuple[int, int, int] | None = (30, 58, 138)) -> Image.Image:
    """White with black text-like strokes and a coloured block, optionally shifted."""
    img = Image.new("RGB", (320, 200), (255, 255, 255))
    for x in range(20, 300, 6):
        img.paste((0, 0, 0), (x + shift, 150 + shift, x + 2 + shift, 170 + shift))
    if block:
        img.paste(block, (40 + shift, 20 + shift, 200 + shift, 100 + shift))
    return img


def test_a_one_pixel_shift_is_forgiven_but_not_by_the_strict_score():
    diff = compare_images(_page(shift=1), _page())
    assert diff.score < 0.005 < diff.pixel_score
    assert diff.regions == []
    assert diff.ssim > 0.8


def test_a_wrong_colour_is_one_region_with_both_colours():
    diff = compare_images(_page(block=(190, 24, 93)), _page())
    assert diff.score > 0.05 and diff.ssim < 0.99
    [region] = diff.regions
    assert (region.x, region.y) == (32, 16) and region.width >= 160 and region.height >= 80
    assert (region.reference_colour, region.render_colour) == ("#1E3A8A", "#BE185D")


def test_another_aspect_ratio_compares_the_overlap_and_says_so():
    reference = _page()
    taller = Image.new("RGB", (320, 260), (255, 255, 255))
    taller.paste(reference, (0, 0))
    diff = compare_images(taller, reference)
    assert diff.score == 0.0
    assert diff.note is not None and "different aspect ratios" in diff.note
    assert "longer by 60 px" in diff.note
