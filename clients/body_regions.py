"""The one fixed list of body regions, used by models, forms, the safety screen and the body map.

Codes are stored in the database; never rename one without a data migration.
"""

from django.db import models


class BodyRegion(models.TextChoices):
    HEAD = "head", "Head"
    NECK = "neck", "Neck"
    SHOULDER_LEFT = "shoulder_left", "Left shoulder"
    SHOULDER_RIGHT = "shoulder_right", "Right shoulder"
    CHEST_LEFT = "chest_left", "Left chest"
    CHEST_RIGHT = "chest_right", "Right chest"
    ABDOMEN = "abdomen", "Abdomen"
    UPPER_BACK = "upper_back", "Upper back"
    LOWER_BACK = "lower_back", "Lower back"
    ARM_LEFT = "arm_left", "Left arm"
    ARM_RIGHT = "arm_right", "Right arm"
    HAND_LEFT = "hand_left", "Left hand"
    HAND_RIGHT = "hand_right", "Right hand"
    HIP_LEFT = "hip_left", "Left hip"
    HIP_RIGHT = "hip_right", "Right hip"
    THIGH_LEFT = "thigh_left", "Left thigh"
    THIGH_RIGHT = "thigh_right", "Right thigh"
    CALF_LEFT = "calf_left", "Left calf"
    CALF_RIGHT = "calf_right", "Right calf"
    FOOT_LEFT = "foot_left", "Left foot"
    FOOT_RIGHT = "foot_right", "Right foot"


def region_label(code: str) -> str:
    """The plain-words name of a region code (the code itself if it is unknown)."""
    try:
        return BodyRegion(code).label
    except ValueError:
        return code


def region_labels(codes: list[str]) -> list[str]:
    return [region_label(code) for code in codes]
