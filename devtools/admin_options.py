"""Every option an owner can click on the admin's changelists: filters, sortable columns, search, drill-down.

Read from the admin's own registry, so an option added to a changelist is found without a list kept by hand.
Two users: the index-plan test (tests/practice/test_admin_index_plans.py), which asks PostgreSQL for each
option's plan, and ``manage.py bench``, which times each option at full size (devtools/bench/pages.py).
"""

from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory

# People and devices: small tables, whatever the size of the practice.
SMALL_ADMINS = {"auth", "otp_totp", "otp_static"}


def registered_changelists() -> list[admin.ModelAdmin]:
    """The changelists of tables that grow with the practice, by model label."""
    return [
        model_admin
        for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
        if model._meta.app_label not in SMALL_ADMINS
    ]


def changelist_options(model_admin: admin.ModelAdmin, user: User, *, year: int, search_term: str) -> Iterator[str]:
    """The query strings of every option on ``model_admin``'s changelist, as its own links build them.

    The plain list first, then each filter choice, sortable column (both ways), the search box and each
    drill-down level, then each of those combined with the drill-down's ``year``.
    """
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    filters: list[str] = []
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            query = str(choice.get("query_string") or "").lstrip("?")
            if query:
                filters.append(query)
    sorts = []
    for number, name in enumerate(changelist.list_display):
        if name == "action_checkbox" or changelist.get_ordering_field(name) is None:
            continue
        if changelist.sortable_by is not None and name not in changelist.sortable_by:
            continue
        sorts += [f"o={number}", f"o=-{number}"]
    search_fields = model_admin.get_search_fields(request)
    # An exact-id search looks for a number; a name search for a name.
    numbers_only = bool(search_fields) and all(field.endswith(("id", "_id")) for field in search_fields)
    searches = [urlencode({"q": "12" if numbers_only else search_term})] if search_fields else []
    drill_down = []
    if hierarchy := model_admin.date_hierarchy:
        drill_down = [
            f"{hierarchy}__year={year}",
            f"{hierarchy}__year={year}&{hierarchy}__month=6",
            f"{hierarchy}__year={year}&{hierarchy}__month=6&{hierarchy}__day=30",
        ]
    yield ""
    singles = list(dict.fromkeys(filters + sorts + searches))
    yield from singles
    yield from drill_down
    if drill_down:
        for option in singles:
            yield f"{option}&{drill_down[0]}"
