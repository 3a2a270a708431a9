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
