"""The visual self-check as a finish check of the agent loop.

When the agent says it is done after writing a frontend from an image or video
(or with `--visual-check`), the page is rendered and the screenshot, errors and
difference score go back to it; it fixes what differs or answers with the match
marker. At most `[vision] self_check_rounds` rounds; every screenshot is kept in
the session's folder and listed in the output.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimicode import events as ev

if TYPE_CHECKING:
    from kimicode.agent.loop import Agent
    from kimicode.session import Session


def visual_finish_check(session: Session, had_media: bool, images: list[Path]) -> Any:
    rounds = 0
    reference = images[0] if images else None

    async def check(agent: Agent) -> list[dict[str, Any]] | None:
        nonlocal rounds
        from kimicode.vision.selfcheck import (
            find_page_target,
            is_match,
            should_self_check,
            visual_check,
        )

        settings = session.settings.vision
        if not should_self_check(agent.written, had_media, settings.self_check):
            return None
        if rounds and is_match(agent.final):
            return None
        if rounds >= settings.self_check_rounds:
            agent.emit(
                ev.Notice(
                    agent=agent.name,
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
            session.log.dir,
            rounds,
            send_images=session.settings.model.vision,
        )
        session.screenshots.append(str(result.screenshot_path))
        score = "n/a" if result.score is None else f"{result.score:.3f}"
        agent.emit(
            ev.Notice(
                agent=agent.name,
                level="info",
                message=f"visual check {rounds}: {result.screenshot_path} (difference {score})",
            )
        )
        return result.parts

    return check
