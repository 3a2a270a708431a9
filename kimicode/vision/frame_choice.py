"""Which frames of a clip to show: enough of a short one, the changes of a long one.

Decoding is `video.py`'s job; this module only decides, from the candidate
frames' times (and, when the budget is tight, tiny thumbnails of them):

- every `1/fps` seconds, plus the last frame, which is where a bug report or a
  UI recording usually ends up;
- at least `min_frames` (capped by the frames the clip has), spread evenly,
  so a 1.5-second GIF of three pictures shows all three;
- when that exceeds `max_frames`, the first and last frames and then, one by
  one, the frame least like the chosen frames around it (a cheap difference
  of thumbnails), so each new picture is shown from the moment it appears;
  evenly spread frames fill any slots a still picture leaves. The result is
  always in time order.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from PIL import Image, ImageChops, ImageStat

THUMB_SIDE = 24
"""Thumbnails this small make the difference cheap and blind to compression noise."""
STILL = 0.005
"""Mean thumbnail difference (0..1) below which two frames count as the same picture."""


def choose_frames(
    times: Sequence[float],
    *,
    fps: float,
    min_frames: int,
    max_frames: int,
    thumbs: Sequence[Image.Image] | None = None,
) -> list[int]:
    """Indices into `times` (candidate frame times, ascending) of the frames to show.

    `thumbs` (one `thumbnail` per candidate) are needed only when the regular
    picks exceed `max_frames` (see `needs_thumbs`); without them the budget
    is spread evenly.
    """
    if not times:
        return []
    picks = regular_picks(times, fps, min_frames)
    budget = max(1, max_frames)
    if len(picks) <= budget:
        return picks
    if thumbs is None:
        return spread(len(times), budget)
    return change_picks(thumbs, budget)


def needs_thumbs(times: Sequence[float], fps: float, min_frames: int, max_frames: int) -> bool:
    """True when the budget is too small for the regular picks: thumbnails are needed."""
    return len(regular_picks(times, fps, min_frames)) > max(1, max_frames)


def regular_picks(times: Sequence[float], fps: float, min_frames: int) -> list[int]:
    """The frame on screen every 1/fps seconds and the last one; at least `min_frames`."""
    last = len(times) - 1
    picks: list[int] = []
    if fps > 0:
        index = 0
        for k in range(int(times[last] * fps + 1e-9) + 1):
            target = k / fps
            while index < last and times[index + 1] <= target + 1e-6:
                index += 1
            picks.append(index)
    picks.append(last)
    picks = sorted(set(picks))
    wanted = min(max(min_frames, 1), len(times))
    if len(picks) < wanted:
        return spread(len(times), wanted)
    return picks


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` indices of `count` spread evenly, first and last included."""
    wanted = min(wanted, count)
    if wanted <= 1:
        return [0] if count else []
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)})


def change_picks(thumbs: Sequence[Image.Image], budget: int) -> list[int]:
    """First and last, then again and again the frame least like its chosen neighbours.

    A candidate's novelty is its difference from the nearest chosen frame
    before it and after it, whichever is smaller; ties go to the earlier
    frame, so a new picture is shown from the moment it appears. When no
    candidate is new any more, the frames right after the biggest changes
    come next (the moment the last picture appeared, say), then gaps in time
    are halved.
    """
    count = len(thumbs)
    if count <= budget:
        return list(range(count))
    cache: dict[tuple[int, int], float] = {}

    def diff(a: int, b: int) -> float:
        if (a, b) not in cache:
            cache[a, b] = difference(thumbs[a], thumbs[b])
        return cache[a, b]

    chosen = [0, count - 1]
    while len(chosen) < budget:
        best, best_novelty = -1, STILL
        for left, right in itertools.pairwise(chosen):
            for i in range(left + 1, right):
                novelty = min(diff(left, i), diff(i, right))
                if novelty > best_novelty:
                    best, best_novelty = i, novelty
        if best < 0:
            break
        bisect.insort(chosen, best)
    for i in sorted(range(1, count - 1), key=lambda i: (-diff(i - 1, i), i)):
        if len(chosen) >= budget or diff(i - 1, i) <= STILL:
            break
        if i not in chosen:  # the moment a picture appears, when only its later frame is in
            bisect.insort(chosen, i)
    while len(chosen) < budget:
        gap, left = max((b - a, a) for a, b in itertools.pairwise(chosen))
        if gap < 2:
            break
        bisect.insort(chosen, left + gap // 2)
    return chosen


def thumbnail(img: Image.Image) -> Image.Image:
    """The tiny RGB picture `difference` compares."""
    return img.convert("RGB").resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX)


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two thumbnails, 0 (same) .. 1."""
    means = ImageStat.Stat(ImageChops.difference(a, b)).mean
    return sum(means) / (len(means) * 255)
