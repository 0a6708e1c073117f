import re

from django.template import Context, Template

from clients.body_regions import BodyRegion
from clients.templatetags.body_map import BACK, FRONT, SHAPES


def render(snippet: str, **context) -> str:
    return Template("{% load body_map %}" + snippet).render(Context(context))


def shapes_for(html: str, region: str) -> list[str]:
    return re.findall(rf'<path class="([^"]*)"[^>]*data-region="{region}"[^>]*>(?:<title>[^<]*</title>)', html)


def test_every_body_region_is_drawn_with_a_title():
    html = render("{% body_map %}")
    for region in BodyRegion:
        assert f'data-region="{region.value}"' in html, region
        assert f"<title>{region.label}</title>" in html, region


def test_paired_regions_and_head_appear_on_both_views_and_the_back_only_from_behind():
    views = {}
    for shape in SHAPES:
        views.setdefault(shape.region, set()).add(shape.view)
    assert views[BodyRegion.HAND_LEFT] == {FRONT, BACK}
    assert views[BodyRegion.HEAD] == {FRONT, BACK}
    assert views[BodyRegion.UPPER_BACK] == {BACK}
    assert views[BodyRegion.LOWER_BACK] == {BACK}
    # The chest and abdomen are only seen from the front.
    assert views[BodyRegion.CHEST_LEFT] == {FRONT}
    assert views[BodyRegion.CHEST_RIGHT] == {FRONT}
    assert views[BodyRegion.ABDOMEN] == {FRONT}


def test_left_and_right_are_mirrored_between_front_and_back_views():
    def centre_x(region, view):
        (shape,) = [s for s in SHAPES if s.region == region and s.view == view]
        return shape.geometry.centre_x

    # From the front the client's left hand is on the viewer's right; from the back, on the viewer's left.
    assert centre_x(BodyRegion.HAND_LEFT, FRONT) > 100
    assert centre_x(BodyRegion.HAND_LEFT, BACK) < 100
    assert centre_x(BodyRegion.HAND_RIGHT, FRONT) < 100
    assert centre_x(BodyRegion.HAND_RIGHT, BACK) > 100
    assert centre_x(BodyRegion.FOOT_LEFT, FRONT) == 200 - centre_x(BodyRegion.FOOT_LEFT, BACK)
    assert centre_x(BodyRegion.CHEST_LEFT, FRONT) > 100 > centre_x(BodyRegion.CHEST_RIGHT, FRONT)


def test_reduced_sensation_and_pressure_sore_regions_get_their_classes_and_titles():
    html = render(
        "{% body_map reduced=reduced sores=sores %}",
        reduced=["hand_left", "foot_right"],
        sores=["lower_back", "foot_right"],
    )
    assert all("is-reduced" in c and "is-sore" not in c for c in shapes_for(html, "hand_left"))
    assert all("is-sore" in c and "is-reduced" not in c for c in shapes_for(html, "lower_back"))
    assert all("is-sore" in c and "is-reduced" in c for c in shapes_for(html, "foot_right"))
    assert all(c == "body-map__region" for c in shapes_for(html, "neck"))
    assert "<title>Left hand: reduced sensation</title>" in html
    assert "<title>Lower back: pressure sore</title>" in html
    assert "<title>Right foot: reduced sensation and pressure sore</title>" in html
    # Patterns carry the meaning as well as colour.
    assert re.search(r'data-region="lower_back"[^>]*fill="url\(#body-map-\w+-sore\)"', html)
    assert re.search(r'data-region="foot_right"[^>]*fill="url\(#body-map-\w+-both\)"', html)


def test_legend_and_text_list_say_what_the_marks_mean():
    html = render("{% body_map reduced=reduced sores=sores %}", reduced=["hand_left", "hand_right"], sores=[])
    assert "Reduced sensation (blue stripes): light touch only" in html
    assert "Pressure sore (red dots): never work over it" in html
    assert "Reduced sensation: Left hand, Right hand" in html
    assert "Pressure sores: none recorded" in html


def test_static_map_is_one_labelled_image():
    html = render("{% body_map sores=sores %}", sores=["hip_left"])
    assert 'role="img"' in html
    assert 'aria-label="Body map, front and back. Reduced sensation: none recorded. Pressure sores: Left hip."' in html
    assert "tabindex" not in html
    assert "js/body_map.js" not in html


def test_interactive_map_regions_are_focusable_toggle_buttons():
    html = render("{% body_map selected=selected interactive=True %}", selected=["calf_left"])
    calf = re.findall(r'<path [^>]*data-region="calf_left"[^>]*>', html)
    assert len(calf) == 2
    assert all('tabindex="0"' in p and 'role="button"' in p and 'aria-pressed="true"' in p for p in calf)
    assert all("is-selected" in p for p in calf)
    neck = re.findall(r'<path [^>]*data-region="neck"[^>]*>', html)
    assert all('aria-pressed="false"' in p for p in neck)
    assert 'role="group"' in html
    assert "js/body_map.js" in html


def test_two_maps_on_one_page_do_not_share_pattern_ids():
    html = render("{% body_map %}{% body_map %}")
    ids = re.findall(r'<pattern id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 6
