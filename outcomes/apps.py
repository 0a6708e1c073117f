from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """The owner's view of the practice: what the scores say across clients, in the admin.

    The top of the layout: it reads clients and sessions and nothing imports it.
    """

    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from outcomes import receivers

        receivers.connect()
