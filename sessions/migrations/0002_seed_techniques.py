from django.db import migrations

# (name, slug, guidance, uses heat, light touch, reason)
TECHNIQUES = [
    (
        "Swedish massage",
        "swedish",
        "recommended",
        False,
        False,
        "Gentle, flowing strokes that ease muscle tension and stress; studies of weekly Swedish massage in MS found less pain and fatigue.",
    ),
    (
        "Reflexology",
        "reflexology",
        "recommended",
        False,
        True,
        "Light pressure on the feet and hands; studied in MS for pain, fatigue and bladder symptoms, and gentle enough where sensation is reduced.",
    ),
    (
        "Light acupressure",
        "light-acupressure",
        "recommended",
        False,
        True,
        "Light, held pressure on points; gentle enough for regions with reduced sensation.",
    ),
    (
        "Shiatsu",
        "shiatsu",
        "recommended",
        False,
        False,
        "Rhythmic pressure and stretching, adjusted to tolerance; can ease tension and improve energy.",
    ),
    (
        "Reiki and light-touch energy work",
        "reiki",
        "recommended",
        False,
        True,
        "Very light or no touch; calming, and safe where sensation is reduced or the client is frail.",
    ),
    (
        "Trager",
        "trager",
        "recommended",
        False,
        False,
        "Gentle rocking and movement that helps the client release tension without force.",
    ),
    (
        "Feldenkrais-style guided movement",
        "feldenkrais",
        "recommended",
        False,
        True,
        "Slow guided movement that builds awareness and ease of motion; no deep pressure.",
    ),
    (
        "Gentle range-of-motion work",
        "range-of-motion",
        "recommended",
        False,
        False,
        "Slow passive and assisted movement of the joints; helps stiffness and spasticity when kept within comfort.",
    ),
    (
        "Aromatherapy (raindrop) massage",
        "aromatherapy",
        "recommended",
        False,
        True,
        "Light strokes with diluted oils; check for skin sensitivity and scent intolerance first.",
    ),
    (
        "Lymphatic drainage",
        "lymphatic-drainage",
        "recommended",
        False,
        True,
        "Very light rhythmic strokes; helpful for swelling in clients who sit or lie for long periods.",
    ),
    (
        "Myofascial release",
        "myofascial-release",
        "caution",
        False,
        False,
        "Sustained stretch of the fascia; keep it gentle and within tolerance, as firm work can trigger spasms.",
    ),
    (
        "Trigger point therapy",
        "trigger-point",
        "caution",
        False,
        False,
        "Focused pressure can be painful and provoke spasms; use light pressure and stay within the client's tolerance.",
    ),
    (
        "Warm compress",
        "warm-compress",
        "caution",
        True,
        False,
        "Heat can worsen MS symptoms in heat-sensitive clients; use only for clients who are not heat-sensitive.",
    ),
    (
        "Hot stone massage",
        "hot-stone",
        "avoid",
        True,
        False,
        "Heat can worsen MS symptoms, and where sensation is reduced a client may not feel a burn.",
    ),
    (
        "Deep tissue massage",
        "deep-tissue",
        "avoid",
        False,
        False,
        "Deliberately intense pressure is painful and can trigger spasms in clients with MS.",
    ),
    (
        "Rolfing / structural integration",
        "rolfing",
        "avoid",
        False,
        False,
        "Deep, forceful work; reflexes may be abnormal in MS and the client may not be able to signal pain.",
    ),
]


def seed(apps, schema_editor):
    Technique = apps.get_model("treatment_sessions", "Technique")
    for name, slug, guidance, uses_heat, light_touch, reason in TECHNIQUES:
        Technique.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "guidance": guidance,
                "uses_heat": uses_heat,
                "light_touch": light_touch,
                "reason": reason,
            },
        )


def unseed(apps, schema_editor):
    Technique = apps.get_model("treatment_sessions", "Technique")
    # Techniques already used by a session are protected and stay.
    Technique.objects.filter(slug__in=[row[1] for row in TECHNIQUES], uses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
