from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = "Validated measures"

    def ready(self) -> None:
        from measures import models

        models.connect_guards()
