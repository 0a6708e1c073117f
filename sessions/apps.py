from django.apps import AppConfig


class TreatmentSessionsConfig(AppConfig):
    name = "sessions"
    # Django's own web sessions app is labelled "sessions"; ours must not clash with it.
    label = "treatment_sessions"
    verbose_name = "Treatment sessions"

    def ready(self) -> None:
        from sessions import signals

        signals.connect()
