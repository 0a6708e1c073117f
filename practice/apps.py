from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        from practice import (
            history,
            signals,  # noqa: F401  (connects the sign-in audit and the clinical guards)
        )

        history.connect_signals()
