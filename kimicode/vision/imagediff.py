"""How far a render is from a reference image: scores, a heat map, and where it differs.

Pixels are compared with a one-pixel tolerance: a pixel counts as differing
only when nothing within one pixel of it in the other image is close (every
channel within `THRESHOLD`, 32 of 255), in both directions. Anti-aliasing,
font hinting and a page shifted by a pixel then leave almost nothing, while
a wrong colour or a missing element still counts in full.

- `score`, 0 (same) .. 1 (opposite): the mean of the tolerant mean absolute
  difference (overall tone) and the share of differing pixels (how much of
  the page differs at all, so a small wrong element is not drowned by a large
  matching background). It orders renders as a person would.
- `pixel_score`: the same without the tolerance; any change at all, for
  `kimicode watch` to notice.
- `ssim`: the structural similarity (1 = same), per colour channel, at the
  scale the SSIM paper recommends (about 256 pixels on the short side): the
  layout and shapes, with tone and small offsets mattering less.
- `regions`: boxes merged from a grid of differing cells, each with the
  dominant colour of the reference and of the render inside it.

Images of the same aspect ratio are compared at the reference's size. When
the ratios differ, the render is scaled to the reference's width and only the
part both cover is compared; `note` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

THRESHOLD = 32
CELL = 16
"""Side of the grid cells that differing pixels are counted in, in reference pixels."""
CELL_SHARE = 0.08
"""A cell differs when more than this share of its pixels does: a one-pixel line or text
edges stay below."""
MAX_REGIONS = 8
_ASPECT_TOLERANCE = 0.02


@dataclass(frozen=True, slots=True)
class Region:
    """A box where the images differ, in reference pixels."""

    x: int
    y: int
    width: int
    height: int
    reference_colour: str
    render_colour: str
    """Dominant colours inside the box, as #RRGGBB."""


@dataclass(frozen=True, slots=True)
class ImageDiff:
    score: float
    mean_abs: float
    """Tolerant mean absolute difference per channel, 0..1."""
    changed_share: float
    """Share of pixels with no close pixel within one pixel in the other image, 0..1."""
    heatmap: Image.Image
    pixel_score: float = 0.0
    ssim: float = 1.0
    regions: list[Region] = field(default_factory=list)
    note: str | None = None
    """Set when the aspect ratios differ: what was compared."""
    scale: float = 1.0
    """Render pixels per reference pixel, to map regions onto the page."""


def compare_images(actual: Image.Image, reference: Image.Image) -> ImageDiff:
    import numpy as np

    ref, act, note, scale = _aligned(_rgb(actual), _rgb(reference))
    a = np.asarray(act, dtype=np.int16).transpose(2, 0, 1).copy()
    r = np.asarray(ref, dtype=np.int16).transpose(2, 0, 1).copy()
    strict = np.abs(a - r)
    strict_max = np.maximum(np.maximum(strict[0], strict[1]), strict[2])
    pixel_score = (strict.mean() / 255 + (strict_max > THRESHOLD).mean()) / 2
    max_ar, sum_ar = _nearest(a, r)
    max_ra, sum_ra = _nearest(r, a)
    strength = np.maximum(max_ar, max_ra)
    mean_abs = float(np.maximum(sum_ar, sum_ra).mean() / (3 * 255))
    changed = strength > THRESHOLD
    changed_share = float(changed.mean())
    score = min(1.0, (mean_abs + changed_share) / 2)
    return ImageDiff(
        score=round(score, 4),
        mean_abs=round(mean_abs, 4),
        changed_share=round(changed_share, 4),
        heatmap=_heatmap(ref, Image.fromarray(strength.astype(np.uint8))),
        pixel_score=round(min(1.0, float(pixel_score)), 4),
        ssim=round(structural_similarity(act, ref), 4),
        regions=_regions(changed, act, ref),
        note=note,
        scale=scale,
    )


def structural_similarity(a: Image.Image, b: Image.Image) -> float:
    """SSIM of two same-sized images (per colour channel, so a changed hue counts),
    downscaled to ~256 px on the short side."""
    import numpy as np
    from skimage.metrics import structural_similarity as ssim

    factor = max(1, round(min(a.size) / 256))
    ca = np.asarray(a.reduce(factor), dtype=np.float64)
    cb = np.asarray(b.reduce(factor), dtype=np.float64)
    if min(ca.shape[:2]) < 7:  # below SSIM's smallest window
        return 1.0 if np.array_equal(ca, cb) else float(1 - np.abs(ca - cb).mean() / 255)
    value = ssim(  # type: ignore[no-untyped-call]
        ca, cb, data_range=255, gaussian_weights=True, sigma=1.5, channel_axis=2
    )
    return float(max(0.0, value))


