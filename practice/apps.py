from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        # Connects the sign-in audit, and the note of a person's autosaved forms at sign-in.
        from practice import autosave, signals  # noqa: F401
