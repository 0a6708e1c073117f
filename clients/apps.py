from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from clients.models import Client, DiseasePhase, SelfReport
        from practice.records import never_delete

        never_delete(Client, DiseasePhase, SelfReport)