def _aligned(
    act: Image.Image, ref: Image.Image
) -> tuple[Image.Image, Image.Image, str | None, float]:
    """(reference, render) of one size, a note when only their overlap is compared, scale."""
    scale = act.width / ref.width
    if abs(act.width / act.height - ref.width / ref.height) <= _ASPECT_TOLERANCE * (
        ref.width / ref.height
    ):
        if act.size != ref.size:
            act = act.resize(ref.size, Image.Resampling.LANCZOS)
        return ref, act, None, scale
    height = max(1, round(act.height / scale))
    act = act.resize((ref.width, height), Image.Resampling.LANCZOS)
    common = min(height, ref.height)
    note = (
        f"the render ({_size(act.width * scale, height * scale)}) and the reference "
        f"({_size(ref.width, ref.height)}) have different aspect ratios: compared the "
        f"top {_size(ref.width, common)} of the reference that both cover"
    )
    if height > ref.height:
        note += f"; the page is longer by {round((height - ref.height) * scale)} px"
    elif height < ref.height:
        note += f"; the page is shorter than the reference by {ref.height - height} px"
    return ref.crop((0, 0, ref.width, common)), act.crop((0, 0, ref.width, common)), note, scale


def _size(width: float, height: float) -> str:
    return f"{round(width)}x{round(height)}"


def _nearest(a: Any, b: Any) -> tuple[Any, Any]:
    """For each pixel of `b`, how close the closest pixel of `a` within one pixel is: the
    smallest largest-channel difference, and the smallest channel-sum difference.

    Arrays are channel-first planes (3, h, w): per-plane operations are much
    faster than reductions over a trailing axis of three."""
    import numpy as np

    a_arr: np.ndarray = a
    b_arr: np.ndarray = b
    _, h, w = b_arr.shape
    padded = np.pad(a_arr, ((0, 0), (1, 1), (1, 1)), mode="edge")
    best_max = best_sum = None
    for dy in range(3):
        for dx in range(3):
            d = np.abs(padded[:, dy : dy + h, dx : dx + w] - b_arr)
            d_max = np.maximum(np.maximum(d[0], d[1]), d[2])
            d_sum = d[0] + d[1] + d[2]
            if best_max is None or best_sum is None:
                best_max, best_sum = d_max, d_sum
            else:
                np.minimum(best_max, d_max, out=best_max)
                np.minimum(best_sum, d_sum, out=best_sum)
    return best_max, best_sum


def _regions(changed: object, act: Image.Image, ref: Image.Image) -> list[Region]:
    """Boxes of connected differing grid cells, the largest first, at most MAX_REGIONS."""
    import numpy as np
    from skimage.measure import label, regionprops

    mask: np.ndarray = changed  # type: ignore[assignment]
    h, w = mask.shape
    rows, cols = -(-h // CELL), -(-w // CELL)
    padded = np.zeros((rows * CELL, cols * CELL), dtype=np.float32)
    padded[:h, :w] = mask
    cells = padded.reshape(rows, CELL, cols, CELL).mean(axis=(1, 3)) > CELL_SHARE
    boxes = []
    for prop in regionprops(label(cells, connectivity=2)):  # type: ignore[no-untyped-call]
        top, left, bottom, right = prop.bbox
        x, y = left * CELL, top * CELL
        box = (x, y, min(right * CELL, w), min(bottom * CELL, h))
        boxes.append(box)
    boxes.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    out = []
    for x0, y0, x1, y1 in boxes[:MAX_REGIONS]:
        out.append(
            Region(
                x0,
                y0,
                x1 - x0,
                y1 - y0,
                dominant_colour(ref.crop((x0, y0, x1, y1))),
                dominant_colour(act.crop((x0, y0, x1, y1))),
            )
        )
    return sorted(out, key=lambda r: (r.y, r.x))


def dominant_colour(img: Image.Image) -> str:
    """The most common exact colour, or, in a photo with none, the largest median-cut one."""
    small = (
        img if img.width * img.height <= 64 * 64 else img.resize((64, 64), Image.Resampling.NEAREST)
    )
    colours: list[Any] = list(small.getcolors(small.width * small.height) or [])
    count, colour = max(colours, key=lambda c: c[0]) if colours else (0, (0, 0, 0))
    if count < 0.2 * small.width * small.height:
        palette = small.quantize(colors=4)
        counts: list[Any] = list(palette.getcolors() or [(0, 0)])
        index = int(max(counts, key=lambda c: c[0])[1])
        flat: list[int] = list(palette.getpalette() or [0, 0, 0])
        colour = tuple(flat[index * 3 : index * 3 + 3])
    return "#{:02X}{:02X}{:02X}".format(*colour[:3])


def _rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    rgba = img.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _heatmap(reference: Image.Image, strength: Image.Image) -> Image.Image:
    base = ImageOps.grayscale(reference).point(lambda v: 96 + v // 3).convert("RGB")
    boosted = strength.point(lambda v: 0 if v <= THRESHOLD // 2 else min(255, 128 + v))
    red = Image.new("RGB", reference.size, (255, 0, 0))
    return Image.composite(red, base, boosted)
