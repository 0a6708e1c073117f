"""Seed the validated instruments the practice may use (docs/measures.md has the sources and the licence notes).

MFIS-5 only: no published statement lets a practice use the PDDS freely (docs/measures.md, "Licence
decision"); adding it later is another data migration like this one.
"""

from django.db import migrations

MFIS_OPTIONS = [
    {"value": 0, "label": "Never"},
    {"value": 1, "label": "Rarely"},
    {"value": 2, "label": "Sometimes"},
    {"value": 3, "label": "Often"},
    {"value": 4, "label": "Almost always"},
]

MFIS5 = {
    "code": "mfis5",
    "name": "Modified Fatigue Impact Scale, 5-item version",
    "short_name": "MFIS-5",
    "recall_period": "the past 4 weeks",
    "instructions": "Because of my fatigue during the past 4 weeks:",
    "items": [
        {"link_id": "mfis5-1", "text": "I have been less alert.", "options": MFIS_OPTIONS},
        {
            "link_id": "mfis5-2",
            "text": "I have been limited in my ability to do things away from home.",
            "options": MFIS_OPTIONS,
        },
        {
            "link_id": "mfis5-3",
            "text": "I have had trouble maintaining physical effort for long periods.",
            "options": MFIS_OPTIONS,
        },
        {
            "link_id": "mfis5-4",
            "text": "I have been less able to complete tasks that require physical effort.",
            "options": MFIS_OPTIONS,
        },
        {"link_id": "mfis5-5", "text": "I have had trouble concentrating.", "options": MFIS_OPTIONS},
    ],
    "scoring": "sum",
    "score_min": 0,
    "score_max": 20,
    "mcid": None,
    "higher_is_worse": True,
    "source": (
        "Items 1, 9, 10, 17 and 19 of the MFIS (Multiple Sclerosis Quality of Life Inventory: A User's Manual, "
        "National MS Society, 1997); items, 0-4 scoring and the 0-20 range per NINDS Common Data Elements, "
        "Modified Fatigue Impact Scale, and Miskovic & Ehrlich-Jones, Arch Phys Med Rehabil 2017. No published "
        "minimal clinically important difference for MFIS-5. See docs/measures.md."
    ),
    "licence_note": (
        '"The MFIS is free to use" (Miskovic & Ehrlich-Jones, Arch Phys Med Rehabil 2017). The 1997 manual '
        "carries the National MS Society's copyright notice: the wording is reproduced unchanged, with its source."
    ),
    "is_active": True,
}

INSTRUMENTS = [MFIS5]


def seed(apps, schema_editor):
    Instrument = apps.get_model("measures", "Instrument")
    for data in INSTRUMENTS:
        Instrument.objects.update_or_create(code=data["code"], defaults={k: v for k, v in data.items() if k != "code"})


def unseed(apps, schema_editor):
    Instrument = apps.get_model("measures", "Instrument")
    # Only instruments nobody has answered: answered ones are referenced by clinical records (PROTECT).
    Instrument.objects.filter(code__in=[d["code"] for d in INSTRUMENTS], responses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
