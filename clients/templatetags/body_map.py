"""The body map: an inline SVG of the body, front and back, one shape per body region.

Usage::

    {% load body_map %}
    {% body_map reduced=client.reduced_sensation_regions sores=client.pressure_sore_regions %}
    {% body_map selected=codes interactive=True %}

The geometry is generated from ``BodyRegion`` at import, so a region added to the list without
a shape fails loudly here instead of silently missing from every map.

Each figure is drawn in its own 200 x 440 box. Paired parts are drawn once, for the side shown on
the viewer's left, and mirrored for the other side. Seen from the front the client's right side is
on the viewer's left; seen from the back their left side is.
"""

import html
import uuid
from dataclasses import dataclass
from functools import cached_property

from django import template
from django.utils.safestring import SafeString, mark_safe

from clients.body_regions import BodyRegion, region_labels

register = template.Library()

FIGURE_WIDTH = 200
FIGURE_HEIGHT = 440
FIGURE_GAP = 20
FIGURE_TOP = 26
FRONT, BACK = "front", "back"
VIEWS = {FRONT: "Front", BACK: "Back"}


def _n(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Geometry:
    """A rounded rectangle (x, y, width, height, r) or an ellipse (cx, cy, rx, ry), drawn as one SVG path."""

    kind: str
    a: float
    b: float
    c: float
    d: float
    r: float = 0

    def mirrored(self) -> "Geometry":
        if self.kind == "rect":
            return Geometry("rect", FIGURE_WIDTH - self.a - self.c, self.b, self.c, self.d, self.r)
        return Geometry("ellipse", FIGURE_WIDTH - self.a, self.b, self.c, self.d)

    @property
    def centre_x(self) -> float:
        return self.a if self.kind == "ellipse" else self.a + self.c / 2

    @cached_property  # drawn on every map: worked out once per shape
    def path(self) -> str:
        if self.kind == "ellipse":
            cx, cy, rx, ry = self.a, self.b, self.c, self.d
            arc = f"A {_n(rx)} {_n(ry)} 0 1 0"
            return f"M {_n(cx - rx)} {_n(cy)} {arc} {_n(cx + rx)} {_n(cy)} {arc} {_n(cx - rx)} {_n(cy)} Z"
        x, y, w, h, r = self.a, self.b, self.c, self.d, self.r
        arc = f"A {_n(r)} {_n(r)} 0 0 1"
        return (
            f"M {_n(x + r)} {_n(y)} H {_n(x + w - r)} {arc} {_n(x + w)} {_n(y + r)} V {_n(y + h - r)} "
            f"{arc} {_n(x + w - r)} {_n(y + h)} H {_n(x + r)} {arc} {_n(x)} {_n(y + h - r)} V {_n(y + r)} "
            f"{arc} {_n(x + r)} {_n(y)} Z"
        )


def rect(x: float, y: float, width: float, height: float, r: float = 8) -> Geometry:
    return Geometry("rect", x, y, width, height, r)


def ellipse(cx: float, cy: float, rx: float, ry: float) -> Geometry:
    return Geometry("ellipse", cx, cy, rx, ry)


# Regions on the midline, with the views they are drawn on. The back is only seen from behind.
MIDLINE = {
    BodyRegion.HEAD: ((FRONT, BACK), ellipse(100, 30, 22, 27)),
    BodyRegion.NECK: ((FRONT, BACK), rect(90, 59, 20, 13, 4)),
    BodyRegion.ABDOMEN: ((FRONT,), rect(66, 146, 68, 70, 12)),
    BodyRegion.UPPER_BACK: ((BACK,), rect(66, 74, 68, 70, 12)),
    BodyRegion.LOWER_BACK: ((BACK,), rect(66, 146, 68, 70, 12)),
}
# Paired parts, drawn on the viewer's left half; seen on both views.
PAIRED = {
    "shoulder": rect(38, 74, 26, 30, 12),
    "arm": rect(36, 106, 24, 96, 10),
    "hand": ellipse(47, 218, 12, 15),
    "hip": rect(64, 218, 35, 34, 8),
    "thigh": rect(66, 254, 32, 82, 10),
    "calf": rect(68, 338, 28, 74, 10),
    "foot": ellipse(81, 424, 16, 9),
}
# Paired parts seen from the front only, drawn on the viewer's left half like PAIRED.
FRONT_PAIRED = {
    "chest": rect(66, 74, 33, 70, 10),
}
# The outline of the front torso, behind the chest and abdomen.
FRONT_TORSO = rect(66, 74, 68, 142, 12)


@dataclass(frozen=True)
class Shape:
    region: BodyRegion
    view: str
    geometry: Geometry


def _viewer_left_side(view: str) -> str:
    return "right" if view == FRONT else "left"


def build_shapes() -> list[Shape]:
    shapes = []
    for region in BodyRegion:
        if region in MIDLINE:
            midline_views, geometry = MIDLINE[region]
            shapes += [Shape(region, view, geometry) for view in midline_views]
            continue
        part, side = region.value.rsplit("_", 1)
        drawn = PAIRED.get(part)
        views = tuple(VIEWS)
        if drawn is None:
            drawn, views = FRONT_PAIRED[part], (FRONT,)
        for view in views:
            geometry = drawn if side == _viewer_left_side(view) else drawn.mirrored()
            shapes.append(Shape(region, view, geometry))
    return shapes


SHAPES = build_shapes()


@dataclass(frozen=True)
class DrawnShape:
    """A shape as one map draws it: its region's state decides its classes, fill and title."""

    region: str
    path: str
    title: str
    css_class: str
    pattern: str
    selected: bool


def _state_words(reduced: bool, sore: bool) -> str:
    words = [w for w, on in (("reduced sensation", reduced), ("pressure sore", sore)) if on]
    return " and ".join(words)


def _draw(shape: Shape, *, reduced: set, sores: set, selected: set) -> DrawnShape:
    code = shape.region.value
    is_reduced, is_sore, is_selected = code in reduced, code in sores, code in selected
    state = _state_words(is_reduced, is_sore)
    flags = (("is-reduced", is_reduced), ("is-sore", is_sore), ("is-selected", is_selected))
    classes = ["body-map__region", *(name for name, on in flags if on)]
    pattern = "both" if is_reduced and is_sore else "reduced" if is_reduced else "sore" if is_sore else ""
    return DrawnShape(
        region=code,
        path=shape.geometry.path,
        title=f"{shape.region.label}: {state}" if state else shape.region.label,
        css_class=" ".join(classes),
        pattern=pattern,
        selected=is_selected,
    )


def _paths(shapes: list[DrawnShape], *, view: str, view_label: str, map_id: str, interactive: bool) -> SafeString:
    """The view's region shapes as SVG paths: a map has some forty, a portal page ten maps, and a template loop over
    them cost a millisecond per map. Titles are text and escaped; the rest are this module's own identifiers,
    numbers and class names."""
    seen_from = html.escape(view_label.lower())
    paths = []
    for shape in shapes:
        title = html.escape(shape.title)
        fill = f' fill="url(#{map_id}-{shape.pattern})"' if shape.pattern else ""
        controls = (
            f' tabindex="0" role="button" aria-pressed="{"true" if shape.selected else "false"}"'
            f' aria-label="{title} ({seen_from} view)"'
            if interactive
            else ""
        )
        paths.append(
            f'<path class="{shape.css_class}" d="{shape.path}" data-region="{shape.region}" data-view="{view}"'
            f"{fill}{controls}><title>{title}</title></path>"
        )
    return mark_safe("\n".join(paths))  # the titles escaped above; nothing else is text


def _summary(label: str, codes: list[str]) -> str:
    return f"{label}: {', '.join(region_labels(codes)) if codes else 'none recorded'}"


@register.inclusion_tag("includes/body_map.html")
def body_map(
    reduced: list[str] | None = None,
    sores: list[str] | None = None,
    selected: list[str] | None = None,
    interactive: bool = False,
    label: str = "Body map",
) -> dict:
    """Render the body map; regions in ``reduced`` and ``sores`` are marked, ``selected`` highlighted."""
    reduced, sores, selected = list(reduced or []), list(sores or []), list(selected or [])
    state = {"reduced": set(reduced), "sores": set(sores), "selected": set(selected)}
    map_id = f"body-map-{uuid.uuid4().hex[:8]}"
    views = []
    for index, (view, view_label) in enumerate(VIEWS.items()):
        shapes = [_draw(shape, **state) for shape in SHAPES if shape.view == view]
        views.append(
            {
                "name": view,
                "label": view_label,
                "offset": index * (FIGURE_WIDTH + FIGURE_GAP),
                "centre": index * (FIGURE_WIDTH + FIGURE_GAP) + FIGURE_WIDTH / 2,
                "outline": FRONT_TORSO.path if view == FRONT else "",
                "left_marker": "R" if view == FRONT else "L",
                "right_marker": "L" if view == FRONT else "R",
                "paths": _paths(shapes, view=view, view_label=str(view_label), map_id=map_id, interactive=interactive),
            }
        )
    summary = [_summary("Reduced sensation", reduced), _summary("Pressure sores", sores)]
    return {
        "map_id": map_id,
        "views": views,
        "width": len(VIEWS) * FIGURE_WIDTH + (len(VIEWS) - 1) * FIGURE_GAP,
        "height": FIGURE_HEIGHT + FIGURE_TOP,
        "figure_top": FIGURE_TOP,
        "interactive": interactive,
        "label": label,
        "aria_label": f"{label}, front and back. " + ". ".join(summary) + ".",
        "summary": summary,
        "has_reduced": bool(reduced),
        "has_sores": bool(sores),
    }
