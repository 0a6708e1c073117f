"""The 0-10 numeric rating scale on which clients rate pain and fatigue (0 none, 10 worst imaginable)."""

from django.core.validators import MaxValueValidator, MinValueValidator

SCORE_MIN, SCORE_MAX = 0, 10
SCORE_VALIDATORS = [MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
SCORE_CHOICES = [(n, str(n)) for n in range(SCORE_MIN, SCORE_MAX + 1)]
