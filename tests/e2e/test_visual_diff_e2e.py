"""The visual self-check in words, through the real binary: five renders of one design
(identical, shifted by a pixel, a missing button, a wrong hero colour, a reordered
section) score in the order a person ranks them, and the words name the element."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import browser_missing, call, requests_of, script, turn
from pages import HERO, PAIRS, SIZE, WRONG_HERO, landing_page, render_design

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
]


def _check_messages(server) -> dict[int, dict[str, Any]]:
    """Round number -> the visual-check message the model received."""
    found = {}
    for body in requests_of(server):
        last = body["messages"][-1]
        if last["role"] != "user" or not isinstance(last["content"], list):
            continue
        text = last["content"][0].get("text", "")
        if m := re.match(r"Visual check, round (\d+)", text):
            found[int(m[1])] = last
    return found


def _text(message: dict[str, Any]) -> str:
    return "\n".join(p["text"] for p in message["content"] if p["type"] == "text")


def _score(text: str) -> float:
    return float(re.search(r"difference score ([\d.]+)", text)[1])


def _rounds_script(pages: list[str]) -> dict[str, Any]:
    """The model writes each page in turn and says it is done; the check follows each."""
    turns = []
    for html in pages:
        turns += [turn(tool_calls=[call("write_file", path="index.html", content=html)])]
        turns += [turn("Done.")]
    return script(("build this page", [*turns, turn("VISUAL CHECK: MATCHES")]))


def test_five_page_pairs_score_as_a_person_ranks_them_and_the_words_name_the_element(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    design = render_design(tmp_path, landing_page())
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[vision]\nself_check_rounds = 5\n")
    server = replay(_rounds_script(list(PAIRS.values())))
    res = kimicode(
        "-p", "build this page as index.html", "--yolo", "--image", str(design),
        "--output-format", "json", cwd=repo, server=server, timeout=300,
    )  # fmt: skip
    assert res.code == 0, res
    checks = _check_messages(server)
    assert sorted(checks) == [1, 2, 3, 4, 5]
    words = dict(zip(PAIRS, (_text(checks[i]) for i in range(1, 6)), strict=True))
    scores = {name: _score(text) for name, text in words.items()}
    print("\n".join(f"{n}: {s}" for n, s in scores.items()))
    ranked = sorted(PAIRS, key=scores.__getitem__)
    assert ranked[:3] == ["identical", "shifted by a pixel", "missing button"], scores
    assert scores["identical"] == 0.0
    assert scores["shifted by a pixel"] < 0.005  # looks the same
    assert scores["missing button"] > 2 * scores["shifted by a pixel"]
    assert min(scores["wrong hero colour"], scores["reordered section"]) > 0.1
    assert "no region differs" in words["identical"]
    assert "no region differs" in words["shifted by a pixel"]
    assert re.search(r"inside section\.cta at \d+,\d+ \d+x\d+: reference #DC2626, render #FFFFFF",
                     words["missing button"])  # fmt: skip
    assert re.search(rf"header\.hero at 0,0 800x\d+: reference {HERO}, render {WRONG_HERO}",
                     words["wrong hero colour"])  # fmt: skip
    reordered = re.search(r"\n  (.*covering.*)", words["reordered section"])[1]
    assert "section.pricing" in reordered and "section.features" in reordered
    assert "header.hero" not in reordered
    assert all(len(_images(checks[i])) == 3 for i in checks)  # design, page, heat map


def _images(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in message["content"] if p["type"] == "image_url"]


def test_without_vision_the_check_still_runs_and_sends_only_the_words(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    design = render_design(tmp_path, landing_page())
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[model]\nvision = false\n")
    pages = [PAIRS["wrong hero colour"], PAIRS["identical"]]
    server = replay(_rounds_script(pages))
    res = kimicode(
        "-p", "build this page as index.html", "--yolo", "--visual-check",
        "--image", str(design), "--output-format", "json", cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    assert res.json()["result"] == "VISUAL CHECK: MATCHES"
    bodies = requests_of(server)
    assert all(
        part["type"] == "text"
        for body in bodies
        for message in body["messages"]
        if isinstance(message.get("content"), list)
        for part in message["content"]
    ), "no image reaches a model without vision"
    assert "is not shown to you" in bodies[0]["messages"][1]["content"]
    checks = _check_messages(server)
    first, second = _text(checks[1]), _text(checks[2])
    assert "no images: the model is configured without vision" in first
    assert "header.hero at 0,0 800x" in first and f"render {WRONG_HERO}" in first
    assert _score(second) == 0.0 and "no region differs" in second


def test_a_reference_of_another_aspect_ratio_is_compared_where_both_overlap(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    from PIL import Image

    design = render_design(tmp_path, landing_page())
    tall = Image.new("RGB", (SIZE[0], SIZE[1] + 300), "white")
    tall.paste(Image.open(design), (0, 0))
    tall.save(repo / "tall.png")
    (repo / "index.html").write_text(landing_page())
    server = replay(
        script(
            (
                "compare",
                [
                    turn(tool_calls=[call("render_page", target="index.html",
                                          viewport="800x600", reference_image="tall.png")]),
                    turn("Compared."),
                ],
            )
        )
    )  # fmt: skip
    res = kimicode("-p", "compare the page", cwd=repo, server=server)
    assert res.code == 0, res
    text = next(m for m in requests_of(server)[-1]["messages"] if m["role"] == "tool")["content"]
    assert "different aspect ratios" in text and "compared the top 800x600" in text, text
    assert "shorter than the reference by 300 px" in text
    assert "difference score 0.000" in text  # the part both cover is the same page
