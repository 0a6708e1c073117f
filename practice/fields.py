"""Model fields shared by the apps."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class ChoiceListField(models.JSONField):
    """A list of codes from a fixed set of choices, stored as JSON.

    JSON works the same on SQLite and PostgreSQL; each item is validated against
    ``item_choices`` and the form field is a set of checkboxes.
    """

    def __init__(self, *args, item_choices=(), **kwargs):
        self.item_choices = list(item_choices)
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["item_choices"] = self.item_choices
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value in (None, ""):
            return
        if not isinstance(value, list):
            raise ValidationError("Choose from the list.", code="invalid_list")
        allowed = {code for code, _label in self.item_choices}
        unknown = [item for item in value if item not in allowed]
        if unknown:
            raise ValidationError(
                "%(unknown)s is not a valid choice.",
                code="invalid_choice",
                params={"unknown": ", ".join(map(str, unknown))},
            )
        if len(set(value)) != len(value):
            raise ValidationError("Each choice may be listed once.", code="duplicate_choice")

    def formfield(self, **kwargs):
        defaults: dict[str, Any] = {
            "form_class": forms.MultipleChoiceField,
            "choices": self.item_choices,
            "widget": forms.CheckboxSelectMultiple,
            "required": not self.blank,
        }
        defaults.update(kwargs)
        # JSONField.formfield forces its own form class; go to Field.formfield directly.
        return models.Field.formfield(self, **defaults)
