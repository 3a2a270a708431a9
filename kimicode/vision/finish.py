"""The visual self-check as a finish check of the agent loop.

When the agent says it is done after writing a frontend from an image or video
(or with `--visual-check`), the page is rendered and the screenshot, errors and
difference score go back to it; it fixes what differs or answers with the match
marker. At most `[vision] self_check_rounds` rounds; every screenshot is kept in
`screenshot_dir` (the session's folder) and handed to `on_screenshot`, which
lists it in the output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kimicode import events as ev

if TYPE_CHECKING:
    from kimicode.agent.outcome import FinishCheck, Finished, FollowUp
    from kimicode.config import VisionSettings


def visual_finish_check(
    settings: VisionSettings,
    had_media: bool,
    images: list[Path],
    screenshot_dir: Path,
    on_screenshot: Callable[[str], None],
    *,
    send_images: bool = True,
) -> FinishCheck:
    """`send_images`: the model takes images (`[model] vision`); without, only the words go."""
    rounds = 0
    reference = images[0] if images else None

    async def check(agent: Finished) -> FollowUp | None:
        nonlocal rounds
        from kimicode.vision.selfcheck import (
            find_page_target,
            is_match,
            should_self_check,
            visual_check,
        )

        if not should_self_check(agent.written, had_media, settings.self_check):
            return None
        if rounds and is_match(agent.final):
            return None
        if rounds >= settings.self_check_rounds:
            agent.emit(
                ev.Notice(
                    agent=agent.agent,
                    level="warning",
                    message=f"visual check: {rounds} rounds spent without a reported match",
                )
            )
            return None
        target = find_page_target(agent.written, agent.workspace)
        if target is None:
            return None
        rounds += 1
        result = await visual_check(
            agent.workspace,
            target,
            reference,
            settings,
            screenshot_dir,
            rounds,
            send_images=send_images,
        )
        on_screenshot(str(result.screenshot_path))
        score = "n/a" if result.score is None else f"{result.score:.3f}"
        agent.emit(
            ev.Notice(
                agent=agent.agent,
                level="info",
                message=f"visual check {rounds}: {result.screenshot_path} (difference {score})",
            )
        )
        return result.parts

    return check
