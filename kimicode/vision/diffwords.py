"""A visual difference in words, for a model that does not see well (or at all).

Each differing region of `imagediff` is named after the element under it in
the rendered page, found in the page's layout (`ELEMENTS_JS`, collected while
the page is open): among the elements under the region's centre, the one
whose box overlaps the region best; when that is a container only partly
matching, the large elements it covers are named too. One line per region:

    header.hero at 0,0 800x200: reference #1E3A8A, render #BE185D; text "Ship faster …"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimicode.vision.imagediff import ImageDiff, Region

MAX_ELEMENTS = 3000
_TEXT = 60

ELEMENTS_JS = """
([fullPage, limit]) => {
  const out = [], index = new Map();
  const sx = fullPage ? window.scrollX : 0, sy = fullPage ? window.scrollY : 0;
  const els = document.body ? [document.body, ...document.body.querySelectorAll('*')] : [];
  for (const el of els) {
    if (out.length >= limit) break;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    let sel = el.tagName.toLowerCase();
    if (el.id) sel += '#' + el.id;
    else if (el.classList.length) sel += '.' + [...el.classList].slice(0, 2).join('.');
    const text = (el.innerText || el.getAttribute('alt') || el.getAttribute('aria-label') || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 200);
    index.set(el, out.length);
    out.push({sel, text, x: r.left + sx, y: r.top + sy, w: r.width, h: r.height,
              parent: index.has(el.parentElement) ? index.get(el.parentElement) : -1});
  }
  return out;
}
"""
"""Every visible element's short selector, text and box (in screenshot pixels)."""


@dataclass(frozen=True, slots=True)
class Element:
    selector: str
    text: str
    box: tuple[float, float, float, float]
    """x, y, width, height in screenshot pixels."""
    parent: int


def parse_elements(raw: Any) -> list[Element]:
    """The JS result, checked: a page controls it, so anything malformed is dropped."""
    out: list[Element] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            box = (float(item["x"]), float(item["y"]), float(item["w"]), float(item["h"]))
            text = " ".join(str(item["text"]).split())[:200]
            out.append(Element(str(item["sel"])[:80], text, box, int(item["parent"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def describe(diff: ImageDiff, elements: list[Element]) -> list[str]:
    """One line per differing region: the element, where it is, the colours, its text."""
    return [_line(region, diff.scale, elements) for region in diff.regions]


def _line(region: Region, scale: float, elements: list[Element]) -> str:
    box = (region.x * scale, region.y * scale, region.width * scale, region.height * scale)
    where = f"at {_int(box[0])},{_int(box[1])} {_int(box[2])}x{_int(box[3])}"
    colours = f"reference {region.reference_colour}, render {region.render_colour}"
    best = _under(box, elements)
    if best is None:
        return f"region {where}: {colours}"
    element = elements[best]
    covered = _covered(box, best, elements) if _iou(box, element.box) < 0.8 else []
    name = element.selector
    if not covered and region.width * region.height < 0.3 * element.box[2] * element.box[3]:
        name = f"inside {name}"  # nothing of the region's size there: something is missing
    if covered:
        name += " (covering " + ", ".join(_named(elements[i]) for i in covered) + ")"
    text = f'; text "{_short(element.text)}"' if element.text and not covered else ""
    return f"{name} {where}: {colours}{text}"


def _under(box: tuple[float, ...], elements: list[Element]) -> int | None:
    """The element under the box's centre that overlaps the box best (deeper on ties)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    candidates = [i for i, e in enumerate(elements) if _contains(e.box, cx, cy)]
    if not candidates:
        candidates = [i for i, e in enumerate(elements) if _iou(box, e.box) > 0]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (round(_iou(box, elements[i].box), 2), i))


def _covered(box: tuple[float, ...], container: int, elements: list[Element]) -> list[int]:
    """Large elements lying (mostly) inside the box, outermost first, in page order."""
    area = box[2] * box[3]
    inside = {
        i
        for i, e in enumerate(elements)
        if i != container
        and e.box[2] * e.box[3] >= 0.15 * area
        and _overlap(box, e.box) >= 0.9 * e.box[2] * e.box[3]
    }
    outer = [i for i in sorted(inside) if not _has_ancestor_in(i, inside, elements)]
    return sorted(outer, key=lambda i: (elements[i].box[1], elements[i].box[0]))[:4]


def _has_ancestor_in(i: int, group: set[int], elements: list[Element]) -> bool:
    parent, seen = elements[i].parent, 0
    while 0 <= parent < len(elements) and seen < 200:
        if parent in group:
            return True
        parent, seen = elements[parent].parent, seen + 1
    return False


def _named(element: Element) -> str:
    return f'{element.selector} "{_short(element.text)}"' if element.text else element.selector


def _short(text: str) -> str:
    return text if len(text) <= _TEXT else text[: _TEXT - 1].rstrip() + "…"


def _contains(b: tuple[float, ...], x: float, y: float) -> bool:
    return b[0] <= x < b[0] + b[2] and b[1] <= y < b[1] + b[3]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    inter = _overlap(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _int(v: float) -> int:
    return round(v)


def summary(diff: ImageDiff, elements: list[Element]) -> str:
    """The score line and the regions, as the model reads them."""
    lines = [
        f"difference score {diff.score:.3f} (0 = same, 1 = opposite; a one-pixel offset is "
        f"forgiven), structural similarity {diff.ssim:.3f} (1 = same), strict pixel "
        f"difference {diff.pixel_score:.3f}; {diff.changed_share:.1%} of pixels differ"
    ]
    if diff.note:
        lines.append(f"note: {diff.note}")
    regions = describe(diff, elements)
    if regions:
        lines.append(f"where they differ ({len(regions)}, element under it in your page):")
        lines += [f"  {line}" for line in regions]
    else:
        lines.append("no region differs beyond anti-aliasing and one-pixel offsets")
    return "\n".join(lines)
