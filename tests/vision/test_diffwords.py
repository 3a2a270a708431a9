"""Regions in words: named after the element under them, with colours and text."""

from __future__ import annotations

from PIL import Image

from kimicode.vision.diffwords import describe, parse_elements, summary
from kimicode.vision.imagediff import compare_images

LAYOUT = [
    {"sel": "body", "text": "Hello", "x": 0, "y": 0, "w": 320, "h": 200, "parent": -1},
    {"sel": "header.hero", "text": "Hello  world", "x": 0, "y": 0, "w": 320, "h": 80,
     "parent": 0},
    {"sel": "section.cta", "text": "", "x": 0, "y": 80, "w": 320, "h": 120, "parent": 0},
]  # fmt: skip


def _pair() -> tuple[Image.Image, Image.Image]:
    reference = Image.new("RGB", (320, 200), "white")
    reference.paste((30, 58, 138), (0, 0, 320, 80))
    reference.paste((220, 38, 38), (40, 120, 120, 160))  # the button
    render = Image.new("RGB", (320, 200), "white")
    render.paste((190, 24, 93), (0, 0, 320, 80))
    return render, reference


def test_each_region_names_its_element_colours_and_text():
    render, reference = _pair()
    lines = describe(compare_images(render, reference), parse_elements(LAYOUT))
    assert lines[0] == (
        'header.hero at 0,0 320x80: reference #1E3A8A, render #BE185D; text "Hello world"'
    )
    assert lines[1].startswith("inside section.cta at 32,112 ")
    assert lines[1].endswith(": reference #DC2626, render #FFFFFF")


def test_a_hostile_layout_is_dropped_not_trusted():
    render, reference = _pair()
    hostile = [{"sel": "x"}, "nope", {"sel": "[red]", "text": 1, "x": "a", "y": 0, "w": 1}]
    assert parse_elements(hostile) == []
    assert parse_elements({"not": "a list"}) == []
    text = summary(compare_images(render, reference), [])
    assert "region at 0,0 320x80: reference #1E3A8A, render #BE185D" in text
